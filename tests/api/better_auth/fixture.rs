//! Drives `tests/better-auth/server.mjs`: a real Better Auth (npm `better-auth`, jwt() plugin,
//! memory adapter) in a Node process on 127.0.0.1, used the way a frontend uses it.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// Where the Node project lives.
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/better-auth");

const NOT_INSTALLED: &str = "the Better Auth interop tests need the Node dependencies of \
    tests/better-auth, and `npm ci --prefix tests/better-auth` failed: install Node.js 20 or \
    newer with npm, then rerun the tests";

/// Installs the Node dependencies the first time they are needed.
fn ensure_installed() {
    crate::support::npm_ci_once(DIR, "better-auth/package.json", NOT_INSTALLED);
}

/// A running Better Auth.
pub(crate) struct BetterAuth {
    /// Its base URL (what the frontend and the server under test call BETTER_AUTH_URL).
    pub url: String,
    /// The port it listens on.
    pub port: u16,
    alg: String,
    child: Child,
    client: reqwest::Client,
    _stdout: Lines<BufReader<ChildStdout>>,
}

/// A signed-in user: the session cookie a browser would hold.
pub(crate) struct Session {
    /// Better Auth's id of the user (the tokens' `sub`).
    pub user_id: String,
    cookie: String,
}

impl BetterAuth {
    /// Starts Better Auth signing with `alg` (EdDSA, ES256, RS256, PS256) on a free port.
    pub(crate) async fn start(alg: &str) -> Self {
        Self::start_on(alg, 0).await
    }

    /// Starts Better Auth signing with `alg` on `port` (0: a free one).
    pub(super) async fn start_on(alg: &str, port: u16) -> Self {
        crate::support::install_crypto();
        ensure_installed();
        let mut child = Command::new("node")
            .args(["server.mjs", "--alg", alg, "--port", &port.to_string()])
            .current_dir(DIR)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| panic!("could not run `node` ({err}); {NOT_INSTALLED}"));
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), stdout.next_line())
            .await
            .expect("the Better Auth fixture starts within a minute")
            .unwrap()
            .unwrap_or_else(|| {
                panic!("the Better Auth fixture exited at start-up; {NOT_INSTALLED}")
            });
        let ready: Value = serde_json::from_str(&line).unwrap();
        let url = ready["url"].as_str().unwrap().to_owned();
        let port = url.rsplit(':').next().unwrap().parse().unwrap();
        Self {
            url,
            port,
            alg: alg.to_owned(),
            child,
            client: reqwest::Client::new(),
            _stdout: stdout,
        }
    }

    /// The algorithm it signs with.
    pub(super) fn alg(&self) -> &str {
        &self.alg
    }

    /// Signs up a new user with email and password, as the frontend's sign-up form does.
    pub(crate) async fn sign_up(&self, name: &str) -> Session {
        let email = format!("{name}-{}@example.test", uuid::Uuid::new_v4().simple());
        let response = self
            .client
            .post(format!("{}/api/auth/sign-up/email", self.url))
            .json(&json!({ "email": email, "password": "correct-horse-battery", "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "sign-up");
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.contains("session_token="))
            .and_then(|v| v.split(';').next())
            .expect("sign-up sets the session cookie")
            .to_owned();
        let body: Value = response.json().await.unwrap();
        Session {
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
            cookie,
        }
    }

    /// A JWT for `session` from `GET /api/auth/token` (what `authClient.token()` calls).
    pub(crate) async fn token(&self, session: &Session) -> String {
        let response = self
            .client
            .get(format!("{}/api/auth/token", self.url))
            .header("cookie", &session.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "/api/auth/token");
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// A JWT for `session` from the `set-auth-jwt` header of `GET /api/auth/get-session`.
    pub(super) async fn session_header_token(&self, session: &Session) -> String {
        let response = self
            .client
            .get(format!("{}/api/auth/get-session", self.url))
            .header("cookie", &session.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "/api/auth/get-session");
        response.headers()["set-auth-jwt"]
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// A JWT Better Auth signs with its current key, with these claims over its defaults
    /// (`iss`, `aud`, `exp`).
    pub(super) async fn sign(&self, claims: Value) -> String {
        self.fixture_sign(claims, false).await
    }

    /// A JWT from another Better Auth deployment with the same base URL: its key is not in this
    /// one's JWKS.
    pub(super) async fn sign_foreign(&self, claims: Value) -> String {
        self.fixture_sign(claims, true).await
    }

    async fn fixture_sign(&self, claims: Value, foreign: bool) -> String {
        let body = self
            .fixture("sign", json!({ "claims": claims, "foreign": foreign }))
            .await;
        body["token"].as_str().unwrap().to_owned()
    }

    /// Ends the rotation interval of the current keys: the next token is signed with a new key,
    /// and the old ones stay published (grace period). Returns the expired kids.
    pub(super) async fn rotate(&self) -> Vec<String> {
        strings(&self.fixture("rotate", json!({})).await["expired"])
    }

    /// Ends the grace period of expired keys: the JWKS stops publishing them. Returns their kids.
    pub(super) async fn retire(&self) -> Vec<String> {
        strings(&self.fixture("retire", json!({})).await["removed"])
    }

    /// Mints an extra key of `alg` (published, not used to sign). Returns its kid.
    pub(super) async fn add_key(&self, alg: &str) -> String {
        let body = self.fixture("keys", json!({ "alg": alg })).await;
        body["kid"].as_str().unwrap().to_owned()
    }

    /// How often `/api/auth/jwks` has been requested.
    pub(super) async fn jwks_requests(&self) -> u64 {
        let response = self
            .client
            .get(format!("{}/fixture/stats", self.url))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["jwksRequests"].as_u64().unwrap()
    }

    /// The kids its JWKS publishes now (fetching it counts as a JWKS request).
    pub(super) async fn published_kids(&self) -> Vec<String> {
        let response = self
            .client
            .get(format!("{}/api/auth/jwks", self.url))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn fixture(&self, route: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/fixture/{route}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "/fixture/{route}");
        response.json().await.unwrap()
    }

    /// Freezes the process (SIGSTOP): connections are still accepted, never answered.
    pub(super) async fn freeze(&self) {
        self.signal("-STOP").await;
    }

    /// Lets a frozen process run again (SIGCONT).
    pub(super) async fn thaw(&self) {
        self.signal("-CONT").await;
    }

    async fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("the fixture runs").to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .await
            .unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Stops the process for good: its port refuses connections.
    pub(super) async fn stop(&mut self) {
        self.child.kill().await.unwrap();
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}
