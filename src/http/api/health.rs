//! `/health` and `/ready`: probes outside the auth scheme.

use poem_openapi::{Enum, Object, OpenApi};

use super::ApiTags;
use crate::http::AppState;
use crate::http::error::{ApiError, Failure, HealthErrors, ReadyErrors};
use crate::http::json::Json;
use crate::http::limits::time_limited;

/// The probes.
pub(crate) struct HealthApi;

/// The process is up.
#[derive(Debug, Object, serde::Serialize)]
pub(crate) struct Health {
    /// Always `ok`.
    pub(crate) status: String,
}

/// The server can serve requests.
#[derive(Debug, Object, serde::Serialize)]
pub(crate) struct Readiness {
    /// Always `ready` (when not ready, the answer is a 503 problem).
    pub(crate) status: String,
    /// `ok`: the database answered.
    pub(crate) database: String,
    /// Better Auth's signing keys (JWKS mode, `BETTER_AUTH_URL`).
    pub(crate) jwks: JwksReadiness,
}

/// Whether the keys that verify Better Auth's tokens are loaded.
#[derive(Debug, Enum, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub(crate) enum JwksReadiness {
    /// At least one usable key from the JWKS is loaded.
    Loaded,
    /// JWKS mode is off (`BETTER_AUTH_URL` is not set).
    Disabled,
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness probe
    ///
    /// 200 whenever the process is up; touches no dependency.
    #[oai(
        path = "/health",
        method = "get",
        transform = "time_limited",
        operation_id = "getHealth"
    )]
    async fn health(&self) -> Result<Json<Health>, Failure<HealthErrors>> {
        Ok(Json(Health {
            status: "ok".into(),
        }))
    }

    /// Readiness probe
    ///
    /// 200 when the database answers and, in JWKS mode (`BETTER_AUTH_URL`), at least one key of
    /// Better Auth's key set is loaded (fetched now if none is); 503 otherwise.
    #[oai(
        path = "/ready",
        method = "get",
        transform = "time_limited",
        operation_id = "getReadiness"
    )]
    async fn ready(
        &self,
        state: poem::web::Data<&AppState>,
    ) -> Result<Json<Readiness>, Failure<ReadyErrors>> {
        state.store.ping().await.map_err(ApiError::Unavailable)?;
        let jwks = match &state.jwks {
            None => JwksReadiness::Disabled,
            Some(jwks) => {
                jwks.ensure_loaded()
                    .await
                    .map_err(|not_loaded| ApiError::KeysUnavailable {
                        retry_after_secs: not_loaded.retry_after_secs,
                    })?;
                JwksReadiness::Loaded
            }
        };
        Ok(Json(Readiness {
            status: "ready".into(),
            database: "ok".into(),
            jwks,
        }))
    }
}
