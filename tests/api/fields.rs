//! Priorities, tags, due dates, reminders and recurrence rules: stored, returned, validated.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    Frequency, Priority, Recurrence, Task, TestApp, assert_problem, at, error_fields,
    on_both_backends,
};

on_both_backends!(
    new_fields_default_sensibly,
    new_fields_round_trip_and_update,
    nulls_in_a_new_task_mean_the_default,
    invalid_new_fields_are_422_naming_each_field,
    schedule_rules_apply_to_the_merged_task,
    completed_at_follows_completion,
);

async fn new_fields_default_sensibly(app: TestApp) {
    // The JSON itself: every field is present, null when unset.
    let response = app
        .try_create_task("alice", json!({ "title": "Plain" }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["priority"], "medium");
    assert_eq!(task["tags"], json!([]));
    for field in [
        "due_at",
        "remind_at",
        "recurrence",
        "completed_at",
        "next_occurrence_id",
    ] {
        assert_eq!(task[field], Value::Null, "{field}");
        assert!(
            task.as_object().unwrap().contains_key(field),
            "{field} is always present"
        );
    }
}

/// `null` in a new task is the same as leaving the field out, as the spec says.
async fn nulls_in_a_new_task_mean_the_default(app: TestApp) {
    let task = app
        .create_task(
            "alice",
            json!({ "title": "t", "priority": null, "tags": null, "description": null }),
        )
        .await;
    assert_eq!(task.priority, Priority::Medium);
    assert!(task.tags.is_empty());
    assert_eq!(task.description, None);

    // Tags are trimmed of the same white space as titles (U+FEFF included).
    let task = app
        .create_task(
            "alice",
            json!({ "title": "t", "tags": ["\u{feff} work \n"] }),
        )
        .await;
    assert_eq!(task.tags, ["work"]);
}

async fn new_fields_round_trip_and_update(app: TestApp) {
    let task = app
        .create_task(
            "alice",
            json!({
                "title": "Report",
                "priority": "high",
                "tags": [" Work ", "urgent", "Q3"],
                "due_at": "2030-06-30T17:00:00+02:00",
                "remind_at": "2030-06-30T09:00:00Z",
                "recurrence": { "frequency": "weekly", "interval": 2, "count": 5 }
            }),
        )
        .await;
    assert_eq!(task.priority, Priority::High);
    assert_eq!(task.tags, ["Work", "urgent", "Q3"], "trimmed, order kept");
    assert_eq!(task.due(), Some(at("2030-06-30T15:00:00Z")));
    assert!(
        task.due_at.as_ref().unwrap().as_str().ends_with("+00:00"),
        "answers in UTC"
    );
    assert_eq!(task.remind(), Some(at("2030-06-30T09:00:00Z")));
    assert_eq!(
        task.recurrence,
        Some(Recurrence {
            frequency: Frequency::Weekly,
            interval: 2,
            until: None,
            count: Some(5),
        })
    );

    let fetched = app.get_task("alice", task.id).await;
    assert_eq!(fetched, task);

    let put = |body: Value| app.update_task("alice", task.id, body);
    let updated = put(json!({ "priority": "low", "tags": ["home"] })).await;
    assert_eq!(updated.priority, Priority::Low);
    assert_eq!(updated.tags, ["home"]);
    assert_eq!(updated.due_at, task.due_at, "omitted fields are unchanged");
    assert_eq!(updated.recurrence, task.recurrence);

    let cleared = put(json!({ "recurrence": null, "remind_at": null, "tags": [] })).await;
    assert_eq!(cleared.recurrence, None);
    assert_eq!(cleared.remind_at, None);
    assert!(cleared.tags.is_empty());
    assert_eq!(cleared.due_at, task.due_at);

    let undue = put(json!({ "due_at": null })).await;
    assert_eq!(undue.due_at, None);
}

async fn invalid_new_fields_are_422_naming_each_field(app: TestApp) {
    let long_tag = "t".repeat(33);
    let many_tags: Vec<String> = (0..21).map(|i| format!("tag{i}")).collect();
    let cases = [
        (
            json!({ "title": "t", "priority": "urgent" }),
            vec!["priority"],
        ),
        (json!({ "title": "t", "priority": 2 }), vec!["priority"]),
        (json!({ "title": "t", "tags": "work" }), vec!["tags"]),
        (json!({ "title": "t", "tags": [1] }), vec!["tags"]),
        (json!({ "title": "t", "tags": ["  "] }), vec!["tags"]),
        (json!({ "title": "t", "tags": [long_tag] }), vec!["tags"]),
        (
            json!({ "title": "t", "tags": ["Work", "work "] }),
            vec!["tags"],
        ),
        (json!({ "title": "t", "tags": many_tags }), vec!["tags"]),
        (
            json!({ "title": "t", "due_at": "tomorrow" }),
            vec!["due_at"],
        ),
        (
            json!({ "title": "t", "due_at": "2030-01-01" }),
            vec!["due_at"],
        ),
        (
            json!({ "title": "t", "remind_at": 1700000000 }),
            vec!["remind_at"],
        ),
        (
            json!({ "title": "t", "due_at": "2030-01-01T10:00:00Z", "remind_at": "2030-01-01T10:00:01Z" }),
            vec!["remind_at"],
        ),
        (
            json!({ "title": "t", "recurrence": { "frequency": "daily" } }),
            vec!["recurrence"],
        ),
        (
            json!({ "title": "t", "due_at": "2030-01-01T10:00:00Z", "recurrence": { "frequency": "hourly" } }),
            vec!["recurrence.frequency"],
        ),
        (
            json!({ "title": "t", "due_at": "2030-01-01T10:00:00Z", "recurrence": { "frequency": "daily", "interval": 0 } }),
            vec!["recurrence.interval"],
        ),
        (
            json!({ "title": "t", "due_at": "2030-01-01T10:00:00Z", "recurrence": { "frequency": "daily", "count": 10001, "until": "2030-02-01T00:00:00Z" } }),
            vec!["recurrence.count"],
        ),
        (
            json!({ "title": "t", "due_at": "2030-01-01T10:00:00Z", "recurrence": "daily" }),
            vec!["recurrence"],
        ),
        (
            json!({ "title": "t", "due_at": "2030-01-01T10:00:00Z", "recurrence": { "frequency": "daily", "count": null } }),
            vec!["recurrence.count"],
        ),
        (
            json!({ "title": "t", "due_at": "2030-01-01T10:00:00Z", "recurrence": { "frequency": "daily", "until": null } }),
            vec!["recurrence.until"],
        ),
        (
            json!({ "title": "t", "due_at": "2030-01-01T10:00:00Z", "recurrence": { "frequency": "daily", "interval": null } }),
            vec!["recurrence.interval"],
        ),
        (json!({ "title": "t", "tags": ["a\u{0}b"] }), vec!["tags"]),
        (
            json!({ "title": "", "priority": "x", "tags": 5 }),
            vec!["title", "priority", "tags"],
        ),
    ];
    for (body, fields) in cases {
        let problem = assert_problem(app.try_create_task("alice", body.clone()).await, 422).await;
        assert_eq!(error_fields(&problem), fields, "{body}");
    }
    assert!(
        app.list_tasks("alice", "").await.is_empty(),
        "nothing stored"
    );

    // Exactly 20 tags, 32 characters each, is fine (asserts the 201).
    let tags: Vec<String> = (0..20).map(|i| format!("{i:0>32}")).collect();
    app.create_task("alice", json!({ "title": "t", "tags": tags }))
        .await;
}

async fn schedule_rules_apply_to_the_merged_task(app: TestApp) {
    let task = app
        .create_task(
            "alice",
            json!({ "title": "t", "due_at": "2030-01-01T10:00:00Z" }),
        )
        .await;
    let try_put = |body: Value| app.try_update_task("alice", task.id, body);

    // The stored due time makes a later reminder invalid, though the body alone is fine.
    let problem = assert_problem(
        try_put(json!({ "remind_at": "2030-01-02T00:00:00Z" })).await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["remind_at"]);
    // Moving the due time before an existing reminder is refused the same way.
    app.update_task(
        "alice",
        task.id,
        json!({ "remind_at": "2030-01-01T09:00:00Z" }),
    )
    .await;
    let problem = assert_problem(
        try_put(json!({ "due_at": "2030-01-01T08:00:00Z" })).await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["remind_at"]);
    // Clearing the due time of a recurring task is refused.
    app.update_task(
        "alice",
        task.id,
        json!({ "recurrence": { "frequency": "daily" } }),
    )
    .await;
    let problem = assert_problem(
        try_put(json!({ "due_at": null, "remind_at": null })).await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["recurrence"]);

    let unchanged = app.get_task("alice", task.id).await;
    assert_eq!(unchanged.due(), Some(at("2030-01-01T10:00:00Z")));
    assert_eq!(unchanged.remind(), Some(at("2030-01-01T09:00:00Z")));
}

async fn completed_at_follows_completion(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let done = app.complete_task("alice", task.id).await;
    assert!(done.completed);
    assert_eq!(done.completed_at, Some(done.updated_at.clone()));
    let reopened = app.complete_task("alice", task.id).await;
    assert!(!reopened.completed);
    assert_eq!(reopened.completed_at, None);
    // A client cannot set it.
    let response = app
        .try_create_task(
            "alice",
            json!({ "title": "t", "completed_at": "2000-01-01T00:00:00Z" }),
        )
        .await;
    // It is no field of a new task: refused, naming it, and the answer carries no such value.
    let problem = assert_problem(response, 422).await;
    assert_eq!(error_fields(&problem), ["completed_at"]);
    assert_eq!(problem["completed_at"], Value::Null);
    let stored: Vec<Task> = app.list_tasks("alice", "").await;
    assert_eq!(stored.len(), 1, "nothing stored: {stored:?}");
}
