//! The database down at start-up, and going away while serving: the server keeps running,
//! answers 503 problem+json (not a hang), says not ready, and recovers by itself.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::cluster::{Access, Cluster};
use crate::server::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_rides_out_a_database_that_is_down_then_comes_back() {
    let cluster = Cluster::start(Access::Plain);
    cluster.create_database("app");
    cluster.stop();

    // Down at start-up: the server starts anyway.
    let url = format!("postgres://postgres@127.0.0.1:{}/app", cluster.port);
    let server = Server::start(&[("DATABASE_URL", &url), ("DB_ACQUIRE_TIMEOUT", "1s")]).await;
    let (status, _, _) = server.call(Method::GET, "/health", None, None).await;
    assert_eq!(status, StatusCode::OK);
    server.assert_unavailable(Method::GET, "/ready", None).await;
    server
        .assert_unavailable(Method::GET, "/api/alice/tasks", Some("alice"))
        .await;
    let (status, body, _) = server
        .call(
            Method::POST,
            "/api/alice/tasks",
            Some("alice"),
            Some(json!({"title": "too early"})),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["type"], "urn:todo-api:problem:unavailable");

    // It comes back: the migrations are applied in the background and the server serves.
    cluster.resume();
    server.wait_ready().await;
    let (status, kept, _) = server
        .call(
            Method::POST,
            "/api/alice/tasks",
            Some("alice"),
            Some(json!({"title": "written before the outage"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    server.exercise("bob").await;

    // It goes away while serving.
    cluster.stop();
    server
        .assert_unavailable(Method::GET, "/api/alice/tasks", Some("alice"))
        .await;
    server.assert_unavailable(Method::GET, "/ready", None).await;
    let (status, _, _) = server.call(Method::GET, "/health", None, None).await;
    assert_eq!(status, StatusCode::OK);

    // And back again: stale connections are replaced, nothing acknowledged is lost.
    cluster.resume();
    server.wait_ready().await;
    let (status, list, _) = server
        .call(Method::GET, "/api/alice/tasks", Some("alice"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == kept["id"]),
        "{list}"
    );
    server.exercise("alice").await;
    server.stop().await;
}
