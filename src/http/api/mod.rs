//! The OpenAPI operations, one module per tag.

pub(crate) mod feed;
pub(crate) mod health;
pub(crate) mod tasks;

use poem_openapi::Tags;

/// The spec's tags.
#[derive(Tags)]
pub(crate) enum ApiTags {
    /// Create, read, update, complete and delete the caller's tasks.
    Tasks,
    /// Keep a copy of the caller's tasks up to date: pages of changes after a cursor, and a
    /// stream of them as they happen.
    Sync,
    /// Liveness and readiness probes for load balancers and orchestrators.
    Health,
}
