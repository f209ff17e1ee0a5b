//! Who is calling: bearer JWTs verified by an ordered chain of [`TokenVerifier`]s.
//!
//! Identity comes from the token alone (its `sub` claim). Each verifier says which tokens it is
//! responsible for from the token header; the first one that is takes the decision. Better
//! Auth's key set ([`Jwks`]) comes first, so a token naming one of its keys is decided by it even
//! if it claims HS256; the shared secret ([`SharedSecret`]) decides the remaining HS256 tokens.

mod cache;
mod claims;
mod error;
mod jwk;
mod jwks;
mod shared_secret;

use std::sync::Arc;

use async_trait::async_trait;
use jsonwebtoken::Header;

use self::cache::TokenCache;
pub use self::claims::Claims;
pub use self::error::AuthError;
pub use self::jwks::{Jwks, KeysNotLoaded};
pub use self::shared_secret::{Secret, SharedSecret};
use crate::domain::UserId;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 30;

/// The verified caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The token's `sub`.
    pub user_id: UserId,
    /// The token's `exp`, in seconds since the epoch.
    pub expires_at: u64,
}

/// One source of trust (a shared secret, a key set).
#[async_trait]
pub trait TokenVerifier: Send + Sync {
    /// A short name for start-up logs, e.g. "HS256 shared secret".
    fn describe(&self) -> String;

    /// Whether this verifier decides on a token with this header.
    fn handles(&self, header: &Header) -> bool;

    /// Verifies the signature and claims of a token this verifier [handles](Self::handles).
    async fn verify(&self, token: &str, header: &Header) -> Result<Identity, AuthError>;

    /// Whether a token this verifier accepted stays valid until it expires, so that it may be
    /// remembered. False for key sets whose keys can be retired while their tokens still live.
    fn cacheable(&self) -> bool {
        true
    }
}

/// The ordered chain of verifiers the server trusts, in front of a cache of the tokens they
/// verified (see [`cache`](self::cache)).
#[derive(Clone, Default)]
pub struct Authenticator {
    verifiers: Vec<Arc<dyn TokenVerifier>>,
    verified: Arc<TokenCache>,
}

impl Authenticator {
    /// A chain with the given verifiers, asked in order.
    pub fn new(verifiers: Vec<Arc<dyn TokenVerifier>>) -> Self {
        Self {
            verifiers,
            verified: Arc::default(),
        }
    }

    /// What each verifier accepts, for start-up logs.
    pub fn describe(&self) -> Vec<String> {
        self.verifiers.iter().map(|v| v.describe()).collect()
    }

    /// Verifies a bearer token and returns the caller.
    pub async fn authenticate(&self, token: &str) -> Result<Identity, AuthError> {
        if let Some(identity) = self.verified.get(token) {
            return Ok(identity);
        }
        // `alg: none` and unknown algorithms fail here: jsonwebtoken has no such variant.
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        let verifier = self
            .verifiers
            .iter()
            .find(|v| v.handles(&header))
            .ok_or(AuthError::UnsupportedAlgorithm)?;
        let identity = verifier.verify(token, &header).await?;
        if verifier.cacheable() {
            self.verified.insert(token, &identity);
        }
        Ok(identity)
    }
}
