//! CORS for browser frontends on other origins (`CORS_ORIGINS`): exact origins only, preflights
//! answered before routing and authentication. A request from any other origin is served as if
//! CORS were off (no `Access-Control-*` headers), so the browser refuses to hand the answer to
//! the page, while same-origin callers (Swagger UI) keep working.
//!
//! Home-made rather than poem's `Cors` middleware (poem 3.1), which differs where it matters:
//! - with no origins configured it allows every origin, where an empty `CORS_ORIGINS` here
//!   means CORS is off;
//! - a request whose `Origin` is not listed is refused (403, and as a plain-text error outside
//!   the problem+json handling) instead of served without CORS headers, and browsers send
//!   `Origin` on same-origin POSTs too, so Swagger UI's "Try it out" would break unless its own
//!   origin were listed;
//! - it compares origins byte for byte; here they compare case-insensitively (`CORS_ORIGINS`
//!   is stored lower-case);
//! - it adds `Vary: Origin` only for origins matched by a wildcard or a function, never for
//!   listed ones, and never to answers of requests without `Origin`, so a shared cache could
//!   hand one origin's answer (or a non-CORS one) to another; here every answer varies on
//!   `Origin`;
//! - it takes every `OPTIONS` with an `Origin` for a preflight (refusing one without
//!   `Access-Control-Request-Method`), and answers preflights 200 without `Vary`.

use std::collections::HashSet;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

/// Methods a cross-origin page may use.
const METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
/// Request headers a cross-origin page may send.
/// (`idempotency-key`: what makes a retried create safe; `last-event-id`: where an event stream
/// resumes; `mcp-protocol-version`: what MCP clients send to `/mcp` after `initialize`.)
const ALLOW_HEADERS: &str = "authorization, content-type, idempotency-key, if-match, if-none-match, \
    last-event-id, x-request-id, mcp-protocol-version";
/// Response headers a cross-origin page may read.
/// (`WWW-Authenticate`: where an MCP client finds the resource metadata after a 401.)
const EXPOSE_HEADERS: &str =
    "ETag, Link, X-Total-Count, Location, Retry-After, X-Request-Id, WWW-Authenticate";
/// How long a browser may cache a preflight answer, in seconds.
const MAX_AGE: &str = "600";

/// The CORS middleware; with no origins it changes nothing.
pub(crate) struct Cors {
    origins: HashSet<String>,
}

impl Cors {
    /// Allows exactly `origins` (`scheme://host[:port]`, lower case).
    pub(crate) fn new(origins: &[String]) -> Self {
        Self {
            origins: origins.iter().cloned().collect(),
        }
    }
}

impl<E: Endpoint> Middleware<E> for Cors {
    type Output = CorsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CorsEndpoint {
            inner,
            origins: self.origins.clone(),
        }
    }
}

/// [`Cors`] applied to an endpoint.
pub(crate) struct CorsEndpoint<E> {
    inner: E,
    origins: HashSet<String>,
}

impl<E> CorsEndpoint<E> {
    fn allowed(&self, req: &Request) -> Option<HeaderValue> {
        let origin = req.headers().get(header::ORIGIN)?;
        let text = origin.to_str().ok()?.to_ascii_lowercase();
        self.origins.contains(&text).then(|| origin.clone())
    }
}

impl<E: Endpoint> Endpoint for CorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        if self.origins.is_empty() {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let origin = self.allowed(&req);
        let preflight = req.method() == Method::OPTIONS
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        if let (Some(origin), true) = (&origin, preflight) {
            return Ok(Response::builder()
                .status(StatusCode::NO_CONTENT)
                .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone())
                .header(header::ACCESS_CONTROL_ALLOW_METHODS, METHODS)
                .header(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS)
                .header(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true")
                .header(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE)
                .header(
                    header::VARY,
                    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                )
                .finish());
        }
        let mut response = self
            .inner
            .call(req)
            .await
            .map(IntoResponse::into_response)
            .unwrap_or_else(|err| err.into_response());
        let headers = response.headers_mut();
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        if let Some(origin) = origin {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
        }
        Ok(response)
    }
}
