//! The HTTP layer: the OpenAPI service, Swagger UI, and the routes that tie them to the state.

pub mod allow;
pub mod api;
pub mod body;
pub mod cors;
pub mod docs;
mod fallback;
pub mod json;
pub mod limits;
pub mod listing;
pub mod nullable;
pub mod observe;
pub mod problem;
pub mod schemas;
pub mod security;
pub mod spec;

use std::sync::Arc;

use poem::http::Method;
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Response, Route, get, handler};
use poem_openapi::{ContactObject, LicenseObject, OpenApi, OpenApiService, ServerObject};

use self::allow::AllowedMethods;
use self::api::health::HealthApi;
use self::api::tasks::TasksApi;
use self::limits::{RateLimiter, RequestTimeout};
use self::observe::{Observe, RouteTable};
use self::spec::Spec;
use crate::auth::{Authenticator, Jwks};
use crate::config::HttpSettings;
use crate::store::{MigrationGate, TaskStore};
use crate::telemetry::metrics::{Gauges, Metrics};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Where tasks live (closed with 503 until the migrations are applied).
    pub store: Arc<dyn TaskStore>,
    /// Who may call.
    pub auth: Authenticator,
    /// Better Auth's key set, when `BETTER_AUTH_URL` is set (also in `auth`; here for `/ready`).
    pub jwks: Option<Arc<Jwks>>,
    /// Whether the migrations are applied (the same store as `store`).
    pub migrations: Arc<MigrationGate>,
    /// Request, pool and JWKS metrics.
    pub metrics: Arc<Metrics>,
    /// The per-user rate limit, when configured.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

/// Where Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";

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

/// The route templates requests are logged and counted by: every operation's, and the others.
fn route_table() -> RouteTable {
    let spec: serde_json::Value = serde_json::from_str(&api_service().spec()).unwrap_or_default();
    let operations = spec["paths"]
        .as_object()
        .map(|paths| paths.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let others = [
        "/openapi.json",
        "/openapi.yaml",
        METRICS_PATH,
        docs::DOCS_PATH,
        "/docs/{*path}",
    ];
    let others = others.into_iter().chain(crate::mcp::ROUTES);
    RouteTable::new(operations.into_iter().chain(others.map(String::from)))
}

/// `GET /metrics`: the Prometheus text format.
#[handler]
fn metrics_endpoint(state: Data<&AppState>) -> Response {
    let text = state.metrics.render(Gauges {
        pool: state.store.pool_stats(),
        ready: state.migrations.is_migrated(),
    });
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

/// Every route, with the state attached, every error rendered as a problem, and the
/// middleware: request logs and metrics, CORS, and the request time limit.
pub fn routes(
    state: AppState,
    http: &HttpSettings,
    metrics_enabled: bool,
) -> impl Endpoint + use<> {
    let spec = Spec::generate();
    let metrics = state.metrics.clone();
    let mut allowed = AllowedMethods::from_api(&<(TasksApi, HealthApi) as OpenApi>::meta());
    let mut route = Route::new();
    route = at_get(route, &mut allowed, "/openapi.json", spec.json_endpoint());
    route = at_get(route, &mut allowed, "/openapi.yaml", spec.yaml_endpoint());
    route = at_get(route, &mut allowed, docs::DOCS_PATH, docs::docs_root);
    route = at_get(route, &mut allowed, docs::FILES_PATH, docs::docs_file);
    if metrics_enabled {
        route = at_get(route, &mut allowed, METRICS_PATH, metrics_endpoint);
    }
    route = crate::mcp::mount(route, &mut allowed, &state);
    let allowed = Arc::new(allowed);
    route
        .nest("/", api_service())
        .data(state)
        .with(RequestTimeout(http.request_timeout))
        .around(move |endpoint, request| {
            fallback::problem_responses(endpoint, request, allowed.clone())
        })
        .with(cors::Cors::new(&http.cors_origins))
        .with(Observe::new(metrics, route_table()))
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
