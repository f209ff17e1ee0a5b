//! Two users never see or touch each other's tasks.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Task, TestApp, assert_problem, on_both_backends};

on_both_backends!(
    another_users_task_is_not_found_on_every_operation,
    another_users_path_is_forbidden_on_every_operation,
);

/// Every operation on one task: method, path suffix, body.
fn task_operations() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "", None),
        (Method::PUT, "", Some(json!({ "title": "hijacked" }))),
        (Method::PATCH, "/complete", None),
        (
            Method::PATCH,
            "/complete",
            Some(json!({ "completed": true })),
        ),
        (Method::DELETE, "", None),
    ]
}

async fn another_users_task_is_not_found_on_every_operation(app: TestApp) {
    let alices = app.create_titled("alice", "Alice's secret").await;
    let bobs = app.create_titled("bob", "Bob's").await;

    for (method, suffix, body) in task_operations() {
        // Bob, on his own path, naming Alice's task id: indistinguishable from a missing task.
        let path = format!("/api/bob/tasks/{}{suffix}", alices.id);
        let mut request = app.request(method.clone(), "bob", &path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let problem = assert_problem(request.send().await.unwrap(), 404).await;
        let missing = assert_problem(app.try_get_task("bob", 999999999).await, 404).await;
        assert_eq!(problem["detail"], missing["detail"], "{method} {path}");
    }

    let bob_sees: Vec<Task> = app.list_tasks("bob", "").await;
    assert_eq!(bob_sees.len(), 1);
    assert_eq!(bob_sees[0].id, bobs.id);

    // Alice's task is untouched.
    assert_eq!(app.get_task("alice", alices.id).await, alices);
}

async fn another_users_path_is_forbidden_on_every_operation(app: TestApp) {
    let alices = app.create_titled("alice", "Alice's").await;

    let mut operations = vec![
        (Method::GET, "/api/alice/tasks".to_owned(), None),
        (
            Method::POST,
            "/api/alice/tasks".to_owned(),
            Some(json!({ "title": "from bob" })),
        ),
    ];
    for (method, suffix, body) in task_operations() {
        operations.push((
            method,
            format!("/api/alice/tasks/{}{suffix}", alices.id),
            body,
        ));
    }
    for (method, path, body) in operations {
        // Bob's valid token on Alice's path.
        let mut request = app.request(method.clone(), "bob", &path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        assert_problem(request.send().await.unwrap(), 403).await;
    }

    let alice_sees = app.list_tasks("alice", "").await;
    assert_eq!(alice_sees, vec![alices]);
}
