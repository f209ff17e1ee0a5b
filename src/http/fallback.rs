//! Turns every error that leaves the router into the same problem+json shape: errors raised by
//! poem and poem-openapi themselves (no route, bad parameter, missing token) included.

use std::sync::Arc;

use poem::error::{MethodNotAllowedError, NotFoundError, ResponseError};
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::error::{
    AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
};

use crate::auth::AuthError;
use crate::error::ApiError;
use crate::http::allow::AllowedMethods;
use crate::http::problem::FieldError;

/// Calls `endpoint`, and answers any error it returns with a problem response.
pub async fn problem_responses<E: Endpoint>(
    endpoint: Arc<E>,
    request: Request,
    allowed: Arc<AllowedMethods>,
) -> poem::Result<Response> {
    let uri = request.uri().clone();
    match endpoint.call(request).await {
        Ok(response) => Ok(response.into_response()),
        Err(err) if err.is::<ApiError>() => Ok(err.into_response()),
        Err(err) => Ok(to_api_error(err, || allowed.for_path(uri.path())).as_response()),
    }
}

/// The [`ApiError`] for an error poem or poem-openapi raised; `allow` tells the methods of the
/// request's path.
fn to_api_error(err: poem::Error, allow: impl FnOnce() -> Option<String>) -> ApiError {
    if err.is::<AuthorizationError>() {
        return ApiError::Unauthorized(AuthError::Missing);
    }
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        return ApiError::Validation(vec![FieldError::new(param_name(e.name), e.reason.clone())]);
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        return ApiError::Validation(vec![FieldError::new(param_name(e.name), e.reason.clone())]);
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
        return match allow() {
            Some(allow) => ApiError::MethodNotAllowed { allow },
            // Unreachable while the table is built from the same routes as the router.
            None => ApiError::NotFound("no such route"),
        };
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            limit: crate::http::body::MAX_BODY_BYTES,
        },
        StatusCode::NOT_FOUND => ApiError::NotFound("no such route"),
        status if status.is_client_error() => ApiError::MalformedJson(err.to_string()),
        _ => ApiError::Internal(anyhow::anyhow!("{err}")),
    }
}

/// poem-openapi names path parameters by position (`param0`, `param1`, …); every route of this
/// API has the same ones, in this order.
const PATH_PARAMS: [&str; 2] = ["user_id", "id"];

fn param_name(name: &'static str) -> &'static str {
    name.strip_prefix("param")
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| PATH_PARAMS.get(n).copied())
        .unwrap_or(name)
}
