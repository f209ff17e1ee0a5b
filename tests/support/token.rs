//! Tokens the test servers trust (HS256 with [`SECRET`], as `BETTER_AUTH_SECRET`), and signing
//! helpers for the tests that forge bad ones. Signed here with `jsonwebtoken`, not with the
//! server's own issuer, so the tests check the server against the JWT format itself.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The secret every test server trusts (`BETTER_AUTH_SECRET`).
pub(crate) const SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";

/// How long [`token`]'s tokens last, in seconds.
const TTL_SECS: i64 = 600;

/// Now, in seconds since the Unix epoch (for `exp`, `iat`, `nbf`).
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// A JWT with `claims`, signed with `alg` and the HMAC `key`.
pub(crate) fn sign(alg: Algorithm, key: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(key))
        .expect("the claims serialize")
}

/// A valid token for `user` (HS256 with [`SECRET`], ten minutes).
pub(crate) fn token(user: &str) -> String {
    let now = now();
    sign(
        Algorithm::HS256,
        SECRET.as_bytes(),
        &json!({ "sub": user, "iat": now, "exp": now + TTL_SECS }),
    )
}
