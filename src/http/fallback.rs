//! Turns every error that leaves the router into the same problem+json shape: errors raised by
//! poem and poem-openapi themselves (no route, bad parameter, missing token) included. The
//! route the router matched (its [`PathPattern`]) stays on the response, for the request log.

use std::sync::Arc;

use poem::PathPattern;
use poem::error::{MethodNotAllowedError, NotFoundError, ResponseError};
use poem::http::StatusCode;
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
    match endpoint.call(request).await {
        Ok(response) => Ok(response.into_response()),
        Err(err) if err.is::<ApiError>() => Ok(err.into_response()),
        Err(err) => {
            let pattern = err.data::<PathPattern>().cloned();
            let mut response = to_api_error(err, pattern.as_ref(), &routes).as_response();
            if let Some(pattern) = pattern {
                response.set_data(pattern);
            }
            Ok(response)
        }
    }
}

/// The [`ApiError`] for an error poem or poem-openapi raised for a request that matched the
/// route of `pattern` (if any).
fn to_api_error(err: poem::Error, pattern: Option<&PathPattern>, routes: &RouteTable) -> ApiError {
    // poem-openapi names path parameters by position (`param0`, `param1`, …).
    let param_name = |name: &'static str| -> String {
        pattern
            .and_then(|pattern| routes.param_name(pattern, name))
            .unwrap_or(name)
            .to_owned()
    };
    if err.is::<AuthorizationError>() {
        return ApiError::Unauthorized(AuthError::Missing);
    }
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        return ApiError::Validation(vec![FieldError::new(&param_name(e.name), e.reason.clone())]);
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        return ApiError::Validation(vec![FieldError::new(&param_name(e.name), e.reason.clone())]);
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
        status if status.is_client_error() => ApiError::MalformedJson(err.to_string()),
        _ => ApiError::Internal(anyhow::anyhow!("{err}")),
    }
}
