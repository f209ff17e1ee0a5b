//! Turns every error that leaves the router into the same problem+json shape: errors raised by
//! poem and poem-openapi themselves (no route, bad parameter, missing token) included. The
//! route the router matched (its [`PathPattern`]) stays on the response, for the request log.

use std::sync::Arc;

use poem::PathPattern;
use poem::error::{MethodNotAllowedError, NotFoundError, ResponseError};
use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::error::{
    AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
};

use crate::auth::AuthError;
use crate::http::error::{ApiError, FieldError};
use crate::http::routes::RouteTable;
use crate::http::settings::MAX_BODY_BYTES;

/// Calls `endpoint`, and answers any error it returns with a problem response.
pub(crate) async fn problem_responses<E: Endpoint>(
    endpoint: Arc<E>,
    request: Request,
    routes: Arc<RouteTable>,
) -> poem::Result<Response> {
    let method = request.method().clone();
    match endpoint.call(request).await {
        Ok(response) => Ok(response.into_response()),
        Err(err) if err.is::<ApiError>() => Ok(err.into_response()),
        Err(err) => {
            let pattern = err.data::<PathPattern>().cloned();
            let mut response = to_api_error(err, pattern.as_ref(), &method, &routes).as_response();
            if let Some(pattern) = pattern {
                response.set_data(pattern);
            }
            Ok(response)
        }
    }
}

/// The [`ApiError`] for an error poem or poem-openapi raised for a request that matched the
/// route of `pattern` (if any).
fn to_api_error(
    err: poem::Error,
    pattern: Option<&PathPattern>,
    method: &Method,
    routes: &RouteTable,
) -> ApiError {
    // poem-openapi names path parameters by position (`param0`, `param1`, …), and says what
    // went wrong in its own words (`failed to parse "integer(int64)"`): the route table knows
    // the name and what the value must be.
    let invalid = |name: &'static str, reason: &str| -> ApiError {
        let param = pattern.and_then(|pattern| routes.param(pattern, method, name));
        let field = param.map_or(name, |p| p.name.as_str());
        let detail = match param.and_then(|p| p.expects.clone()) {
            _ if reason.contains("expects an input value") => "is required".to_owned(),
            Some(expects) => expects,
            None => reason.to_owned(),
        };
        ApiError::Validation(vec![FieldError::new(field, detail)])
    };
    if err.is::<AuthorizationError>() {
        return ApiError::Unauthorized(AuthError::Missing);
    }
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        return invalid(e.name, &e.reason);
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        return invalid(e.name, &e.reason);
    }
    if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        return ApiError::MalformedJson(e.reason.clone());
    }
    if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        return ApiError::UnsupportedMediaType(e.to_string());
    }
    if err.is::<NotFoundError>() {
        return ApiError::NotFound("no such route");
    }
    let status = err.status();
    if err.is::<MethodNotAllowedError>() || status == StatusCode::METHOD_NOT_ALLOWED {
        return match pattern.and_then(|pattern| routes.allow(pattern)) {
            Some(allow) => ApiError::MethodNotAllowed { allow },
            // Unreachable while the table is built from the same routes as the router.
            None => ApiError::NotFound("no such route"),
        };
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        },
        StatusCode::NOT_FOUND => ApiError::NotFound("no such route"),
        status if status.is_client_error() => {
            ApiError::BadRequest(format!("the request cannot be read: {err}"))
        }
        _ => ApiError::Internal(anyhow::anyhow!("{err}")),
    }
}
