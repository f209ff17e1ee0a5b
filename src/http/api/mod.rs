//! The OpenAPI operations, one module per tag.

pub(crate) mod health;
pub(crate) mod tasks;

use poem_openapi::Tags;

/// The spec's tags.
#[derive(Tags)]
pub(crate) enum ApiTags {
    /// Create, read, update, complete and delete the caller's tasks.
    Tasks,
    /// Liveness and readiness probes for load balancers and orchestrators.
    Health,
}
