//! Filters, sorting and keyset paging of `GET /api/{user_id}/tasks`, and the tags, reminders
//! and clear-completed operations.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::{
    Backend, TagCount, Task, TestApp, assert_problem, error_fields, ids, on_both_backends, titles,
};

on_both_backends!(
    filters_combine,
    keyword_search_is_case_insensitive_and_literal,
    every_sort_key_in_both_orders,
    pages_walk_every_task_exactly_once,
    paging_is_stable_under_concurrent_inserts,
    bad_listing_parameters_are_422,
    tags_reminders_and_clearing_completed,
    keyword_and_tag_filters_use_indexes,
    tags_come_back_as_written_in_their_order_everywhere,
);

/// Creates one of alice's tasks (asserting 201).
async fn create(app: &TestApp, body: Value) -> Task {
    app.create_task("alice", body).await
}

/// Each tag with its count, in order.
fn counts(tags: &[TagCount]) -> Vec<(&str, u64)> {
    tags.iter().map(|t| (t.tag.as_str(), t.count)).collect()
}

/// Toggles one of alice's tasks to completed (asserting 200).
async fn complete(app: &TestApp, task: &Task) {
    assert!(app.complete_task("alice", task.id).await.completed);
}

async fn filters_combine(app: TestApp) {
    create(&app, json!({ "title": "a", "priority": "high", "tags": ["Work", "urgent"], "due_at": "2020-01-01T00:00:00Z" })).await;
    let b = create(&app, json!({ "title": "b", "priority": "low", "tags": ["work"], "due_at": "2099-01-01T00:00:00Z" })).await;
    create(
        &app,
        json!({ "title": "c", "priority": "medium", "tags": ["home"] }),
    )
    .await;
    let d = create(&app, json!({ "title": "d", "priority": "high", "tags": ["WORK"], "due_at": "2021-06-01T00:00:00Z" })).await;
    complete(&app, &d).await;
    // Someone else's matching task never shows.
    app.create_task(
        "bob",
        json!({ "title": "x", "priority": "high", "tags": ["work"] }),
    )
    .await;

    let cases = [
        ("?priority=high", vec!["d", "a"]),
        ("?priority=high&priority=low", vec!["d", "b", "a"]),
        ("?tag=work", vec!["d", "b", "a"]),
        ("?tag=WORK&tag=Urgent", vec!["a"]),
        ("?tag=work&status=pending", vec!["b", "a"]),
        ("?tag=work&priority=high&status=completed", vec!["d"]),
        ("?due_before=2030-01-01T00:00:00Z", vec!["d", "a"]),
        ("?due_after=2021-06-01T00:00:00Z", vec!["d", "b"]),
        (
            "?due_after=2021-01-01T00:00:00Z&due_before=2050-01-01T00:00:00Z",
            vec!["d"],
        ),
        ("?overdue=true", vec!["a"]),
        ("?overdue=true&priority=low", vec![]),
        ("?tag=nothing", vec![]),
    ];
    for (query, expected) in cases {
        let page = app.list_page("alice", query).await;
        assert!(page.next.is_none(), "one page only");
        assert_eq!(page.titles(), expected, "{query}");
        assert_eq!(page.total, expected.len() as u64, "{query}");
    }
    let _ = b;
}

async fn keyword_search_is_case_insensitive_and_literal(app: TestApp) {
    create(&app, json!({ "title": "Buy MILK", "description": null })).await;
    create(
        &app,
        json!({ "title": "Call mum", "description": "about the milkman" }),
    )
    .await;
    create(
        &app,
        json!({ "title": "100% done", "description": "under_score" }),
    )
    .await;
    create(&app, json!({ "title": "Crème brûlée" })).await;
    let cases = [
        ("milk", vec!["Call mum", "Buy MILK"]),
        ("MILKMAN", vec!["Call mum"]),
        ("100%25", vec!["100% done"]),
        ("%25", vec!["100% done"]),
        ("_", vec!["100% done"]),
        ("CRÈME", vec!["Crème brûlée"]),
        ("nothing", vec![]),
    ];
    for (q, expected) in cases {
        let tasks = app.list_tasks("alice", &format!("?q={q}")).await;
        assert_eq!(titles(&tasks), expected, "q={q}");
    }
}

async fn every_sort_key_in_both_orders(app: TestApp) {
    let a = create(
        &app,
        json!({ "title": "banana", "priority": "low", "due_at": "2030-03-01T00:00:00Z" }),
    )
    .await;
    let b = create(&app, json!({ "title": "Apple", "priority": "high" })).await;
    let c = create(
        &app,
        json!({ "title": "cherry", "priority": "medium", "due_at": "2030-01-01T00:00:00Z" }),
    )
    .await;
    let d = create(
        &app,
        json!({ "title": "apricot", "priority": "high", "due_at": "2030-02-01T00:00:00Z" }),
    )
    .await;
    // Touch `a` so that it is the most recently updated.
    app.update_task("alice", a.id, json!({ "description": "touched" }))
        .await;
    let _ = (b, c, d);

    let cases = [
        ("", vec!["apricot", "cherry", "Apple", "banana"]),
        (
            "?sort=created",
            vec!["apricot", "cherry", "Apple", "banana"],
        ),
        (
            "?sort=created&order=asc",
            vec!["banana", "Apple", "cherry", "apricot"],
        ),
        (
            "?sort=updated",
            vec!["banana", "apricot", "cherry", "Apple"],
        ),
        ("?sort=title", vec!["Apple", "apricot", "banana", "cherry"]),
        (
            "?sort=title&order=desc",
            vec!["cherry", "banana", "apricot", "Apple"],
        ),
        (
            "?sort=due_date",
            vec!["cherry", "apricot", "banana", "Apple"],
        ),
        (
            "?sort=due_date&order=desc",
            vec!["banana", "apricot", "cherry", "Apple"],
        ),
        (
            "?sort=priority",
            vec!["apricot", "Apple", "cherry", "banana"],
        ),
        (
            "?sort=priority&order=asc",
            vec!["banana", "cherry", "Apple", "apricot"],
        ),
    ];
    for (query, expected) in cases {
        let tasks = app.list_tasks("alice", query).await;
        assert_eq!(titles(&tasks), expected, "{query}");
    }
}

/// Follows `Link: <…>; rel="next"` to the end; returns the ids in order and the totals seen.
async fn walk(
    app: &TestApp,
    first: &str,
    between_pages: impl AsyncFn(usize),
) -> (Vec<i64>, Vec<u64>) {
    let mut ids = Vec::new();
    let mut totals = Vec::new();
    let mut next = Some(first.to_owned());
    let mut page = 0;
    while let Some(path) = next {
        // Asserts the 200, and that a `Link` is `<…>; rel="next"`.
        let listed = app.list_page_at("alice", &path).await;
        totals.push(listed.total);
        next = listed.next;
        ids.extend(listed.tasks.iter().map(|t| t.id));
        page += 1;
        between_pages(page).await;
        assert!(page < 100, "paging does not end");
    }
    (ids, totals)
}

async fn pages_walk_every_task_exactly_once(app: TestApp) {
    let mut all = Vec::new();
    for i in 0..23 {
        // Repeated titles, priorities and due dates: ties broken by id.
        let due = if i % 3 == 0 {
            Value::Null
        } else {
            json!(format!("2030-01-0{}T00:00:00Z", 1 + i % 4))
        };
        let priority = ["low", "medium", "high"][i % 3];
        let task = create(
            &app,
            json!({
                "title": format!("Task {}", i % 5),
                "priority": priority,
                "due_at": due,
            }),
        )
        .await;
        all.push(task.id);
    }
    for sort in ["created", "updated", "title", "due_date", "priority"] {
        for order in ["asc", "desc"] {
            let query = format!("/api/alice/tasks?sort={sort}&order={order}&limit=4");
            let (paged, totals) = walk(&app, &query, async |_| {}).await;
            let unpaged: Vec<i64> = ids(&app
                .list_tasks("alice", &format!("?sort={sort}&order={order}"))
                .await);
            assert_eq!(
                paged, unpaged,
                "{query}: pages concatenate to the full list"
            );
            assert_eq!(paged.len(), 23, "{query}");
            assert!(totals.iter().all(|t| *t == 23), "{query}: {totals:?}");
        }
    }
    let (filtered, totals) =
        walk(&app, "/api/alice/tasks?priority=high&limit=2", async |_| {}).await;
    assert_eq!(filtered.len(), 7);
    assert!(totals.iter().all(|t| *t == 7));
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len());
}

async fn paging_is_stable_under_concurrent_inserts(app: TestApp) {
    let mut before = Vec::new();
    for i in 0..20 {
        before.push(
            create(&app, json!({ "title": format!("before {i:02}") }))
                .await
                .id,
        );
    }
    // Newest first: tasks inserted while walking are newer than the position reached, so
    // they never push a task into a page twice or out of every page.
    let (seen, _) = walk(&app, "/api/alice/tasks?limit=3", async |page| {
        create(&app, json!({ "title": format!("during {page}") })).await;
    })
    .await;
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no task seen twice");
    for id in &before {
        assert!(unique.contains(id), "task {id} seen");
    }
    // Oldest first: the new tasks come after, and the walk reaches them.
    let (seen, _) = walk(&app, "/api/alice/tasks?order=asc&limit=7", async |page| {
        if page < 3 {
            create(&app, json!({ "title": format!("late {page}") })).await;
        }
    })
    .await;
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no task seen twice");
    let total = app.list_tasks("alice", "").await.len();
    assert_eq!(seen.len(), total, "every task, the late ones included");
}

async fn bad_listing_parameters_are_422(app: TestApp) {
    for _ in 0..3 {
        create(&app, json!({ "title": "t" })).await;
    }
    let first = app.list_page("alice", "?limit=1").await;
    let link = first.next.expect("a next page");
    let cursor = link
        .split("cursor=")
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap()
        .to_owned();

    let cases = [
        ("?sort=size".to_owned(), "sort"),
        ("?order=up".to_owned(), "order"),
        ("?limit=0".to_owned(), "limit"),
        ("?limit=5000".to_owned(), "limit"),
        ("?limit=ten".to_owned(), "limit"),
        ("?priority=urgent".to_owned(), "priority"),
        ("?overdue=maybe".to_owned(), "overdue"),
        ("?due_before=tomorrow".to_owned(), "due_before"),
        ("?cursor=not-a-cursor".to_owned(), "cursor"),
        (format!("?cursor={}", "A".repeat(40)), "cursor"),
        (format!("?limit=1&sort=title&cursor={cursor}"), "cursor"),
        (format!("?limit=1&status=pending&cursor={cursor}"), "cursor"),
        (format!("?q={}", "x".repeat(201)), "q"),
    ];
    for (query, field) in cases {
        let response = app.try_list_tasks("alice", &query).await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(error_fields(&problem), [field], "{query}");
    }
    // The same cursor with the same query works, with another limit too.
    for query in [
        format!("?limit=1&cursor={cursor}"),
        format!("?limit=2&cursor={cursor}"),
    ] {
        // Asserts the 200.
        app.list_tasks("alice", &query).await;
    }
}

async fn tags_reminders_and_clearing_completed(app: TestApp) {
    create(&app, json!({ "title": "a", "tags": ["Work", "urgent"], "due_at": "2030-01-02T00:00:00Z", "remind_at": "2020-01-01T00:00:00Z" })).await;
    let b = create(&app, json!({ "title": "b", "tags": ["work"], "due_at": "2030-01-02T00:00:00Z", "remind_at": "2019-01-01T00:00:00Z" })).await;
    create(&app, json!({ "title": "c", "tags": ["home"], "due_at": "2099-01-02T00:00:00Z", "remind_at": "2099-01-01T00:00:00Z" })).await;
    let d = create(&app, json!({ "title": "d", "due_at": "2030-01-02T00:00:00Z", "remind_at": "2018-01-01T00:00:00Z" })).await;
    complete(&app, &d).await;
    app.create_task("bob", json!({ "title": "x", "tags": ["work"], "due_at": "2030-01-02T00:00:00Z", "remind_at": "2018-01-01T00:00:00Z" })).await;

    let tags = app.list_tags("alice").await;
    assert_eq!(counts(&tags), [("home", 1), ("urgent", 1), ("Work", 2)]);

    let due = app.list_reminders("alice", "").await;
    assert_eq!(titles(&due), ["b", "a"], "pending, due, soonest first");
    let due = app
        .list_reminders("alice", "?before=2019-06-01T00:00:00Z")
        .await;
    assert_eq!(titles(&due), ["b"]);
    let response = app.try_list_reminders("alice", "?before=soon").await;
    assert_eq!(
        error_fields(&assert_problem(response, 422).await),
        ["before"]
    );

    complete(&app, &b).await;
    for query in ["", "?status=all", "?status=pending"] {
        let response = app.try_clear_completed("alice", query).await;
        assert_eq!(
            response.status().as_u16(),
            422,
            "{query}: never deletes without status=completed"
        );
    }
    assert_eq!(app.list_tasks("alice", "").await.len(), 4);
    assert_eq!(app.clear_completed("alice").await, 2);
    assert_eq!(titles(&app.list_tasks("alice", "").await), ["c", "a"]);
    assert_eq!(
        app.list_tasks("bob", "").await.len(),
        1,
        "other users untouched"
    );
    let tags = app.list_tags("alice").await;
    assert_eq!(counts(&tags), [("home", 1), ("urgent", 1), ("Work", 1)]);
}

/// On PostgreSQL, keyword search and tag filters are served by indexes.
async fn keyword_and_tag_filters_use_indexes(app: TestApp) {
    if app.backend != Backend::Postgres {
        return;
    }
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(app.database_url())
        .await
        .unwrap();
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    let plan = |sql: &'static str| {
        let sql = format!("EXPLAIN {sql}");
        async move { sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)) }
    };
    let rows = plan("SELECT id FROM tasks WHERE search_text LIKE '%milk%'")
        .await
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .join("\n");
    assert!(rows.contains("tasks_search_trgm_idx"), "{rows}");
    let rows = plan("SELECT task_id FROM task_tags WHERE user_id = 'alice' AND tag_key = 'work'")
        .await
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .join("\n");
    assert!(rows.contains("task_tags_user_tag_idx"), "{rows}");
}

/// Tags are read along with their task (one aggregate per backend): every operation that returns
/// a task returns them in the order given, with quotes, backslashes and non-ASCII text intact.
async fn tags_come_back_as_written_in_their_order_everywhere(app: TestApp) {
    let tags = [
        "zeta",
        "Alpha \"quoted\"",
        "back\\slash",
        "日本語",
        "émoji 🎉",
        "middle",
    ];
    let task = create(
        &app,
        json!({ "title": "tagged", "tags": tags, "remind_at": "2020-01-01T00:00:00Z" }),
    )
    .await;
    assert_eq!(task.tags, tags, "create");
    create(&app, json!({ "title": "untagged" })).await;
    let id = task.id;

    let listed = app.list_tasks("alice", "").await;
    assert_eq!(listed.len(), 2);
    for listed in &listed {
        let expected: &[&str] = if listed.id == id { &tags } else { &[] };
        assert_eq!(listed.tags, expected, "list");
    }
    let got = app.get_task("alice", id).await;
    assert_eq!(got.tags, tags, "get");
    let reminders = app.list_reminders("alice", "").await;
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].tags, tags, "reminders");

    // Toggling reads the task back under a row lock: the tags come along.
    let toggled = app.complete_task("alice", id).await;
    assert_eq!(toggled.tags, tags, "toggle");

    let completed = app.list_tasks("alice", "?status=completed").await;
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].tags, tags, "filtered list");
}
