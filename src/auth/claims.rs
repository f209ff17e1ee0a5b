use serde::{Deserialize, Serialize};

use super::{AuthError, Identity};
use crate::domain::UserId;

/// The claims this service reads; everything else in the token is ignored.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    /// The user id.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issue time, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

impl Claims {
    /// The caller named by these (already verified) claims.
    pub(crate) fn into_identity(self) -> Result<Identity, AuthError> {
        let user_id = UserId::parse(&self.sub)
            .map_err(|why| AuthError::InvalidClaims(format!("`sub` {why}")))?;
        Ok(Identity {
            user_id,
            expires_at: self.exp,
        })
    }
}
