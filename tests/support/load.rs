//! A concurrent workload against a running server, and the read-back that proves nothing
//! acknowledged was lost and no task crossed users. Loopback only, bounded in requests.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The size of a run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Load {
    /// Prefix of the user names, so that runs side by side do not share users.
    pub namespace: &'static str,
    /// Concurrent clients.
    pub clients: usize,
    /// Users the clients share (client `i` acts as user `i % users`).
    pub users: usize,
    /// Operations per client.
    pub ops_per_client: usize,
}

/// What a client knows of a task it created, from acknowledged answers only.
#[derive(Clone, Debug)]
struct Known {
    user: String,
    title: String,
    completed: bool,
    deleted: bool,
    /// An operation on it failed: its outcome is unknown, so only ownership is checked.
    uncertain: bool,
}

/// What the run did, for the caller's assertions and messages.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Requests answered 2xx.
    pub acknowledged: usize,
    /// Writes (create, update, toggle, delete) answered 2xx.
    pub acknowledged_writes: usize,
    /// Requests that failed (any other status, or no answer), with a sample of reasons.
    pub failed: usize,
    /// Up to ten failure descriptions.
    pub failures: Vec<String>,
}

fn user_name(namespace: &str, i: usize) -> String {
    format!("{namespace}-user-{i}")
}

/// Runs the workload against `base` (e.g. `http://127.0.0.1:1234`), then reads everything back
/// and panics on a lost acknowledged write or a task that crossed users.
pub(crate) async fn run(
    base: &str,
    token: Arc<dyn Fn(&str) -> String + Send + Sync>,
    load: Load,
) -> Report {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(load.clients)
        .build()
        .unwrap();
    let mut handles = Vec::new();
    for c in 0..load.clients {
        let (client, base, token) = (client.clone(), base.to_owned(), token.clone());
        handles.push(tokio::spawn(async move {
            client_run(c, &client, &base, &*token, load).await
        }));
    }
    let mut report = Report::default();
    let mut known: HashMap<i64, Known> = HashMap::new();
    let mut uncertain_titles: HashSet<String> = HashSet::new();
    for handle in handles {
        let (tasks, unsure, part) = handle.await.unwrap();
        known.extend(tasks);
        uncertain_titles.extend(unsure);
        report.acknowledged += part.acknowledged;
        report.acknowledged_writes += part.acknowledged_writes;
        report.failed += part.failed;
        for f in part.failures {
            if report.failures.len() < 10 {
                report.failures.push(f);
            }
        }
    }

    // Read everything back, user by user.
    let mut seen = HashSet::new();
    for u in 0..load.users {
        let user = user_name(load.namespace, u);
        let response = client
            .get(format!("{base}/api/{user}/tasks"))
            .bearer_auth(token(&user))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "reading back {user}'s tasks"
        );
        let tasks: Vec<Value> = response.json().await.unwrap();
        for task in tasks {
            let id = task["id"].as_i64().unwrap();
            assert_eq!(
                task["user_id"],
                user.as_str(),
                "a task crossed users: {task}"
            );
            seen.insert(id);
            let title = task["title"].as_str().unwrap();
            match known.get(&id) {
                Some(k) => {
                    assert_eq!(k.user, user, "task {id} is listed for the wrong user");
                    if !k.uncertain {
                        assert!(!k.deleted, "an acknowledged delete was lost: {task}");
                        assert_eq!(title, k.title, "an acknowledged update was lost: {task}");
                        assert_eq!(
                            task["completed"], k.completed,
                            "an acknowledged toggle was lost: {task}"
                        );
                    }
                }
                None => assert!(
                    uncertain_titles.contains(title),
                    "a task nobody acknowledged creating: {task}"
                ),
            }
        }
    }
    for (id, k) in &known {
        if !k.deleted && !k.uncertain {
            assert!(
                seen.contains(id),
                "an acknowledged create was lost: task {id} {k:?}"
            );
        }
    }

    // Another user's task is invisible: a sample of ids, read as the next user.
    for (id, k) in known.iter().take(50) {
        let index: usize = k.user.rsplit('-').next().unwrap().parse().unwrap();
        let other = user_name(load.namespace, (index + 1) % load.users.max(2));
        if other == k.user {
            continue;
        }
        let status = client
            .get(format!("{base}/api/{other}/tasks/{id}"))
            .bearer_auth(token(&other))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "task {id} of {} seen by {other}",
            k.user
        );
    }
    report
}

type ClientOutcome = (HashMap<i64, Known>, Vec<String>, Report);

async fn client_run(
    c: usize,
    client: &reqwest::Client,
    base: &str,
    token: &(dyn Fn(&str) -> String + Send + Sync),
    load: Load,
) -> ClientOutcome {
    let user = user_name(load.namespace, c % load.users);
    let bearer = token(&user);
    let mut mine: HashMap<i64, Known> = HashMap::new();
    let mut order: Vec<i64> = Vec::new();
    let mut unsure = Vec::new();
    let mut report = Report::default();
    let fail = |report: &mut Report, what: String| {
        report.failed += 1;
        if report.failures.len() < 10 {
            report.failures.push(what);
        }
    };
    for n in 0..load.ops_per_client {
        // A fixed pattern: create most of the time, then toggle, update and delete earlier tasks.
        let live: Vec<i64> = order
            .iter()
            .copied()
            .filter(|id| !mine[id].deleted)
            .collect();
        let pick = live.get((n * 7 + c) % live.len().max(1)).copied();
        let kind = match (n % 10, pick) {
            (_, None) | (0 | 2 | 4 | 6 | 8, _) => "create",
            (1 | 5, Some(_)) => "toggle",
            (3, Some(_)) => "set",
            (7, Some(_)) => "update",
            (_, Some(_)) => "delete",
        };
        let (method, path, body) = match (kind, pick) {
            ("create", _) => (
                Method::POST,
                format!("/api/{user}/tasks"),
                Some(json!({ "title": format!("c{c}-op{n}") })),
            ),
            ("toggle", Some(id)) => (
                Method::PATCH,
                format!("/api/{user}/tasks/{id}/complete"),
                None,
            ),
            ("set", Some(id)) => (
                Method::PATCH,
                format!("/api/{user}/tasks/{id}/complete"),
                Some(json!({ "completed": true })),
            ),
            ("update", Some(id)) => (
                Method::PUT,
                format!("/api/{user}/tasks/{id}"),
                Some(json!({ "title": format!("c{c}-op{n}-renamed") })),
            ),
            (_, Some(id)) => (Method::DELETE, format!("/api/{user}/tasks/{id}"), None),
            _ => unreachable!(),
        };
        let mut request = client
            .request(method, format!("{base}{path}"))
            .bearer_auth(&bearer);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let outcome = request.send().await;
        let response = match outcome {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                fail(&mut report, format!("{kind} {path}: {status} {text}"));
                if let Some(id) = pick.filter(|_| kind != "create") {
                    mine.get_mut(&id).unwrap().uncertain = true;
                } else {
                    unsure.push(format!("c{c}-op{n}"));
                }
                continue;
            }
            Err(err) => {
                fail(&mut report, format!("{kind} {path}: {err}"));
                if let Some(id) = pick.filter(|_| kind != "create") {
                    mine.get_mut(&id).unwrap().uncertain = true;
                } else {
                    unsure.push(format!("c{c}-op{n}"));
                }
                continue;
            }
        };
        report.acknowledged += 1;
        report.acknowledged_writes += 1;
        if kind == "delete" {
            let id = pick.unwrap();
            mine.get_mut(&id).unwrap().deleted = true;
            continue;
        }
        let task: Value = response.json().await.unwrap();
        let id = task["id"].as_i64().unwrap();
        assert_eq!(
            task["user_id"],
            user.as_str(),
            "an answer crossed users: {task}"
        );
        let entry = mine.entry(id).or_insert_with(|| {
            order.push(id);
            Known {
                user: user.clone(),
                title: String::new(),
                completed: false,
                deleted: false,
                uncertain: false,
            }
        });
        entry.title = task["title"].as_str().unwrap().to_owned();
        entry.completed = task["completed"].as_bool().unwrap();
    }
    (mine, unsure, report)
}
