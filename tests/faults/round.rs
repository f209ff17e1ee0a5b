//! One round of every task operation: what a server must get through once its database works.

use serde_json::json;

use crate::support::{TestApp, assert_problem};

/// A create, read, update, toggle, list and delete round, as `user`; each step asserts its
/// status.
pub(crate) async fn exercise(app: &TestApp, user: &str) {
    let task = app.create_titled(user, "round").await;
    app.get_task(user, task.id).await;
    let updated = app
        .update_task(user, task.id, json!({ "title": "renamed" }))
        .await;
    assert_eq!(updated.title, "renamed");
    let toggled = app.complete_task(user, task.id).await;
    assert!(toggled.completed);
    let completed = app.list_tasks(user, "?status=completed").await;
    assert!(completed.iter().any(|t| t.id == task.id));
    app.delete_task(user, task.id).await;
    assert_problem(app.try_get_task(user, task.id).await, 404).await;
}
