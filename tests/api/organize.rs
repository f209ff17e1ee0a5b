//! Lists, subtasks and manual order (issue #15): list CRUD and its conflicts, tasks moved
//! between lists with their subtasks, cycles, depth and other users' lists and tasks refused,
//! completion cascading, random moves against a model of the order, concurrent moves that never
//! tie, `sort=position` walked with paging, and the migration of existing tasks.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

use crate::support::{
    Backend, List, ServerConfig, Task, TestApp, TestDb, assert_problem, error_fields, ids,
    old_task, on_both_backends, spawn_app_with,
};

on_both_backends!(
    lists_are_created_read_renamed_and_deleted,
    list_names_are_unique_ignoring_case,
    lists_honour_if_match_and_if_none_match,
    a_list_with_tasks_is_deleted_only_saying_where_they_go,
    lists_are_reordered,
    tasks_start_in_the_inbox_at_the_end_at_the_top_level,
    subtasks_follow_their_parent_between_lists,
    cycles_depth_and_other_users_references_are_refused,
    completing_cascades_and_reopening_does_not,
    deleting_and_clearing_take_the_subtasks,
    a_recurring_task_brings_its_subtasks_back,
    moves_put_a_task_where_it_is_asked,
    moves_honour_if_match_and_refuse_bad_places,
    random_moves_give_the_order_a_model_gives,
    concurrent_moves_never_tie,
    concurrent_tree_writes_all_succeed_and_keep_the_counts,
    renumbering_keeps_keys_short_and_the_order,
    sort_by_position_pages_through_the_order,
);

/// The tasks of `list` (`inbox` or an id) under `parent` (`none` or an id), in the manual
/// order; their positions strictly increase, byte by byte.
async fn siblings(app: &TestApp, user: &str, list: &str, parent: &str) -> Vec<Task> {
    let tasks = app
        .list_tasks(
            user,
            &format!("?list_id={list}&parent_id={parent}&sort=position&limit=1000"),
        )
        .await;
    assert_increasing(&tasks.iter().map(|t| t.position.clone()).collect::<Vec<_>>());
    tasks
}

fn assert_increasing(positions: &[String]) {
    for pair in positions.windows(2) {
        assert!(
            pair[0].as_bytes() < pair[1].as_bytes(),
            "positions out of order or tied: {positions:?}"
        );
    }
}

fn sorted_by_position(mut tasks: Vec<Task>) -> Vec<Task> {
    tasks.sort_by(|a, b| a.position.as_bytes().cmp(b.position.as_bytes()));
    tasks
}

async fn lists_are_created_read_renamed_and_deleted(app: TestApp) {
    assert!(app.list_lists("alice").await.is_empty());
    let work = app
        .create_list("alice", json!({ "name": "  Work ", "color": "#1E90FF" }))
        .await;
    assert_eq!(work.name, "Work");
    assert_eq!(work.color.as_deref(), Some("#1e90ff"));
    assert_eq!((work.task_count, work.pending_count), (0, 0));
    let home = app.create_named_list("alice", "Home").await;
    assert!(work.position < home.position, "a new list goes last");
    assert_eq!(app.list_lists("alice").await, [work.clone(), home.clone()]);
    assert_eq!(app.get_list("alice", work.id).await, work);

    // Counts: every task of the list, subtasks included; pending ones apart.
    let a = app
        .create_task("alice", json!({ "title": "a", "list_id": work.id }))
        .await;
    let b = app
        .create_task("alice", json!({ "title": "b", "parent_id": a.id }))
        .await;
    assert_eq!(
        b.list_id,
        Some(work.id),
        "a subtask is in its parent's list"
    );
    app.complete_task("alice", b.id).await;
    let counted = app.get_list("alice", work.id).await;
    assert_eq!((counted.task_count, counted.pending_count), (2, 1));

    let renamed = app
        .update_list("alice", work.id, json!({ "name": "Office", "color": null }))
        .await;
    assert_eq!(renamed.name, "Office");
    assert_eq!(renamed.color, None);
    assert_eq!(renamed.position, work.position);
    let recolored = app
        .update_list("alice", work.id, json!({ "color": "#000000" }))
        .await;
    assert_eq!(recolored.name, "Office");

    // Bad input is a 422 naming the field.
    for (body, field) in [
        (json!({ "name": "   " }), "name"),
        (json!({ "name": "x".repeat(101) }), "name"),
        (json!({ "name": 7 }), "name"),
        (json!({ "name": "ok", "color": "blue" }), "color"),
        (json!({ "name": "ok", "color": "#12345" }), "color"),
        (json!({ "name": "ok", "colour": "#123456" }), "colour"),
        (json!({}), "name"),
    ] {
        let problem = assert_problem(app.try_create_list("alice", body.clone()).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{body}: {problem}");
    }
    let problem = assert_problem(
        app.try_update_list_if("alice", work.id, json!({}), None)
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["body"]);

    // Another user's list is a 404, exactly like one that does not exist.
    assert_problem(app.try_get_list("bob", work.id).await, 404).await;
    assert_problem(app.try_get_list("alice", 999_999).await, 404).await;
    assert_problem(app.try_delete_list("bob", work.id, "").await, 404).await;
    assert!(app.list_lists("bob").await.is_empty());

    app.delete_list("alice", home.id, "").await;
    assert_problem(app.try_get_list("alice", home.id).await, 404).await;
    assert_problem(app.try_delete_list("alice", home.id, "").await, 404).await;
}

async fn list_names_are_unique_ignoring_case(app: TestApp) {
    let work = app.create_named_list("alice", "Work").await;
    let problem = assert_problem(
        app.try_create_list("alice", json!({ "name": " wORK " }))
            .await,
        409,
    )
    .await;
    assert_eq!(problem["type"], "urn:todo-api:problem:conflict");
    let home = app.create_named_list("alice", "Home").await;
    assert_problem(
        app.try_update_list_if("alice", home.id, json!({ "name": "WORK" }), None)
            .await,
        409,
    )
    .await;
    // Renaming a list to its own name in another case is fine; other users have their own.
    app.update_list("alice", work.id, json!({ "name": "WORK" }))
        .await;
    app.create_named_list("bob", "work").await;
    // A deleted list's name is free again.
    app.delete_list("alice", home.id, "").await;
    app.create_named_list("alice", "home").await;
}

async fn lists_honour_if_match_and_if_none_match(app: TestApp) {
    let list = app.create_named_list("alice", "Work").await;
    let get = app
        .request(
            reqwest::Method::GET,
            "alice",
            &format!("/api/alice/lists/{}", list.id),
        )
        .send()
        .await
        .unwrap();
    let tag = get.headers()["etag"].to_str().unwrap().to_owned();
    let not_modified = app
        .request(
            reqwest::Method::GET,
            "alice",
            &format!("/api/alice/lists/{}", list.id),
        )
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    let renamed = app
        .try_update_list_if("alice", list.id, json!({ "name": "Job" }), Some(&tag))
        .await;
    assert_eq!(renamed.status(), 200);
    let newer = renamed.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(newer, tag);
    // The old version no longer matches: for an update, a move and a delete.
    assert_problem(
        app.try_update_list_if("alice", list.id, json!({ "name": "X" }), Some(&tag))
            .await,
        412,
    )
    .await;
    let moved = app
        .request(
            reqwest::Method::POST,
            "alice",
            &format!("/api/alice/lists/{}/move", list.id),
        )
        .header("If-Match", &tag)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(moved, 412).await;
    let deleted = app
        .request(
            reqwest::Method::DELETE,
            "alice",
            &format!("/api/alice/lists/{}", list.id),
        )
        .header("If-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_problem(deleted, 412).await;
    let deleted = app
        .request(
            reqwest::Method::DELETE,
            "alice",
            &format!("/api/alice/lists/{}", list.id),
        )
        .header("If-Match", &newer)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
}

async fn a_list_with_tasks_is_deleted_only_saying_where_they_go(app: TestApp) {
    let inbox_task = app.create_titled("alice", "already in the inbox").await;
    let work = app.create_named_list("alice", "Work").await;
    let a = app
        .create_task("alice", json!({ "title": "a", "list_id": work.id }))
        .await;
    let b = app
        .create_task("alice", json!({ "title": "b", "list_id": work.id }))
        .await;
    let a1 = app
        .create_task("alice", json!({ "title": "a1", "parent_id": a.id }))
        .await;
    let problem = assert_problem(app.try_delete_list("alice", work.id, "").await, 409).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("3 task"),
        "the conflict names the count: {problem}"
    );
    let problem = assert_problem(
        app.try_delete_list("alice", work.id, "?tasks=elsewhere")
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["tasks"]);

    // To the inbox: after its tasks, in their order, the subtasks under their parents.
    app.delete_list("alice", work.id, "?tasks=inbox").await;
    let inbox = siblings(&app, "alice", "inbox", "none").await;
    assert_eq!(ids(&inbox), [inbox_task.id, a.id, b.id]);
    assert!(inbox.iter().all(|t| t.list_id.is_none()));
    let under = siblings(&app, "alice", "inbox", &a.id.to_string()).await;
    assert_eq!(ids(&under), [a1.id]);
    assert_eq!(under[0].position, a1.position);

    // Deleted with the list.
    let home = app.create_named_list("alice", "Home").await;
    let c = app
        .create_task("alice", json!({ "title": "c", "list_id": home.id }))
        .await;
    let c1 = app
        .create_task("alice", json!({ "title": "c1", "parent_id": c.id }))
        .await;
    app.delete_list("alice", home.id, "?tasks=delete").await;
    assert_problem(app.try_get_task("alice", c.id).await, 404).await;
    assert_problem(app.try_get_task("alice", c1.id).await, 404).await;
    assert_eq!(app.list_tasks("alice", "").await.len(), 4);
}

async fn lists_are_reordered(app: TestApp) {
    let a = app.create_named_list("alice", "a").await;
    let b = app.create_named_list("alice", "b").await;
    let c = app.create_named_list("alice", "c").await;
    let names = |lists: Vec<List>| lists.into_iter().map(|l| l.name).collect::<Vec<_>>();
    app.move_list("alice", c.id, json!({ "after": null })).await;
    assert_eq!(names(app.list_lists("alice").await), ["c", "a", "b"]);
    app.move_list("alice", c.id, json!({ "after": a.id })).await;
    assert_eq!(names(app.list_lists("alice").await), ["a", "c", "b"]);
    let moved = app.move_list("alice", a.id, json!({})).await;
    assert_eq!(names(app.list_lists("alice").await), ["c", "b", "a"]);
    assert!(moved.position > b.position);
    for after in [json!(a.id), json!(999_999), json!("1"), json!(1.5)] {
        let problem = assert_problem(
            app.try_move_list("alice", a.id, json!({ "after": after }))
                .await,
            422,
        )
        .await;
        assert_eq!(error_fields(&problem), ["after"], "{after}");
    }
    let bobs = app.create_named_list("bob", "mine").await;
    let problem = assert_problem(
        app.try_move_list("alice", a.id, json!({ "after": bobs.id }))
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["after"]);
    let positions: Vec<String> = app
        .list_lists("alice")
        .await
        .into_iter()
        .map(|l| l.position)
        .collect();
    assert_increasing(&positions);
}

async fn tasks_start_in_the_inbox_at_the_end_at_the_top_level(app: TestApp) {
    let first = app.create_titled("alice", "first").await;
    let second = app.create_titled("alice", "second").await;
    for task in [&first, &second] {
        assert_eq!((task.list_id, task.parent_id), (None, None));
        assert_eq!((task.subtask_count, task.completed_subtask_count), (0, 0));
    }
    assert!(first.position < second.position);
    let inbox = siblings(&app, "alice", "inbox", "none").await;
    assert_eq!(ids(&inbox), [first.id, second.id]);
    // A subtask: counted on its parent, in its parent's list.
    let child = app
        .create_task("alice", json!({ "title": "child", "parent_id": first.id }))
        .await;
    assert_eq!(child.parent_id, Some(first.id));
    let first = app.get_task("alice", first.id).await;
    assert_eq!((first.subtask_count, first.completed_subtask_count), (1, 0));
    assert_eq!(
        ids(&app
            .list_tasks("alice", &format!("?parent_id={}", first.id))
            .await),
        [child.id]
    );
    assert_eq!(
        app.list_tasks("alice", "?parent_id=none").await.len(),
        2,
        "top-level tasks only"
    );
    // The counts come in the listing too.
    let listed = app
        .list_tasks("alice", "?sort=position&parent_id=none")
        .await;
    assert_eq!(listed[0].subtask_count, 1);
}

async fn subtasks_follow_their_parent_between_lists(app: TestApp) {
    let work = app.create_named_list("alice", "Work").await;
    let home = app.create_named_list("alice", "Home").await;
    let parent = app
        .create_task("alice", json!({ "title": "parent", "list_id": work.id }))
        .await;
    let child = app
        .create_task("alice", json!({ "title": "child", "parent_id": parent.id }))
        .await;
    let grandchild = app
        .create_task(
            "alice",
            json!({ "title": "grandchild", "parent_id": child.id }),
        )
        .await;
    // Moving the parent moves its subtree's list.
    let moved = app
        .move_task("alice", parent.id, json!({ "list_id": home.id }))
        .await;
    assert_eq!(moved.list_id, Some(home.id));
    assert_ne!(moved.position, "");
    for id in [child.id, grandchild.id] {
        let task = app.get_task("alice", id).await;
        assert_eq!(task.list_id, Some(home.id), "{task:?}");
    }
    assert_eq!(
        app.get_task("alice", child.id).await.parent_id,
        Some(parent.id)
    );
    assert_eq!(app.get_list("alice", home.id).await.task_count, 3);
    assert_eq!(app.get_list("alice", work.id).await.task_count, 0);
    // By an update too, to the inbox.
    let updated = app
        .update_task("alice", parent.id, json!({ "list_id": null, "title": "p" }))
        .await;
    assert_eq!((updated.list_id, updated.title.as_str()), (None, "p"));
    assert_eq!(app.get_task("alice", grandchild.id).await.list_id, None);
    // A subtask moved to another list without a parent leaves its parent.
    let left = app
        .move_task("alice", child.id, json!({ "list_id": work.id }))
        .await;
    assert_eq!((left.list_id, left.parent_id), (Some(work.id), None));
    assert_eq!(
        app.get_task("alice", grandchild.id).await.list_id,
        Some(work.id)
    );
    assert_eq!(app.get_task("alice", parent.id).await.subtask_count, 0);
    // Named with a parent, a list must be that parent's.
    let problem = assert_problem(
        app.try_create_task(
            "alice",
            json!({ "title": "x", "parent_id": parent.id, "list_id": work.id }),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["list_id"]);
    // Back under the parent: into the parent's list (the inbox), last among its subtasks.
    let back = app
        .move_task("alice", child.id, json!({ "parent_id": parent.id }))
        .await;
    assert_eq!((back.list_id, back.parent_id), (None, Some(parent.id)));
    assert_eq!(app.get_task("alice", grandchild.id).await.list_id, None);
}

async fn cycles_depth_and_other_users_references_are_refused(app: TestApp) {
    let a = app.create_titled("alice", "a").await;
    let b = app
        .create_task("alice", json!({ "title": "b", "parent_id": a.id }))
        .await;
    let c = app
        .create_task("alice", json!({ "title": "c", "parent_id": b.id }))
        .await;
    let d = app
        .create_task("alice", json!({ "title": "d", "parent_id": c.id }))
        .await;
    // Level 5 is one too deep.
    let problem = assert_problem(
        app.try_create_task("alice", json!({ "title": "e", "parent_id": d.id }))
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["parent_id"]);
    // Cycles: the task itself, or one of its own subtasks.
    for (task, parent) in [(a.id, a.id), (a.id, c.id), (b.id, d.id)] {
        for body in [json!({ "parent_id": parent })] {
            let problem =
                assert_problem(app.try_move_task("alice", task, body.clone()).await, 422).await;
            assert_eq!(
                error_fields(&problem),
                ["parent_id"],
                "{task} under {parent}"
            );
            let problem = assert_problem(app.try_update_task("alice", task, body).await, 422).await;
            assert_eq!(
                error_fields(&problem),
                ["parent_id"],
                "{task} under {parent}"
            );
        }
    }
    // A subtree of two levels under a task at level 3 would reach level 5.
    let x = app.create_titled("alice", "x").await;
    let x1 = app
        .create_task("alice", json!({ "title": "x1", "parent_id": x.id }))
        .await;
    let problem = assert_problem(
        app.try_move_task("alice", x.id, json!({ "parent_id": c.id }))
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["parent_id"]);
    app.move_task("alice", x.id, json!({ "parent_id": b.id }))
        .await;
    assert_eq!(app.get_task("alice", x1.id).await.parent_id, Some(x.id));

    // Another user's list and task are refused as if they did not exist.
    let bobs_list = app.create_named_list("bob", "bob's").await;
    let bobs_task = app.create_titled("bob", "bob's").await;
    for (body, field) in [
        (json!({ "title": "t", "list_id": bobs_list.id }), "list_id"),
        (json!({ "title": "t", "list_id": 999_999 }), "list_id"),
        (
            json!({ "title": "t", "parent_id": bobs_task.id }),
            "parent_id",
        ),
        (json!({ "title": "t", "parent_id": 999_999 }), "parent_id"),
    ] {
        let problem = assert_problem(app.try_create_task("alice", body.clone()).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{body}");
        let detail = problem["errors"][0]["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("no "), "{detail}");
    }
    let problem = assert_problem(
        app.try_move_task("alice", a.id, json!({ "after": bobs_task.id }))
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["after"]);
    // Nothing of Bob's changed; nothing of Alice's was created.
    assert_eq!(app.get_task("bob", bobs_task.id).await, bobs_task);
    assert_eq!(app.list_tasks("alice", "").await.len(), 6);
}

async fn completing_cascades_and_reopening_does_not(app: TestApp) {
    let parent = app.create_titled("alice", "parent").await;
    let child = app
        .create_task("alice", json!({ "title": "child", "parent_id": parent.id }))
        .await;
    let done = app
        .create_task("alice", json!({ "title": "done", "parent_id": parent.id }))
        .await;
    let grandchild = app
        .create_task("alice", json!({ "title": "gc", "parent_id": child.id }))
        .await;
    let done = app.complete_task("alice", done.id).await;
    let counted = app.get_task("alice", parent.id).await;
    assert_eq!(
        (counted.subtask_count, counted.completed_subtask_count),
        (2, 1)
    );

    let completed = app.set_completed("alice", parent.id, true).await;
    assert_eq!(completed.completed_subtask_count, 2);
    for id in [child.id, grandchild.id] {
        assert!(app.get_task("alice", id).await.completed, "{id}");
    }
    // An already completed subtask keeps its completion time.
    assert_eq!(
        app.get_task("alice", done.id).await.completed_at,
        done.completed_at
    );
    let reopened = app.set_completed("alice", parent.id, false).await;
    assert!(!reopened.completed);
    assert_eq!(reopened.completed_subtask_count, 2);
    for id in [child.id, grandchild.id, done.id] {
        assert!(app.get_task("alice", id).await.completed, "{id} stays done");
    }
    // Reopening a subtask counts on its parent.
    app.set_completed("alice", child.id, false).await;
    assert_eq!(
        app.get_task("alice", parent.id)
            .await
            .completed_subtask_count,
        1
    );
}

async fn deleting_and_clearing_take_the_subtasks(app: TestApp) {
    let parent = app.create_titled("alice", "parent").await;
    let child = app
        .create_task("alice", json!({ "title": "child", "parent_id": parent.id }))
        .await;
    let grandchild = app
        .create_task("alice", json!({ "title": "gc", "parent_id": child.id }))
        .await;
    let keep = app.create_titled("alice", "keep").await;
    app.delete_task("alice", parent.id).await;
    for id in [parent.id, child.id, grandchild.id] {
        assert_problem(app.try_get_task("alice", id).await, 404).await;
    }
    assert_eq!(ids(&app.list_tasks("alice", "").await), [keep.id]);

    // Clearing: completed tasks with their subtasks, and completed subtasks of pending tasks.
    let pending = app.create_titled("alice", "pending").await;
    let done_child = app
        .create_task("alice", json!({ "title": "dc", "parent_id": pending.id }))
        .await;
    let open_child = app
        .create_task("alice", json!({ "title": "oc", "parent_id": pending.id }))
        .await;
    app.complete_task("alice", done_child.id).await;
    let done = app.create_titled("alice", "done").await;
    let under_done = app
        .create_task("alice", json!({ "title": "ud", "parent_id": done.id }))
        .await;
    app.complete_task("alice", done.id).await;
    app.set_completed("alice", under_done.id, false).await;
    assert_eq!(app.clear_completed("alice").await, 3);
    let mut left = ids(&app.list_tasks("alice", "").await);
    left.sort();
    assert_eq!(left, [keep.id, pending.id, open_child.id]);
    let pending = app.get_task("alice", pending.id).await;
    assert_eq!(
        (pending.subtask_count, pending.completed_subtask_count),
        (1, 0)
    );
}

async fn a_recurring_task_brings_its_subtasks_back(app: TestApp) {
    let list = app.create_named_list("alice", "Chores").await;
    let weekly = app
        .create_task(
            "alice",
            json!({
                "title": "clean",
                "list_id": list.id,
                "due_at": "2030-05-10T18:00:00Z",
                "recurrence": { "frequency": "weekly" }
            }),
        )
        .await;
    let after = app
        .create_task("alice", json!({ "title": "after", "list_id": list.id }))
        .await;
    let kitchen = app
        .create_task(
            "alice",
            json!({ "title": "kitchen", "parent_id": weekly.id }),
        )
        .await;
    let sink = app
        .create_task("alice", json!({ "title": "sink", "parent_id": kitchen.id }))
        .await;
    let bath = app
        .create_task("alice", json!({ "title": "bath", "parent_id": weekly.id }))
        .await;
    app.complete_task("alice", bath.id).await;
    let done = app.set_completed("alice", weekly.id, true).await;
    let next_id = done.next_occurrence_id.expect("a next occurrence");
    let next = app.get_task("alice", next_id).await;
    assert_eq!(next.list_id, Some(list.id));
    assert_eq!((next.subtask_count, next.completed_subtask_count), (2, 0));
    // Right after the completed task, in its list.
    let order = siblings(&app, "alice", &list.id.to_string(), "none").await;
    assert_eq!(ids(&order), [weekly.id, next_id, after.id]);
    let copies = siblings(&app, "alice", &list.id.to_string(), &next_id.to_string()).await;
    assert_eq!(
        copies.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(),
        ["kitchen", "bath"]
    );
    assert!(
        copies
            .iter()
            .all(|t| !t.completed && t.list_id == Some(list.id))
    );
    let deeper = siblings(
        &app,
        "alice",
        &list.id.to_string(),
        &copies[0].id.to_string(),
    )
    .await;
    assert_eq!(deeper.len(), 1);
    assert_eq!(deeper[0].title, sink.title);
    assert_ne!(deeper[0].id, sink.id);
    // The originals stay with the completed task, completed.
    assert!(app.get_task("alice", kitchen.id).await.completed);
}

async fn moves_put_a_task_where_it_is_asked(app: TestApp) {
    let mut tasks = Vec::new();
    for title in ["a", "b", "c", "d"] {
        tasks.push(app.create_titled("alice", title).await);
    }
    let (a, b, c, d) = (&tasks[0], &tasks[1], &tasks[2], &tasks[3]);
    let order = async || {
        siblings(&app, "alice", "inbox", "none")
            .await
            .into_iter()
            .map(|t| t.title)
            .collect::<Vec<_>>()
    };
    let moved = app.move_task("alice", d.id, json!({ "after": null })).await;
    assert_eq!(order().await, ["d", "a", "b", "c"]);
    // Only the moved task changed.
    for task in [a, b, c] {
        assert_eq!(&app.get_task("alice", task.id).await, task);
    }
    assert!(moved.updated_at.instant() >= d.updated_at.instant());
    app.move_task("alice", a.id, json!({ "after": c.id })).await;
    assert_eq!(order().await, ["d", "b", "c", "a"]);
    app.move_task("alice", d.id, json!({})).await;
    assert_eq!(order().await, ["b", "c", "a", "d"]);
    app.move_task("alice", b.id, json!({ "after": a.id })).await;
    assert_eq!(order().await, ["c", "a", "b", "d"]);
    // Under another task, after one of its subtasks.
    app.move_task("alice", a.id, json!({ "parent_id": c.id }))
        .await;
    app.move_task("alice", b.id, json!({ "parent_id": c.id, "after": null }))
        .await;
    app.move_task("alice", d.id, json!({ "parent_id": c.id, "after": b.id }))
        .await;
    let under: Vec<String> = siblings(&app, "alice", "inbox", &c.id.to_string())
        .await
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(under, ["b", "d", "a"]);
    assert_eq!(order().await, ["c"]);
    assert_eq!(app.get_task("alice", c.id).await.subtask_count, 3);
}

async fn moves_honour_if_match_and_refuse_bad_places(app: TestApp) {
    let a = app.create_titled("alice", "a").await;
    let b = app.create_titled("alice", "b").await;
    let other = app.create_named_list("alice", "Other").await;
    let elsewhere = app
        .create_task("alice", json!({ "title": "e", "list_id": other.id }))
        .await;
    let stale = app
        .try_move_task_if("alice", a.id, json!({ "after": b.id }), Some("\"999\""))
        .await;
    assert_problem(stale, 412).await;
    let tag = app.try_get_task("alice", a.id).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let moved = app
        .try_move_task_if("alice", a.id, json!({ "after": b.id }), Some(&tag))
        .await;
    assert_eq!(moved.status(), 200);
    for (body, field) in [
        (json!({ "after": a.id }), "after"),
        (json!({ "after": elsewhere.id }), "after"),
        (json!({ "after": "2" }), "after"),
        (json!({ "after": 0 }), "after"),
        (json!({ "list_id": "inbox" }), "list_id"),
        (json!({ "list_id": 1.5 }), "list_id"),
        (json!({ "list_id": -3 }), "list_id"),
        (json!({ "parent_id": true }), "parent_id"),
        (json!({ "parent_id": a.id }), "parent_id"),
        (json!({ "before": b.id }), "before"),
    ] {
        let problem =
            assert_problem(app.try_move_task("alice", a.id, body.clone()).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{body}: {problem}");
    }
    // The same confusions on create and update.
    for (body, field) in [
        (json!({ "title": "t", "list_id": "1" }), "list_id"),
        (json!({ "title": "t", "parent_id": [1] }), "parent_id"),
    ] {
        let problem = assert_problem(app.try_create_task("alice", body.clone()).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{body}");
        let problem =
            assert_problem(app.try_update_task("alice", b.id, body.clone()).await, 422).await;
        assert!(error_fields(&problem).contains(&field.to_owned()), "{body}");
    }
    // Moving a task of another user, or one that does not exist, is a 404.
    assert_problem(app.try_move_task("bob", a.id, json!({})).await, 404).await;
    assert_problem(app.try_move_task("alice", 999_999, json!({})).await, 404).await;
    // Listing filters refuse what is neither an id nor their word.
    for query in [
        "?list_id=none",
        "?list_id=0",
        "?parent_id=inbox",
        "?parent_id=-1",
    ] {
        assert_problem(app.try_list_tasks("alice", query).await, 422).await;
    }
}

/// One random move: the task (by index), an optional new parent (by index, or the top level),
/// and where among the siblings (`None`: last, `Some(None)`: first, `Some(Some(i))`: after the
/// i-th sibling, modulo their number).
#[derive(Clone, Debug)]
struct RandomMove {
    task: usize,
    parent: Option<Option<usize>>,
    slot: Option<Option<usize>>,
}

fn random_moves(count: usize, tasks: usize) -> Vec<RandomMove> {
    let config = Config {
        cases: 1,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let strategy = proptest::collection::vec(
        (
            0..tasks,
            prop_oneof![
                6 => Just(None),
                1 => Just(Some(None)),
                2 => (0..tasks).prop_map(|p| Some(Some(p))),
            ],
            prop_oneof![
                1 => Just(None),
                1 => Just(Some(None)),
                4 => (0..64usize).prop_map(|i| Some(Some(i))),
            ],
        )
            .prop_map(|(task, parent, slot)| RandomMove { task, parent, slot }),
        count,
    );
    strategy
        .new_tree(&mut runner)
        .expect("moves are generated")
        .current()
}

/// The model: each parent's children in order (`None`: the top level).
type Model = BTreeMap<Option<usize>, Vec<usize>>;

fn parent_of(model: &Model, task: usize) -> Option<usize> {
    model
        .iter()
        .find(|(_, children)| children.contains(&task))
        .and_then(|(parent, _)| *parent)
}

fn level(model: &Model, task: usize) -> usize {
    let mut level = 1;
    let mut at = task;
    while let Some(parent) = parent_of(model, at) {
        level += 1;
        at = parent;
    }
    level
}

fn height(model: &Model, task: usize) -> usize {
    1 + model
        .get(&Some(task))
        .map(|children| {
            children
                .iter()
                .map(|c| height(model, *c))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

fn is_below(model: &Model, task: usize, candidate: usize) -> bool {
    let mut at = candidate;
    while let Some(parent) = parent_of(model, at) {
        if parent == task {
            return true;
        }
        at = parent;
    }
    false
}

async fn random_moves_give_the_order_a_model_gives(app: TestApp) {
    const TASKS: usize = 12;
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        tasks.push(app.create_titled("alice", &format!("t{i}")).await.id);
    }
    let mut model: Model = BTreeMap::from([(None, (0..TASKS).collect())]);
    let mut refused = 0;
    for step in random_moves(300, TASKS) {
        let current = parent_of(&model, step.task);
        let parent = step.parent.unwrap_or(current);
        let fits = match parent {
            None => true,
            Some(p) => {
                p != step.task
                    && !is_below(&model, step.task, p)
                    && level(&model, p) + height(&model, step.task) <= 4
            }
        };
        let mut siblings: Vec<usize> = model.get(&parent).cloned().unwrap_or_default();
        siblings.retain(|t| *t != step.task);
        let mut body = serde_json::Map::new();
        if let Some(p) = step.parent {
            body.insert(
                "parent_id".into(),
                p.map_or(Value::Null, |p| json!(tasks[p])),
            );
        }
        let index = match step.slot {
            None => siblings.len(),
            Some(None) => {
                body.insert("after".into(), Value::Null);
                0
            }
            Some(Some(i)) if siblings.is_empty() => {
                // No sibling to name: after a task that is not one (refused).
                body.insert("after".into(), json!(tasks[i % TASKS]));
                usize::MAX
            }
            Some(Some(i)) => {
                let after = siblings[i % siblings.len()];
                body.insert("after".into(), json!(tasks[after]));
                i % siblings.len() + 1
            }
        };
        let response = app
            .try_move_task("alice", tasks[step.task], Value::Object(body.clone()))
            .await;
        if !fits || index == usize::MAX {
            assert_problem(response, 422).await;
            refused += 1;
            continue;
        }
        assert_eq!(
            response.status(),
            200,
            "{step:?} {body:?}: {}",
            response.text().await.unwrap()
        );
        if let Some(children) = model.get_mut(&current) {
            children.retain(|t| *t != step.task);
        }
        siblings.insert(index, step.task);
        model.insert(parent, siblings);
    }
    assert!(refused < 150, "most moves are valid ({refused} refused)");
    // The server's order of every sibling set is the model's.
    let by_id: BTreeMap<i64, usize> = tasks.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for (parent, children) in &model {
        let parent = parent.map_or("none".to_owned(), |p| tasks[p].to_string());
        let order: Vec<usize> = siblings(&app, "alice", "inbox", &parent)
            .await
            .iter()
            .map(|t| by_id[&t.id])
            .collect();
        assert_eq!(&order, children, "under {parent}");
    }
    // Keys stay short.
    let all = app.list_tasks("alice", "?limit=1000").await;
    assert!(all.iter().all(|t| t.position.len() <= 32), "{all:?}");
}

async fn concurrent_moves_never_tie(app: TestApp) {
    const TASKS: usize = 8;
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        tasks.push(app.create_titled("alice", &format!("t{i}")).await.id);
    }
    let anchor = tasks[0];
    // Eight clients at once, each moving tasks to the same places: first, right after the
    // anchor, last. Every move asks for the same gap as the others.
    let clients = (1..TASKS).map(|client| {
        let app = &app;
        let tasks = &tasks;
        async move {
            for round in 0..6 {
                let task = tasks[(client + round) % (TASKS - 1) + 1];
                let body = match round % 3 {
                    0 => json!({ "after": null }),
                    1 => json!({ "after": anchor }),
                    _ => json!({}),
                };
                let response = app.try_move_task("alice", task, body).await;
                assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
            }
        }
    });
    futures_util::future::join_all(clients).await;
    // Lists too.
    let mut lists = Vec::new();
    for i in 0..4 {
        lists.push(app.create_named_list("alice", &format!("l{i}")).await.id);
    }
    let movers = lists.iter().map(|list| {
        let app = &app;
        let first = lists[0];
        async move {
            for round in 0..4 {
                let body = if round % 2 == 0 || *list == first {
                    json!({ "after": null })
                } else {
                    json!({ "after": first })
                };
                let response = app.try_move_list("alice", *list, body).await;
                assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
            }
        }
    });
    futures_util::future::join_all(movers).await;
    let order = siblings(&app, "alice", "inbox", "none").await;
    assert_eq!(order.len(), TASKS);
    let positions: Vec<String> = app
        .list_lists("alice")
        .await
        .into_iter()
        .map(|l| l.position)
        .collect();
    assert_eq!(positions.len(), 4);
    assert_increasing(&positions);
    // And the change feed gave every move its own revision: a replica ends with the listing.
    let mut replica = crate::support::Replica::default();
    app.sync_changes("alice", None, 3, &mut replica).await;
    assert_eq!(
        sorted_by_position(replica.sorted()),
        sorted_by_position(app.list_tasks("alice", "").await)
    );
}

/// Every task's subtask counts, as the server sends them, are its direct subtasks in the
/// listing (the counts are stored on the parent row: nothing may leave them behind).
fn assert_counts_match(tasks: &[Task]) {
    for task in tasks {
        let children: Vec<&Task> = tasks
            .iter()
            .filter(|t| t.parent_id == Some(task.id))
            .collect();
        let done = children.iter().filter(|t| t.completed).count();
        assert_eq!(
            (
                task.subtask_count as usize,
                task.completed_subtask_count as usize
            ),
            (children.len(), done),
            "counts of task {} ({})",
            task.id,
            task.title
        );
    }
}

/// One user's writers at once on one tree: cascading completions, reopenings, subtasks
/// created and moved between parents, deletions and clear-completed. Each of them takes rows
/// another one holds; none may fail for it (a deadlock would be a 503), and at the end every
/// stored count is what the tree says.
async fn concurrent_tree_writes_all_succeed_and_keep_the_counts(app: TestApp) {
    let mut parents = Vec::new();
    for p in 0..3 {
        let parent = app.create_titled("alice", &format!("p{p}")).await;
        for c in 0..3 {
            let child = app
                .create_task(
                    "alice",
                    json!({ "title": format!("p{p}c{c}"), "parent_id": parent.id }),
                )
                .await;
            app.create_task(
                "alice",
                json!({ "title": format!("p{p}c{c}g"), "parent_id": child.id }),
            )
            .await;
        }
        parents.push(parent.id);
    }
    let writers = (0..6).map(|writer| {
        let app = &app;
        let parents = &parents;
        async move {
            for round in 0..8 {
                let parent = parents[(writer + round) % parents.len()];
                let other = parents[(writer + round + 1) % parents.len()];
                let tasks = app.list_tasks("alice", "?limit=1000").await;
                let children: Vec<i64> = tasks
                    .iter()
                    .filter(|t| t.parent_id == Some(parent))
                    .map(|t| t.id)
                    .collect();
                let child = children.get(round % children.len().max(1)).copied();
                let response = match ((writer + round) % 6, child) {
                    (0, _) => app.try_complete_task("alice", parent, None).await,
                    (1, Some(child)) => app.try_complete_task("alice", child, None).await,
                    (2, Some(child)) => {
                        app.try_move_task("alice", child, json!({ "parent_id": other }))
                            .await
                    }
                    (3, _) => app.try_clear_completed("alice", "?status=completed").await,
                    (4, Some(child)) => app.try_delete_task("alice", child).await,
                    _ => {
                        app.try_create_task(
                            "alice",
                            json!({ "title": format!("w{writer}r{round}"), "parent_id": parent }),
                        )
                        .await
                    }
                };
                let status = response.status().as_u16();
                // 404/422: another writer deleted or cleared the task (or its parent) first.
                assert!(
                    matches!(status, 200 | 201 | 204 | 404 | 422),
                    "writer {writer} round {round}: {status} {}",
                    response.text().await.unwrap_or_default()
                );
            }
        }
    });
    futures_util::future::join_all(writers).await;
    assert_counts_match(&app.list_tasks("alice", "?limit=1000").await);
    // The change feed sent every changed count: a replica ends with the listing.
    let mut replica = crate::support::Replica::default();
    app.sync_changes("alice", None, 50, &mut replica).await;
    assert_counts_match(&replica.sorted());
    let by_id = |mut tasks: Vec<Task>| {
        tasks.sort_by_key(|t| t.id);
        tasks
    };
    assert_eq!(
        by_id(replica.sorted()),
        by_id(app.list_tasks("alice", "?limit=1000").await)
    );
}

async fn renumbering_keeps_keys_short_and_the_order(app: TestApp) {
    // Always into the same gap: keys would grow a character every few moves; the server
    // renumbers the siblings instead.
    let a = app.create_titled("alice", "a").await;
    let b = app.create_titled("alice", "b").await;
    let mut expected = vec![a.id];
    for i in 0..250 {
        let task = app.create_titled("alice", &format!("t{i}")).await;
        let moved = app
            .move_task("alice", task.id, json!({ "after": a.id }))
            .await;
        assert!(moved.position.len() <= 32, "{}", moved.position);
        expected.insert(1, task.id);
    }
    expected.push(b.id);
    let order = siblings(&app, "alice", "inbox", "none").await;
    assert_eq!(ids(&order), expected);
    // A replica kept by the feed has the renumbered positions too.
    let mut replica = crate::support::Replica::default();
    app.sync_changes("alice", None, 100, &mut replica).await;
    assert_eq!(ids(&sorted_by_position(replica.sorted())), expected);
}

async fn sort_by_position_pages_through_the_order(app: TestApp) {
    let list = app.create_named_list("alice", "L").await;
    let mut expected = Vec::new();
    for i in 0..9 {
        let task = app
            .create_task(
                "alice",
                json!({ "title": format!("t{i}"), "list_id": list.id }),
            )
            .await;
        expected.push(task.id);
    }
    // Shuffle the order a bit.
    app.move_task("alice", expected[8], json!({ "after": null }))
        .await;
    let last = expected.remove(8);
    expected.insert(0, last);
    app.move_task("alice", expected[2], json!({ "after": expected[5] }))
        .await;
    let moved = expected.remove(2);
    expected.insert(5, moved);
    // Another list's tasks and subtasks stay out.
    app.create_titled("alice", "inbox").await;
    app.create_task("alice", json!({ "title": "sub", "parent_id": expected[0] }))
        .await;
    let mut seen = Vec::new();
    let mut page = app
        .list_page(
            "alice",
            &format!("?list_id={}&parent_id=none&sort=position&limit=4", list.id),
        )
        .await;
    assert_eq!(page.total, 9);
    loop {
        seen.extend(ids(&page.tasks));
        let Some(next) = page.next.clone() else {
            break;
        };
        page = app.list_page_at("alice", &next).await;
    }
    assert_eq!(seen, expected);
    // Descending too.
    let reversed = app
        .list_tasks(
            "alice",
            &format!(
                "?list_id={}&parent_id=none&sort=position&order=desc",
                list.id
            ),
        )
        .await;
    expected.reverse();
    assert_eq!(ids(&reversed), expected);
}

/// A quota of lists per user, under concurrency.
#[tokio::test]
async fn the_list_quota_holds() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let config = ServerConfig::default().vars(&[("MAX_LISTS_PER_USER", "3")]);
        let Some(app) = spawn_app_with(backend, config).await else {
            continue;
        };
        let creates =
            (0..8).map(|i| app.try_create_list("alice", json!({ "name": format!("l{i}") })));
        let mut created = 0;
        for response in futures_util::future::join_all(creates).await {
            match response.status().as_u16() {
                201 => created += 1,
                _ => {
                    let problem = assert_problem(response, 403).await;
                    assert_eq!(problem["type"], "urn:todo-api:problem:quota-exceeded");
                }
            }
        }
        assert_eq!(created, 3);
        app.create_named_list("bob", "mine").await;
        app.stop().await;
    }
}

/// The migration puts existing tasks in the inbox, at the top level, in creation order.
async fn existing_tasks_go_to_the_inbox_in_creation_order(backend: Backend) {
    let tasks = [
        ("alice", "a2", "2026-01-02T00:00:00Z"),
        ("bob", "b1", "2026-01-01T00:00:00Z"),
        ("alice", "a1", "2026-01-01T00:00:00Z"),
        ("alice", "a3", "2026-01-03T00:00:00Z"),
    ]
    .map(|(user, title, created)| old_task(user, title, created, &[]));
    let Some(db) = TestDb::left_before(backend, "lists_subtasks", tasks).await else {
        return;
    };
    let url = db.url().to_owned();
    let app = TestApp::spawn_on(&url, ServerConfig::default()).await;
    let inbox = siblings(&app, "alice", "inbox", "none").await;
    assert_eq!(
        inbox.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(),
        ["a1", "a2", "a3"]
    );
    assert!(
        inbox
            .iter()
            .all(|t| t.list_id.is_none() && t.parent_id.is_none())
    );
    // New tasks and moves work with the migrated keys.
    let a4 = app.create_titled("alice", "a4").await;
    app.move_task("alice", a4.id, json!({ "after": inbox[0].id }))
        .await;
    let order: Vec<String> = siblings(&app, "alice", "inbox", "none")
        .await
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(order, ["a1", "a4", "a2", "a3"]);
    assert_eq!(siblings(&app, "bob", "inbox", "none").await.len(), 1);
    app.stop().await;
    drop(db);
}

#[tokio::test]
async fn existing_tasks_go_to_the_inbox_in_creation_order_sqlite() {
    existing_tasks_go_to_the_inbox_in_creation_order(Backend::Sqlite).await;
}

#[tokio::test]
async fn existing_tasks_go_to_the_inbox_in_creation_order_postgres() {
    existing_tasks_go_to_the_inbox_in_creation_order(Backend::Postgres).await;
}

/// Upgrading to the schema that keeps tags and subtask counts on the task row fills them in
/// from what was there (`task_tags`, the subtasks).
async fn tags_and_counts_move_onto_the_task_row(backend: Backend) {
    let parent = "(SELECT id FROM tasks WHERE title = 'parent')";
    let tasks = [
        ("parent", "FALSE", "NULL", "'a0'"),
        ("other", "FALSE", "NULL", "'a1'"),
        ("done child", "TRUE", parent, "'a0'"),
        ("open child", "FALSE", parent, "'a1'"),
    ]
    .map(|(title, completed, parent_id, position)| {
        let more = [
            ("completed", completed),
            ("parent_id", parent_id),
            ("position", position),
        ];
        old_task("alice", title, "2026-01-01T00:00:00Z", &more)
    });
    let tags = [("Work", 1), ("home", 0)].map(|(tag, position)| {
        format!(
            "INSERT INTO task_tags (task_id, user_id, tag, tag_key, position) \
             VALUES ({parent}, 'alice', '{tag}', '{}', {position})",
            tag.to_lowercase()
        )
    });
    let Some(db) = TestDb::left_before(
        backend,
        "tags_and_counts_on_task",
        tasks.into_iter().chain(tags),
    )
    .await
    else {
        return;
    };
    let url = db.url().to_owned();
    let config = ServerConfig::default().vars(&[("MAX_TASKS_PER_USER", "6")]);
    let app = TestApp::spawn_on(&url, config).await;
    let tasks = app.list_tasks("alice", "").await;
    assert_counts_match(&tasks);
    let parent = tasks
        .iter()
        .find(|t| t.title == "parent")
        .expect("the parent");
    assert_eq!(parent.tags, ["home", "Work"]);
    assert_eq!(
        (parent.subtask_count, parent.completed_subtask_count),
        (2, 1)
    );
    let other = tasks.iter().find(|t| t.title == "other").expect("a task");
    assert!(other.tags.is_empty());
    // Tag filters still find it, and new writes keep the counts.
    assert_eq!(app.list_tasks("alice", "?tag=work").await.len(), 1);
    app.create_task("alice", json!({ "title": "new", "parent_id": parent.id }))
        .await;
    assert_counts_match(&app.list_tasks("alice", "").await);
    // The quota counts the tasks that were there: 4 + 1 + 1 = 6, then no more.
    app.create_titled("alice", "sixth").await;
    let refused = app
        .try_create_task("alice", json!({ "title": "seventh" }))
        .await;
    assert_problem(refused, 403).await;
    // Deleting a subtree gives its tasks back (the parent, its 2 + 1 subtasks).
    app.delete_task("alice", parent.id).await;
    for i in 0..4 {
        app.create_titled("alice", &format!("again {i}")).await;
    }
    assert_eq!(
        app.try_create_task("alice", json!({ "title": "over" }))
            .await
            .status(),
        403
    );
    app.stop().await;
    drop(db);
}

#[tokio::test]
async fn tags_and_counts_move_onto_the_task_row_sqlite() {
    tags_and_counts_move_onto_the_task_row(Backend::Sqlite).await;
}

#[tokio::test]
async fn tags_and_counts_move_onto_the_task_row_postgres() {
    tags_and_counts_move_onto_the_task_row(Backend::Postgres).await;
}
