//! 401 for every token that is missing, malformed, badly signed, expired or of the wrong kind.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{SECRET, TestApp, assert_problem, now, on_both_backends, sign};

on_both_backends!(
    a_missing_token_is_401_on_every_operation,
    bad_tokens_are_401_and_never_echoed,
    a_token_within_the_clock_leeway_is_accepted,
);

/// An unsigned token (`alg: none`).
fn unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

async fn a_missing_token_is_401_on_every_operation(app: TestApp) {
    let operations = [
        (Method::GET, "/api/alice/tasks"),
        (Method::POST, "/api/alice/tasks"),
        (Method::GET, "/api/alice/tasks/1"),
        (Method::PUT, "/api/alice/tasks/1"),
        (Method::DELETE, "/api/alice/tasks/1"),
        (Method::PATCH, "/api/alice/tasks/1/complete"),
    ];
    for (method, path) in operations {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .json(&json!({ "title": "x" }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer",
            "{method} {path}"
        );
        assert_problem(response, 401).await;

        // Another scheme is no bearer token either.
        let response = app
            .client
            .request(method, app.url(path))
            .header("authorization", "Basic YWxpY2U6cGFzcw==")
            .send()
            .await
            .unwrap();
        assert_problem(response, 401).await;
    }
}

async fn bad_tokens_are_401_and_never_echoed(app: TestApp) {
    let valid = json!({ "sub": "alice", "exp": now() + 600 });
    let cases = [
        ("not a JWT", "not-a-jwt".to_owned()),
        ("garbage segments", "aaa.bbb.ccc".to_owned()),
        (
            "signed with another secret",
            sign(
                Algorithm::HS256,
                b"another-secret-that-is-also-long-enough",
                &valid,
            ),
        ),
        ("tampered payload", {
            let token = sign(Algorithm::HS256, SECRET.as_bytes(), &valid);
            let parts: Vec<&str> = token.split('.').collect();
            let forged =
                URL_SAFE_NO_PAD.encode(json!({ "sub": "mallory", "exp": now() + 600 }).to_string());
            format!("{}.{}.{}", parts[0], forged, parts[2])
        }),
        (
            "expired beyond the leeway",
            sign(
                Algorithm::HS256,
                SECRET.as_bytes(),
                &json!({ "sub": "alice", "exp": now() - 120 }),
            ),
        ),
        ("alg none", unsigned(&valid)),
        (
            "HS512 with the right secret",
            sign(Algorithm::HS512, SECRET.as_bytes(), &valid),
        ),
        (
            "no sub",
            sign(
                Algorithm::HS256,
                SECRET.as_bytes(),
                &json!({ "exp": now() + 600 }),
            ),
        ),
        (
            "empty sub",
            sign(
                Algorithm::HS256,
                SECRET.as_bytes(),
                &json!({ "sub": "", "exp": now() + 600 }),
            ),
        ),
        (
            "no exp",
            sign(
                Algorithm::HS256,
                SECRET.as_bytes(),
                &json!({ "sub": "alice" }),
            ),
        ),
        (
            "not valid yet",
            sign(
                Algorithm::HS256,
                SECRET.as_bytes(),
                &json!({ "sub": "alice", "exp": now() + 6000, "nbf": now() + 3000 }),
            ),
        ),
    ];
    for (case, token) in cases {
        let response = app
            .client
            .get(app.url("/api/alice/tasks"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.starts_with("Bearer"), "{case}: {challenge}");
        assert!(!challenge.contains(&token), "{case}: the token is echoed");
        let body = assert_problem(response, 401).await;
        assert!(
            !body.to_string().contains(&token),
            "{case}: the token is echoed"
        );
        assert!(
            !body.to_string().contains(SECRET),
            "{case}: the secret is echoed"
        );
    }
}

async fn a_token_within_the_clock_leeway_is_accepted(app: TestApp) {
    let token = sign(
        Algorithm::HS256,
        SECRET.as_bytes(),
        &json!({ "sub": "alice", "exp": now() - 5, "iat": now() - 900 }),
    );
    let response = app
        .client
        .get(app.url("/api/alice/tasks"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
