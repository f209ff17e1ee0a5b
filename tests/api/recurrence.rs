//! Completing a recurring task creates its next occurrence.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends, ts};

on_both_backends!(
    completing_creates_the_next_occurrence_once,
    month_ends_leap_years_and_offsets,
    count_and_until_end_the_series,
    until_and_count_together_end_at_whichever_comes_first,
);

async fn create(app: &TestApp, body: Value) -> Value {
    let response = app.post_task("alice", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn patch(app: &TestApp, task: &Value, body: Option<Value>) -> Value {
    let mut request = app.request(
        Method::PATCH,
        "alice",
        &format!("/api/alice/tasks/{}/complete", task["id"]),
    );
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn get(app: &TestApp, id: &Value) -> Value {
    let response = app
        .request(Method::GET, "alice", &format!("/api/alice/tasks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Completes `task` and returns the occurrence it created.
async fn next_of(app: &TestApp, task: &Value) -> Value {
    let done = patch(app, task, Some(json!({ "completed": true }))).await;
    assert!(
        done["next_occurrence_id"].is_i64(),
        "a next occurrence was created: {done}"
    );
    get(app, &done["next_occurrence_id"]).await
}

async fn completing_creates_the_next_occurrence_once(app: TestApp) {
    let task = create(
        &app,
        json!({
            "title": "Water plants",
            "description": "balcony",
            "priority": "high",
            "tags": ["home", "Garden"],
            "due_at": "2030-05-10T18:00:00Z",
            "remind_at": "2030-05-10T17:30:00Z",
            "recurrence": { "frequency": "weekly", "interval": 1 }
        }),
    )
    .await;

    let done = patch(&app, &task, None).await;
    assert_eq!(done["completed"], true);
    let next = get(&app, &done["next_occurrence_id"]).await;
    assert_ne!(next["id"], task["id"]);
    assert_eq!(next["completed"], false);
    for field in ["title", "description", "priority", "tags", "recurrence"] {
        assert_eq!(next[field], task[field], "{field} is carried over");
    }
    assert_eq!(ts(&next["due_at"]), ts(&json!("2030-05-17T18:00:00Z")));
    assert_eq!(ts(&next["remind_at"]), ts(&json!("2030-05-17T17:30:00Z")));

    // Reopening keeps the occurrence; completing again creates no second one.
    let reopened = patch(&app, &task, None).await;
    assert_eq!(reopened["completed"], false);
    assert_eq!(reopened["next_occurrence_id"], done["next_occurrence_id"]);
    let again = patch(&app, &task, None).await;
    assert_eq!(again["next_occurrence_id"], done["next_occurrence_id"]);
    assert_eq!(app.list_tasks("alice", "").await.len(), 2);

    // A one-off task creates nothing.
    let plain = create(
        &app,
        json!({ "title": "once", "due_at": "2030-01-01T00:00:00Z" }),
    )
    .await;
    assert_eq!(
        patch(&app, &plain, None).await["next_occurrence_id"],
        Value::Null
    );
    assert_eq!(app.list_tasks("alice", "").await.len(), 3);
}

async fn month_ends_leap_years_and_offsets(app: TestApp) {
    let monthly = json!({ "frequency": "monthly", "interval": 1 });
    let jan = create(
        &app,
        json!({ "title": "rent", "due_at": "2027-01-31T09:00:00Z", "recurrence": monthly }),
    )
    .await;
    let feb = next_of(&app, &jan).await;
    assert_eq!(ts(&feb["due_at"]), ts(&json!("2027-02-28T09:00:00Z")));
    let mar = next_of(&app, &feb).await;
    assert_eq!(
        ts(&mar["due_at"]),
        ts(&json!("2027-03-31T09:00:00Z")),
        "back to the 31st"
    );
    let apr = next_of(&app, &mar).await;
    assert_eq!(ts(&apr["due_at"]), ts(&json!("2027-04-30T09:00:00Z")));

    let leap = create(
        &app,
        json!({ "title": "leap", "due_at": "2028-01-31T12:00:00Z", "recurrence": monthly }),
    )
    .await;
    assert_eq!(
        ts(&next_of(&app, &leap).await["due_at"]),
        ts(&json!("2028-02-29T12:00:00Z"))
    );

    let yearly = create(
        &app,
        json!({
            "title": "birthday", "due_at": "2028-02-29T08:00:00Z",
            "recurrence": { "frequency": "yearly", "interval": 1 }
        }),
    )
    .await;
    let next_year = next_of(&app, &yearly).await;
    assert_eq!(ts(&next_year["due_at"]), ts(&json!("2029-02-28T08:00:00Z")));
    assert_eq!(
        ts(&next_of(&app, &next_year).await["due_at"]),
        ts(&json!("2030-02-28T08:00:00Z"))
    );

    // The calendar is the one of the offset given: the 31st at 23:30 in UTC-5 is the 1st in UTC.
    let local = create(
        &app,
        json!({
            "title": "late", "due_at": "2027-01-31T23:30:00-05:00",
            "remind_at": "2027-01-31T22:30:00-05:00", "recurrence": monthly
        }),
    )
    .await;
    assert_eq!(ts(&local["due_at"]), ts(&json!("2027-02-01T04:30:00Z")));
    let next = next_of(&app, &local).await;
    assert_eq!(ts(&next["due_at"]), ts(&json!("2027-02-28T23:30:00-05:00")));
    assert_eq!(
        ts(&next["remind_at"]),
        ts(&json!("2027-02-28T22:30:00-05:00"))
    );
    let after = next_of(&app, &next).await;
    assert_eq!(
        ts(&after["due_at"]),
        ts(&json!("2027-03-31T23:30:00-05:00"))
    );

    let daily = create(
        &app,
        json!({
            "title": "standup", "due_at": "2030-12-31T10:00:00+05:30",
            "recurrence": { "frequency": "daily", "interval": 3 }
        }),
    )
    .await;
    assert_eq!(
        ts(&next_of(&app, &daily).await["due_at"]),
        ts(&json!("2031-01-03T10:00:00+05:30"))
    );
}

async fn count_and_until_end_the_series(app: TestApp) {
    let counted = create(
        &app,
        json!({
            "title": "three times", "due_at": "2030-01-01T00:00:00Z",
            "recurrence": { "frequency": "daily", "interval": 1, "count": 3 }
        }),
    )
    .await;
    let second = next_of(&app, &counted).await;
    let third = next_of(&app, &second).await;
    assert_eq!(ts(&third["due_at"]), ts(&json!("2030-01-03T00:00:00Z")));
    let done = patch(&app, &third, None).await;
    assert_eq!(
        done["next_occurrence_id"],
        Value::Null,
        "the third of three is the last"
    );

    let until = create(
        &app,
        json!({
            "title": "until", "due_at": "2030-01-01T00:00:00Z",
            "recurrence": { "frequency": "weekly", "interval": 1, "until": "2030-01-08T00:00:00Z" }
        }),
    )
    .await;
    let last = next_of(&app, &until).await;
    assert_eq!(
        ts(&last["due_at"]),
        ts(&json!("2030-01-08T00:00:00Z")),
        "until is inclusive"
    );
    assert_eq!(
        patch(&app, &last, None).await["next_occurrence_id"],
        Value::Null
    );
}

async fn until_and_count_together_end_at_whichever_comes_first(app: TestApp) {
    // `until` first: the second of three days is past it.
    let by_until = create(
        &app,
        json!({
            "title": "until first", "due_at": "2030-01-01T00:00:00Z",
            "recurrence": {
                "frequency": "daily", "interval": 1, "count": 3, "until": "2030-01-02T00:00:00Z"
            }
        }),
    )
    .await;
    assert_eq!(by_until["recurrence"]["count"], 3);
    assert_eq!(
        ts(&by_until["recurrence"]["until"]),
        ts(&json!("2030-01-02T00:00:00Z"))
    );
    let second = next_of(&app, &by_until).await;
    assert_eq!(ts(&second["due_at"]), ts(&json!("2030-01-02T00:00:00Z")));
    assert_eq!(
        patch(&app, &second, None).await["next_occurrence_id"],
        Value::Null,
        "the until ends the series before the count"
    );

    // `count` first, set with PUT on an existing task.
    let task = app.create_task("alice", "count first").await;
    let response = app
        .request(
            Method::PUT,
            "alice",
            &format!("/api/alice/tasks/{}", task["id"]),
        )
        .json(&json!({
            "due_at": "2030-01-01T00:00:00Z",
            "recurrence": {
                "frequency": "daily", "interval": 1, "count": 2, "until": "2030-12-31T00:00:00Z"
            }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["recurrence"]["count"], 2);
    assert_eq!(
        ts(&updated["recurrence"]["until"]),
        ts(&json!("2030-12-31T00:00:00Z"))
    );
    let second = next_of(&app, &updated).await;
    assert_eq!(ts(&second["due_at"]), ts(&json!("2030-01-02T00:00:00Z")));
    assert_eq!(
        patch(&app, &second, None).await["next_occurrence_id"],
        Value::Null,
        "the count ends the series before the until"
    );
}
