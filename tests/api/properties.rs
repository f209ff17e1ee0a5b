//! Property-based tests (proptest): generated bodies, queries and headers thrown at the real
//! server on both stores, and a differential test of random operation sequences applied to
//! SQLite, PostgreSQL and a small in-memory model.
//!
//! Every answer is held to: a 2xx, or a 4xx problem (`application/problem+json`), never a 5xx
//! or a hang; an accepted task reads back identically. The differential test holds both stores
//! and the model to the same observable results, step by step.
//!
//! In `cargo test` they run a fixed seed and a bounded number of cases (about a minute in all);
//! a longer run: `PROPTEST_CASES=2000 cargo test --test api properties` (cases per test and
//! store).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use reqwest::{Method, Response};
use serde_json::{Map, Value, json};

use crate::support::{Backend, TestApp, spawn_app};

/// The seed of every run in CI: the same cases each time.
const SEED: [u8; 32] = *b"todo-api issue 13: hostile input";

/// Cases per test and store unless `PROPTEST_CASES` says otherwise.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner(default_cases: u32) -> TestRunner {
    let config = Config {
        cases: cases(default_cases),
        failure_persistence: None,
        // Shrinking re-runs requests against a server whose state moved on: report as found.
        max_shrink_iters: 0,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED))
}

/// Runs `check` on each generated case against a server on each store.
async fn against_both<S, F, Fut>(default_cases: u32, strategy: S, check: F)
where
    S: Strategy,
    S::Value: Clone + std::fmt::Debug,
    F: Fn(Arc<TestApp>, S::Value) -> Fut,
    Fut: std::future::Future<Output = Result<(), TestCaseError>>,
{
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app(backend).await else {
            continue;
        };
        let app = Arc::new(app);
        let handle = tokio::runtime::Handle::current();
        let result = runner(default_cases).run(&strategy, |case| {
            tokio::task::block_in_place(|| handle.block_on(check(app.clone(), case)))
        });
        if let Err(err) = result {
            panic!("{backend:?}: {err}");
        }
    }
}

/// Holds an answer to the rules: 2xx, or a 4xx problem; returns its status and JSON body.
async fn lawful(
    response: Result<Response, reqwest::Error>,
    what: &str,
) -> Result<(u16, Value), TestCaseError> {
    let response =
        response.map_err(|e| TestCaseError::fail(format!("{what}: no answer (a hang?): {e}")))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap_or_default();
    prop_assert!(status < 500, "{what}: {status} {text}");
    if status >= 400 {
        prop_assert_eq!(
            &content_type,
            "application/problem+json",
            "{}: {} {}",
            what,
            status,
            text
        );
        let problem: Value = serde_json::from_str(&text).map_err(|e| {
            TestCaseError::fail(format!("{what}: a problem that is not JSON ({e}): {text}"))
        })?;
        prop_assert_eq!(
            problem["status"].as_u64(),
            Some(u64::from(status)),
            "{}",
            text
        );
        prop_assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            text
        );
        return Ok((status, problem));
    }
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    Ok((status, body))
}

// ---------------------------------------------------------------------------------------------
// Generators

/// Text of every kind that matters: empty, white space, NUL, non-ASCII, long, JSON-ish.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        "\\PC{0,20}",
        Just(String::new()),
        Just("\u{0}".to_owned()),
        Just(" \u{feff}\u{3000} ".to_owned()),
        Just("x".repeat(201)),
        Just("é".repeat(1001)),
        Just("🦀 \"quoted\" \\ back".to_owned()),
    ]
}

/// Timestamps, well-formed or not, in range or not.
fn timestamp() -> impl Strategy<Value = String> {
    let edges = prop::sample::select(vec![
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:30:00+01:00",
        "0000-12-31T23:59:59Z",
        "9999-12-31T23:59:59.999999Z",
        "9999-12-31T23:00:00-05:00",
        "2030-01-31T09:00:00+01:00",
        "2030-01-01T00:00:00.1234567Z",
        "2030-01-01T00:00:00.5Z",
        "2030-02-30T00:00:00Z",
        "2030-01-01 00:00:00Z",
        "tomorrow",
        "",
    ])
    .prop_map(str::to_owned);
    let generated = (
        1u32..=9999,
        1u32..=12,
        1u32..=28,
        0u32..24,
        -14i32..=14,
        0u32..1_000_000,
    )
        .prop_map(|(y, mo, d, h, off, micros)| {
            let sign = if off < 0 { '-' } else { '+' };
            format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:00:00.{micros:06}{sign}{:02}:00",
                off.abs()
            )
        });
    prop_oneof![edges, generated]
}

/// A JSON value of any shape, small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e12f64..1e12).prop_map(|n| json!(n)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A field of a task body: a plausible value or anything at all.
fn field(name: &'static str) -> BoxedStrategy<Value> {
    let plausible: BoxedStrategy<Value> = match name {
        "title" | "description" => text().prop_map(Value::String).boxed(),
        "priority" => prop::sample::select(vec!["low", "medium", "high", "urgent", "HIGH"])
            .prop_map(|p| json!(p))
            .boxed(),
        "tags" => prop::collection::vec(text(), 0..23)
            .prop_map(|t| json!(t))
            .boxed(),
        "due_at" | "remind_at" => timestamp().prop_map(Value::String).boxed(),
        // Ids of the user's lists and tasks (the first few exist), of none, or mistyped.
        "list_id" | "parent_id" => prop_oneof![
            4 => (1i64..8).prop_map(|id| json!(id)),
            1 => prop::sample::select(vec![json!(0), json!(-1), json!("1"), json!(1.5)]),
        ]
        .boxed(),
        _ => (
            prop::sample::select(vec!["daily", "weekly", "monthly", "yearly", "hourly"]),
            prop::option::of(0u32..1500),
            prop::option::of(timestamp()),
            prop::option::of(0u32..20000),
            prop::option::of("[a-z]{1,8}"),
        )
            .prop_map(|(frequency, interval, until, count, extra)| {
                let mut rule = Map::new();
                rule.insert("frequency".into(), json!(frequency));
                if let Some(n) = interval {
                    rule.insert("interval".into(), json!(n));
                }
                if let Some(at) = until {
                    rule.insert("until".into(), json!(at));
                }
                if let Some(n) = count {
                    rule.insert("count".into(), json!(n));
                }
                if let Some(key) = extra {
                    rule.insert(key, json!(1));
                }
                Value::Object(rule)
            })
            .boxed(),
    };
    prop_oneof![6 => plausible, 1 => Just(Value::Null), 1 => any_json()].boxed()
}

/// A task body: some of the fields, sometimes an unknown one.
fn body() -> impl Strategy<Value = Value> {
    let fields = [
        "title",
        "description",
        "priority",
        "tags",
        "due_at",
        "remind_at",
        "recurrence",
        "list_id",
        "parent_id",
    ];
    let present = prop::collection::vec(any::<bool>(), fields.len());
    let values: Vec<BoxedStrategy<Value>> = fields.iter().map(|f| field(f)).collect();
    (
        present,
        values,
        prop::option::of(("[a-z_]{1,10}", any_json())),
    )
        .prop_map(move |(present, values, extra)| {
            let mut object = Map::new();
            for ((name, present), value) in fields.iter().zip(present).zip(values) {
                if present || *name == "title" {
                    object.insert((*name).to_owned(), value);
                }
            }
            if let Some((key, value)) = extra {
                object.insert(key, value);
            }
            Value::Object(object)
        })
}

/// A query string of known and unknown parameters, with values of every kind.
fn query() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "status",
        "priority",
        "tag",
        "q",
        "due_before",
        "due_after",
        "overdue",
        "sort",
        "order",
        "limit",
        "cursor",
        "list_id",
        "parent_id",
        "bogus",
        "",
        "tag[]",
    ]);
    let value = prop_oneof![
        prop::sample::select(vec![
            "all",
            "pending",
            "completed",
            "high",
            "low",
            "created",
            "due_date",
            "title",
            "asc",
            "desc",
            "position",
            "inbox",
            "none",
            "true",
            "maybe",
            "0",
            "1",
            "1000",
            "5000",
            "-1",
            "%00",
            "%FF",
            "%20",
            "a+b",
            "eyJ4IjoxfQ",
            "2030-01-01T00:00:00Z",
            "0001-01-01T00:00:00%2B01:00",
        ])
        .prop_map(str::to_owned),
        text().prop_map(|t| crate::support::encode(&t)),
    ];
    prop::collection::vec((name, value), 0..8).prop_map(|pairs| {
        let pairs: Vec<String> = pairs.into_iter().map(|(n, v)| format!("{n}={v}")).collect();
        format!("?{}", pairs.join("&"))
    })
}

/// Headers a careless client sends.
fn headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let header = prop_oneof![
        prop::sample::select(vec![
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin1",
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/json;;",
            "*/*",
            "",
        ])
        .prop_map(|v| ("content-type", v.to_owned())),
        prop::sample::select(vec!["gzip", "identity", "br, gzip", ""])
            .prop_map(|v| ("content-encoding", v.to_owned())),
        "[ -~]{0,40}".prop_map(|v| ("if-match", v)),
        "[ -~]{0,40}".prop_map(|v| ("if-none-match", v)),
        "[ -~]{0,300}".prop_map(|v| ("idempotency-key", v)),
        "[ -~]{0,200}".prop_map(|v| ("x-request-id", v)),
        "[ -~]{0,60}".prop_map(|v| ("origin", v)),
        "[ -~]{0,60}".prop_map(|v| ("accept", v)),
    ];
    prop::collection::vec(header, 0..4)
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Generated create and update bodies: lawful answers; what is accepted reads back identically.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_bodies_get_lawful_answers_and_accepted_tasks_read_back() {
    against_both(64, (body(), body()), |app, (create, update)| async move {
        // A list for the generated `list_id`s to find (ids of other kinds find nothing).
        if app.list_lists("alice").await.is_empty() {
            app.create_named_list("alice", "generated").await;
        }
        let (status, created) = lawful(
            app.request(Method::POST, "alice", "/api/alice/tasks")
                .json(&create)
                .send()
                .await,
            &format!("POST {create}"),
        )
        .await?;
        if status != 201 {
            prop_assert_eq!(status, 422, "{}", created);
            return Ok(());
        }
        let id = created["id"].as_i64().unwrap_or_default();
        let path = format!("/api/alice/tasks/{id}");
        let (_, read) =
            lawful(app.request(Method::GET, "alice", &path).send().await, "GET").await?;
        prop_assert_eq!(&read, &created, "reads back what the create answered");
        let (status, updated) = lawful(
            app.request(Method::PUT, "alice", &path)
                .json(&update)
                .send()
                .await,
            &format!("PUT {update}"),
        )
        .await?;
        let (_, read) =
            lawful(app.request(Method::GET, "alice", &path).send().await, "GET").await?;
        if status == 200 {
            prop_assert_eq!(&read, &updated, "reads back what the update answered");
        } else {
            prop_assert_eq!(status, 422, "{}", updated);
            prop_assert_eq!(&read, &created, "a refused update changes nothing");
        }
        let (status, done) = lawful(
            app.request(Method::PATCH, "alice", &format!("{path}/complete"))
                .send()
                .await,
            "PATCH",
        )
        .await?;
        prop_assert_eq!(status, 200, "{}", done);
        if let Some(next) = done["next_occurrence_id"].as_i64() {
            let next_path = format!("/api/alice/tasks/{next}");
            let (status, next) = lawful(
                app.request(Method::GET, "alice", &next_path).send().await,
                "GET next",
            )
            .await?;
            prop_assert_eq!(status, 200, "{}", next);
        }
        lawful(
            app.request(Method::DELETE, "alice", &path).send().await,
            "DELETE",
        )
        .await?;
        Ok(())
    })
    .await;
}

/// Generated queries on every listing route: lawful answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_queries_get_lawful_answers() {
    let routes = prop::sample::select(vec![
        (Method::GET, "/api/alice/tasks"),
        (Method::GET, "/api/alice/tags"),
        (Method::GET, "/api/alice/reminders"),
        (Method::GET, "/api/alice/lists"),
        (Method::DELETE, "/api/alice/tasks"),
        (Method::GET, "/api/alice/tasks/1"),
        (Method::GET, "/health"),
    ]);
    against_both(96, (routes, query()), |app, ((method, path), query)| {
        async move {
            if app.list_tasks("alice", "").await.is_empty() {
                for title in ["a", "b", "c"] {
                    app.create_task("alice", json!({ "title": title, "tags": ["x", title], "due_at": "2030-01-01T00:00:00Z", "remind_at": "2020-01-01T00:00:00Z" })).await;
                }
            }
            let url = format!("{path}{query}");
            let what: String = format!("{method} {url}").chars().take(300).collect();
            let (status, body) = lawful(app.request(method.clone(), "alice", &url).send().await, &what).await?;
            prop_assert!(matches!(status, 200 | 404 | 414 | 422), "{} {}: {} {}", method, url, status, body);
            Ok(())
        }
    })
    .await;
}

/// Generated headers on a create and a read: lawful answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_headers_get_lawful_answers() {
    against_both(
        64,
        (headers(), any::<bool>()),
        |app, (headers, create)| async move {
            let mut request = if create {
                app.request(Method::POST, "alice", "/api/alice/tasks")
                    .body(r#"{"title":"h"}"#)
            } else {
                app.request(Method::GET, "alice", "/api/alice/tasks/1")
            };
            for (name, value) in &headers {
                request = request.header(*name, value.as_str());
            }
            let (status, body) = lawful(request.send().await, &format!("{headers:?}")).await?;
            prop_assert!(status < 500, "{}", body);
            Ok(())
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Differential: SQLite, PostgreSQL and a model

/// Timestamps the differential test uses: the edges of the range, sub-second values, equal
/// instants in different offsets, and two just outside the range.
const INSTANTS: [&str; 10] = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:30:00-01:00",
    "2030-01-01T00:00:00Z",
    "2030-01-01T01:00:00+01:00",
    "2030-01-01T00:00:00.5Z",
    "2030-01-01T00:00:00.000001Z",
    "2031-06-15T12:00:00-07:00",
    "9999-12-31T23:59:59.999999Z",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:00:00-05:00",
];
const TAGS: [&str; 5] = ["work", "Work", "home", "äb", "a_b"];
const TITLES: [&str; 6] = ["a", "B", "a_b", "ab", "Ä", "z z"];

#[derive(Clone, Debug)]
enum Op {
    Create {
        title: usize,
        priority: usize,
        tags: Vec<usize>,
        due: Option<usize>,
    },
    Update {
        task: usize,
        title: Option<usize>,
        tags: Option<Vec<usize>>,
        due: Option<Option<usize>>,
    },
    Toggle {
        task: usize,
    },
    Delete {
        task: usize,
    },
    List {
        status: usize,
        tags: Vec<usize>,
        priority: Vec<usize>,
        sort: usize,
        order: usize,
        before: Option<usize>,
        after: Option<usize>,
    },
    Tags,
}

fn op() -> impl Strategy<Value = Op> {
    let tags = || prop::collection::vec(0..TAGS.len(), 0..3);
    prop_oneof![
        4 => (0..TITLES.len(), 0..3usize, tags(), prop::option::of(0..INSTANTS.len()))
            .prop_map(|(title, priority, tags, due)| Op::Create { title, priority, tags, due }),
        2 => (0..8usize, prop::option::of(0..TITLES.len()), prop::option::of(tags()), prop::option::of(prop::option::of(0..INSTANTS.len())))
            .prop_map(|(task, title, tags, due)| Op::Update { task, title, tags, due }),
        1 => (0..8usize).prop_map(|task| Op::Toggle { task }),
        1 => (0..8usize).prop_map(|task| Op::Delete { task }),
        3 => (0..3usize, prop::collection::vec(0..TAGS.len(), 0..3), prop::collection::vec(0..3usize, 0..2), 0..5usize, 0..3usize, prop::option::of(0..8usize), prop::option::of(0..8usize))
            .prop_map(|(status, tags, priority, sort, order, before, after)| Op::List { status, tags, priority, sort, order, before, after }),
        1 => Just(Op::Tags),
    ]
}

const PRIORITIES: [&str; 3] = ["low", "medium", "high"];
const STATUSES: [&str; 3] = ["all", "pending", "completed"];
const SORTS: [&str; 5] = ["created", "updated", "title", "due_date", "priority"];

/// A task as the model keeps it.
#[derive(Clone, Debug)]
struct ModelTask {
    id: i64,
    title: String,
    priority: usize,
    tags: Vec<String>,
    due: Option<DateTime<Utc>>,
    completed: bool,
    /// Bumped on every change, in the order of changes (for `sort=updated`).
    touched: u64,
}

#[derive(Default)]
struct Model {
    tasks: BTreeMap<i64, ModelTask>,
    next_id: i64,
    clock: u64,
}

fn instant(raw: &str) -> Option<DateTime<Utc>> {
    let at = DateTime::parse_from_rfc3339(raw).ok()?.to_utc();
    let min = DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z")
        .ok()?
        .to_utc();
    let max = DateTime::parse_from_rfc3339("9999-12-31T23:59:59.999999Z")
        .ok()?
        .to_utc();
    (at >= min && at <= max).then_some(at)
}

/// What an answer says, in the terms the model can predict (ids, fields, order), as JSON.
fn observed(status: u16, body: &Value) -> Value {
    let task = |t: &Value| {
        json!({
            "id": t["id"], "title": t["title"], "priority": t["priority"], "tags": t["tags"],
            "completed": t["completed"],
            "due": t["due_at"].as_str().and_then(|d| DateTime::parse_from_rfc3339(d).ok()).map(|d| d.to_utc().to_rfc3339()),
        })
    };
    match body {
        Value::Array(items) if items.first().is_some_and(|i| i.get("tag").is_some()) => {
            json!([status, body])
        }
        Value::Array(items) => json!([status, items.iter().map(task).collect::<Vec<_>>()]),
        Value::Object(o) if o.contains_key("id") => json!([status, task(body)]),
        Value::Object(o) if o.contains_key("type") => json!([status, o["type"]]),
        other => json!([status, other]),
    }
}

impl Model {
    fn task_json(t: &ModelTask) -> Value {
        json!({
            "id": t.id, "title": t.title, "priority": PRIORITIES[t.priority], "tags": t.tags,
            "completed": t.completed, "due": t.due.map(|d| d.to_rfc3339()),
        })
    }

    fn id_at(&self, index: usize) -> i64 {
        // Indexes name tasks that exist when there are some, else a missing id.
        let ids: Vec<i64> = self.tasks.keys().copied().collect();
        if ids.is_empty() {
            999
        } else {
            ids[index % ids.len()]
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn apply(&mut self, op: &Op) -> Value {
        let invalid = json!([422, "urn:todo-api:problem:validation"]);
        match op {
            Op::Create {
                title,
                priority,
                tags,
                due,
            } => {
                let due = match due.map(|i| instant(INSTANTS[i])) {
                    Some(None) => return invalid,
                    other => other.flatten(),
                };
                let mut keys: Vec<String> = Vec::new();
                let mut kept = Vec::new();
                for &t in tags {
                    if keys.contains(&TAGS[t].to_lowercase()) {
                        return invalid;
                    }
                    keys.push(TAGS[t].to_lowercase());
                    kept.push(TAGS[t].to_owned());
                }
                self.next_id += 1;
                let touched = self.tick();
                let task = ModelTask {
                    id: self.next_id,
                    title: TITLES[*title].to_owned(),
                    priority: *priority,
                    tags: kept,
                    due,
                    completed: false,
                    touched,
                };
                let answer = json!([201, Self::task_json(&task)]);
                self.tasks.insert(task.id, task);
                answer
            }
            Op::Update {
                task,
                title,
                tags,
                due,
            } => {
                if title.is_none() && tags.is_none() && due.is_none() {
                    return invalid;
                }
                let id = self.id_at(*task);
                let new_due = match due {
                    Some(Some(i)) => match instant(INSTANTS[*i]) {
                        None => return invalid,
                        at => Some(at),
                    },
                    Some(None) => Some(None),
                    None => None,
                };
                let mut new_tags = None;
                if let Some(tags) = tags {
                    let mut keys: Vec<String> = Vec::new();
                    let mut kept = Vec::new();
                    for &t in tags {
                        if keys.contains(&TAGS[t].to_lowercase()) {
                            return invalid;
                        }
                        keys.push(TAGS[t].to_lowercase());
                        kept.push(TAGS[t].to_owned());
                    }
                    new_tags = Some(kept);
                }
                let touched = self.tick();
                let Some(t) = self.tasks.get_mut(&id) else {
                    return json!([404, "urn:todo-api:problem:not-found"]);
                };
                if let Some(title) = title {
                    t.title = TITLES[*title].to_owned();
                }
                if let Some(tags) = new_tags {
                    t.tags = tags;
                }
                if let Some(due) = new_due {
                    t.due = due;
                }
                t.touched = touched;
                json!([200, Self::task_json(t)])
            }
            Op::Toggle { task } => {
                let id = self.id_at(*task);
                let touched = self.tick();
                let Some(t) = self.tasks.get_mut(&id) else {
                    return json!([404, "urn:todo-api:problem:not-found"]);
                };
                t.completed = !t.completed;
                t.touched = touched;
                json!([200, Self::task_json(t)])
            }
            Op::Delete { task } => {
                let id = self.id_at(*task);
                match self.tasks.remove(&id) {
                    Some(_) => json!([204, null]),
                    None => json!([404, "urn:todo-api:problem:not-found"]),
                }
            }
            Op::List {
                status,
                tags,
                priority,
                sort,
                order,
                before,
                after,
            } => {
                let bound = |i: &Option<usize>| i.map(|i| instant(INSTANTS[i % INSTANTS.len()]));
                let (before, after) = (bound(before), bound(after));
                if matches!(before, Some(None)) || matches!(after, Some(None)) {
                    return invalid;
                }
                let (before, after) = (before.flatten(), after.flatten());
                let keys: Vec<String> = tags.iter().map(|&t| TAGS[t].to_lowercase()).collect();
                let mut listed: Vec<&ModelTask> = self
                    .tasks
                    .values()
                    .filter(|t| match STATUSES[*status] {
                        "pending" => !t.completed,
                        "completed" => t.completed,
                        _ => true,
                    })
                    .filter(|t| priority.is_empty() || priority.contains(&t.priority))
                    .filter(|t| {
                        keys.iter()
                            .all(|k| t.tags.iter().any(|tag| tag.to_lowercase() == *k))
                    })
                    .filter(|t| before.is_none_or(|b| t.due.is_some_and(|d| d < b)))
                    .filter(|t| after.is_none_or(|a| t.due.is_some_and(|d| d >= a)))
                    .collect();
                let sort_key = SORTS[*sort];
                let desc = match order {
                    0 => matches!(sort_key, "created" | "updated" | "priority"),
                    1 => false,
                    _ => true,
                };
                listed.sort_by(|a, b| {
                    use std::cmp::Ordering;
                    let by = match sort_key {
                        "created" => a.id.cmp(&b.id),
                        "updated" => a.touched.cmp(&b.touched),
                        "title" => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
                        "priority" => a.priority.cmp(&b.priority),
                        _ => match (a.due, b.due) {
                            (None, None) => Ordering::Equal,
                            (None, Some(_)) => return Ordering::Greater,
                            (Some(_), None) => return Ordering::Less,
                            (Some(x), Some(y)) => x.cmp(&y),
                        },
                    };
                    let by = by.then(a.id.cmp(&b.id));
                    if desc { by.reverse() } else { by }
                });
                json!([
                    200,
                    listed.into_iter().map(Self::task_json).collect::<Vec<_>>()
                ])
            }
            Op::Tags => {
                let mut tags: BTreeMap<String, (String, u64)> = BTreeMap::new();
                for tag in self.tasks.values().flat_map(|t| &t.tags) {
                    let entry = tags.entry(tag.to_lowercase()).or_insert((tag.clone(), 0));
                    if *tag < entry.0 {
                        entry.0 = tag.clone();
                    }
                    entry.1 += 1;
                }
                let tags: Vec<Value> = tags
                    .into_values()
                    .map(|(tag, count)| json!({ "tag": tag, "count": count }))
                    .collect();
                json!([200, tags])
            }
        }
    }
}

/// Sends `op` to a server; the ids it names are the model's (the stores assign the same).
async fn send(app: &TestApp, model: &Model, op: &Op) -> Value {
    let request = match op {
        Op::Create {
            title,
            priority,
            tags,
            due,
        } => {
            let mut body = json!({ "title": TITLES[*title], "priority": PRIORITIES[*priority],
                "tags": tags.iter().map(|&t| TAGS[t]).collect::<Vec<_>>() });
            if let Some(i) = due {
                body["due_at"] = json!(INSTANTS[*i]);
            }
            app.request(Method::POST, "alice", "/api/alice/tasks")
                .json(&body)
        }
        Op::Update {
            task,
            title,
            tags,
            due,
        } => {
            let mut body = Map::new();
            if let Some(title) = title {
                body.insert("title".into(), json!(TITLES[*title]));
            }
            if let Some(tags) = tags {
                body.insert(
                    "tags".into(),
                    json!(tags.iter().map(|&t| TAGS[t]).collect::<Vec<_>>()),
                );
            }
            if let Some(due) = due {
                body.insert(
                    "due_at".into(),
                    due.map_or(Value::Null, |i| json!(INSTANTS[i])),
                );
            }
            let path = format!("/api/alice/tasks/{}", model.id_at(*task));
            app.request(Method::PUT, "alice", &path).json(&body)
        }
        Op::Toggle { task } => {
            let path = format!("/api/alice/tasks/{}/complete", model.id_at(*task));
            app.request(Method::PATCH, "alice", &path)
        }
        Op::Delete { task } => {
            let path = format!("/api/alice/tasks/{}", model.id_at(*task));
            app.request(Method::DELETE, "alice", &path)
        }
        Op::List {
            status,
            tags,
            priority,
            sort,
            order,
            before,
            after,
        } => {
            let mut query = vec![
                format!("status={}", STATUSES[*status]),
                format!("sort={}", SORTS[*sort]),
            ];
            query.extend(
                tags.iter()
                    .map(|&t| format!("tag={}", crate::support::encode(TAGS[t]))),
            );
            query.extend(
                priority
                    .iter()
                    .map(|&p| format!("priority={}", PRIORITIES[p])),
            );
            if *order > 0 {
                query.push(format!(
                    "order={}",
                    if *order == 1 { "asc" } else { "desc" }
                ));
            }
            for (name, at) in [("due_before", before), ("due_after", after)] {
                if let Some(i) = at {
                    query.push(format!(
                        "{name}={}",
                        crate::support::encode(INSTANTS[i % INSTANTS.len()])
                    ));
                }
            }
            app.request(
                Method::GET,
                "alice",
                &format!("/api/alice/tasks?{}", query.join("&")),
            )
        }
        Op::Tags => app.request(Method::GET, "alice", "/api/alice/tags"),
    };
    let response = request
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    observed(status, &body)
}

/// Random sequences of operations give the same observable results on SQLite, on PostgreSQL
/// and in the model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_postgresql_and_a_model_agree() {
    let mut runner = runner(24);
    let handle = tokio::runtime::Handle::current();
    let result = runner.run(&prop::collection::vec(op(), 1..24), |ops| {
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                let Some(sqlite) = spawn_app(Backend::Sqlite).await else {
                    return Ok(());
                };
                let postgres = spawn_app(Backend::Postgres).await;
                let mut model = Model::default();
                for (step, op) in ops.iter().enumerate() {
                    let on_sqlite = send(&sqlite, &model, op).await;
                    if let Some(postgres) = &postgres {
                        let on_postgres = send(postgres, &model, op).await;
                        prop_assert_eq!(&on_sqlite, &on_postgres, "step {}: {:?}", step, op);
                    }
                    let expected = model.apply(op);
                    prop_assert_eq!(&on_sqlite, &expected, "step {}: {:?}", step, op);
                }
                Ok(())
            })
        })
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}
