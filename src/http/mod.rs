//! The HTTP layer: the OpenAPI service, Swagger UI, and the routes that tie them to the state.

pub mod allow;
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
pub mod spec;

use std::sync::Arc;

use poem::http::Method;
use poem::middleware::Tracing;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Route, get};
use poem_openapi::{ContactObject, LicenseObject, OpenApi, OpenApiService, ServerObject};

use self::allow::AllowedMethods;
use self::api::health::HealthApi;
use self::api::tasks::TasksApi;
use self::spec::Spec;
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
    Spec::generate().yaml().to_owned()
}

/// Every route, with the state attached and every error rendered as a problem.
pub fn routes(state: AppState) -> impl Endpoint {
    let spec = Spec::generate();
    let mut allowed = AllowedMethods::from_api(&<(TasksApi, HealthApi) as OpenApi>::meta());
    let mut route = Route::new();
    route = at_get(route, &mut allowed, "/openapi.json", spec.json_endpoint());
    route = at_get(route, &mut allowed, "/openapi.yaml", spec.yaml_endpoint());
    route = at_get(route, &mut allowed, docs::DOCS_PATH, docs::docs_root);
    route = at_get(route, &mut allowed, docs::FILES_PATH, docs::docs_file);
    let allowed = Arc::new(allowed);
    route
        .nest("/", api_service())
        .data(state)
        .with(Tracing)
        .around(move |endpoint, request| {
            fallback::problem_responses(endpoint, request, allowed.clone())
        })
}

/// Serves `endpoint` at `path` for GET (and so HEAD), and records that in `allowed`.
fn at_get<E>(route: Route, allowed: &mut AllowedMethods, path: &str, endpoint: E) -> Route
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    allowed.add(path, Method::GET);
    route.at(path, get(endpoint))
}
