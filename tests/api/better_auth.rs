//! Interop with a real Better Auth (npm `better-auth`, its jwt() plugin): the tokens a frontend
//! gets from `/api/auth/token` are verified against the keys of `/api/auth/jwks`, with nothing
//! but `BETTER_AUTH_URL` configured. Needs `npm ci --prefix tests/better-auth`. Which tokens
//! are accepted is here; how the key set changes over time is in [`keys`].

pub(crate) mod fixture;
mod keys;

use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use self::fixture::BetterAuth;
use crate::cli::todo_api;
use crate::support::{
    Backend, Readiness, SECRET, ServerConfig, Task, TestApp, assert_problem, assert_unavailable,
    now, spawn_app_with,
};

/// How long a test waits for something that must happen (a request that must not hang, a
/// background refresh) before failing.
const PATIENCE: Duration = Duration::from_secs(30);

/// A server in JWKS mode for `better_auth`: `BETTER_AUTH_URL` (and `BETTER_AUTH_SECRET` when
/// `with_secret`), with the default timings.
fn config_for(better_auth: &BetterAuth, with_secret: bool) -> ServerConfig {
    let config = ServerConfig::default().var("BETTER_AUTH_URL", better_auth.url.as_str());
    if with_secret {
        config
    } else {
        config.unset("BETTER_AUTH_SECRET")
    }
}

/// [`config_for`] without a cooldown: every unknown kid refetches (for tests that need several
/// refetches in a row).
fn config_without_cooldown(better_auth: &BetterAuth, with_secret: bool) -> ServerConfig {
    config_for(better_auth, with_secret).jwks_refetch_cooldown(Duration::ZERO)
}

async fn server(config: ServerConfig) -> TestApp {
    spawn_app_with(Backend::Sqlite, config).await.unwrap()
}

/// The decoded header of a JWT.
fn header_of(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

fn kid_of(token: &str) -> String {
    header_of(token)["kid"].as_str().unwrap().to_owned()
}

/// `token` with its header replaced by `header` (payload and signature kept).
fn with_header(token: &str, header: &Value) -> String {
    let mut parts = token.splitn(2, '.');
    let _ = parts.next();
    let rest = parts.next().unwrap();
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

/// Lists `user_id`'s tasks with `token`.
async fn list(app: &TestApp, user_id: &str, token: &str) -> Response {
    tokio::time::timeout(
        PATIENCE,
        app.client
            .get(app.url(&format!("/api/{user_id}/tasks")))
            .bearer_auth(token)
            .send(),
    )
    .await
    .expect("the server answers: a key fetch never hangs a request")
    .unwrap()
}

async fn assert_accepted(app: &TestApp, user_id: &str, token: &str) {
    let response = list(app, user_id, token).await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Asserts a 401 whose detail mentions `reason`.
async fn assert_refused(app: &TestApp, user_id: &str, token: &str, reason: &str) {
    let problem = assert_problem(list(app, user_id, token).await, 401).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(reason), "expected `{reason}` in: {detail}");
    assert!(!problem.to_string().contains(token), "the token is echoed");
}

/// Asserts a 503 (the keys cannot be fetched) with a `Retry-After`.
async fn assert_keys_unavailable(response: Response) {
    let problem = assert_unavailable(response).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("JWKS"),
        "{problem}"
    );
}

async fn readiness(app: &TestApp) -> Response {
    tokio::time::timeout(PATIENCE, app.client.get(app.url("/ready")).send())
        .await
        .expect("/ready answers: a key fetch never hangs it")
        .unwrap()
}

/// A user signs up on Better Auth, gets a token as a frontend does, and uses the API with it.
async fn better_auth_tokens_work(alg: &str) {
    let better_auth = BetterAuth::start(alg).await;
    let app = server(config_for(&better_auth, false)).await;

    let alice = better_auth.sign_up("alice").await;
    let token = better_auth.token(&alice).await;
    assert_eq!(header_of(&token)["alg"], better_auth.alg());

    let created = app
        .client
        .post(app.url(&format!("/api/{}/tasks", alice.user_id)))
        .bearer_auth(&token)
        .json(&json!({ "title": "Ship the JWKS support" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Task = created.json().await.unwrap();
    assert_eq!(created.user_id, alice.user_id);

    // The token from the `set-auth-jwt` header of get-session works the same way.
    let header_token = better_auth.session_header_token(&alice).await;
    let listed = list(&app, &alice.user_id, &header_token).await;
    assert_eq!(listed.status(), StatusCode::OK);
    let listed: Vec<Task> = listed.json().await.unwrap();
    assert_eq!(listed.len(), 1);

    // Identity is the token's `sub`: another Better Auth user cannot reach alice's tasks.
    let bob = better_auth.sign_up("bob").await;
    let bobs_token = better_auth.token(&bob).await;
    let response = list(&app, &alice.user_id, &bobs_token).await;
    assert_problem(response, 403).await;
    assert_accepted(&app, &bob.user_id, &bobs_token).await;

    let ready = readiness(&app).await;
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: Readiness = ready.json().await.unwrap();
    assert_eq!(ready.jwks, "loaded");

    // The fetch of the key set is counted in the metrics.
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    let fetched = metrics
        .lines()
        .find_map(|l| l.strip_prefix("todo_api_jwks_refreshes_total{outcome=\"ok\"} "))
        .and_then(|n| n.trim().parse::<u64>().ok());
    assert!(fetched.is_some_and(|n| n >= 1), "{metrics}");
}

#[tokio::test]
async fn eddsa_tokens_from_better_auth_are_accepted() {
    better_auth_tokens_work("EdDSA").await;
}

#[tokio::test]
async fn es256_tokens_from_better_auth_are_accepted() {
    better_auth_tokens_work("ES256").await;
}

#[tokio::test]
async fn rs256_tokens_from_better_auth_are_accepted() {
    better_auth_tokens_work("RS256").await;
}

#[tokio::test]
async fn ps256_tokens_from_better_auth_are_accepted() {
    better_auth_tokens_work("PS256").await;
}

#[tokio::test]
async fn tokens_not_issued_by_this_better_auth_for_this_api_are_refused_with_401() {
    let better_auth = BetterAuth::start("EdDSA").await;
    // Both modes on: HS256 tokens are verifiable too, so the HS256 cases prove the JWKS
    // verifier decides tokens naming its keys.
    let app = server(config_for(&better_auth, true)).await;
    let alice = better_auth.sign_up("alice").await;
    let user = alice.user_id.as_str();
    let valid = better_auth.token(&alice).await;
    let kid = kid_of(&valid);
    assert_accepted(&app, user, &valid).await;

    let expired = better_auth
        .sign(json!({ "sub": user, "iat": now() - 3600, "exp": now() - 1800 }))
        .await;
    assert_refused(&app, user, &expired, "expired").await;

    let wrong_issuer = better_auth
        .sign(json!({ "sub": user, "iss": "https://evil.example" }))
        .await;
    assert_refused(&app, user, &wrong_issuer, "issuer").await;

    let wrong_audience = better_auth
        .sign(json!({ "sub": user, "aud": "https://another-api.example" }))
        .await;
    assert_refused(&app, user, &wrong_audience, "audience").await;

    let tampered_signature = {
        let (head, signature) = valid.rsplit_once('.').unwrap();
        let mut signature: Vec<char> = signature.chars().collect();
        let middle = signature.len() / 2;
        signature[middle] = if signature[middle] == 'A' { 'B' } else { 'A' };
        format!("{head}.{}", signature.into_iter().collect::<String>())
    };
    assert_refused(&app, user, &tampered_signature, "signature").await;

    let tampered_payload = {
        let parts: Vec<&str> = valid.split('.').collect();
        let mut claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        claims["sub"] = json!("mallory");
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{}.{claims}.{}", parts[0], parts[2])
    };
    assert_refused(&app, "mallory", &tampered_payload, "signature").await;

    let unknown_kid = better_auth.sign_foreign(json!({ "sub": user })).await;
    assert_ne!(kid_of(&unknown_kid), kid);
    assert_refused(&app, user, &unknown_kid, "unknown `kid`").await;

    // HS256 naming the JWKS key: refused, whether signed with the shared secret the server
    // trusts or with the public key as an HMAC secret (the algorithm-confusion attack).
    let claims =
        json!({ "sub": user, "exp": now() + 600, "iss": better_auth.url, "aud": better_auth.url });
    let hs256_with_kid = Header {
        kid: Some(kid.clone()),
        ..Header::new(Algorithm::HS256)
    };
    let with_secret = jsonwebtoken::encode(
        &hs256_with_kid,
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_refused(&app, user, &with_secret, "algorithm").await;
    let jwks: Value = reqwest::get(format!("{}/api/auth/jwks", better_auth.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public_key = jwks["keys"][0]["x"].as_str().unwrap();
    let with_public_key = jsonwebtoken::encode(
        &hs256_with_kid,
        &claims,
        &EncodingKey::from_secret(public_key.as_bytes()),
    )
    .unwrap();
    assert_refused(&app, user, &with_public_key, "algorithm").await;

    // Another asymmetric algorithm than the key's, and no algorithm at all.
    let es256_header = with_header(&valid, &json!({ "alg": "ES256", "kid": kid }));
    assert_refused(&app, user, &es256_header, "algorithm").await;
    let none = with_header(&valid, &json!({ "alg": "none", "kid": kid }));
    let none = format!("{}.", none.rsplit_once('.').unwrap().0);
    assert_refused(&app, user, &none, "well-formed").await;

    let no_kid = with_header(&valid, &json!({ "alg": "EdDSA" }));
    assert_refused(&app, user, &no_kid, "`kid`").await;

    // Still fine: Better Auth's own token, and an HS256 token that names no JWKS key.
    assert_accepted(&app, user, &valid).await;
    let plain_hs256 = app.token(user);
    assert_accepted(&app, user, &plain_hs256).await;
}

/// The acceptance test: the real binary, configured with `BETTER_AUTH_URL` alone.
#[tokio::test]
async fn the_binary_accepts_better_auth_tokens_with_only_better_auth_url_set() {
    let better_auth = BetterAuth::start("EdDSA").await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = todo_api(&dir)
        .env("BETTER_AUTH_URL", &better_auth.url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut logs = String::new();
    let port = crate::cli::wait_for_port(&mut stderr, &mut logs, PATIENCE).await;
    assert!(
        logs.contains("auth modes: Better Auth JWKS (BETTER_AUTH_URL)"),
        "{logs}"
    );
    assert!(logs.contains("JWKS key(s) loaded"), "{logs}");

    let alice = better_auth.sign_up("alice").await;
    let token = better_auth.token(&alice).await;
    let client = reqwest::Client::new();
    let created = client
        .request(
            Method::POST,
            format!("http://127.0.0.1:{port}/api/{}/tasks", alice.user_id),
        )
        .bearer_auth(&token)
        .json(&json!({ "title": "from a real Better Auth token" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    child.kill().await.unwrap();
    while let Ok(Some(line)) = stderr.next_line().await {
        logs.push_str(&line);
    }
    assert!(!logs.contains(&token), "the token is never logged");
}
