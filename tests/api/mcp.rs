//! The MCP server at `/mcp`, driven by the official TypeScript MCP client
//! (`@modelcontextprotocol/sdk`, its Streamable HTTP transport) from the node:test scripts in
//! tests/mcp: these tests start real servers, hand the scripts the URLs and tokens, assert that
//! the scripts pass, and check through REST what the tools left. The transport's limits
//! (body size, rate limit, time limit, CORS, 405) are checked here with plain HTTP.
//!
//! Needs Node.js 20+ with npm: `npm ci --prefix tests/mcp` runs on first use.

use std::process::Stdio;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::better_auth::fixture::BetterAuth;
use crate::cli::todo_api;
use crate::events::expect_changes;
use crate::operations::tokio_stream;
use crate::support::{
    Backend, Change, Replica, ServerConfig, Task, TestApp, assert_problem, on_both_backends,
    spawn_app, spawn_app_with,
};

/// Where the Node project lives.
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp");

const NOT_INSTALLED: &str = "the MCP client tests need the Node dependencies of tests/mcp, and \
    `npm ci --prefix tests/mcp` failed: install Node.js 20 or newer with npm, then rerun the tests";

/// How long one script may run.
const PATIENCE: Duration = Duration::from_secs(120);

/// Installs the Node dependencies the first time they are needed.
fn ensure_installed() {
    crate::support::npm_ci_once(DIR, "@modelcontextprotocol/sdk/package.json", NOT_INSTALLED);
}

/// Runs the node:test script `script` with `vars` and asserts that every test in it passed.
async fn run_node(script: &str, vars: &[(String, String)]) {
    ensure_installed();
    let output = tokio::process::Command::new("node")
        .args(["--test", "--test-reporter=spec", script])
        .current_dir(DIR)
        .envs(vars.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PATIENCE, output)
        .await
        .unwrap_or_else(|_| panic!("{script} finishes within {PATIENCE:?}"))
        .unwrap_or_else(|err| panic!("could not run `node` ({err}); {NOT_INSTALLED}"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{script} failed:\n{report}");
    assert!(report.contains("ℹ fail 0"), "{report}");
    eprintln!("{report}");
}

/// `user`'s id and a token for them, as the scripts read them (`{PREFIX}_ID`, `{PREFIX}_TOKEN`).
fn user_vars(app: &TestApp, prefix: &str, user: &str) -> [(String, String); 2] {
    [
        (format!("{prefix}_ID"), user.to_owned()),
        (format!("{prefix}_TOKEN"), app.token(user)),
    ]
}

on_both_backends!(
    the_official_typescript_client_uses_every_tool,
    lists_and_moves_are_tools_too,
    mcp_writes_reach_the_event_stream,
);

/// Calls the tool `name` with `arguments` as `user` (plain JSON-RPC over the stateless
/// transport); returns the result (`isError` and `structuredContent`).
async fn call_tool_as(app: &TestApp, user: &str, name: &str, arguments: Value) -> Value {
    let request = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": { "name": name, "arguments": arguments }
    });
    let response = mcp_post(app, user).json(&request).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["result"].clone()
}

/// The structured result of a call that succeeded.
async fn tool_ok(app: &TestApp, user: &str, name: &str, arguments: Value) -> Value {
    let result = call_tool_as(app, user, name, arguments.clone()).await;
    assert_eq!(result["isError"], false, "{name} {arguments}: {result}");
    result["structuredContent"].clone()
}

/// The message of a call that was refused.
async fn tool_refused(app: &TestApp, user: &str, name: &str, arguments: Value) -> String {
    let result = call_tool_as(app, user, name, arguments.clone()).await;
    assert_eq!(result["isError"], true, "{name} {arguments}: {result}");
    result["content"][0]["text"].as_str().unwrap().to_owned()
}

async fn lists_and_moves_are_tools_too(app: TestApp) {
    let work = tool_ok(
        &app,
        "alice",
        "create_list",
        json!({ "name": "Work", "color": "#FF0000" }),
    )
    .await;
    assert_eq!(work["status"], "created");
    let work_id = work["list_id"].as_i64().unwrap();
    assert_eq!(work["list"]["color"], "#ff0000");
    let message = tool_refused(&app, "alice", "create_list", json!({ "name": "work" })).await;
    assert!(message.contains("already has this name"), "{message}");
    let message = tool_refused(
        &app,
        "alice",
        "create_list",
        json!({ "name": "x", "color": "red" }),
    )
    .await;
    assert!(message.contains("`color`"), "{message}");

    let parent = tool_ok(
        &app,
        "alice",
        "add_task",
        json!({ "title": "report", "list_id": work_id }),
    )
    .await;
    let parent_id = parent["task_id"].as_i64().unwrap();
    assert_eq!(parent["task"]["list_id"], work_id);
    let child = tool_ok(
        &app,
        "alice",
        "add_task",
        json!({ "title": "figures", "parent_id": parent_id }),
    )
    .await;
    let child_id = child["task_id"].as_i64().unwrap();
    assert_eq!(child["task"]["list_id"], work_id);
    assert_eq!(child["task"]["parent_id"], parent_id);
    let message = tool_refused(
        &app,
        "alice",
        "add_task",
        json!({ "title": "x", "list_id": 999_999 }),
    )
    .await;
    assert!(message.contains("`list_id`"), "{message}");
    let other = tool_ok(&app, "alice", "add_task", json!({ "title": "other" })).await;
    let other_id = other["task_id"].as_i64().unwrap();

    // Moves: into the list first, under the parent, out again.
    let moved = tool_ok(
        &app,
        "alice",
        "move_task",
        json!({ "task_id": other_id, "list_id": work_id, "after": null }),
    )
    .await;
    assert_eq!(moved["status"], "moved");
    assert_eq!(moved["task"]["list_id"], work_id);
    let page = tool_ok(
        &app,
        "alice",
        "list_tasks",
        json!({ "list_id": work_id, "top_level": true, "sort": "position" }),
    )
    .await;
    let titles: Vec<&str> = page["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["other", "report"]);
    let message = tool_refused(
        &app,
        "alice",
        "move_task",
        json!({ "task_id": parent_id, "parent_id": child_id }),
    )
    .await;
    assert!(message.contains("`parent_id`"), "{message}");
    tool_ok(
        &app,
        "alice",
        "update_task",
        json!({ "task_id": other_id, "parent_id": parent_id }),
    )
    .await;
    let parent_now = app.get_task("alice", parent_id).await;
    assert_eq!(parent_now.subtask_count, 2);

    let renamed = tool_ok(
        &app,
        "alice",
        "update_list",
        json!({ "list_id": work_id, "name": "Job", "color": null }),
    )
    .await;
    assert_eq!(renamed["list"]["name"], "Job");
    assert_eq!(renamed["list"]["color"], Value::Null);
    let lists = tool_ok(&app, "alice", "list_lists", json!({})).await;
    assert_eq!(lists["lists"][0]["task_count"], 3);
    // Bob sees none of it.
    assert_eq!(
        tool_ok(&app, "bob", "list_lists", json!({})).await["lists"],
        json!([])
    );
    let message = tool_refused(&app, "bob", "delete_list", json!({ "list_id": work_id })).await;
    assert!(message.contains("No list"), "{message}");

    let message = tool_refused(&app, "alice", "delete_list", json!({ "list_id": work_id })).await;
    assert!(message.contains("3 task"), "{message}");
    let deleted = tool_ok(
        &app,
        "alice",
        "delete_list",
        json!({ "list_id": work_id, "tasks": "inbox" }),
    )
    .await;
    assert_eq!(deleted["status"], "deleted");
    assert_eq!(deleted["name"], "Job");
    let inbox = app.list_tasks("alice", "?list_id=inbox").await;
    assert_eq!(inbox.len(), 3);
    assert!(app.list_lists("alice").await.is_empty());
}

async fn the_official_typescript_client_uses_every_tool(app: TestApp) {
    let (alice, bob) = ("alice", "bob@example.com");
    let before = app.list_changes(alice, "").await.cursor;
    let mut pairs = vec![("MCP_BASE".to_owned(), app.address.clone())];
    pairs.extend(user_vars(&app, "ALICE", alice));
    pairs.extend(user_vars(&app, "BOB", bob));
    run_node("client.test.mjs", &pairs).await;

    // The tools' writes are in the change feed like any other: a client that follows the feed
    // from before the conversation ends with what REST lists, deletions included.
    let mut replica = Replica::default();
    app.sync_changes(alice, None, 1000, &mut replica).await;
    let from_start: Vec<i64> = replica.tasks.keys().copied().collect();
    let listed: Vec<Task> = app.list_tasks(alice, "?status=all").await;
    let mut listed_ids: Vec<i64> = listed.iter().map(|t| t.id).collect();
    listed_ids.sort_unstable();
    assert_eq!(from_start, listed_ids);
    let since = app
        .list_changes(alice, &format!("?since={before}&limit=1000"))
        .await;
    assert!(
        since
            .changes
            .iter()
            .any(|change| matches!(change, Change::Delete { .. })),
        "delete_task and clear_completed_tasks leave deletions in the feed"
    );
    for id in &listed_ids {
        assert!(
            since.changes.iter().any(|change| change.task_id() == *id),
            "task {id}, written through MCP, is in the feed"
        );
    }

    // What the client left, read through REST.
    let tasks: Vec<Value> = app
        .get_json(alice, &format!("/api/{alice}/tasks?sort=title"))
        .await;
    let titles: Vec<&str> = tasks.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Call mom and dad", "Water the plants"]);
    let (call, plants) = (&tasks[0], &tasks[1]);
    assert_eq!(call["description"], Value::Null);
    assert_eq!(call["tags"], json!(["family"]));
    assert_eq!(call["user_id"], alice);
    // The next occurrence the MCP completion created, due a week after the first.
    assert_eq!(plants["completed"], false);
    assert_eq!(plants["priority"], "high");
    assert_eq!(plants["tags"], json!(["Home", "plants"]));
    assert_eq!(
        crate::support::at(plants["due_at"].as_str().unwrap()).to_rfc3339(),
        "2030-01-13T09:00:00+00:00"
    );
    assert_eq!(
        plants["recurrence"],
        json!({ "frequency": "weekly", "interval": 1 })
    );

    // Bob's task, which Alice's MCP calls tried to reach, is as Bob created it.
    let bobs = app
        .list_tasks(bob, "")
        .await
        .into_iter()
        .map(|t| (t.title, t.completed))
        .collect::<Vec<_>>();
    assert_eq!(bobs, [("Bob's surprise party".to_owned(), false)]);
}

#[tokio::test]
async fn two_servers_on_one_postgresql_answer_one_client_alternately() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    // Another replica behind a load balancer, on the same database.
    let second = TestApp::spawn_on(app.database_url(), ServerConfig::default()).await;
    let mut pairs = vec![(
        "MCP_BASES".to_owned(),
        format!("{},{}", app.address, second.address),
    )];
    pairs.extend(user_vars(&app, "ALICE", "alice"));
    run_node("stateless.test.mjs", &pairs).await;
    assert_eq!(app.list_tasks("alice", "").await.len(), 4);
}

/// What an assistant writes through the tools reaches the user's event stream, as REST writes do:
/// a frontend open beside the chat sees the task appear, complete and go.
async fn mcp_writes_reach_the_event_stream(app: TestApp) {
    let mut stream = app.stream_events("alice", "", None).await;
    stream.ready().await;

    let added = call_tool(&app, "add_task", json!({ "title": "from an assistant" })).await;
    let id = added["task_id"].as_i64().expect("a task_id");
    let task = app.get_task("alice", id).await;
    expect_changes(&mut stream, vec![Change::Upsert { task }]).await;

    call_tool(&app, "complete_task", json!({ "task_id": id })).await;
    let done = app.get_task("alice", id).await;
    assert!(done.completed);
    expect_changes(&mut stream, vec![Change::Upsert { task: done }]).await;

    call_tool(&app, "delete_task", json!({ "task_id": id })).await;
    expect_changes(&mut stream, vec![Change::Delete { id }]).await;
}

/// Calls the tool `name` for alice with plain JSON-RPC; returns its structured result.
async fn call_tool(app: &TestApp, name: &str, arguments: Value) -> Value {
    let call = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": { "name": name, "arguments": arguments }
    });
    let answer = mcp_post(app, "alice").json(&call).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_ne!(body["result"]["isError"], json!(true), "{body}");
    body["result"]["structuredContent"].clone()
}

/// A valid MCP request: `tools/list`.
fn tools_list() -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" })
}

fn mcp_post(app: &TestApp, user: &str) -> reqwest::RequestBuilder {
    app.request(Method::POST, user, "/mcp")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-11-25")
}

#[tokio::test]
async fn mcp_requests_are_held_to_the_rest_limits() {
    // The body size limit.
    let app = spawn_app_with(
        Backend::Sqlite,
        ServerConfig::default().var("MAX_BODY_BYTES", "2048"),
    )
    .await
    .unwrap();
    let listed = mcp_post(&app, "alice")
        .json(&tools_list())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let body: Value = listed.json().await.unwrap();
    assert_eq!(body["result"]["tools"].as_array().unwrap().len(), 15);
    let mut big = tools_list();
    big["params"] = json!({ "_meta": { "padding": "x".repeat(4096) } });
    let refused = mcp_post(&app, "alice").json(&big).send().await.unwrap();
    let problem = assert_problem(refused, 413).await;
    assert_eq!(problem["type"], "urn:todo-api:problem:payload-too-large");

    // Only POST: a stateless server has no stream to resume and no session to end.
    for method in [Method::GET, Method::DELETE, Method::PUT] {
        let response = app
            .request(method.clone(), "alice", "/mcp")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], "POST", "{method}");
        assert_problem(response, 405).await;
    }

    // The rate limit, shared with REST.
    let app = spawn_app_with(
        Backend::Sqlite,
        ServerConfig::default().var("RATE_LIMIT_PER_MINUTE", "3"),
    )
    .await
    .unwrap();
    for _ in 0..2 {
        let ok = mcp_post(&app, "carol")
            .json(&tools_list())
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
    }
    let rest = app
        .request(Method::GET, "carol", "/api/carol/tasks")
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), StatusCode::OK);
    let limited = mcp_post(&app, "carol")
        .json(&tools_list())
        .send()
        .await
        .unwrap();
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429).await;
    let other = mcp_post(&app, "dave")
        .json(&tools_list())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK, "the limit is per user");

    // The request time limit: a body that never finishes arriving.
    let app = spawn_app_with(
        Backend::Sqlite,
        ServerConfig::default().var("REQUEST_TIMEOUT", "300ms"),
    )
    .await
    .unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    tx.send(Ok(b"{\"jsonrpc\": ".to_vec())).await.unwrap();
    let response = mcp_post(&app, "alice")
        .body(reqwest::Body::wrap_stream(tokio_stream(rx)))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 503).await;
    assert_eq!(problem["type"], "urn:todo-api:problem:timeout");
    drop(tx);
}

#[tokio::test]
async fn browsers_on_an_allowed_origin_may_call_mcp() {
    const FRONTEND: &str = "http://localhost:3000";
    let app = spawn_app_with(
        Backend::Sqlite,
        ServerConfig::default().var("CORS_ORIGINS", FRONTEND),
    )
    .await
    .unwrap();
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/mcp"))
        .header("Origin", FRONTEND)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type, mcp-protocol-version",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    for header in ["authorization", "content-type", "mcp-protocol-version"] {
        assert!(allowed.contains(header), "{allowed}");
    }
    // A 401 lets the page read where to sign in.
    let anonymous = app
        .client
        .post(app.url("/mcp"))
        .header("Origin", FRONTEND)
        .json(&tools_list())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["access-control-allow-origin"], FRONTEND);
    let exposed = anonymous.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(
        exposed.to_ascii_lowercase().contains("www-authenticate"),
        "{exposed}"
    );
}

/// The acceptance test: the real binary with `BETTER_AUTH_URL` alone; an MCP client with a token
/// from a real Better Auth manages that user's tasks; the resource metadata names Better Auth;
/// the log has a line per tool call naming the tool, and neither the arguments nor the token.
#[tokio::test]
async fn a_better_auth_token_drives_the_mcp_server_of_the_binary() {
    let better_auth = BetterAuth::start("EdDSA").await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = todo_api(&dir)
        .env("BETTER_AUTH_URL", &better_auth.url)
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut logs = String::new();
    let port = crate::cli::wait_for_port(&mut stderr, &mut logs, PATIENCE).await;
    let base = format!("http://127.0.0.1:{port}");

    let metadata: Value = reqwest::get(format!("{base}/.well-known/oauth-protected-resource"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issuer = reqwest::Url::parse(&better_auth.url)
        .unwrap()
        .origin()
        .ascii_serialization();
    assert_eq!(metadata["resource"], format!("{base}/mcp"));
    assert_eq!(metadata["authorization_servers"], json!([issuer]));

    let alice = better_auth.sign_up("alice").await;
    let token = better_auth.token(&alice).await;
    run_node(
        "smoke.test.mjs",
        &[
            ("MCP_BASE".to_owned(), base),
            ("ALICE_ID".to_owned(), alice.user_id.clone()),
            ("ALICE_TOKEN".to_owned(), token.clone()),
        ],
    )
    .await;

    child.kill().await.unwrap();
    while let Ok(Some(line)) = stderr.next_line().await {
        logs.push_str(&line);
        logs.push('\n');
    }
    let calls: Vec<Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "tool call")
        .collect();
    let tools: Vec<&str> = calls.iter().map(|c| c["tool"].as_str().unwrap()).collect();
    assert_eq!(tools, ["add_task", "list_tasks", "complete_task"], "{logs}");
    for call in &calls {
        assert_eq!(call["outcome"], "ok");
        assert_eq!(call["user_id"], alice.user_id.as_str());
    }
    assert!(!logs.contains(&token), "the token is never logged");
    assert!(
        !logs.contains("Call mom"),
        "arguments are never logged: {logs}"
    );
}
