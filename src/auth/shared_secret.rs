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
    /// The `iss` issued tokens carry (and verified ones must have), when one is required.
    issuer: Option<String>,
    /// The `aud` issued tokens carry (the first), when audiences are required.
    audience: Option<String>,
}

/// What [`SharedSecret::issue`] signs: the claims, with `iss` and `aud` when required.
#[derive(serde::Serialize)]
struct Issued<'a> {
    #[serde(flatten)]
    claims: Claims,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
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
            issuer: None,
            audience: None,
        }
    }

    /// Requires `iss` to be `issuer` (`AUTH_ISSUER`) and `aud` to contain one of `audiences`
    /// (`AUTH_AUDIENCE`), each when given; issued tokens carry them.
    pub(crate) fn with_claims(
        mut self,
        issuer: Option<&str>,
        audiences: Option<&[String]>,
    ) -> Self {
        if let Some(issuer) = issuer {
            self.validation.set_issuer(&[issuer]);
            self.validation
                .required_spec_claims
                .insert("iss".to_owned());
            self.issuer = Some(issuer.to_owned());
        }
        if let Some(audiences) = audiences.filter(|a| !a.is_empty()) {
            self.validation.set_audience(audiences);
            self.validation.validate_aud = true;
            self.validation
                .required_spec_claims
                .insert("aud".to_owned());
            self.audience = audiences.first().cloned();
        }
        self
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
        let claims = Issued {
            claims: Claims {
                sub: sub.to_owned(),
                exp: now + ttl.as_secs(),
                iat: Some(now),
            },
            iss: self.issuer.as_deref(),
            aud: self.audience.as_deref(),
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
