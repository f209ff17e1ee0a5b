//! Safe retries (`Idempotency-Key`) and concurrent edits (`ETag`, `If-Match`, `If-None-Match`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Task, TestApp, assert_problem, error_fields, on_both_backends};

on_both_backends!(
    an_idempotency_key_creates_once,
    concurrent_requests_with_one_key_create_one_task,
    etags_make_edits_conditional,
);

/// `createTask` with an `Idempotency-Key`.
async fn post_with_key(app: &TestApp, user: &str, key: &str, body: Value) -> reqwest::Response {
    app.request(Method::POST, user, &format!("/api/{user}/tasks"))
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn an_idempotency_key_creates_once(app: TestApp) {
    let body = json!({ "title": "Pay rent", "tags": ["home"] });
    let first = post_with_key(&app, "alice", "key-1", body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()["location"].clone();
    let first: Task = first.json().await.unwrap();

    // The task changes afterwards; a retry still gets the original answer.
    app.update_task("alice", first.id, json!({ "title": "Renamed" }))
        .await;

    // Same request, same key (keys order-insensitive JSON): same answer, nothing created.
    let retry = post_with_key(
        &app,
        "alice",
        "key-1",
        json!({ "tags": ["home"], "title": "Pay rent" }),
    )
    .await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["location"], location);
    assert_eq!(retry.json::<Task>().await.unwrap(), first);
    assert_eq!(app.list_tasks("alice", "").await.len(), 1);

    // Same key, different request: refused.
    let reused = post_with_key(&app, "alice", "key-1", json!({ "title": "Something else" })).await;
    let problem = assert_problem(reused, 422).await;
    assert_eq!(error_fields(&problem), ["Idempotency-Key"]);

    // Keys are per user; without a key every request creates.
    let bobs = post_with_key(&app, "bob", "key-1", body.clone()).await;
    assert_eq!(bobs.status(), StatusCode::CREATED);
    assert_eq!(bobs.json::<Task>().await.unwrap().user_id, "bob");
    for _ in 0..2 {
        app.create_task("alice", body.clone()).await;
    }
    assert_eq!(app.list_tasks("alice", "").await.len(), 3);

    // An invalid key is a 422.
    let long = "k".repeat(256);
    let problem = assert_problem(post_with_key(&app, "alice", &long, body).await, 422).await;
    assert_eq!(error_fields(&problem), ["Idempotency-Key"]);
}

async fn concurrent_requests_with_one_key_create_one_task(app: TestApp) {
    let body = json!({ "title": "Once only" });
    let requests = (0..12).map(|_| post_with_key(&app, "alice", "same-key", body.clone()));
    let responses = futures_util::future::join_all(requests).await;
    let mut ids = Vec::new();
    for response in responses {
        assert_eq!(response.status(), StatusCode::CREATED);
        ids.push(response.json::<Task>().await.unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every request got the same task");
    assert_eq!(
        app.list_tasks("alice", "").await.len(),
        1,
        "one task was created"
    );
}

async fn etags_make_edits_conditional(app: TestApp) {
    let created = app
        .try_create_task("alice", json!({ "title": "Shared" }))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    let task: Task = created.json().await.unwrap();
    let path = format!("/api/alice/tasks/{}", task.id);

    let got = app.try_get_task("alice", task.id).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["etag"].to_str().unwrap(), etag);
    let not_modified = app
        .request(Method::GET, "alice", &path)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    assert!(not_modified.bytes().await.unwrap().is_empty());

    // Two editors hold the same version: the first wins, the second gets 412.
    let first = app
        .request(Method::PUT, "alice", &path)
        .header("if-match", &etag)
        .json(&json!({ "title": "Mine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let new_etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let second = app
        .request(Method::PUT, "alice", &path)
        .header("if-match", &etag)
        .json(&json!({ "title": "Theirs" }))
        .send()
        .await
        .unwrap();
    assert_problem(second, 412).await;
    for (method, suffix) in [(Method::PATCH, "/complete"), (Method::DELETE, "")] {
        let stale = app
            .request(method, "alice", &format!("{path}{suffix}"))
            .header("if-match", &etag)
            .send()
            .await
            .unwrap();
        assert_problem(stale, 412).await;
    }
    let current = app.get_task("alice", task.id).await;
    assert_eq!(current.title, "Mine");
    assert!(!current.completed);

    // The old ETag no longer matches If-None-Match.
    let changed = app
        .request(Method::GET, "alice", &path)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);

    let toggled = app
        .request(Method::PATCH, "alice", &format!("{path}/complete"))
        .header("if-match", &new_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(toggled.status(), StatusCode::OK);
    let latest = toggled.headers()["etag"].to_str().unwrap().to_owned();
    // Without If-Match, the last write wins as before.
    app.update_task("alice", task.id, json!({ "title": "Last" }))
        .await;
    let stale_delete = app
        .request(Method::DELETE, "alice", &path)
        .header("if-match", &latest)
        .send()
        .await
        .unwrap();
    assert_problem(stale_delete, 412).await;
    let current = app.try_get_task("alice", task.id).await;
    assert_eq!(current.status(), StatusCode::OK);
    let current_etag = current.headers()["etag"].to_str().unwrap().to_owned();
    let deleted = app
        .request(Method::DELETE, "alice", &path)
        .header("if-match", &current_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
}
