//! The `todo-api` binary itself: development mode, configuration errors, and its commands.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::{Backend, SECRET, install_crypto, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_todo-api");

/// Reads the binary's log lines from `stderr` into `logs` until it says where it listens, and
/// returns the port (panics if it exits first or takes longer than `patience`).
pub(crate) async fn wait_for_port<R: tokio::io::AsyncBufRead + Unpin>(
    stderr: &mut tokio::io::Lines<R>,
    logs: &mut String,
    patience: Duration,
) -> u16 {
    tokio::time::timeout(patience, async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            logs.push_str(&line);
            logs.push('\n');
            if let Some((_, rest)) = line.split_once("listening on http://127.0.0.1:") {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                return digits.parse::<u16>().unwrap();
            }
        }
        panic!("the server exited: {logs}");
    })
    .await
    .expect("the server starts")
}

/// The binary, in an empty working directory, with no auth configured.
pub(crate) fn todo_api(dir: &tempfile::TempDir) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir.path())
        .env_remove("BETTER_AUTH_SECRET")
        .env_remove("BETTER_AUTH_URL")
        .env_remove("AUTH_JWKS_URL")
        .env_remove("AUTH_ISSUER")
        .env_remove("AUTH_AUDIENCE")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("dev.db").display()),
        )
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

#[tokio::test]
async fn development_mode_prints_a_working_token_and_the_swagger_ui_address() {
    install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let mut child = todo_api(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let stderr = child.stderr.take().unwrap();
    let logs = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        let mut all = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push_str(&line);
            all.push('\n');
        }
        all
    });

    let (mut docs_url, mut token) = (None, None);
    let printed = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            let line = line.trim().to_owned();
            if let Some(url) = line.strip_prefix("Swagger UI: ") {
                docs_url = Some(url.to_owned());
            } else if line.starts_with("eyJ") {
                token = Some(line);
            }
            if docs_url.is_some() && token.is_some() {
                break;
            }
        }
    })
    .await;
    assert!(
        printed.is_ok(),
        "development mode prints the Swagger UI address and a token"
    );
    let (docs_url, token) = (docs_url.unwrap(), token.unwrap());
    let base = docs_url
        .strip_suffix("/docs")
        .expect("the address ends in /docs")
        .to_owned();

    let client = reqwest::Client::new();
    let docs = client.get(format!("{base}/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let created = client
        .post(format!("{base}/api/demo/tasks"))
        .bearer_auth(&token)
        .json(&json!({ "title": "first" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let listed = client
        .get(format!("{base}/api/demo/tasks"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);

    // SIGTERM: a graceful, successful exit.
    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("the server stops after SIGTERM")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    let logs = logs.await.unwrap();
    assert!(!logs.contains(&token), "the token is never logged");
}

pub(crate) async fn fails_naming(vars: &[(&str, &str)], variable: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = todo_api(&dir);
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("a misconfigured server exits at once")
        .unwrap();
    assert!(!output.status.success(), "{vars:?} must not start");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(variable),
        "{vars:?}: the message names {variable}: {stderr}"
    );
    for (name, value) in vars {
        if name.contains("SECRET") {
            assert!(
                !stderr.contains(value),
                "the secret is not echoed: {stderr}"
            );
        }
    }
}

#[tokio::test]
async fn misconfiguration_stops_start_up_naming_the_variable() {
    fails_naming(
        &[("BETTER_AUTH_SECRET", "too-short-secret")],
        "BETTER_AUTH_SECRET",
    )
    .await;
    fails_naming(&[("PORT", "eighty")], "PORT").await;
    fails_naming(&[("PORT", "70000")], "PORT").await;
    fails_naming(&[("HOST", "not a host")], "HOST").await;
    fails_naming(
        &[("DATABASE_URL", "mysql://localhost/todo")],
        "DATABASE_URL",
    )
    .await;
    fails_naming(&[("BETTER_AUTH_URL", "localhost:3000")], "BETTER_AUTH_URL").await;
    fails_naming(
        &[
            ("BETTER_AUTH_URL", "http://localhost:3000"),
            ("AUTH_JWKS_URL", "ftp://localhost/jwks"),
        ],
        "AUTH_JWKS_URL",
    )
    .await;
    fails_naming(&[("AUTH_AUDIENCE", " , ")], "AUTH_AUDIENCE").await;
    fails_naming(
        &[("AUTH_JWKS_URL", "https://keys.example.com/jwks")],
        "AUTH_JWKS_URL",
    )
    .await;
}

#[tokio::test]
async fn the_token_command_signs_with_the_configured_secret() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = todo_api(&dir)
        .env("BETTER_AUTH_SECRET", SECRET)
        .args(["token", "--sub", "carol", "--ttl", "5m"])
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    let response = app
        .client
        .get(app.url("/api/carol/tasks"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let output = todo_api(&dir)
        .args(["token", "--sub", "carol"])
        .output()
        .await
        .unwrap();
    assert!(
        !output.status.success(),
        "without a secret there is nothing to sign with"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("BETTER_AUTH_SECRET"));
}

#[tokio::test]
async fn migrate_creates_the_schema_and_openapi_prints_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let status = todo_api(&dir).arg("migrate").status().await.unwrap();
    assert!(status.success());
    let url = format!("sqlite://{}", dir.path().join("dev.db").display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM tasks")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(count, 0);

    let output = todo_api(&dir).arg("openapi").output().await.unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        include_str!("../../openapi.yaml")
    );
}
