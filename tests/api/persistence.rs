//! Data survives a restart of the server.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(tasks_survive_a_restart);

async fn tasks_survive_a_restart(app: TestApp) {
    let response = app
        .post_task(
            "alice",
            json!({ "title": "Persist me", "description": "really" }),
        )
        .await;
    let task: Value = response.json().await.unwrap();
    let completed: Value = app
        .request(
            Method::PATCH,
            "alice",
            &format!("/api/alice/tasks/{}/complete", task["id"]),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let old_address = app.address.clone();

    let app = app.restart().await;
    assert_ne!(
        app.address, old_address,
        "a new server process-equivalent on a new port"
    );
    assert_eq!(app.list_tasks("alice", "").await, vec![completed]);
}
