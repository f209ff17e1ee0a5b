//! The real binary: one structured log line per request, graceful shutdown with requests in
//! flight, and the new settings refused at start-up when bad.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use crate::cli::{fails_naming, todo_api};
use crate::support::{SECRET, install_crypto, token};

/// A running binary and the log lines it has written so far.
struct Running {
    child: Child,
    base: String,
    logs: Arc<Mutex<Vec<String>>>,
    logged: Arc<Notify>,
    _dir: tempfile::TempDir,
}

impl Running {
    /// Starts the binary with JSON logs and a shared secret, and waits for its address.
    async fn start(extra: &[(&str, &str)]) -> Self {
        install_crypto();
        let dir = tempfile::tempdir().unwrap();
        let mut command: Command = todo_api(&dir);
        command
            .env("BETTER_AUTH_SECRET", SECRET)
            .env("LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in extra {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let logged = Arc::new(Notify::new());
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let (sink, notify) = (logs.clone(), logged.clone());
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
                notify.notify_waiters();
            }
        });
        let mut running = Self {
            child,
            base: String::new(),
            logs,
            logged,
            _dir: dir,
        };
        let line = running.wait_for_log("listening on http://").await;
        let message: Value = serde_json::from_str(&line).unwrap();
        let text = message["message"].as_str().unwrap();
        let start = text.find("http://").unwrap();
        running.base = text[start..].split_whitespace().next().unwrap().to_owned();
        running
    }

    /// Waits (30 s at most) for a log line containing `needle`.
    async fn wait_for_log(&self, needle: &str) -> String {
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let notified = self.logged.notified();
                if let Some(line) = self
                    .logs
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|l| l.contains(needle))
                {
                    return line.clone();
                }
                notified.await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no log line with {needle:?}: {:?}",
                self.logs.lock().unwrap()
            )
        })
    }

    fn json_logs(&self) -> Vec<Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
            .collect()
    }

    async fn terminate(&mut self) {
        let pid = self.child.id().unwrap().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(killed.success());
    }
}

#[tokio::test]
async fn every_request_logs_one_json_line_with_route_status_latency_ids_and_no_token() {
    let mut server = Running::start(&[]).await;
    let client = reqwest::Client::new();
    let alice = token("alice");
    let created = client
        .post(format!("{}/api/alice/tasks", server.base))
        .bearer_auth(&alice)
        .header("X-Request-Id", "req-created-1")
        .json(&serde_json::json!({ "title": "logged" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let missing = client
        .get(format!("{}/api/alice/tasks/{}", server.base, id + 1000))
        .bearer_auth(&alice)
        .header("X-Request-Id", "req-missing-2")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let anonymous = client
        .get(format!("{}/api/alice/tasks", server.base))
        .header("X-Request-Id", "req-anonymous-3")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    server.wait_for_log("req-anonymous-3").await;

    let logs = server.json_logs();
    let request_lines: Vec<&Value> = logs
        .iter()
        .filter(|l| l["target"] == "todo_api::request")
        .collect();
    let line = |id: &str| {
        let matching: Vec<&&Value> = request_lines
            .iter()
            .filter(|l| l["request_id"] == id)
            .collect();
        assert_eq!(matching.len(), 1, "one line per request: {matching:?}");
        (*matching[0]).clone()
    };
    let created = line("req-created-1");
    assert_eq!(created["method"], "POST");
    assert_eq!(created["route"], "/api/{user_id}/tasks");
    assert_eq!(created["status"], 201);
    assert_eq!(created["user_id"], "alice");
    assert!(created["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(created["level"], "INFO");
    assert!(created["timestamp"].is_string());

    let missing = line("req-missing-2");
    assert_eq!(
        missing["route"], "/api/{user_id}/tasks/{id}",
        "the template, not the path"
    );
    assert_eq!(missing["status"], 404);

    let anonymous = line("req-anonymous-3");
    assert_eq!(anonymous["status"], 401);
    assert_eq!(anonymous["user_id"], "-");

    let all = server.logs.lock().unwrap().join("\n");
    assert!(!all.contains(&alice), "the token is never logged");
    assert!(!all.contains(SECRET), "the secret is never logged");
    server.terminate().await;
    let _ = server.child.wait().await;
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish_then_exits_cleanly() {
    let mut server = Running::start(&[("SHUTDOWN_GRACE", "20s")]).await;
    let alice = token("alice");

    // A request in flight: headers sent with `Expect: 100-continue`; the server's
    // "100 Continue" proves its handler is running and reading the body, which is then sent
    // only after SIGTERM has been received.
    let body = br#"{"title": "finished after SIGTERM"}"#;
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/alice/tasks HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {alice}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\
         X-Request-Id: req-in-flight\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).await.unwrap();
    assert!(status_line.starts_with("HTTP/1.1 100"), "{status_line}");
    let mut blank = String::new();
    reader.read_line(&mut blank).await.unwrap();

    server.terminate().await;
    server.wait_for_log("shutting down").await;
    reader.get_mut().write_all(body).await.unwrap();

    let mut response = Vec::new();
    reader.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(response.contains("finished after SIGTERM"), "{response}");
    // `read_to_end` returning at all shows the server closed the connection after answering.

    let status = tokio::time::timeout(Duration::from_secs(30), server.child.wait())
        .await
        .expect("the server exits once the request is done")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    server.wait_for_log("stopped").await;
}

#[tokio::test]
async fn bad_production_settings_stop_start_up_naming_the_variable() {
    fails_naming(&[("DB_POOL_MAX", "0")], "DB_POOL_MAX").await;
    fails_naming(&[("DB_ACQUIRE_TIMEOUT", "soon")], "DB_ACQUIRE_TIMEOUT").await;
    fails_naming(&[("LOG_FORMAT", "xml")], "LOG_FORMAT").await;
    fails_naming(&[("CORS_ORIGINS", "*")], "CORS_ORIGINS").await;
    fails_naming(
        &[("RATE_LIMIT_PER_MINUTE", "lots")],
        "RATE_LIMIT_PER_MINUTE",
    )
    .await;
    fails_naming(
        &[(
            "DATABASE_URL",
            "postgresql://u:p@127.0.0.1:1/db?sslmode=disable&channel_binding=require",
        )],
        "DATABASE_URL",
    )
    .await;
}
