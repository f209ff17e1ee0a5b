//! The database down at start-up, and going away while serving: the server keeps running,
//! answers 503 problem+json (not a hang), says not ready, and recovers by itself.

use serde_json::json;

use crate::cluster::{Access, Cluster};
use crate::round::exercise;
use crate::support::{ServerConfig, TestApp, assert_unavailable};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_rides_out_a_database_that_is_down_then_comes_back() {
    let cluster = Cluster::start(Access::Plain);
    cluster.create_database("app");
    cluster.stop();

    // Down at start-up: the server starts anyway.
    let url = format!("postgres://postgres@127.0.0.1:{}/app", cluster.port);
    let config = ServerConfig::default().var("DB_ACQUIRE_TIMEOUT", "1s");
    let server = TestApp::spawn_on(&url, config).await;
    server.health().await;
    assert_unavailable(server.try_ready().await).await;
    assert_unavailable(server.try_list_tasks("alice", "").await).await;
    let response = server
        .try_create_task("alice", json!({"title": "too early"}))
        .await;
    let body = assert_unavailable(response).await;
    assert_eq!(body["type"], "urn:todo-api:problem:unavailable");

    // It comes back: the migrations are applied in the background and the server serves.
    cluster.resume();
    server.wait_ready().await;
    let kept = server
        .create_titled("alice", "written before the outage")
        .await;
    exercise(&server, "bob").await;

    // It goes away while serving.
    cluster.stop();
    assert_unavailable(server.try_list_tasks("alice", "").await).await;
    assert_unavailable(server.try_ready().await).await;
    server.health().await;

    // And back again: stale connections are replaced, nothing acknowledged is lost.
    cluster.resume();
    server.wait_ready().await;
    let list = server.list_tasks("alice", "").await;
    assert!(list.iter().any(|t| t.id == kept.id), "{list:?}");
    exercise(&server, "alice").await;
    server.stop().await;
}
