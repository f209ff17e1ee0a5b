//! Who is calling `/mcp`: the REST API's bearer JWT, checked by the same [`Authenticator`] and
//! rate-limited by the same limiter before the transport reads the body. The caller reaches
//! the tools as an [`Identity`] in the request's extensions, which `rmcp` hands to them with
//! the rest of the HTTP request parts; a tool never takes the user from its arguments.
//!
//! [`Authenticator`]: crate::auth::Authenticator

use std::sync::Arc;

use poem::error::ResponseError as _;
use poem::http::{HeaderValue, header};
use poem::web::headers::authorization::Bearer;
use poem::web::headers::{Authorization, HeaderMapExt as _};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::auth::{AuthError, Identity};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::mcp::metadata::resource_metadata_url;

/// The request's tracing span (with its request id), so that the tool's log line, written
/// where `rmcp` runs the handler, belongs to the request.
#[derive(Clone, Debug)]
pub(crate) struct RequestSpan(pub tracing::Span);

/// Around the transport: authenticates, applies the rate limit and the body size limit, then
/// passes the request on with the caller in its extensions.
///
/// Without a usable token the answer is a 401 problem whose `WWW-Authenticate` names the
/// protected resource metadata (`resource_metadata="…"`), as the MCP authorization
/// specification asks; an unreachable key set is a 503 and an exhausted allowance a 429, as in
/// REST.
pub(crate) async fn authenticate<E: Endpoint>(
    inner: Arc<E>,
    mut req: Request,
) -> poem::Result<Response> {
    let state = req
        .data::<AppState>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState is not attached")))?;
    let token = req
        .headers()
        .typed_get::<Authorization<Bearer>>()
        .map(|auth| auth.token().to_owned())
        .filter(|token| !token.is_empty());
    let identity = match token {
        None => return Ok(challenge(&req, AuthError::Missing)),
        Some(token) => match state.auth.authenticate(&token).await {
            Ok(identity) => identity,
            Err(err @ AuthError::KeysUnavailable { .. }) => return Err(ApiError::from(err).into()),
            Err(err) => return Ok(challenge(&req, err)),
        },
    };
    crate::http::limits::admit(&req, &state, &identity)?;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > state.max_body_bytes) {
        return Err(ApiError::PayloadTooLarge {
            limit: state.max_body_bytes,
        }
        .into());
    }
    req.extensions_mut().insert(identity);
    req.extensions_mut()
        .insert(RequestSpan(tracing::Span::current()));
    inner.call(req).await.map(IntoResponse::into_response)
}

/// The REST API's 401 problem, its `WWW-Authenticate` challenge extended with the resource
/// metadata's URL (RFC 9728, section 5.1).
fn challenge(req: &Request, err: AuthError) -> Response {
    let mut response = ApiError::Unauthorized(err).as_response();
    let rest = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer"))
        .map(|params| params.trim().to_owned())
        .unwrap_or_default();
    let mut value = format!(
        "Bearer resource_metadata=\"{}\"",
        resource_metadata_url(req)
    );
    if !rest.is_empty() {
        value = format!("{value}, {rest}");
    }
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The caller of a request that went through [`authenticate`], from the HTTP request parts
/// `rmcp` puts in a tool call's context.
pub(crate) fn caller(
    parts: Option<&poem::http::request::Parts>,
) -> Option<(Identity, tracing::Span)> {
    let parts = parts?;
    let identity = parts.extensions.get::<Identity>()?.clone();
    let span = parts
        .extensions
        .get::<RequestSpan>()
        .map_or_else(tracing::Span::none, |s| s.0.clone());
    Some((identity, span))
}
