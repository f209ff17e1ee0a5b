//! The Node.js projects some tests drive (a real Better Auth, the official MCP client): their
//! dependencies are installed from the committed lock file the first time a test needs them, so
//! that `cargo test` alone runs everything on a fresh clone.

use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;

/// Runs `npm ci` in `dir` unless `marker` (a file inside `dir/node_modules`) exists; once per
/// process and project. Panics with `why` when the install fails.
pub(crate) fn npm_ci_once(dir: &str, marker: &str, why: &str) {
    static INSTALLED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    let marker = Path::new(dir).join("node_modules").join(marker);
    if installed.iter().any(|done| done == dir) || marker.exists() {
        installed.push(dir.to_owned());
        return;
    }
    eprintln!("installing the Node dependencies of {dir} (npm ci)…");
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix", dir])
        .stdin(Stdio::null())
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()) && marker.exists(),
        "{why}"
    );
    installed.push(dir.to_owned());
}
