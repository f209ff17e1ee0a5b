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
mod settings;
mod shared_secret;

use std::sync::Arc;

use async_trait::async_trait;
use jsonwebtoken::Header;

use self::cache::{Remembered, TokenCache};
pub(crate) use self::claims::Claims;
pub(crate) use self::error::AuthError;
pub(crate) use self::jwks::Jwks;
pub use self::settings::{AuthSettings, JwksSettings};
pub(crate) use self::shared_secret::{Secret, SharedSecret};
use crate::domain::UserId;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub(crate) const LEEWAY_SECS: u64 = 30;

/// The verified caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    /// The token's `sub`.
    pub user_id: UserId,
    /// The token's `exp`, in seconds since the epoch.
    pub expires_at: u64,
}

/// One source of trust (a shared secret, a key set).
#[async_trait]
pub(crate) trait TokenVerifier: Send + Sync {
    /// A short name for start-up logs, e.g. "HS256 shared secret".
    fn describe(&self) -> String;

    /// Whether this verifier decides on a token with this header.
    fn handles(&self, header: &Header) -> bool;

    /// Verifies the signature and claims of a token this verifier [handles](Self::handles).
    async fn verify(&self, token: &str, header: &Header) -> Result<Identity, AuthError>;

    /// A number that changes whenever a token this verifier accepted earlier may no longer be
    /// accepted (a key it trusted was retired or replaced). The [`Authenticator`] remembers
    /// verified tokens with the generation they were verified in and verifies them again once it
    /// has changed. A shared secret never changes while the process runs: the default is 0.
    fn generation(&self) -> u64 {
        0
    }
}

/// The ordered chain of verifiers the server trusts, in front of a cache of the tokens they
/// verified (the `cache` module).
#[derive(Clone, Default)]
pub(crate) struct Authenticator {
    verifiers: Vec<Arc<dyn TokenVerifier>>,
    verified: Arc<TokenCache>,
}

impl Authenticator {
    /// A chain with the given verifiers, asked in order.
    pub(crate) fn new(verifiers: Vec<Arc<dyn TokenVerifier>>) -> Self {
        Self {
            verifiers,
            verified: Arc::default(),
        }
    }

    /// What each verifier accepts, for start-up logs.
    pub(crate) fn describe(&self) -> Vec<String> {
        self.verifiers.iter().map(|v| v.describe()).collect()
    }

    /// Verifies a bearer token and returns the caller.
    pub(crate) async fn authenticate(&self, token: &str) -> Result<Identity, AuthError> {
        if let Some(remembered) = self.verified.get(token) {
            let still_trusted = self
                .verifiers
                .get(remembered.verifier)
                .is_some_and(|v| v.generation() == remembered.generation);
            if still_trusted {
                return Ok(remembered.identity);
            }
        }
        // `alg: none` and unknown algorithms fail here: jsonwebtoken has no such variant.
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        // RFC 7515 §4.1.11: a token whose `crit` names an extension the recipient does not
        // understand must be rejected. This server understands none.
        if header.crit.is_some() {
            return Err(AuthError::CriticalExtension);
        }
        let (index, verifier) = self
            .verifiers
            .iter()
            .enumerate()
            .find(|(_, v)| v.handles(&header))
            .ok_or(AuthError::UnsupportedAlgorithm)?;
        // Read before verifying: if the keys change meanwhile, the entry is already stale.
        let generation = verifier.generation();
        let identity = verifier.verify(token, &header).await?;
        self.verified.insert(
            token,
            Remembered {
                identity: identity.clone(),
                verifier: index,
                generation,
            },
        );
        Ok(identity)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    use jsonwebtoken::{Algorithm, EncodingKey, encode};

    use super::*;

    const SECRET: &[u8] = b"a test secret";

    /// Verifies HS256 tokens signed with [`SECRET`] and counts its verifications;
    /// its generation is whatever the test sets.
    #[derive(Default)]
    struct Counting {
        verifications: AtomicUsize,
        generation: AtomicU64,
    }

    #[async_trait]
    impl TokenVerifier for Counting {
        fn describe(&self) -> String {
            "counting".into()
        }

        fn handles(&self, _header: &Header) -> bool {
            true
        }

        async fn verify(&self, token: &str, _header: &Header) -> Result<Identity, AuthError> {
            self.verifications.fetch_add(1, Ordering::SeqCst);
            let data = jsonwebtoken::decode::<Claims>(
                token,
                &jsonwebtoken::DecodingKey::from_secret(SECRET),
                &jsonwebtoken::Validation::new(Algorithm::HS256),
            )
            .map_err(|_| AuthError::Malformed)?;
            data.claims.into_identity()
        }

        fn generation(&self) -> u64 {
            self.generation.load(Ordering::SeqCst)
        }
    }

    fn token(sub: &str) -> String {
        let exp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
            + 600;
        let claims = Claims {
            sub: sub.into(),
            exp,
            iat: None,
        };
        encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("a token")
    }

    #[tokio::test]
    async fn a_token_is_verified_once_until_its_verifiers_keys_change() {
        let verifier = Arc::new(Counting::default());
        let auth = Authenticator::new(vec![verifier.clone()]);
        let alice = token("alice");
        for _ in 0..3 {
            let identity = auth.authenticate(&alice).await.expect("accepted");
            assert_eq!(identity.user_id.as_str(), "alice");
        }
        assert_eq!(verifier.verifications.load(Ordering::SeqCst), 1);

        auth.authenticate(&token("bob")).await.expect("accepted");
        assert_eq!(verifier.verifications.load(Ordering::SeqCst), 2);

        // A key was retired: what was verified before is verified again, once.
        verifier.generation.fetch_add(1, Ordering::SeqCst);
        auth.authenticate(&alice).await.expect("accepted");
        auth.authenticate(&alice).await.expect("accepted");
        assert_eq!(verifier.verifications.load(Ordering::SeqCst), 3);
    }
}
