//! Probes, the served spec and Swagger UI.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{TestApp, on_both_backends};

on_both_backends!(
    health_and_ready_answer_without_a_token,
    spec_and_swagger_ui_are_served
);

async fn health_and_ready_answer_without_a_token(app: TestApp) {
    // Both without a token; each asserts the 200.
    assert_eq!(app.health().await.status, "ok");

    let ready = app.ready().await;
    assert_eq!(ready.status, "ready");
    assert_eq!(ready.database, "ok");
    assert_eq!(ready.jwks, "disabled", "no BETTER_AUTH_URL");
}

async fn spec_and_swagger_ui_are_served(app: TestApp) {
    let served: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let committed: Value = serde_yaml::from_str(include_str!("../../openapi.yaml")).unwrap();
    assert_eq!(served, committed, "/openapi.json is the committed spec");

    let yaml = app
        .client
        .get(app.url("/openapi.yaml"))
        .send()
        .await
        .unwrap();
    assert_eq!(yaml.status(), StatusCode::OK);
    let yaml: Value = serde_yaml::from_str(&yaml.text().await.unwrap()).unwrap();
    assert_eq!(yaml, committed);

    let redirect = app.client.get(app.url("/docs")).send().await.unwrap();
    assert!(redirect.status().is_redirection());
    assert_eq!(redirect.headers()["location"], "/docs/");

    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains("swagger-ui"));

    let init = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        init.contains("/openapi.json"),
        "Swagger UI loads /openapi.json"
    );
    assert!(init.contains("\"persistAuthorization\": true"), "{init}");

    let bundle = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
}
