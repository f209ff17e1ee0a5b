//! Operations features through the real server: request ids, metrics, CORS, the body size
//! limit, the per-user rate limit, the request time limit, and a concurrent load read back.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    Backend, ServerConfig, assert_problem, load, spawn_app, spawn_app_with, token,
};

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let given = app
        .client
        .get(app.url("/health"))
        .header("X-Request-Id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-abc-123");

    let generated = app.client.get(app.url("/health")).send().await.unwrap();
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 32, "{id}");

    let unusable = app
        .client
        .get(app.url("/api/alice/tasks"))
        .header("X-Request-Id", "has spaces in it")
        .send()
        .await
        .unwrap();
    let replaced = unusable.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(replaced, "has spaces in it");
    assert_problem(unusable, 401).await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_show_the_pool() {
    let app = spawn_app(Backend::Postgres).await.unwrap();
    let task = app.create_titled("alice", "counted").await;
    for _ in 0..3 {
        app.get_task("alice", task.id).await;
    }
    let missing = app.try_get_task("alice", 999999).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // Not behind user auth.
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    let get_task = "method=\"GET\",route=\"/api/{user_id}/tasks/{id}\"";
    assert!(
        text.contains(&format!(
            "todo_api_http_requests_total{{{get_task},status=\"200\"}} 3\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "todo_api_http_requests_total{{{get_task},status=\"404\"}} 1\n"
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "todo_api_http_request_duration_seconds_count{{{get_task},status=\"200\"}} 3\n"
    )));
    assert!(text.contains(&format!(
        "todo_api_http_request_duration_seconds_bucket{{{get_task},status=\"200\",le=\"+Inf\"}} 3\n"
    )));
    assert!(!text.contains("/api/alice"), "raw paths are never labels");
    assert!(text.contains("todo_api_db_pool_connections{state=\"in_use\"}"));
    assert!(text.contains("todo_api_db_pool_connections{state=\"idle\"}"));
    assert!(text.contains("todo_api_db_pool_max_connections 10\n"));
    assert!(text.contains("todo_api_ready 1\n"));
    assert!(text.contains("# TYPE todo_api_jwks_refreshes_total counter"));
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let config = ServerConfig::default().var("METRICS_ENABLED", "false");
    let app = spawn_app_with(Backend::Sqlite, config).await.unwrap();
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_problem(response, 404).await;
}

const FRONTEND: &str = "http://localhost:3000";

#[tokio::test]
async fn cors_answers_preflights_for_listed_origins_only() {
    let origins = format!("{FRONTEND},https://app.example.com");
    let config = ServerConfig::default().var("CORS_ORIGINS", origins);
    let app = spawn_app_with(Backend::Sqlite, config).await.unwrap();

    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/alice/tasks/1"))
        .header("Origin", FRONTEND)
        .header("Access-Control-Request-Method", "PUT")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], FRONTEND);
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in [
        "authorization",
        "content-type",
        "idempotency-key",
        "if-match",
    ] {
        assert!(allowed.contains(header), "{allowed}");
    }

    // The actual request: the origin is allowed and the useful headers are readable.
    app.create_titled("alice", "from the browser").await;
    let listed = app
        .request(Method::GET, "alice", "/api/alice/tasks")
        .header("Origin", FRONTEND)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let h = listed.headers();
    assert_eq!(h["access-control-allow-origin"], FRONTEND);
    assert_eq!(h["access-control-allow-credentials"], "true");
    // Header names ignore case.
    let exposed = h["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in ["etag", "link", "x-total-count", "location"] {
        assert!(exposed.contains(header), "{exposed}");
    }
    assert!(h["vary"].to_str().unwrap().contains("Origin"));

    // Another origin gets no CORS headers (the browser then refuses the answer); no wildcard.
    let foreign = app
        .request(Method::GET, "alice", "/api/alice/tasks")
        .header("Origin", "https://evil.example.net")
        .send()
        .await
        .unwrap();
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let foreign_preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/alice/tasks"))
        .header("Origin", "https://evil.example.net")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        foreign_preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn the_body_limit_is_configurable() {
    let config = ServerConfig::default().var("MAX_BODY_BYTES", "2048");
    let app = spawn_app_with(Backend::Sqlite, config).await.unwrap();
    let response = app
        .try_create_task(
            "alice",
            json!({ "title": "t", "description": "x".repeat(3000) }),
        )
        .await;
    let problem = assert_problem(response, 413).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("2048"),
        "{problem}"
    );
    let fits = app
        .try_create_task(
            "alice",
            json!({ "title": "t", "description": "x".repeat(900) }),
        )
        .await;
    assert_eq!(fits.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_rate_limit_answers_429_per_user_with_retry_after() {
    let config = ServerConfig::default().var("RATE_LIMIT_PER_MINUTE", "3");
    let app = spawn_app_with(Backend::Sqlite, config).await.unwrap();
    for _ in 0..3 {
        let r = app
            .request(Method::GET, "alice", "/api/alice/tasks")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let limited = app
        .request(Method::GET, "alice", "/api/alice/tasks")
        .send()
        .await
        .unwrap();
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let problem = assert_problem(limited, 429).await;
    assert_eq!(problem["type"], "urn:todo-api:problem:rate-limited");

    // Per user: bob is not slowed down by alice; probes are not limited.
    let bob = app
        .request(Method::GET, "bob", "/api/bob/tasks")
        .send()
        .await
        .unwrap();
    assert_eq!(bob.status(), StatusCode::OK);
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("todo_api_rate_limited_total 1\n")
    );
}

#[tokio::test]
async fn rate_limiting_is_off_by_default() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for _ in 0..100 {
        let r = app
            .request(Method::GET, "alice", "/api/alice/tasks")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}

#[test]
fn the_spec_declares_429_with_retry_after_on_every_task_operation() {
    let spec: Value = serde_yaml::from_str(include_str!("../../openapi.yaml")).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = &op["responses"];
            if path.starts_with("/api/") {
                assert!(
                    responses["429"]["headers"]["Retry-After"].is_object(),
                    "{method} {path}: no 429 with Retry-After"
                );
                assert_eq!(
                    responses["429"]["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem"
                );
            } else {
                assert!(responses.get("429").is_none(), "{method} {path}");
            }
        }
    }
}

#[tokio::test]
async fn a_request_over_the_time_limit_is_answered_503() {
    let config = ServerConfig::default().var("REQUEST_TIMEOUT", "300ms");
    let app = spawn_app_with(Backend::Sqlite, config).await.unwrap();
    // A body that never finishes arriving keeps the request running past the limit.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    tx.send(Ok(b"{\"title\": ".to_vec())).await.unwrap();
    let body = reqwest::Body::wrap_stream(tokio_stream(rx));
    let response = app
        .request(Method::POST, "alice", "/api/alice/tasks")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["retry-after"], "1");
    let problem = assert_problem(response, 503).await;
    assert_eq!(problem["type"], "urn:todo-api:problem:timeout");
    drop(tx);
}

/// A stream over an mpsc receiver (a request body sent piece by piece).
pub(crate) fn tokio_stream<T: Send + 'static>(
    rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
}

#[tokio::test]
async fn concurrent_writes_are_never_lost_nor_cross_users() {
    // The load is about correctness: give requests room to wait for a connection.
    let config = ServerConfig::default()
        .var("DB_ACQUIRE_TIMEOUT", "20s")
        .var("REQUEST_TIMEOUT", "60s");
    let Some(app) = spawn_app_with(Backend::Postgres, config).await else {
        return;
    };
    let token: Arc<dyn Fn(&str) -> String + Send + Sync> = Arc::new(token);
    let report = load::run(
        &app.address,
        token,
        load::Load {
            namespace: "load",
            clients: 50,
            users: 10,
            ops_per_client: 60,
        },
    )
    .await;
    assert_eq!(report.failed, 0, "{:?}", report.failures);
    assert!(report.acknowledged_writes >= 3000, "{report:?}");
}
