//! The HTTP layer: the OpenAPI service, Swagger UI, and the routes that tie them to the state.

pub mod api;
pub mod body;
pub mod docs;
mod fallback;
pub mod json;
pub mod listing;
pub mod nullable;
pub mod problem;
pub mod schemas;
pub mod security;

use std::sync::Arc;

use poem::middleware::Tracing;
use poem::{Endpoint, EndpointExt, Route, get};
use poem_openapi::{ContactObject, LicenseObject, OpenApiService, ServerObject};

use self::api::health::HealthApi;
use self::api::tasks::TasksApi;
use crate::auth::{Authenticator, Jwks};
use crate::store::TaskStore;

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Where tasks live.
    pub store: Arc<dyn TaskStore>,
    /// Who may call.
    pub auth: Authenticator,
    /// Better Auth's key set, when `BETTER_AUTH_URL` is set (also in `auth`; here for `/ready`).
    pub jwks: Option<Arc<Jwks>>,
}

const DESCRIPTION: &str = "\
A multi-user todo API for Next.js frontends that sign in with Better Auth.

Every task route requires `Authorization: Bearer <JWT>`; the user is the token's `sub` claim, \
and the `{user_id}` in the path must equal it. Errors are RFC 9457 problems \
(`application/problem+json`).";

/// The OpenAPI service: every operation, and the spec it produces.
pub fn api_service() -> OpenApiService<(TasksApi, HealthApi), ()> {
    OpenApiService::new((TasksApi, HealthApi), "todo-api", env!("CARGO_PKG_VERSION"))
        .description(DESCRIPTION)
        .license(LicenseObject::new("MIT").url("https://opensource.org/licenses/MIT"))
        .contact(ContactObject::new().name("todo-api maintainers"))
        .server(ServerObject::new("/").description("This server"))
}

/// The spec as YAML: what `openapi.yaml` holds.
pub fn spec_yaml() -> String {
    api_service().spec_yaml()
}

/// Every route, with the state attached and every error rendered as a problem.
pub fn routes(state: AppState) -> impl Endpoint {
    let api = api_service();
    Route::new()
        .at("/openapi.json", get(api.spec_endpoint()))
        .at("/openapi.yaml", get(api.spec_endpoint_yaml()))
        .at(docs::DOCS_PATH, get(docs::docs_root))
        .at(format!("{}/*path", docs::DOCS_PATH), get(docs::docs_file))
        .nest("/", api)
        .data(state)
        .with(Tracing)
        .catch_all_error(fallback::problem_response)
}
