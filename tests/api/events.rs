//! `GET /api/{user_id}/events`: the event stream. Every write kind arrives exactly once, in
//! order; a reconnect with `Last-Event-ID` loses and repeats nothing; the stream keeps itself
//! open with heartbeats, ends with `reauth` when the token expires and with `resync` when the
//! client falls behind; it carries the caller's changes only, is counted in `/metrics`, and
//! ends at shutdown. The waits are generous bounds against a hang, never speed checks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde_json::json;

use crate::feed::listing;
use crate::support::{
    Change, Event, EventStream, Next, Replica, SECRET, ServerConfig, TestApp, assert_problem,
    error_fields, now, on_both_backends, sign,
};

on_both_backends!(
    every_write_kind_appears_exactly_once,
    a_stream_starts_now_or_from_a_cursor,
    resuming_after_a_dropped_connection_loses_and_repeats_nothing,
    heartbeats_keep_an_idle_stream_open,
    the_stream_ends_with_reauth_when_the_token_expires,
    a_client_too_far_behind_is_told_to_resync,
    a_consumer_that_stops_reading_is_told_to_resync,
    another_users_events_never_arrive,
    bad_requests_are_refused_before_the_stream_opens,
    streams_are_counted_and_end_promptly_at_shutdown,
);

/// The longest wait for one event: a guard against a hang.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// How long "nothing more arrives" is watched for.
const QUIET: Duration = Duration::from_millis(500);

/// The next `expected.len()` events are these changes; returns the last id.
pub(crate) async fn expect_changes(
    stream: &mut EventStream,
    expected: Vec<Change>,
) -> Option<String> {
    let got = stream.changes(expected.len(), WAIT).await;
    let (ids, changes): (Vec<String>, Vec<Change>) = got.into_iter().unzip();
    assert_eq!(changes, expected);
    ids.last().cloned()
}

async fn every_write_kind_appears_exactly_once(app: TestApp) {
    let mut stream = app.stream_events("alice", "", None).await;
    stream.ready().await;

    let task = app.create_titled("alice", "create").await;
    expect_changes(&mut stream, vec![Change::Upsert { task: task.clone() }]).await;
    let task = app
        .update_task("alice", task.id, json!({ "title": "update" }))
        .await;
    expect_changes(&mut stream, vec![Change::Upsert { task: task.clone() }]).await;
    let task = app.complete_task("alice", task.id).await;
    expect_changes(&mut stream, vec![Change::Upsert { task: task.clone() }]).await;
    let task = app.set_completed("alice", task.id, false).await;
    expect_changes(&mut stream, vec![Change::Upsert { task: task.clone() }]).await;

    let recurring = app
        .create_task(
            "alice",
            json!({
                "title": "water plants",
                "due_at": "2030-05-10T18:00:00Z",
                "recurrence": { "frequency": "weekly" }
            }),
        )
        .await;
    expect_changes(
        &mut stream,
        vec![Change::Upsert {
            task: recurring.clone(),
        }],
    )
    .await;
    let done = app.set_completed("alice", recurring.id, true).await;
    let occurrence = app
        .get_task("alice", done.next_occurrence_id.expect("a next occurrence"))
        .await;
    expect_changes(
        &mut stream,
        vec![
            Change::Upsert {
                task: occurrence.clone(),
            },
            Change::Upsert { task: done.clone() },
        ],
    )
    .await;

    app.delete_task("alice", task.id).await;
    expect_changes(&mut stream, vec![Change::Delete { id: task.id }]).await;

    let other = app.create_titled("alice", "also done").await;
    expect_changes(
        &mut stream,
        vec![Change::Upsert {
            task: other.clone(),
        }],
    )
    .await;
    let other = app.complete_task("alice", other.id).await;
    expect_changes(
        &mut stream,
        vec![Change::Upsert {
            task: other.clone(),
        }],
    )
    .await;
    assert_eq!(app.clear_completed("alice").await, 2);
    let mut cleared = vec![done.id, other.id];
    cleared.sort();
    expect_changes(
        &mut stream,
        cleared
            .into_iter()
            .map(|id| Change::Delete { id })
            .collect(),
    )
    .await;

    // Lists, subtasks and moves (issue #15).
    let list = app.create_named_list("alice", "Work").await;
    expect_changes(&mut stream, vec![Change::ListUpsert { list: list.clone() }]).await;
    let list = app
        .move_list("alice", list.id, json!({ "after": null }))
        .await;
    expect_changes(&mut stream, vec![Change::ListUpsert { list: list.clone() }]).await;
    let parent = app
        .create_task("alice", json!({ "title": "parent", "list_id": list.id }))
        .await;
    expect_changes(
        &mut stream,
        vec![Change::Upsert {
            task: parent.clone(),
        }],
    )
    .await;
    let child = app
        .create_task("alice", json!({ "title": "child", "parent_id": parent.id }))
        .await;
    let parent = app.get_task("alice", parent.id).await;
    expect_changes(
        &mut stream,
        vec![
            Change::Upsert {
                task: child.clone(),
            },
            Change::Upsert {
                task: parent.clone(),
            },
        ],
    )
    .await;
    let parent = app
        .move_task("alice", parent.id, json!({ "list_id": null }))
        .await;
    let child = app.get_task("alice", child.id).await;
    expect_changes(
        &mut stream,
        vec![
            Change::Upsert {
                task: parent.clone(),
            },
            Change::Upsert {
                task: child.clone(),
            },
        ],
    )
    .await;
    let parent = app.set_completed("alice", parent.id, true).await;
    let child = app.get_task("alice", child.id).await;
    expect_changes(
        &mut stream,
        vec![
            Change::Upsert {
                task: child.clone(),
            },
            Change::Upsert {
                task: parent.clone(),
            },
        ],
    )
    .await;
    app.delete_list("alice", list.id, "").await;
    expect_changes(&mut stream, vec![Change::ListDelete { id: list.id }]).await;
    assert_eq!(app.clear_completed("alice").await, 2);
    let last = expect_changes(
        &mut stream,
        vec![
            Change::Delete { id: parent.id },
            Change::Delete { id: child.id },
        ],
    )
    .await;

    // Nothing more, not even for writes that change nothing.
    app.set_completed("alice", occurrence.id, false).await;
    app.clear_completed("alice").await;
    stream.quiet_for(QUIET).await;

    // The last id is where /changes stands now: the two cursors are one.
    assert_eq!(last, Some(app.list_changes("alice", "").await.cursor));
}

async fn a_stream_starts_now_or_from_a_cursor(app: TestApp) {
    let start = app.list_changes("alice", "").await.cursor;
    let t1 = app.create_titled("alice", "before").await;

    let mut now = app.stream_events("alice", "", None).await;
    let ready = now.ready().await;
    assert_eq!(ready, app.list_changes("alice", "").await.cursor, "now");
    let t2 = app.create_titled("alice", "after").await;
    let last = expect_changes(&mut now, vec![Change::Upsert { task: t2.clone() }]).await;

    let both = vec![Change::Upsert { task: t1 }, Change::Upsert { task: t2 }];
    let mut since = app
        .stream_events("alice", &format!("?since={start}"), None)
        .await;
    assert_eq!(since.ready().await, start);
    assert_eq!(expect_changes(&mut since, both.clone()).await, last);

    // Last-Event-ID wins over `since`, as when an EventSource reconnects to the same URL.
    let mut resumed = app
        .stream_events("alice", &format!("?since={ready}"), Some(&start))
        .await;
    assert_eq!(resumed.ready().await, start);
    expect_changes(&mut resumed, both).await;

    for stream in [&mut now, &mut since, &mut resumed] {
        stream.quiet_for(QUIET).await;
    }
}

/// The task number and version a title `t<task> v<version>` carries.
fn version_of(change: &Change) -> Option<(usize, usize)> {
    let Change::Upsert { task } = change else {
        return None;
    };
    let (task, version) = task.title.strip_prefix('t')?.split_once(" v")?;
    Some((task.parse().ok()?, version.parse().ok()?))
}

async fn resuming_after_a_dropped_connection_loses_and_repeats_nothing(app: TestApp) {
    let mut first = app.stream_events("alice", "", None).await;
    first.ready().await;
    let done = AtomicBool::new(false);

    // A burst: ten tasks, then versions of them, as fast as the server takes them.
    let writer = async {
        let mut ids = Vec::new();
        for task in 0..10 {
            ids.push(app.create_titled("alice", &format!("t{task} v0")).await.id);
        }
        for version in 1..=6 {
            for (task, id) in ids.iter().enumerate() {
                let title = format!("t{task} v{version}");
                app.update_task("alice", *id, json!({ "title": title }))
                    .await;
            }
        }
        done.store(true, Ordering::SeqCst);
    };
    let reader = async {
        let mut received = first.changes(15, WAIT).await;
        // The connection drops mid-burst; the client reconnects from the last id it has.
        drop(first);
        let last = received
            .last()
            .map(|(id, _)| id.clone())
            .unwrap_or_default();
        let mut second = app.stream_events("alice", "", Some(&last)).await;
        assert_eq!(second.ready().await, last);
        loop {
            match second.next_within(Duration::from_secs(1)).await {
                Next::Event(Event::Change { id, change }) => {
                    received.push((id, change));
                }
                Next::Quiet if done.load(Ordering::SeqCst) => break,
                Next::Quiet => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        received
    };
    let ((), received) = tokio::join!(writer, reader);

    let mut ids: Vec<&str> = received.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), received.len(), "no event arrives twice");
    // Each task's versions only go up: nothing repeated, nothing out of order.
    let mut seen = [None::<usize>; 10];
    for (_, change) in &received {
        let (task, version) = version_of(change).expect("only the burst's upserts");
        assert!(
            seen[task].is_none_or(|before| version > before),
            "t{task}: v{version} after v{:?}",
            seen[task]
        );
        seen[task] = Some(version);
    }
    // Nothing lost: every task at its last version, exactly as listed.
    assert!(seen.iter().all(|v| *v == Some(6)), "{seen:?}");
    let mut replica = Replica::default();
    for (_, change) in &received {
        replica.apply(change);
    }
    assert_eq!(replica.sorted(), listing(&app, "alice").await);
}

async fn heartbeats_keep_an_idle_stream_open(app: TestApp) {
    let app = app
        .reconfigure(ServerConfig::default().var("EVENTS_HEARTBEAT", "200ms"))
        .await;
    let mut stream = app.stream_events("alice", "", None).await;
    stream.ready().await;
    for _ in 0..50 {
        if stream.comments >= 3 {
            break;
        }
        stream.quiet_for(Duration::from_millis(200)).await;
    }
    assert!(stream.comments >= 3, "{} heartbeats", stream.comments);
    // Still open and live.
    let task = app.create_titled("alice", "still here").await;
    expect_changes(&mut stream, vec![Change::Upsert { task }]).await;
}

async fn the_stream_ends_with_reauth_when_the_token_expires(app: TestApp) {
    let expiring = sign(
        Algorithm::HS256,
        SECRET.as_bytes(),
        &json!({ "sub": "alice", "iat": now(), "exp": now() + 3 }),
    );
    let mut stream = app.stream_events_as(&expiring, "alice", "", None).await;
    stream.ready().await;
    let task = app.create_titled("alice", "while valid").await;
    let last = expect_changes(&mut stream, vec![Change::Upsert { task }]).await;
    let cursor = match stream.next(WAIT).await {
        Some(Event::Reauth { cursor, .. }) => cursor,
        other => panic!("expected reauth, got {other:?}"),
    };
    assert_eq!(Some(cursor.clone()), last, "reauth says where to resume");
    stream.ends_within(WAIT).await;

    // Written while the client fetches a new token: delivered after the reconnect.
    let meanwhile = app.create_titled("alice", "meanwhile").await;
    let mut again = app.stream_events("alice", "", Some(&cursor)).await;
    assert_eq!(again.ready().await, cursor);
    expect_changes(&mut again, vec![Change::Upsert { task: meanwhile }]).await;
    again.quiet_for(QUIET).await;
}

async fn a_client_too_far_behind_is_told_to_resync(app: TestApp) {
    let app = app
        .reconfigure(ServerConfig::default().var("EVENTS_MAX_LAG", "5"))
        .await;
    let start = app.list_changes("alice", "").await.cursor;
    for n in 0..8 {
        app.create_titled("alice", &format!("task {n}")).await;
    }
    // Resuming from too far back: resync at once, from where the client stands.
    let mut stream = app.stream_events("alice", "", Some(&start)).await;
    assert_eq!(stream.ready().await, start);
    match stream.next(WAIT).await {
        Some(Event::Resync { cursor, .. }) => assert_eq!(cursor, start),
        other => panic!("expected resync, got {other:?}"),
    }
    stream.ends_within(WAIT).await;

    // A burst larger than the lag, in one commit, does the same.
    let mut stream = app.stream_events("alice", "", None).await;
    let ready = stream.ready().await;
    let listed = listing(&app, "alice").await;
    for task in &listed[..6] {
        let done = app.complete_task("alice", task.id).await;
        expect_changes(&mut stream, vec![Change::Upsert { task: done }]).await;
    }
    app.clear_completed("alice").await;
    let cursor = match stream.next(WAIT).await {
        Some(Event::Resync { cursor, .. }) => cursor,
        other => panic!("expected resync, got {other:?}"),
    };
    stream.ends_within(WAIT).await;
    assert_ne!(cursor, ready);
    // The client catches up with /changes from there.
    let page = app.list_changes("alice", &format!("?since={cursor}")).await;
    assert_eq!(page.changes.len(), 6, "the six deletions: {page:?}");
    assert!(
        page.changes
            .iter()
            .all(|c| matches!(c, Change::Delete { .. }))
    );
}

async fn a_consumer_that_stops_reading_is_told_to_resync(app: TestApp) {
    let app = app
        .reconfigure(ServerConfig::default().var("EVENTS_MAX_LAG", "20"))
        .await;
    // Large tasks (4-byte characters, every tag): about 7 KiB an event.
    let big = |n: usize| "𝄞".repeat(n);
    let tags: Vec<String> = (0..20).map(|t| format!("{t:02}{}", big(30))).collect();
    let mut ids = Vec::new();
    for task in 0..20 {
        let body =
            json!({ "title": format!("t{task} v0"), "description": big(1000), "tags": tags });
        ids.push(app.create_task("alice", body).await.id);
    }
    let start = app.list_changes("alice", "").await.cursor;
    let path = format!("/api/alice/events?since={start}");
    let mut stream = EventStream::raw(&app.address, &path, &app.token("alice"), 4096).await;
    assert_eq!(stream.ready().await, start);

    // The client stops reading. Updates go on until the server has stopped handing events to
    // the connection (its buffers are full: the count of events sent stops moving), then some
    // more than the lag allowed.
    let sent = "todo_api_events_sent_total{event=\"change\"}";
    let (mut version, mut still, mut after_stall) = (0, 0, 0);
    while after_stall <= 40 {
        assert!(
            version < 400,
            "the server never stopped sending to a client that does not read"
        );
        version += 1;
        let before = metric(&app, sent).await;
        for (task, id) in ids.iter().enumerate() {
            let title = format!("t{task} v{version}");
            app.update_task(
                "alice",
                *id,
                json!({ "title": title, "description": big(999) }),
            )
            .await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let moved = metric(&app, sent).await > before;
        still = if moved { 0 } else { still + 1 };
        if still >= 2 {
            after_stall += ids.len();
        }
    }

    // When it reads again: what the buffers held, in order, then resync, then the end.
    let mut received = Vec::new();
    let cursor = loop {
        match stream.next(WAIT).await {
            Some(Event::Change { change, .. }) => received.push(change),
            Some(Event::Resync { cursor, .. }) => break cursor,
            other => panic!(
                "expected changes then resync, got {other:?} after {} changes",
                received.len()
            ),
        }
    };
    stream.ends_within(WAIT).await;
    assert!(
        received.len() < version * ids.len(),
        "not everything was sent: {}",
        received.len()
    );
    // Catching up from the resync cursor gives the rest: each task's versions only go up, and
    // the copy ends as the listing.
    let mut rest = Vec::new();
    let mut since = cursor;
    loop {
        let page = app
            .list_changes("alice", &format!("?since={since}&limit=1000"))
            .await;
        rest.extend(page.changes);
        since = page.cursor;
        if !page.has_more {
            break;
        }
    }
    let mut seen = vec![None::<usize>; ids.len()];
    let mut replica = Replica::default();
    for change in received.iter().chain(&rest) {
        let (task, version) = version_of(change).expect("only updates");
        assert!(seen[task].is_none_or(|before| version > before), "t{task}");
        seen[task] = Some(version);
        replica.apply(change);
    }
    let mut expected = listing(&app, "alice").await;
    expected.retain(|task| ids.contains(&task.id));
    assert_eq!(replica.sorted(), expected);
}

async fn another_users_events_never_arrive(app: TestApp) {
    let mut alices = app.stream_events("alice", "", None).await;
    let alice_cursor = alices.ready().await;
    let mut bobs = app.stream_events("bob", "", None).await;
    bobs.ready().await;

    let b1 = app.create_titled("bob", "bob's").await;
    let b1 = app
        .update_task("bob", b1.id, json!({ "title": "bob's, renamed" }))
        .await;
    app.delete_task("bob", b1.id).await;
    let b2 = app.create_titled("bob", "bob's too").await;
    let a1 = app.create_titled("alice", "alice's").await;

    expect_changes(&mut alices, vec![Change::Upsert { task: a1 }]).await;
    alices.quiet_for(QUIET).await;
    // Bob's stream may fold a change into a later one of the same task, but ends as bob's
    // tasks are, and holds nothing else.
    let mut replica = Replica::default();
    loop {
        match bobs.next_within(QUIET).await {
            Next::Event(Event::Change { change, .. }) => {
                assert!(
                    change.task_id() == b1.id || change.task_id() == b2.id,
                    "{change:?}"
                );
                replica.apply(&change);
            }
            Next::Quiet => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(replica.sorted(), [b2]);
    assert_eq!(listing(&app, "bob").await.len(), 1);

    // Alice's cursor is no key to bob's stream, nor alice's token to bob's path.
    let problem = assert_problem(
        app.try_stream_events("bob", "", Some(&alice_cursor)).await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["Last-Event-ID"]);
    let forbidden = app
        .try_stream_events_as(&app.token("alice"), "bob", "", None)
        .await;
    assert_problem(forbidden, 403).await;
}

async fn bad_requests_are_refused_before_the_stream_opens(app: TestApp) {
    let anonymous = app
        .anonymous(reqwest::Method::GET, "/api/alice/events")
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, 401).await;
    let problem =
        assert_problem(app.try_stream_events("alice", "?since=x!", None).await, 422).await;
    assert_eq!(error_fields(&problem), ["since"]);
    let problem = assert_problem(
        app.try_stream_events("alice", "?since=bm90IGEgY3Vyc29y", None)
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["since"]);
    let problem = assert_problem(
        app.try_stream_events("alice", "", Some("not a cursor"))
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["Last-Event-ID"]);
}

/// The value of the metric line starting with `series` in `/metrics`.
async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app
        .anonymous(reqwest::Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in /metrics:\n{text}"))
}

/// Waits (10 s at most) until the metric `series` is `value`.
async fn metric_becomes(app: &TestApp, series: &str, value: f64) {
    for _ in 0..100 {
        if metric(app, series).await == value {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{series} is {} and not {value}", metric(app, series).await);
}

async fn streams_are_counted_and_end_promptly_at_shutdown(app: TestApp) {
    let app = app
        .reconfigure(
            ServerConfig::default()
                .var("EVENTS_HEARTBEAT", "200ms")
                .var("SHUTDOWN_GRACE", "60s"),
        )
        .await;
    let mut one = app.stream_events("alice", "", None).await;
    one.ready().await;
    let mut two = app.stream_events("bob", "", None).await;
    two.ready().await;
    metric_becomes(&app, "todo_api_event_streams_open", 2.0).await;
    assert_eq!(
        metric(&app, "todo_api_events_sent_total{event=\"ready\"}").await,
        2.0
    );
    let task = app.create_titled("alice", "counted").await;
    expect_changes(&mut one, vec![Change::Upsert { task }]).await;
    assert_eq!(
        metric(&app, "todo_api_events_sent_total{event=\"change\"}").await,
        1.0
    );
    assert_eq!(
        metric(&app, "todo_api_event_delay_seconds_count").await,
        1.0
    );

    // A client that goes away is noticed (at the latest by the next heartbeat).
    drop(two);
    metric_becomes(&app, "todo_api_event_streams_open", 1.0).await;
    assert_eq!(
        metric(
            &app,
            "todo_api_event_streams_closed_total{reason=\"client_gone\"}"
        )
        .await,
        1.0
    );

    // Shutdown ends the stream at once instead of waiting SHUTDOWN_GRACE for it.
    tokio::time::timeout(WAIT, app.stop())
        .await
        .expect("the server stops without waiting for the stream");
    one.ends_within(WAIT).await;
}
