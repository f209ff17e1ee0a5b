//! The happy path of every operation.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Task, TestApp, assert_problem, error_fields, ids, on_both_backends};

on_both_backends!(
    create_returns_201_the_task_and_its_location,
    a_client_cannot_set_server_fields,
    list_is_newest_first_and_filters_by_status,
    update_changes_only_the_fields_sent,
    update_that_changes_nothing_is_422,
    complete_toggles_without_a_body_and_sets_with_one,
    delete_returns_204_and_the_task_is_gone,
    deleted_ids_are_never_reused,
);

fn task_path(user: &str, task: &Task) -> String {
    format!("/api/{user}/tasks/{}", task.id)
}

async fn create_returns_201_the_task_and_its_location(app: TestApp) {
    let response = app
        .try_create_task(
            "alice",
            json!({ "title": "  Buy milk  ", "description": "2 litres" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let task: Task = response.json().await.unwrap();

    assert!(task.id > 0);
    assert_eq!(task.user_id, "alice");
    assert_eq!(task.title, "Buy milk", "the title is trimmed");
    assert_eq!(task.description.as_deref(), Some("2 litres"));
    assert!(!task.completed);
    assert_eq!(task.created_at, task.updated_at);
    let created = chrono::DateTime::parse_from_rfc3339(task.created_at.as_str())
        .expect("created_at is RFC 3339");
    assert_eq!(created.offset().local_minus_utc(), 0, "timestamps are UTC");
    assert!((chrono::Utc::now() - created.to_utc()).num_seconds().abs() < 60);
    assert_eq!(location, task_path("alice", &task));

    let fetched: Task = app.get_json("alice", &location).await;
    assert_eq!(fetched, task);

    // The JSON itself: a missing description is an explicit null.
    let response = app
        .try_create_task("alice", json!({ "title": "No description" }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let without_description: Value = response.json().await.unwrap();
    assert_eq!(without_description["description"], Value::Null);
    assert!(
        without_description
            .as_object()
            .unwrap()
            .contains_key("description")
    );
}

async fn a_client_cannot_set_server_fields(app: TestApp) {
    // Server fields are not fields of the request bodies: a body that sends them is refused,
    // naming each, and nothing is stored or changed.
    let response = app
        .try_create_task(
            "alice",
            json!({
                "title": "Mine",
                "id": 424242,
                "user_id": "mallory",
                "completed": true,
                "created_at": "2000-01-01T00:00:00Z",
                "updated_at": "2000-01-01T00:00:00Z"
            }),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        ["completed", "created_at", "id", "updated_at", "user_id"]
    );
    assert!(
        app.list_tasks("alice", "").await.is_empty(),
        "nothing stored"
    );

    let task = app.create_titled("alice", "Mine").await;
    let response = app
        .try_update_task(
            "alice",
            task.id,
            json!({ "title": "Renamed", "id": 1, "user_id": "mallory", "created_at": "2000-01-01T00:00:00Z" }),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(fields, ["created_at", "id", "user_id"]);
    let unchanged = app.get_task("alice", task.id).await;
    assert_eq!(unchanged, task);
    assert!(app.list_tasks("mallory", "").await.is_empty());
}

async fn list_is_newest_first_and_filters_by_status(app: TestApp) {
    assert!(app.list_tasks("alice", "").await.is_empty());
    let first = app.create_titled("alice", "first").await;
    let second = app.create_titled("alice", "second").await;
    let third = app.create_titled("alice", "third").await;
    app.complete_task("alice", second.id).await;

    let all = vec![third.id, second.id, first.id];
    assert_eq!(ids(&app.list_tasks("alice", "").await), all);
    assert_eq!(ids(&app.list_tasks("alice", "?status=all").await), all);
    assert_eq!(
        ids(&app.list_tasks("alice", "?status=pending").await),
        vec![third.id, first.id]
    );
    assert_eq!(
        ids(&app.list_tasks("alice", "?status=completed").await),
        vec![second.id]
    );
}

async fn update_changes_only_the_fields_sent(app: TestApp) {
    let task = app
        .create_task(
            "alice",
            json!({ "title": "Title", "description": "Description" }),
        )
        .await;
    let put = |body: Value| app.update_task("alice", task.id, body);

    let renamed = put(json!({ "title": "  New title " })).await;
    assert_eq!(renamed.title, "New title");
    assert_eq!(
        renamed.description.as_deref(),
        Some("Description"),
        "an omitted field is unchanged"
    );
    assert_eq!(
        renamed.created_at, task.created_at,
        "created_at never moves"
    );
    assert!(
        renamed.updated() > task.updated(),
        "updated_at moves on a change"
    );

    let described = put(json!({ "description": "Other" })).await;
    assert_eq!(described.title, "New title");
    assert_eq!(described.description.as_deref(), Some("Other"));

    let cleared = put(json!({ "description": null })).await;
    assert_eq!(cleared.description, None, "explicit null clears");
    assert_eq!(cleared.title, "New title");

    let both = put(json!({ "title": "Both", "description": "Set" })).await;
    assert_eq!(
        (both.title.as_str(), both.description.as_deref()),
        ("Both", Some("Set"))
    );

    let fetched = app.get_task("alice", task.id).await;
    assert_eq!(fetched, both);
}

async fn update_that_changes_nothing_is_422(app: TestApp) {
    let task = app.create_titled("alice", "Title").await;
    for body in [json!({}), json!({ "id": 7, "completed": true })] {
        let response = app.try_update_task("alice", task.id, body).await;
        assert_problem(response, 422).await;
    }
    let response = app
        .try_update_task("alice", task.id, json!({ "title": null }))
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(error_fields(&problem), ["title"]);
}

async fn complete_toggles_without_a_body_and_sets_with_one(app: TestApp) {
    let task = app.create_titled("alice", "Toggle me").await;

    let toggled = app.complete_task("alice", task.id).await;
    assert!(toggled.completed);
    assert!(toggled.updated() > task.updated());
    assert!(!app.complete_task("alice", task.id).await.completed);

    let set = app.set_completed("alice", task.id, true).await;
    assert!(set.completed);
    let again = app.set_completed("alice", task.id, true).await;
    assert!(again.completed, "setting is idempotent");
    assert_eq!(
        again.updated_at, set.updated_at,
        "no change, no new updated_at"
    );
    assert!(!app.set_completed("alice", task.id, false).await.completed);

    // A JSON content type with an empty body still toggles.
    let path = format!("{}/complete", task_path("alice", &task));
    let response = app
        .request(reqwest::Method::PATCH, "alice", &path)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.json::<Task>().await.unwrap().completed);

    let response = app
        .try_complete_task("alice", task.id, Some(json!({ "completed": "yes" })))
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(error_fields(&problem), ["completed"]);
}

async fn delete_returns_204_and_the_task_is_gone(app: TestApp) {
    let task = app.create_titled("alice", "Delete me").await;
    let keep = app.create_titled("alice", "Keep me").await;

    // Asserts the 204 and its empty body.
    app.delete_task("alice", task.id).await;

    assert_problem(app.try_get_task("alice", task.id).await, 404).await;
    assert_problem(app.try_delete_task("alice", task.id).await, 404).await;
    let remaining = app.list_tasks("alice", "").await;
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].id, keep.id);
}

async fn deleted_ids_are_never_reused(app: TestApp) {
    let task = app.create_titled("alice", "Old").await;
    app.delete_task("alice", task.id).await;
    let next = app.create_titled("alice", "New").await;
    assert!(next.id > task.id);
}
