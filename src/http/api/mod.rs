//! The OpenAPI operations, one module per tag.

pub mod health;
pub mod tasks;

use poem_openapi::Tags;

/// The spec's tags.
#[derive(Tags)]
pub enum ApiTags {
    /// Create, read, update, complete and delete the caller's tasks.
    Tasks,
    /// Liveness and readiness probes for load balancers and orchestrators.
    Health,
}
