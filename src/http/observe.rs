//! One structured log line and one metrics observation per request, tagged with a request id
//! (`X-Request-Id`, taken from the request when it is sensible, else generated, and always
//! echoed back) and labelled by route template, never by the raw path with its ids.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use rand::Rng as _;
use tracing::Instrument as _;

use crate::telemetry::metrics::Metrics;

/// The request id header.
pub const REQUEST_ID: &str = "x-request-id";

/// What handlers learn about a request that its log line reports (the caller, once known).
#[derive(Default)]
pub struct RequestContext {
    user_id: Mutex<Option<String>>,
}

impl RequestContext {
    /// Records the authenticated caller.
    pub fn set_user(&self, user_id: &str) {
        if let Ok(mut slot) = self.user_id.lock() {
            *slot = Some(user_id.to_owned());
        }
    }

    fn user(&self) -> Option<String> {
        self.user_id.lock().ok().and_then(|slot| slot.clone())
    }
}

/// Maps request paths to the route templates they match (`/api/{user_id}/tasks/{id}`).
#[derive(Debug)]
pub struct RouteTable {
    templates: Vec<(String, Vec<Segment>)>,
}

#[derive(Debug)]
enum Segment {
    Literal(String),
    Param,
    Rest,
}

/// The label of requests that match no route.
pub const UNMATCHED: &str = "unmatched";

impl RouteTable {
    /// A table of templates: `{name}` matches one segment, a final `{*name}` the rest.
    pub fn new<I: IntoIterator<Item = String>>(templates: I) -> Self {
        let templates = templates
            .into_iter()
            .map(|template| {
                let segments = template
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(|s| match s {
                        s if s.starts_with("{*") => Segment::Rest,
                        s if s.starts_with('{') => Segment::Param,
                        s => Segment::Literal(s.to_owned()),
                    })
                    .collect();
                (template, segments)
            })
            .collect();
        Self { templates }
    }

    /// The template `path` matches, or [`UNMATCHED`].
    pub fn template(&self, path: &str) -> &str {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        'next: for (template, segments) in &self.templates {
            let mut index = 0;
            for segment in segments {
                match segment {
                    Segment::Rest => return template,
                    Segment::Param if parts.get(index).is_some() => {}
                    Segment::Literal(lit) if parts.get(index) == Some(&lit.as_str()) => {}
                    _ => continue 'next,
                }
                index += 1;
            }
            if index == parts.len() {
                return template;
            }
        }
        UNMATCHED
    }
}

/// The logging and metrics middleware.
pub struct Observe {
    metrics: Arc<Metrics>,
    routes: Arc<RouteTable>,
}

impl Observe {
    /// Observes into `metrics`, labelling by `routes`.
    pub fn new(metrics: Arc<Metrics>, routes: RouteTable) -> Self {
        Self {
            metrics,
            routes: Arc::new(routes),
        }
    }
}

impl<E: Endpoint> Middleware<E> for Observe {
    type Output = ObserveEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ObserveEndpoint {
            inner,
            metrics: self.metrics.clone(),
            routes: self.routes.clone(),
        }
    }
}

/// [`Observe`] applied to an endpoint.
pub struct ObserveEndpoint<E> {
    inner: E,
    metrics: Arc<Metrics>,
    routes: Arc<RouteTable>,
}

/// A request id from the client is kept when it is 1-128 visible ASCII characters.
fn usable_request_id(value: &HeaderValue) -> Option<String> {
    let value = value.to_str().ok()?;
    let ok = !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| value.to_owned())
}

fn new_request_id() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl<E: Endpoint> Endpoint for ObserveEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        let started = Instant::now();
        let request_id = req
            .headers()
            .get(REQUEST_ID)
            .and_then(usable_request_id)
            .unwrap_or_else(new_request_id);
        let method = req.method().to_string();
        let route = self.routes.template(req.uri().path()).to_owned();
        let context = Arc::new(RequestContext::default());
        req.extensions_mut().insert(context.clone());

        let span = tracing::info_span!("request", request_id = %request_id);
        let mut response = self
            .inner
            .call(req)
            .instrument(span)
            .await
            .map(IntoResponse::into_response)
            .unwrap_or_else(|err| err.into_response());

        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        self.metrics
            .observe_request(&method, &route, status, elapsed);
        let user_id = context.user();
        tracing::info!(
            target: "todo_api::request",
            method = %method,
            route = %route,
            status,
            latency_ms = (elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
            request_id = %request_id,
            user_id = user_id.as_deref().unwrap_or("-"),
            "request"
        );
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_templates() {
        let table = RouteTable::new(
            [
                "/api/{user_id}/tasks",
                "/api/{user_id}/tasks/{id}",
                "/api/{user_id}/tasks/{id}/complete",
                "/docs/{*path}",
                "/health",
            ]
            .map(String::from),
        );
        assert_eq!(table.template("/api/alice/tasks"), "/api/{user_id}/tasks");
        assert_eq!(table.template("/api/alice/tasks/"), "/api/{user_id}/tasks");
        assert_eq!(
            table.template("/api/alice/tasks/42"),
            "/api/{user_id}/tasks/{id}"
        );
        assert_eq!(
            table.template("/api/a/tasks/4/complete"),
            "/api/{user_id}/tasks/{id}/complete"
        );
        assert_eq!(table.template("/docs/swagger-ui.css"), "/docs/{*path}");
        assert_eq!(table.template("/health"), "/health");
        assert_eq!(table.template("/api/alice/tasks/4/x/y"), UNMATCHED);
        assert_eq!(table.template("/nope"), UNMATCHED);
    }

    #[test]
    fn request_ids_from_clients_are_kept_only_when_sensible() {
        assert_eq!(
            usable_request_id(&HeaderValue::from_static("abc-123")),
            Some("abc-123".into())
        );
        assert_eq!(usable_request_id(&HeaderValue::from_static("a b")), None);
        let long = "x".repeat(129);
        assert_eq!(
            usable_request_id(&HeaderValue::from_str(&long).unwrap_or_else(|_| unreachable!())),
            None
        );
        assert_eq!(new_request_id().len(), 32);
    }
}
