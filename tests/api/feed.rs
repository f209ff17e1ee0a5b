//! `GET /api/{user_id}/changes`: the change feed. A client that applies its pages in order ends
//! with exactly the listing, whatever is written meanwhile; every write kind appears; cursors
//! expire (410) and belong to one user of one server (422); tasks that existed before the feed
//! get revisions in id order.

use std::time::Duration;

use serde_json::json;

use crate::support::{
    Backend, Change, Replica, ServerConfig, Task, TestApp, TestDb, assert_problem, error_fields,
    ids, old_task, on_both_backends,
};

on_both_backends!(
    the_whole_state_comes_in_pages_then_only_what_changed,
    a_task_changed_several_times_appears_once_in_its_latest_state,
    every_write_kind_is_in_the_feed,
    a_client_paging_while_writers_write_ends_with_the_listing,
    foreign_and_garbage_cursors_are_422,
    an_expired_cursor_is_410_but_a_whole_state_read_goes_on,
);

/// Every task of `user`, by id (what a replica must hold).
pub(crate) async fn listing(app: &TestApp, user: &str) -> Vec<Task> {
    let mut tasks = app.list_tasks(user, "?status=all&limit=1000").await;
    tasks.sort_by_key(|task| task.id);
    tasks
}

/// What `changes` are about: `+id` for an upsert, `-id` for a delete.
pub(crate) fn summary(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|change| match change {
            Change::Upsert { task } => format!("+{}", task.id),
            Change::Delete { id } => format!("-{id}"),
            Change::ListUpsert { list } => format!("+list{}", list.id),
            Change::ListDelete { id } => format!("-list{id}"),
        })
        .collect()
}

async fn the_whole_state_comes_in_pages_then_only_what_changed(app: TestApp) {
    let mut tasks = Vec::new();
    for title in ["a", "b", "c", "d", "e"] {
        tasks.push(app.create_titled("alice", title).await);
    }
    let b = app
        .update_task("alice", tasks[1].id, json!({ "title": "b2" }))
        .await;
    let id = |i: usize| tasks[i].id;

    // In revision order: b was changed last.
    let first = app.list_changes("alice", "?limit=2").await;
    assert_eq!(
        summary(&first.changes),
        [format!("+{}", id(0)), format!("+{}", id(2))]
    );
    assert!(first.has_more);
    let second = app
        .list_changes("alice", &format!("?since={}&limit=2", first.cursor))
        .await;
    assert_eq!(
        summary(&second.changes),
        [format!("+{}", id(3)), format!("+{}", id(4))]
    );
    assert!(second.has_more);
    let third = app
        .list_changes("alice", &format!("?since={}&limit=2", second.cursor))
        .await;
    assert_eq!(third.changes, [Change::Upsert { task: b.clone() }]);
    assert!(!third.has_more);

    // Nothing since: the same cursor back.
    let nothing = app
        .list_changes("alice", &format!("?since={}", third.cursor))
        .await;
    assert!(
        nothing.changes.is_empty() && !nothing.has_more,
        "{nothing:?}"
    );
    assert_eq!(nothing.cursor, third.cursor);

    app.delete_task("alice", id(2)).await;
    let f = app.create_titled("alice", "f").await;
    let since = app
        .list_changes("alice", &format!("?since={}", third.cursor))
        .await;
    assert_eq!(
        since.changes,
        [Change::Delete { id: id(2) }, Change::Upsert { task: f }]
    );

    // The default page holds everything here; every upsert is the task as GET shows it.
    let all = app.list_changes("alice", "").await;
    assert!(!all.has_more);
    for change in &all.changes {
        let Change::Upsert { task } = change else {
            panic!("a whole-state read has no deletes: {change:?}");
        };
        assert_eq!(*task, app.get_task("alice", task.id).await);
    }
    assert_eq!(all.changes.len(), 5);
    assert_eq!(all.cursor, since.cursor, "both end at the user's revision");
}

async fn a_task_changed_several_times_appears_once_in_its_latest_state(app: TestApp) {
    let empty = app.list_changes("alice", "").await;
    assert!(empty.changes.is_empty() && !empty.has_more, "{empty:?}");
    let task = app.create_titled("alice", "draft").await;
    app.update_task("alice", task.id, json!({ "title": "final" }))
        .await;
    app.update_task("alice", task.id, json!({ "priority": "high" }))
        .await;
    let done = app.complete_task("alice", task.id).await;
    let brief = app.create_titled("alice", "gone soon").await;
    app.delete_task("alice", brief.id).await;

    let page = app
        .list_changes("alice", &format!("?since={}", empty.cursor))
        .await;
    // The brief task's creation is superseded by its deletion: only the deletion is left.
    assert_eq!(
        page.changes,
        [
            Change::Upsert { task: done },
            Change::Delete { id: brief.id }
        ]
    );
}

async fn every_write_kind_is_in_the_feed(app: TestApp) {
    let start = app.list_changes("alice", "").await.cursor;
    let mut cursor = start.clone();
    // After each write, exactly what it changed, in the order it changed it.
    let mut next = async |expected: Vec<Change>| {
        let page = app.list_changes("alice", &format!("?since={cursor}")).await;
        assert_eq!(page.changes, expected);
        cursor = page.cursor;
    };

    let task = app.create_titled("alice", "create").await;
    next(vec![Change::Upsert { task: task.clone() }]).await;
    let task = app
        .update_task(
            "alice",
            task.id,
            json!({ "title": "update", "tags": ["x"] }),
        )
        .await;
    next(vec![Change::Upsert { task: task.clone() }]).await;
    let task = app.complete_task("alice", task.id).await;
    next(vec![Change::Upsert { task: task.clone() }]).await;
    let task = app.set_completed("alice", task.id, false).await;
    next(vec![Change::Upsert { task: task.clone() }]).await;
    // Setting the state a task already has changes nothing, and is not in the feed.
    app.set_completed("alice", task.id, false).await;
    next(vec![]).await;

    // Completing a recurring task: its next occurrence first, then the task itself.
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
    next(vec![Change::Upsert {
        task: recurring.clone(),
    }])
    .await;
    let done = app.set_completed("alice", recurring.id, true).await;
    let occurrence = app
        .get_task("alice", done.next_occurrence_id.expect("a next occurrence"))
        .await;
    next(vec![
        Change::Upsert { task: occurrence },
        Change::Upsert { task: done.clone() },
    ])
    .await;

    app.delete_task("alice", task.id).await;
    next(vec![Change::Delete { id: task.id }]).await;

    let other = app.create_titled("alice", "also done").await;
    let other = app.complete_task("alice", other.id).await;
    next(vec![Change::Upsert {
        task: other.clone(),
    }])
    .await;
    assert_eq!(app.clear_completed("alice").await, 2);
    let mut cleared = vec![done.id, other.id];
    cleared.sort();
    next(
        cleared
            .into_iter()
            .map(|id| Change::Delete { id })
            .collect(),
    )
    .await;
    // Clearing nothing changes nothing.
    assert_eq!(app.clear_completed("alice").await, 0);
    next(vec![]).await;

    // Lists, subtasks and manual order: each list write is a list change; a subtask's write
    // sends its parent again (its counts changed); a move sends the task then the subtasks it
    // took along; a cascade sends every subtask it completed, then the task.
    let list = app.create_named_list("alice", "Work").await;
    next(vec![Change::ListUpsert { list: list.clone() }]).await;
    let list = app
        .update_list("alice", list.id, json!({ "name": "Job" }))
        .await;
    next(vec![Change::ListUpsert { list: list.clone() }]).await;
    let home = app.create_named_list("alice", "Home").await;
    next(vec![Change::ListUpsert { list: home.clone() }]).await;
    let home = app
        .move_list("alice", home.id, json!({ "after": null }))
        .await;
    next(vec![Change::ListUpsert { list: home.clone() }]).await;
    let parent = app
        .create_task("alice", json!({ "title": "parent", "list_id": list.id }))
        .await;
    next(vec![Change::Upsert {
        task: parent.clone(),
    }])
    .await;
    let child = app
        .create_task("alice", json!({ "title": "child", "parent_id": parent.id }))
        .await;
    let parent = app.get_task("alice", parent.id).await;
    next(vec![
        Change::Upsert {
            task: child.clone(),
        },
        Change::Upsert {
            task: parent.clone(),
        },
    ])
    .await;
    let brief = app
        .create_task("alice", json!({ "title": "brief", "parent_id": parent.id }))
        .await;
    next(vec![
        Change::Upsert {
            task: brief.clone(),
        },
        Change::Upsert {
            task: app.get_task("alice", parent.id).await,
        },
    ])
    .await;
    app.delete_task("alice", brief.id).await;
    next(vec![
        Change::Delete { id: brief.id },
        Change::Upsert {
            task: app.get_task("alice", parent.id).await,
        },
    ])
    .await;
    let parent = app
        .move_task("alice", parent.id, json!({ "list_id": home.id }))
        .await;
    let child = app.get_task("alice", child.id).await;
    next(vec![
        Change::Upsert {
            task: parent.clone(),
        },
        Change::Upsert {
            task: child.clone(),
        },
    ])
    .await;
    let parent = app.set_completed("alice", parent.id, true).await;
    let child = app.get_task("alice", child.id).await;
    assert!(child.completed);
    next(vec![
        Change::Upsert {
            task: child.clone(),
        },
        Change::Upsert {
            task: parent.clone(),
        },
    ])
    .await;
    // A list deleted with its tasks: their tombstones, then the list's.
    app.delete_list("alice", home.id, "?tasks=delete").await;
    next(vec![
        Change::Delete { id: parent.id },
        Change::Delete { id: child.id },
        Change::ListDelete { id: home.id },
    ])
    .await;
    // A list deleted, its tasks moved to the inbox.
    let kept = app
        .create_task("alice", json!({ "title": "kept", "list_id": list.id }))
        .await;
    next(vec![Change::Upsert { task: kept.clone() }]).await;
    app.delete_list("alice", list.id, "?tasks=inbox").await;
    next(vec![
        Change::Upsert {
            task: app.get_task("alice", kept.id).await,
        },
        Change::ListDelete { id: list.id },
    ])
    .await;

    // Failed writes take no revision and leave nothing.
    let stale = app
        .request(reqwest::Method::DELETE, "alice", "/api/alice/tasks/999999")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);
    let invalid = app
        .try_update_task("alice", recurring.id, json!({ "title": "" }))
        .await;
    assert_eq!(invalid.status(), 422);
    next(vec![]).await;

    // From the start, the replica ends as the listing.
    let mut replica = Replica::default();
    app.sync_changes("alice", Some(&start), 2, &mut replica)
        .await;
    assert_eq!(replica.sorted(), listing(&app, "alice").await);
    assert!(replica.lists.is_empty());
}

/// One writer's work: creates, updates, toggles and deletes of its own tasks, tolerating the
/// tasks another writer's `clear completed` removed.
pub(crate) async fn write_for_a_while(app: &TestApp, user: &str, writer: usize, ops: usize) {
    let mut mine: Vec<i64> = Vec::new();
    for op in 0..ops {
        let pick = (op * 7 + writer * 3) % 20;
        let target = (!mine.is_empty()).then(|| mine[(op * 13 + writer) % mine.len()]);
        match (pick, target) {
            (0..=11, _) | (_, None) => {
                let task = app.create_titled(user, &format!("w{writer} op{op}")).await;
                mine.push(task.id);
            }
            (12..=14, Some(id)) => {
                let body = json!({ "title": format!("w{writer} op{op} renamed") });
                let status = app.try_update_task(user, id, body).await.status();
                assert!(matches!(status.as_u16(), 200 | 404), "{status}");
            }
            (15..=16, Some(id)) => {
                let status = app.try_complete_task(user, id, None).await.status();
                assert!(matches!(status.as_u16(), 200 | 404), "{status}");
            }
            (17..=18, Some(id)) => {
                let status = app.try_delete_task(user, id).await.status();
                assert!(matches!(status.as_u16(), 204 | 404), "{status}");
                mine.retain(|m| *m != id);
            }
            _ => {
                let response = app.try_clear_completed(user, "?status=completed").await;
                let status = response.status().as_u16();
                assert_eq!(status, 200, "{}", response.text().await.unwrap_or_default());
            }
        }
    }
}

async fn a_client_paging_while_writers_write_ends_with_the_listing(app: TestApp) {
    for title in ["seed 1", "seed 2", "seed 3"] {
        app.create_titled("alice", title).await;
    }
    let writers = async {
        futures_util::future::join_all(
            (0..4).map(|writer| write_for_a_while(&app, "alice", writer, 40)),
        )
        .await
    };
    // Pages of 3, again and again, while the writers write: from the whole state, then on.
    let reader = async {
        let mut replica = Replica::default();
        let mut cursor = app.sync_changes("alice", None, 3, &mut replica).await;
        for _ in 0..40 {
            cursor = app
                .sync_changes("alice", Some(&cursor), 3, &mut replica)
                .await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (replica, cursor)
    };
    let (_, (mut replica, cursor)) = tokio::join!(writers, reader);
    app.sync_changes("alice", Some(&cursor), 3, &mut replica)
        .await;
    let expected = listing(&app, "alice").await;
    assert!(expected.len() > 3, "the writers created tasks");
    assert_eq!(ids(&replica.sorted()), ids(&expected));
    assert_eq!(replica.sorted(), expected);
}

async fn foreign_and_garbage_cursors_are_422(app: TestApp) {
    app.create_titled("alice", "a").await;
    app.create_titled("bob", "b").await;
    let alices = app.list_changes("alice", "?limit=1").await.cursor;
    let bobs = app.list_changes("bob", "").await.cursor;
    let listing_cursor = {
        app.create_titled("alice", "a2").await;
        let page = app.list_page("alice", "?limit=1").await;
        let next = page.next.expect("a next page");
        next.split("cursor=").nth(1).unwrap_or_default().to_owned()
    };
    // One character changed: no longer what the server wrote.
    let tampered = {
        let mut chars: Vec<char> = alices.chars().collect();
        let at = chars.len() / 2;
        chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    for (query, field) in [
        ("?since=not-a-cursor".to_owned(), "since"),
        ("?since=%25%25".to_owned(), "since"),
        ("?since=".to_owned(), "since"),
        (format!("?since={bobs}"), "since"),
        (format!("?since={tampered}"), "since"),
        (format!("?since={listing_cursor}"), "since"),
        ("?limit=0".to_owned(), "limit"),
        ("?limit=1001".to_owned(), "limit"),
        ("?limit=ten".to_owned(), "limit"),
    ] {
        let problem = assert_problem(app.try_list_changes("alice", &query).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{query}: {problem}");
    }
    // Alice's cursor is fine for alice; bob cannot read alice's feed at all.
    app.list_changes("alice", &format!("?since={alices}&limit=1000"))
        .await;
    let forbidden = app
        .request(
            reqwest::Method::GET,
            "bob",
            &format!("/api/alice/changes?since={alices}"),
        )
        .send()
        .await
        .unwrap();
    assert_problem(forbidden, 403).await;
    let anonymous = app
        .anonymous(reqwest::Method::GET, "/api/alice/changes")
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, 401).await;
}

async fn an_expired_cursor_is_410_but_a_whole_state_read_goes_on(app: TestApp) {
    let app = app
        .reconfigure(ServerConfig::default().var("CHANGES_RETENTION", "1s"))
        .await;
    let a = app.create_titled("alice", "a").await;
    let b = app.create_titled("alice", "b").await;
    let before = app.list_changes("alice", "").await.cursor;
    let c = app.create_titled("alice", "c").await;
    app.delete_task("alice", c.id).await;
    let after = app.list_changes("alice", "").await.cursor;

    // Compaction runs every second here: within a generous wait, the deletion is forgotten and
    // a cursor from before it is gone.
    let mut expired = None;
    for _ in 0..100 {
        let response = app
            .try_list_changes("alice", &format!("?since={before}"))
            .await;
        if response.status() == 410 {
            expired = Some(response);
            break;
        }
        assert_eq!(response.status(), 200);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let problem = assert_problem(expired.expect("the cursor expires"), 410).await;
    assert_eq!(
        problem["type"], "urn:todo-api:problem:cursor-expired",
        "{problem}"
    );
    let problem =
        assert_problem(app.try_stream_events("alice", "", Some(&before)).await, 410).await;
    assert_eq!(problem["type"], "urn:todo-api:problem:cursor-expired");

    // A cursor from after the deletion still works.
    let page = app.list_changes("alice", &format!("?since={after}")).await;
    assert!(page.changes.is_empty(), "{page:?}");

    // Starting over works, page by page, though the tasks are older than the forgotten
    // deletion.
    let first = app.list_changes("alice", "?limit=1").await;
    assert_eq!(first.changes, [Change::Upsert { task: a }]);
    let second = app
        .list_changes("alice", &format!("?since={}&limit=1", first.cursor))
        .await;
    assert_eq!(second.changes, [Change::Upsert { task: b }]);
    assert!(!second.has_more);
}

/// The migration numbers the tasks that existed before it: per user, in id order.
async fn existing_tasks_get_revisions_in_id_order(backend: Backend) {
    let tasks = [
        ("alice", "a1"),
        ("bob", "b1"),
        ("alice", "a2"),
        ("alice", "a3"),
        ("bob", "b2"),
    ]
    .map(|(user, title)| old_task(user, title, "2026-01-01T00:00:00Z", &[]));
    let Some(db) = TestDb::left_before(backend, "change_feed", tasks).await else {
        return;
    };
    let url = db.url().to_owned();
    let app = TestApp::spawn_on(&url, ServerConfig::default()).await;
    let first = app.list_changes("alice", "?limit=2").await;
    assert_eq!(
        first
            .changes
            .iter()
            .map(|c| match c {
                Change::Upsert { task } => task.title.clone(),
                other => panic!("{other:?}"),
            })
            .collect::<Vec<_>>(),
        ["a1", "a2"]
    );
    let rest = app
        .list_changes("alice", &format!("?since={}", first.cursor))
        .await;
    assert_eq!(rest.changes.len(), 1);
    let all = app.list_changes("alice", "").await;
    // A new task comes after the old ones.
    let a4 = app.create_titled("alice", "a4").await;
    let since = app
        .list_changes("alice", &format!("?since={}", all.cursor))
        .await;
    assert_eq!(since.changes, [Change::Upsert { task: a4 }]);
    assert_eq!(app.list_changes("bob", "").await.changes.len(), 2);
    app.stop().await;
    drop(db);
}

#[tokio::test]
async fn existing_tasks_get_revisions_in_id_order_sqlite() {
    existing_tasks_get_revisions_in_id_order(Backend::Sqlite).await;
}

#[tokio::test]
async fn existing_tasks_get_revisions_in_id_order_postgres() {
    existing_tasks_get_revisions_in_id_order(Backend::Postgres).await;
}
