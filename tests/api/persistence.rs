//! Data survives a restart of the server.

use serde_json::json;

use crate::support::{TestApp, on_both_backends};

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
