//! The HTTP layer: the OpenAPI service, Swagger UI, and the routes that tie them to the state
//! (`AppState`, built here, with the routes and middleware of `routes`).
//!
//! - `api`: the operations; `schemas`: their JSON shapes; `body`: request bodies, parsed
//!   strictly; `json`: JSON response bodies; `listing`: listing parameters; `cursor`: opaque
//!   cursors (listing and change feed); `events`: a user's event stream; `nullable`:
//!   always-present nullable fields; `security`: the bearer scheme;
//! - `error`: the error type and the problems it is told as; `fallback`: poem's own errors
//!   told the same way;
//! - `routes`: each route's template, methods and parameters; `observe`: request logs and
//!   metrics; `limits`: time and rate limits; `strict`: requests that could mean two things or
//!   cost too much; `cors`: cross-origin access; `duplicates`: JSON with repeated keys;
//! - `spec`: the OpenAPI document; `docs`: Swagger UI; [`HttpSettings`]: the configuration.

mod api;
mod body;
mod cors;
mod cursor;
mod docs;
mod duplicates;
mod error;
mod events;
mod fallback;
mod json;
mod limits;
pub(crate) mod listing;
mod mcp;
mod nullable;
mod observe;
mod routes;
mod schemas;
mod security;
mod server;
mod settings;
mod spec;
mod strict;

pub(crate) use server::serve;
pub use settings::HttpSettings;

use std::sync::Arc;

use poem::http::Method;
use poem::middleware::CatchPanic;
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Response, Route, get, handler};
use poem_openapi::registry::Registry;
use poem_openapi::{ContactObject, LicenseObject, OpenApi, OpenApiService, ServerObject};

use self::api::feed::FeedApi;
use self::api::health::HealthApi;
use self::api::lists::ListsApi;
use self::api::tasks::TasksApi;
use self::limits::{TimeLimit, time_limited};
use self::observe::Observe;
use self::routes::RouteTable;
use self::spec::Spec;
use self::strict::Strict;
use crate::auth::{Authenticator, Jwks};
use crate::store::{MigrationGate, TaskStore};
use crate::sync::{ChangeHub, SyncSettings};
use crate::telemetry::metrics::{Gauges, Metrics};

pub(crate) use self::limits::RateLimiter;

/// What every request handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    /// Where tasks live (closed with 503 until the migrations are applied).
    pub(crate) store: Arc<dyn TaskStore>,
    /// Who may call.
    pub(crate) auth: Authenticator,
    /// Better Auth's key set, when `BETTER_AUTH_URL` is set (also in `auth`; here for `/ready`).
    pub(crate) jwks: Option<Arc<Jwks>>,
    /// Whether the migrations are applied (the same store as `store`).
    pub(crate) migrations: Arc<MigrationGate>,
    /// Request, pool and JWKS metrics.
    pub(crate) metrics: Arc<Metrics>,
    /// The per-user rate limit, when configured.
    pub(crate) rate_limiter: Option<Arc<RateLimiter>>,
    /// The largest request body accepted, in bytes.
    pub(crate) max_body_bytes: usize,
    /// How long a request body may take to arrive.
    pub(crate) body_read_timeout: std::time::Duration,
    /// Where event streams hear of commits (the store publishes to it).
    pub(crate) hub: Arc<ChangeHub>,
    /// The change feed's and event streams' settings.
    pub(crate) sync: SyncSettings,
}

/// Where Prometheus scrapes.
const METRICS_PATH: &str = "/metrics";

const DESCRIPTION: &str = "\
A multi-user todo API for Next.js frontends that sign in with Better Auth.

Every task route requires `Authorization: Bearer <JWT>`; the user is the token's `sub` claim, \
and the `{user_id}` in the path must equal it. Errors are RFC 9457 problems \
(`application/problem+json`).";

/// Every group of operations, in the spec's order.
type Apis = (TasksApi, ListsApi, FeedApi, HealthApi);

/// The OpenAPI service: every operation, and the spec it produces.
fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (TasksApi, ListsApi, FeedApi, HealthApi),
        "todo-api",
        env!("CARGO_PKG_VERSION"),
    )
    .description(DESCRIPTION)
    .license(LicenseObject::new("MIT").url("https://opensource.org/licenses/MIT"))
    .contact(ContactObject::new().name("todo-api maintainers"))
    .server(ServerObject::new("/").description("This server"))
}

/// The spec as YAML: what `openapi.yaml` holds.
pub fn spec_yaml() -> String {
    Spec::generate().yaml().to_owned()
}

/// `GET /metrics`: the Prometheus text format.
#[handler]
fn metrics_endpoint(state: Data<&AppState>) -> Response {
    let pool = state.store.pool_stats();
    let text = state.metrics.render(Gauges {
        pool_in_use: pool.in_use(),
        pool_idle: pool.idle,
        pool_max: pool.max,
        ready: state.migrations.is_migrated(),
    });
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

/// Every route, with the state attached, every error rendered as a problem, and the
/// middleware: request logs and metrics, CORS, and the request time limit (on each route, so a
/// request over it is still logged under its route).
pub(crate) fn routes(
    state: AppState,
    http: &HttpSettings,
    metrics_enabled: bool,
) -> impl Endpoint + use<> {
    let spec = Spec::generate();
    let metrics = state.metrics.clone();
    let max_body_bytes = state.max_body_bytes;
    let mut registry = Registry::new();
    <Apis as OpenApi>::register(&mut registry);
    let meta = <Apis as OpenApi>::meta();
    let mut table = RouteTable::from_api(&meta, &registry);
    let cors = cors::Cors::new(&http.cors_origins, &meta);
    let mut route = Route::new();
    route = at_get(route, &mut table, "/openapi.json", spec.json_endpoint());
    route = at_get(route, &mut table, "/openapi.yaml", spec.yaml_endpoint());
    route = at_get(route, &mut table, docs::DOCS_PATH, docs::docs_root);
    route = at_get(route, &mut table, docs::FILES_PATH, docs::docs_file);
    if metrics_enabled {
        route = at_get(route, &mut table, METRICS_PATH, metrics_endpoint);
    }
    route = mcp::mount(route, &mut table, &state);
    let table = Arc::new(table);
    let routes = table.clone();
    route
        .nest("/", api_service())
        .data(state)
        .data(TimeLimit(http.request_timeout))
        .data(table.clone())
        .around(move |endpoint, request| {
            fallback::problem_responses(endpoint, request, routes.clone())
        })
        .with(Strict::new(max_body_bytes))
        .with(cors)
        .with(CatchPanic::new().with_handler(panic_problem))
        .with(Observe::new(metrics, table))
}

/// A panic in a handler is a bug: answered as a 500 problem (and logged), never a dropped
/// connection.
fn panic_problem(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    use poem::error::ResponseError as _;
    error::ApiError::Internal(anyhow::anyhow!("a request handler panicked")).as_response()
}

/// Serves `endpoint` at `path` for GET (and so HEAD), under the time limit, and records that
/// in `table`.
fn at_get<E>(route: Route, table: &mut RouteTable, path: &str, endpoint: E) -> Route
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    table.add(path, Method::GET);
    route.at(path, get(time_limited(endpoint.into_endpoint())))
}
