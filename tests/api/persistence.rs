//! Data survives a restart of the server, and a crash: what was acknowledged is stored, and
//! what failed left no trace.

use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::cli::{todo_api, wait_for_port};
use crate::support::{
    Backend, SECRET, ServerConfig, Task, TestApp, TestDb, assert_problem, install_crypto,
    on_both_backends, spawn_app_with, token,
};

on_both_backends!(tasks_survive_a_restart);

async fn tasks_survive_a_restart(app: TestApp) {
    let task = app
        .create_task(
            "alice",
            json!({ "title": "Persist me", "description": "really" }),
        )
        .await;
    let completed = app.complete_task("alice", task.id).await;
    let old_address = app.address.clone();

    let app = app.restart().await;
    assert_ne!(
        app.address, old_address,
        "a new server process-equivalent on a new port"
    );
    assert_eq!(app.list_tasks("alice", "").await, vec![completed]);
}

/// The binary, killed with SIGKILL right after it acknowledged creates, loses none of them:
/// every `201` is on disk (the SQLite writer commits a group before it answers any member).
#[tokio::test]
async fn acknowledged_creates_survive_sigkill() {
    install_crypto();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::create(backend).await else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut child = todo_api(&dir)
            .env("DATABASE_URL", db.url())
            .env("BETTER_AUTH_SECRET", SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut logs = String::new();
        let port = wait_for_port(&mut stderr, &mut logs, Duration::from_secs(60)).await;
        // Keep draining the logs, so that the server never blocks writing them.
        tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });

        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/api/alice/tasks");
        let token = token("alice");
        let mut creates: FuturesUnordered<_> = (0..200)
            .map(|i| {
                client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({ "title": format!("t{i}"), "tags": ["x"] }))
                    .timeout(Duration::from_secs(30))
                    .send()
            })
            .collect();
        let mut acknowledged = Vec::new();
        let mut refused = Vec::new();
        let mut killed = false;
        while let Some(response) = creates.next().await {
            let response = match response {
                Ok(response) => response,
                Err(err) => {
                    // Cut by the kill, or refused before it (shown if the kill never came).
                    refused.push(err.to_string());
                    continue;
                }
            };
            if response.status() != StatusCode::CREATED {
                refused.push(response.status().to_string());
                continue;
            }
            // The body may be cut by the kill; the status line was the acknowledgement.
            if let Ok(task) = response.json::<Task>().await {
                acknowledged.push(task);
            }
            if acknowledged.len() == 40 && !killed {
                child.start_kill().unwrap(); // SIGKILL
                killed = true;
            }
        }
        assert!(
            killed,
            "{backend:?}: 40 creates were acknowledged before the kill: {refused:?}"
        );
        child.wait().await.unwrap();

        let app = TestApp::spawn_on(db.url(), ServerConfig::default()).await;
        let stored = app.list_tasks("alice", "?limit=500").await;
        for task in &acknowledged {
            assert!(
                stored.contains(task),
                "{backend:?}: acknowledged task {} is lost after SIGKILL",
                task.id
            );
        }
        app.stop().await;
    }
}

/// Concurrent writers, some of which fail in the store (a quota refused before the insert, a
/// tag quota refused after it, a missing task): the others all succeed, and the failed ones
/// leave no trace, even when they were committed in the same group.
#[tokio::test]
async fn a_failing_write_fails_alone() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let config = ServerConfig::default()
            .vars(&[("MAX_TASKS_PER_USER", "3"), ("MAX_TAGS_PER_USER", "2")]);
        let Some(app) = spawn_app_with(backend, config).await else {
            continue;
        };
        for i in 0..3 {
            app.create_titled("full", &format!("f{i}")).await;
        }
        let tagged = app
            .create_task("tagged", json!({ "title": "t", "tags": ["a", "b"] }))
            .await;
        let full_before = app.list_tasks("full", "").await;

        let writes = (0..60).map(|i| {
            let app = &app;
            async move {
                match i % 4 {
                    // Refused before it writes anything.
                    1 => (
                        "full",
                        app.try_create_task("full", json!({ "title": "over" }))
                            .await,
                    ),
                    // Refused after the task and its tag are written.
                    2 => (
                        "tagged",
                        app.try_create_task("tagged", json!({ "title": "over", "tags": ["c"] }))
                            .await,
                    ),
                    // No such task.
                    3 => ("missing", app.try_complete_task("ok", 999_999, None).await),
                    // Each to a user of its own (the task quota is 3).
                    _ => (
                        "ok",
                        app.try_create_task(
                            &format!("ok{i}"),
                            json!({ "title": format!("ok{i}"), "tags": ["z"] }),
                        )
                        .await,
                    ),
                }
            }
        });
        let mut created: Vec<Task> = Vec::new();
        for (kind, response) in futures_util::future::join_all(writes).await {
            match kind {
                "ok" => {
                    assert_eq!(response.status(), StatusCode::CREATED, "{backend:?}");
                    created.push(response.json::<Task>().await.unwrap());
                }
                "missing" => {
                    assert_problem(response, 404).await;
                }
                _ => {
                    let problem = assert_problem(response, 403).await;
                    assert_eq!(problem["type"], "urn:todo-api:problem:quota-exceeded");
                }
            }
        }
        assert_eq!(created.len(), 15, "{backend:?}");
        for task in &created {
            let user = &task.title;
            assert_eq!(
                app.list_tasks(user, "").await,
                vec![task.clone()],
                "{backend:?}: every acknowledged create, as answered"
            );
            // The change feed has it too, at the user's first revision.
            assert_eq!(
                app.list_changes(user, "").await.changes.len(),
                1,
                "{backend:?}"
            );
        }
        assert_eq!(app.list_tasks("full", "").await, full_before, "{backend:?}");
        assert_eq!(
            app.list_tasks("tagged", "").await,
            vec![tagged.clone()],
            "{backend:?}"
        );
        let tags: Vec<String> = app
            .list_tags("tagged")
            .await
            .into_iter()
            .map(|tag| tag.tag)
            .collect();
        assert_eq!(tags, ["a", "b"], "{backend:?}: no tag of a refused create");
        assert_eq!(
            app.list_changes("tagged", "").await.changes.len(),
            1,
            "{backend:?}: no revision of a refused create"
        );
    }
}
