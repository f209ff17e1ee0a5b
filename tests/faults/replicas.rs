//! Three replicas (the real binary) started at once against one empty database: the
//! migrations are applied exactly once, and all three serve the same data.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::cluster::{Access, Cluster};
use crate::support::{SECRET, install_crypto, token};

const BIN: &str = env!("CARGO_BIN_EXE_todo-api");

struct Replica {
    _child: Child,
    base: String,
    logs: tokio::task::JoinHandle<Vec<Value>>,
}

/// Starts the binary; returns once it logs its address.
async fn spawn(database_url: &str) -> Replica {
    let mut child = Command::new(BIN)
        .env("DATABASE_URL", database_url)
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, rx) = tokio::sync::oneshot::channel::<String>();
    let logs = tokio::spawn(async move {
        let mut tx = Some(tx);
        let mut all = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            let value: Value = serde_json::from_str(&line).unwrap_or(Value::String(line));
            if let Some(message) = value["message"].as_str()
                && let Some(at) = message.find("http://")
                && let Some(tx) = tx.take()
            {
                let base = message[at..].split_whitespace().next().unwrap().to_owned();
                let _ = tx.send(base);
            }
            all.push(value);
        }
        all
    });
    let base = tokio::time::timeout(Duration::from_secs(60), rx)
        .await
        .expect("the replica starts")
        .expect("the replica logs its address");
    Replica {
        _child: child,
        base,
        logs,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_migrate_one_empty_database_once_and_all_serve() {
    install_crypto();
    let cluster = Cluster::start(Access::Plain);
    cluster.create_database("app");
    let url = format!("postgres://postgres@127.0.0.1:{}/app", cluster.port);

    let (a, b, c) = tokio::join!(spawn(&url), spawn(&url), spawn(&url));
    let replicas = [a, b, c];
    let client = reqwest::Client::new();
    for replica in &replicas {
        let ready = client
            .get(format!("{}/ready", replica.base))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), StatusCode::OK, "{}", replica.base);
    }

    // One set of migrations, all successful, one table.
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(
        cluster.psql_in(
            "app",
            "SELECT count(*), bool_and(success) FROM _sqlx_migrations"
        ),
        format!("{files}|t")
    );

    // All serve the same data: written through one, read through the others.
    let created = client
        .post(format!("{}/api/alice/tasks", replicas[0].base))
        .bearer_auth(token("alice"))
        .json(&json!({"title": "written through replica 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    for replica in &replicas[1..] {
        let read = client
            .get(format!("{}/api/alice/tasks/{id}", replica.base))
            .bearer_auth(token("alice"))
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), StatusCode::OK);
    }

    // Exactly one replica applied the migrations; the others found them in place.
    let mut applied = Vec::new();
    for replica in replicas {
        drop(replica._child);
        let logs = replica.logs.await.unwrap();
        let counts: Vec<i64> = logs.iter().filter_map(|l| l["applied"].as_i64()).collect();
        assert_eq!(counts.len(), 1, "one migration run per replica: {logs:?}");
        applied.push(counts[0]);
    }
    applied.sort();
    assert_eq!(applied, [0, 0, files as i64], "{applied:?}");
}
