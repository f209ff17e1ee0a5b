//! The key set over time: rotation and retirement, the background refresh, the cooldown on
//! fetches caused by unknown key ids, keys the server cannot use, and Better Auth frozen, gone,
//! or not up yet.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::fixture::BetterAuth;
use super::{
    PATIENCE, assert_accepted, assert_keys_unavailable, assert_refused, config_for,
    config_without_cooldown, kid_of, list, readiness, server, with_header,
};
use crate::support::Readiness;

#[tokio::test]
async fn a_rotated_key_is_picked_up_and_a_retired_key_stops_working_without_a_restart() {
    let better_auth = BetterAuth::start("EdDSA").await;
    let app = server(config_without_cooldown(&better_auth, false)).await;
    let alice = better_auth.sign_up("alice").await;
    let user = alice.user_id.as_str();
    let old = better_auth.token(&alice).await;
    assert_accepted(&app, user, &old).await;

    assert_eq!(better_auth.rotate().await, [kid_of(&old)]);
    let new = better_auth.token(&alice).await;
    assert_ne!(
        kid_of(&new),
        kid_of(&old),
        "Better Auth signs with a new key"
    );
    assert_accepted(&app, user, &new).await;
    // The old key is still published (grace period), so its tokens still work.
    assert_accepted(&app, user, &old).await;

    assert_eq!(better_auth.retire().await, [kid_of(&old)]);
    // The next fetch (here caused by a token with an unknown kid) drops the retired key.
    let unknown = better_auth.sign_foreign(json!({ "sub": user })).await;
    assert_refused(&app, user, &unknown, "unknown `kid`").await;
    assert_refused(&app, user, &old, "unknown `kid`").await;
    assert_accepted(&app, user, &new).await;
}

#[tokio::test]
async fn the_key_set_is_refreshed_in_the_background() {
    let better_auth = BetterAuth::start("EdDSA").await;
    // No refetch for unknown kids during this test: only the periodic refresh can help.
    let config = config_for(&better_auth, false)
        .jwks_refetch_cooldown(Duration::from_secs(3600))
        .jwks_refresh_interval(Duration::from_millis(100));
    let app = server(config).await;
    let alice = better_auth.sign_up("alice").await;
    let user = alice.user_id.as_str();
    let old = better_auth.token(&alice).await;
    assert_accepted(&app, user, &old).await;
    // Spend the one refetch the cooldown allows.
    let forged = with_header(&old, &json!({ "alg": "EdDSA", "kid": "made-up" }));
    assert_refused(&app, user, &forged, "unknown `kid`").await;

    better_auth.rotate().await;
    let new = better_auth.token(&alice).await;
    better_auth.retire().await;
    assert_eq!(better_auth.published_kids().await, [kid_of(&new)]);

    let refreshed = tokio::time::timeout(PATIENCE, async {
        loop {
            let old_status = list(&app, user, &old).await.status();
            let new_status = list(&app, user, &new).await.status();
            if old_status == StatusCode::UNAUTHORIZED && new_status == StatusCode::OK {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(
        refreshed.is_ok(),
        "the background refresh drops the retired key and loads the new one"
    );
}

#[tokio::test]
async fn unknown_kids_cause_at_most_one_fetch_per_cooldown() {
    let better_auth = BetterAuth::start("EdDSA").await;
    let config = config_for(&better_auth, false).jwks_refetch_cooldown(Duration::from_secs(3600));
    let app = server(config).await;
    assert_eq!(better_auth.jwks_requests().await, 1, "fetched at start-up");
    let alice = better_auth.sign_up("alice").await;
    let user = alice.user_id.clone();
    let valid = better_auth.token(&alice).await;

    // A flood of made-up kids, all at once.
    let requests = (0..40).map(|_| {
        let forged = with_header(
            &valid,
            &json!({ "alg": "EdDSA", "kid": uuid::Uuid::new_v4().simple().to_string() }),
        );
        let app = &app;
        let user = user.as_str();
        async move { list(app, user, &forged).await.status() }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(
        better_auth.jwks_requests().await,
        2,
        "one refetch for the whole flood"
    );

    let forged = with_header(&valid, &json!({ "alg": "EdDSA", "kid": "yet-another-kid" }));
    assert_refused(&app, &user, &forged, "unknown `kid`").await;
    assert_eq!(
        better_auth.jwks_requests().await,
        2,
        "none during the cooldown"
    );
    assert_accepted(&app, &user, &valid).await;
}

#[tokio::test]
async fn keys_the_server_cannot_use_are_skipped_without_losing_the_others() {
    let better_auth = BetterAuth::start("EdDSA").await;
    let alice = better_auth.sign_up("alice").await;
    let user = alice.user_id.as_str();
    let valid = better_auth.token(&alice).await;
    // ES512 (P-521), one of Better Auth's algorithms, is one this server does not support.
    let es512 = better_auth.add_key("ES512").await;
    assert!(better_auth.published_kids().await.contains(&es512));
    let app = server(config_for(&better_auth, false)).await;

    assert_accepted(&app, user, &valid).await;
    let ready = readiness(&app).await;
    assert_eq!(ready.status(), StatusCode::OK);
    let naming_es512 = with_header(&valid, &json!({ "alg": "EdDSA", "kid": es512 }));
    assert_refused(&app, user, &naming_es512, "unknown `kid`").await;
}

#[tokio::test]
async fn when_better_auth_stops_answering_cached_keys_keep_working() {
    let mut better_auth = BetterAuth::start("EdDSA").await;
    let config =
        config_without_cooldown(&better_auth, false).jwks_fetch_timeout(Duration::from_secs(1));
    let app = server(config).await;
    let alice = better_auth.sign_up("alice").await;
    let user = alice.user_id.as_str();
    let cached = better_auth.token(&alice).await;
    assert_accepted(&app, user, &cached).await;
    better_auth.rotate().await;
    let unseen = better_auth.token(&alice).await;

    // Frozen: it accepts connections and never answers. The fetch times out.
    better_auth.freeze().await;
    assert_accepted(&app, user, &cached).await;
    assert_keys_unavailable(list(&app, user, &unseen).await).await;
    assert_eq!(
        readiness(&app).await.status(),
        StatusCode::OK,
        "keys are cached"
    );

    better_auth.thaw().await;
    assert_accepted(&app, user, &unseen).await;

    // Gone: connections are refused.
    better_auth.stop().await;
    assert_accepted(&app, user, &cached).await;
    assert_accepted(&app, user, &unseen).await;
    let forged = with_header(&cached, &json!({ "alg": "EdDSA", "kid": "not-cached" }));
    assert_keys_unavailable(list(&app, user, &forged).await).await;
    assert_eq!(
        readiness(&app).await.status(),
        StatusCode::OK,
        "keys are cached"
    );
}

#[tokio::test]
async fn a_server_started_before_better_auth_is_not_ready_until_it_answers() {
    let mut better_auth = BetterAuth::start("EdDSA").await;
    let port = better_auth.port;
    let config = config_without_cooldown(&better_auth, true);
    better_auth.stop().await;

    let app = server(config).await;
    let response = readiness(&app).await;
    assert_keys_unavailable(response).await;
    let forged = with_header(
        &app.token("alice"),
        &json!({ "alg": "EdDSA", "kid": "no-keys-yet" }),
    );
    assert_keys_unavailable(list(&app, "alice", &forged).await).await;
    // The shared secret works meanwhile.
    assert_accepted(&app, "alice", &app.token("alice")).await;

    // Better Auth comes up (same address): the server loads its keys.
    let better_auth = BetterAuth::start_on("EdDSA", port).await;
    let ready = readiness(&app).await;
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: Readiness = ready.json().await.unwrap();
    assert_eq!(ready.jwks, "loaded");
    let alice = better_auth.sign_up("alice").await;
    let token = better_auth.token(&alice).await;
    assert_accepted(&app, &alice.user_id, &token).await;
}
