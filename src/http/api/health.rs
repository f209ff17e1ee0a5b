//! `/health` and `/ready`: probes outside the auth scheme.

use crate::http::json::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::problem::{Failure, ReadyErrors};

/// The probes.
pub struct HealthApi;

/// The process is up.
#[derive(Debug, Object, serde::Serialize)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// The server can serve requests.
#[derive(Debug, Object, serde::Serialize)]
pub struct Readiness {
    /// Always `ready` (when not ready, the answer is a 503 problem).
    pub status: String,
    /// `ok`: the database answered.
    pub database: String,
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness probe
    ///
    /// 200 whenever the process is up; touches no dependency.
    #[oai(path = "/health", method = "get", operation_id = "getHealth")]
    async fn health(&self) -> Json<Health> {
        Json(Health {
            status: "ok".into(),
        })
    }

    /// Readiness probe
    ///
    /// 200 when the database answers; 503 otherwise.
    #[oai(path = "/ready", method = "get", operation_id = "getReadiness")]
    async fn ready(
        &self,
        state: poem::web::Data<&AppState>,
    ) -> Result<Json<Readiness>, Failure<ReadyErrors>> {
        state.store.ping().await.map_err(ApiError::Unavailable)?;
        Ok(Json(Readiness {
            status: "ready".into(),
            database: "ok".into(),
        }))
    }
}
