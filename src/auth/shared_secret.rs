use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng as _;

use super::{AuthError, Claims, Identity, LEEWAY_SECS, TokenVerifier};

/// A signing secret. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The shortest secret accepted, in bytes.
    pub const MIN_BYTES: usize = 32;

    /// Accepts a secret of at least [`Self::MIN_BYTES`] bytes.
    pub fn parse(raw: String) -> Result<Self, String> {
        if raw.len() < Self::MIN_BYTES {
            return Err(format!(
                "must be at least {} bytes long (it has {}); generate one with `openssl rand -base64 32`",
                Self::MIN_BYTES,
                raw.len()
            ));
        }
        Ok(Self(raw))
    }

    /// A fresh random secret (for development mode).
    pub fn random() -> Self {
        let bytes: [u8; 32] = rand::rng().random();
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// HS256 with a shared secret (`BETTER_AUTH_SECRET`): verifies tokens and, for the `token`
/// command and development mode, issues them.
pub(crate) struct SharedSecret {
    decoding: DecodingKey,
    encoding: EncodingKey,
    validation: Validation,
}

impl SharedSecret {
    /// Verifier and issuer for `secret`, used as its raw UTF-8 bytes.
    pub(crate) fn new(secret: &Secret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_nbf = true;
        validation.validate_aud = false;
        Self {
            decoding: DecodingKey::from_secret(secret.bytes()),
            encoding: EncodingKey::from_secret(secret.bytes()),
            validation,
        }
    }

    /// A token for `sub` that expires after `ttl`.
    pub(crate) fn issue(
        &self,
        sub: &str,
        ttl: Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = Claims {
            sub: sub.to_owned(),
            exp: now + ttl.as_secs(),
            iat: Some(now),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }
}

#[async_trait]
impl TokenVerifier for SharedSecret {
    fn describe(&self) -> String {
        "HS256 tokens signed with the shared secret".into()
    }

    fn handles(&self, header: &Header) -> bool {
        header.alg == Algorithm::HS256
    }

    async fn verify(&self, token: &str, _header: &Header) -> Result<Identity, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?;
        data.claims.into_identity()
    }
}
