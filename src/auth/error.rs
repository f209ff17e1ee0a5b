use thiserror::Error;

/// Why a request was not authenticated. Messages never include the token.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("the request has no bearer token: send `Authorization: Bearer <JWT>`")]
    Missing,
    /// Not a JWT at all, or an unreadable header or payload.
    #[error("the bearer token is not a well-formed JWT")]
    Malformed,
    /// Signed with an algorithm no configured verifier accepts (including `none`).
    #[error("the token's signing algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// The header's `crit` names extensions the server must understand, and it understands none.
    #[error("the token's `crit` header names extensions this server does not understand")]
    CriticalExtension,
    /// A key-set token without the `kid` header that names its key.
    #[error("the token has no `kid` header naming the key that signed it")]
    MissingKeyId,
    /// The `kid` names no key the server trusts, even after fetching the key set again.
    #[error("the token was signed with a key the server does not know (unknown `kid`)")]
    UnknownKey,
    /// The `kid` is unknown and the key set cannot be fetched right now, so the token can be
    /// neither accepted nor refused: the honest answer is 503, not 401.
    #[error("the sign-in provider's keys (JWKS) cannot be fetched right now; retry in a moment")]
    KeysUnavailable {
        /// Seconds until the server tries to fetch the keys again.
        retry_after_secs: u64,
    },
    /// The signature does not match.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// `exp` is in the past.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// A required claim is missing or has the wrong type or value.
    #[error("the token's claims are invalid: {0}")]
    InvalidClaims(String),
}

impl From<jsonwebtoken::errors::Error> for AuthError {
    fn from(err: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match err.kind() {
            ErrorKind::InvalidSignature => Self::BadSignature,
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                Self::UnsupportedAlgorithm
            }
            ErrorKind::MissingRequiredClaim(claim) => {
                Self::InvalidClaims(format!("`{claim}` is required"))
            }
            ErrorKind::InvalidIssuer => Self::InvalidClaims("wrong issuer (`iss`)".into()),
            ErrorKind::InvalidAudience => Self::InvalidClaims("wrong audience (`aud`)".into()),
            ErrorKind::InvalidSubject => Self::InvalidClaims("invalid subject (`sub`)".into()),
            ErrorKind::Json(_) => Self::InvalidClaims("a claim has the wrong type".into()),
            _ => Self::Malformed,
        }
    }
}
