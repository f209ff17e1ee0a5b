//! One structured log line and one metrics observation per request, tagged with a request id
//! (`X-Request-Id`, taken from the request when it is sensible, else generated, and always
//! echoed back) and labelled by route template, never by the raw path with its ids: the
//! template of the route poem's router matched (the [`PathPattern`] it leaves on the response),
//! named by the [`RouteTable`].
//!
//! Home-made rather than poem's `RequestId` and `Tracing` middleware: `RequestId` either ignores
//! the client's id or takes it whatever it holds (any length, spaces included), and
//! leaves error answers without the header; `Tracing` logs its own fields, by raw path, and
//! neither records metrics nor the authenticated caller.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use poem::PathPattern;
use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use rand::Rng as _;
use tracing::Instrument as _;

use crate::http::routes::RouteTable;
use crate::telemetry::metrics::Metrics;

/// The request id header.
const REQUEST_ID: &str = "x-request-id";

/// What handlers learn about a request that its log line reports (the caller, once known).
#[derive(Default)]
pub(crate) struct RequestContext {
    user_id: Mutex<Option<String>>,
}

impl RequestContext {
    /// Records the authenticated caller.
    pub(crate) fn set_user(&self, user_id: &str) {
        if let Ok(mut slot) = self.user_id.lock() {
            *slot = Some(user_id.to_owned());
        }
    }

    fn user(&self) -> Option<String> {
        self.user_id.lock().ok().and_then(|slot| slot.clone())
    }
}

/// The label of requests that match no route (and of CORS preflights, answered before routing).
pub(crate) const UNMATCHED: &str = "unmatched";

/// The logging and metrics middleware.
pub(crate) struct Observe {
    metrics: Arc<Metrics>,
    routes: Arc<RouteTable>,
}

impl Observe {
    /// Observes into `metrics`, labelling by the templates of `routes`.
    pub(crate) fn new(metrics: Arc<Metrics>, routes: Arc<RouteTable>) -> Self {
        Self { metrics, routes }
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
pub(crate) struct ObserveEndpoint<E> {
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

/// 32 random hexadecimal digits.
fn new_request_id() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
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
        let route = response
            .data::<PathPattern>()
            .and_then(|pattern| self.routes.template(pattern))
            .unwrap_or(UNMATCHED);
        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        self.metrics
            .observe_request(&method, route, status, elapsed);
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
