//! Completing a recurring task creates its next occurrence.

use serde_json::{Value, json};

use crate::support::{Task, TestApp, Timestamp, at, on_both_backends};

on_both_backends!(
    completing_creates_the_next_occurrence_once,
    month_ends_leap_years_and_offsets,
    count_and_until_end_the_series,
    until_and_count_together_end_at_whichever_comes_first,
);

/// Creates one of alice's tasks (asserting 201).
async fn create(app: &TestApp, body: Value) -> Task {
    app.create_task("alice", body).await
}

/// Toggles `task` (asserting 200).
async fn toggle(app: &TestApp, task: &Task) -> Task {
    app.complete_task("alice", task.id).await
}

/// Completes `task` and returns the occurrence it created.
async fn next_of(app: &TestApp, task: &Task) -> Task {
    let done = app.set_completed("alice", task.id, true).await;
    let next = done
        .next_occurrence_id
        .unwrap_or_else(|| panic!("a next occurrence was created: {done:?}"));
    app.get_task("alice", next).await
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

    let done = toggle(&app, &task).await;
    assert!(done.completed);
    let next = app
        .get_task("alice", done.next_occurrence_id.expect("a next occurrence"))
        .await;
    assert_ne!(next.id, task.id);
    assert!(!next.completed);
    assert_eq!(next.title, task.title, "title is carried over");
    assert_eq!(
        next.description, task.description,
        "description is carried over"
    );
    assert_eq!(next.priority, task.priority, "priority is carried over");
    assert_eq!(next.tags, task.tags, "tags is carried over");
    assert_eq!(
        next.recurrence, task.recurrence,
        "recurrence is carried over"
    );
    assert_eq!(next.due().unwrap(), at("2030-05-17T18:00:00Z"));
    assert_eq!(next.remind().unwrap(), at("2030-05-17T17:30:00Z"));

    // Reopening keeps the occurrence; completing again creates no second one.
    let reopened = toggle(&app, &task).await;
    assert!(!reopened.completed);
    assert_eq!(reopened.next_occurrence_id, done.next_occurrence_id);
    let again = toggle(&app, &task).await;
    assert_eq!(again.next_occurrence_id, done.next_occurrence_id);
    assert_eq!(app.list_tasks("alice", "").await.len(), 2);

    // A one-off task creates nothing.
    let plain = create(
        &app,
        json!({ "title": "once", "due_at": "2030-01-01T00:00:00Z" }),
    )
    .await;
    assert_eq!(toggle(&app, &plain).await.next_occurrence_id, None);
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
    assert_eq!(feb.due().unwrap(), at("2027-02-28T09:00:00Z"));
    let mar = next_of(&app, &feb).await;
    assert_eq!(
        mar.due().unwrap(),
        at("2027-03-31T09:00:00Z"),
        "back to the 31st"
    );
    let apr = next_of(&app, &mar).await;
    assert_eq!(apr.due().unwrap(), at("2027-04-30T09:00:00Z"));

    let leap = create(
        &app,
        json!({ "title": "leap", "due_at": "2028-01-31T12:00:00Z", "recurrence": monthly }),
    )
    .await;
    assert_eq!(
        next_of(&app, &leap).await.due().unwrap(),
        at("2028-02-29T12:00:00Z")
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
    assert_eq!(next_year.due().unwrap(), at("2029-02-28T08:00:00Z"));
    assert_eq!(
        next_of(&app, &next_year).await.due().unwrap(),
        at("2030-02-28T08:00:00Z")
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
    assert_eq!(local.due().unwrap(), at("2027-02-01T04:30:00Z"));
    let next = next_of(&app, &local).await;
    assert_eq!(next.due().unwrap(), at("2027-02-28T23:30:00-05:00"));
    assert_eq!(next.remind().unwrap(), at("2027-02-28T22:30:00-05:00"));
    let after = next_of(&app, &next).await;
    assert_eq!(after.due().unwrap(), at("2027-03-31T23:30:00-05:00"));

    let daily = create(
        &app,
        json!({
            "title": "standup", "due_at": "2030-12-31T10:00:00+05:30",
            "recurrence": { "frequency": "daily", "interval": 3 }
        }),
    )
    .await;
    assert_eq!(
        next_of(&app, &daily).await.due().unwrap(),
        at("2031-01-03T10:00:00+05:30")
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
    assert_eq!(third.due().unwrap(), at("2030-01-03T00:00:00Z"));
    let done = toggle(&app, &third).await;
    assert_eq!(
        done.next_occurrence_id, None,
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
        last.due().unwrap(),
        at("2030-01-08T00:00:00Z"),
        "until is inclusive"
    );
    assert_eq!(toggle(&app, &last).await.next_occurrence_id, None);
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
    let rule = by_until.recurrence.as_ref().expect("a recurrence");
    assert_eq!(rule.count, Some(3));
    assert_eq!(
        rule.until.as_ref().map(Timestamp::instant),
        Some(at("2030-01-02T00:00:00Z"))
    );
    let second = next_of(&app, &by_until).await;
    assert_eq!(second.due().unwrap(), at("2030-01-02T00:00:00Z"));
    assert_eq!(
        toggle(&app, &second).await.next_occurrence_id,
        None,
        "the until ends the series before the count"
    );

    // `count` first, set with PUT on an existing task.
    let task = app.create_titled("alice", "count first").await;
    let updated = app
        .update_task(
            "alice",
            task.id,
            json!({
                "due_at": "2030-01-01T00:00:00Z",
                "recurrence": {
                    "frequency": "daily", "interval": 1, "count": 2, "until": "2030-12-31T00:00:00Z"
                }
            }),
        )
        .await;
    let rule = updated.recurrence.as_ref().expect("a recurrence");
    assert_eq!(rule.count, Some(2));
    assert_eq!(
        rule.until.as_ref().map(Timestamp::instant),
        Some(at("2030-12-31T00:00:00Z"))
    );
    let second = next_of(&app, &updated).await;
    assert_eq!(second.due().unwrap(), at("2030-01-02T00:00:00Z"));
    assert_eq!(
        toggle(&app, &second).await.next_occurrence_id,
        None,
        "the count ends the series before the until"
    );
}
