//! The bearer-JWT security scheme: every task route requires it.

use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};

use crate::auth::{AuthError, Identity};
use crate::domain::UserId;
use crate::http::AppState;
use crate::http::error::ApiError;

/// A JWT in `Authorization: Bearer <token>`: the one Better Auth's JWT plugin issues
/// (`authClient.token()`), or one from `todo-api token --sub <user>`. The user is the token's
/// `sub` claim.
#[derive(SecurityScheme)]
#[oai(
    rename = "bearerAuth",
    ty = "bearer",
    bearer_format = "JWT",
    checker = "authenticate"
)]
pub(crate) struct BearerAuth(pub(crate) Identity);

impl BearerAuth {
    /// The caller, provided the path's `user_id` names them (else 403).
    pub(crate) fn owner(&self, path_user_id: &str) -> Result<&UserId, ApiError> {
        if self.0.user_id.as_str() == path_user_id {
            Ok(&self.0.user_id)
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<Identity> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState is not attached")))?;
    if bearer.token.is_empty() {
        return Err(ApiError::Unauthorized(AuthError::Missing).into());
    }
    let identity = state
        .auth
        .authenticate(&bearer.token)
        .await
        .map_err(ApiError::from)?;
    crate::http::limits::admit(req, state, &identity)?;
    Ok(identity)
}
