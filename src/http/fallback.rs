//! Turns every error that leaves the router into the same problem+json shape: errors raised by
//! poem and poem-openapi themselves (no route, bad parameter, missing token) included.

use poem::Response;
use poem::error::{MethodNotAllowedError, NotFoundError, ResponseError};
use poem::http::StatusCode;
use poem_openapi::error::{
    AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
};

use crate::auth::AuthError;
use crate::error::ApiError;
use crate::http::problem::FieldError;

/// The problem response for any error.
pub async fn problem_response(err: poem::Error) -> Response {
    if err.is::<ApiError>() {
        return err.into_response();
    }
    to_api_error(err).as_response()
}

fn to_api_error(err: poem::Error) -> ApiError {
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
    if err.is::<MethodNotAllowedError>() {
        return ApiError::MethodNotAllowed;
    }
    match err.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            limit: crate::http::body::MAX_BODY_BYTES,
        },
        StatusCode::NOT_FOUND => ApiError::NotFound("no such route"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
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
