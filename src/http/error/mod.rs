//! Errors of the HTTP layer, told to clients as RFC 9457 problems (`application/problem+json`).
//!
//! - this module: [`ApiError`], the one error type of a request, with its status, headers and
//!   problem body, and how auth and store errors become one;
//! - [`problem`]: the problem body ([`Problem`], [`FieldError`]), its payload ([`ProblemJson`])
//!   and the JSON writer every response body goes through;
//! - [`declared`]: how an operation declares in the spec which problems it can answer
//!   ([`Failure`] and the error sets).
//!
//! Nothing here depends on the rest of `http`, so every other module can use it.

mod declared;
mod problem;

pub(crate) use declared::{
    ChangeErrors, ConflictingChangeErrors, ConflictingCreateErrors, ConflictingDeleteErrors,
    CreateErrors, DeleteErrors, Failure, FeedErrors, HealthErrors, ListErrors, ReadErrors,
    ReadyErrors,
};
pub(crate) use problem::{FieldError, Problem, ProblemJson, json_response};

use poem::error::ResponseError;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};

use crate::auth::AuthError;
use crate::domain::{TaskDescription, TaskTitle};
use crate::store::{Quota, StoreError};

/// The most field errors a problem lists (a body of thousands of unknown fields gets a bounded
/// answer; the detail says how many more there were).
const MAX_FIELD_ERRORS: usize = 50;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// 400: the body is not JSON.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// 400: the request itself is malformed (its path, a header), whatever its body.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no usable token.
    #[error("{0}")]
    Unauthorized(AuthError),
    /// 403: the path names another user.
    #[error("the path's user id is not the token's user")]
    Forbidden,
    /// 403: the write would take the user past a per-user quota.
    #[error("{0}")]
    QuotaExceeded(Quota),
    /// 404: no such task (or list) for this user, or no such route.
    #[error("{0}")]
    NotFound(&'static str),
    /// 405: the route exists, the method does not.
    #[error("this method is not allowed on this path; it allows {allow}")]
    MethodNotAllowed {
        /// The methods the path does allow, e.g. `GET, HEAD, POST` (the `Allow` header).
        allow: String,
    },
    /// 408: the body did not arrive within the server's time limit.
    #[error("the request body did not arrive within {0:?}: send it at once")]
    RequestTimeout(std::time::Duration),
    /// 409: the change conflicts with the current state (a list name in use, a list that still
    /// has tasks).
    #[error("{0}")]
    Conflict(String),
    /// 410: a change feed cursor older than the retention window: start over without one.
    #[error(
        "the cursor is older than the change feed keeps deletions (CHANGES_RETENTION), or not \
         from this database: read the whole state again, without `since`, and continue from its cursor"
    )]
    CursorExpired,
    /// 412: `If-Match` names a version the task (or list) no longer has.
    #[error("the task or list has changed since the version in If-Match")]
    PreconditionFailed,
    /// 413: the body is larger than the limit.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// 414: the URL (path and query) is longer than the limit.
    #[error("the URL is longer than {limit} bytes")]
    UriTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// 415: the body is not `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: the input parsed but is invalid; one entry per bad field.
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    /// 431: the header section is larger than the limit.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// 429: the caller used up their requests for now.
    #[error("too many requests: retry in {retry_after} seconds")]
    RateLimited {
        /// Seconds until a request will be accepted again.
        retry_after: u64,
    },
    /// 503: the request took longer than the server's time limit.
    #[error("the request took longer than the server's limit of {0:?}")]
    Timeout(std::time::Duration),
    /// 503: the database cannot be reached right now.
    #[error("the database is unavailable")]
    Unavailable(#[source] StoreError),
    /// 503: the sign-in provider's keys (JWKS) cannot be fetched, and none that decides this
    /// request is cached.
    #[error("the sign-in provider's keys (JWKS) are unavailable")]
    KeysUnavailable {
        /// Seconds until the server tries to fetch the keys again.
        retry_after_secs: u64,
    },
    /// 500: a bug or an unexpected state; logged in full, told to the client as nothing more.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 422 about one field.
    pub(crate) fn invalid(field: &str, detail: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, detail)])
    }

    /// The problem body for this error. Internal details are never included.
    pub(crate) fn problem(&self) -> Problem {
        let status = self.status();
        let (slug, title) = match self {
            Self::MalformedJson(_) => ("malformed-json", "Malformed JSON"),
            Self::BadRequest(_) => ("bad-request", "Bad Request"),
            Self::QuotaExceeded(_) => ("quota-exceeded", "Quota Exceeded"),
            Self::RequestTimeout(_) => ("request-timeout", "Request Timeout"),
            Self::UriTooLong { .. } => ("uri-too-long", "URI Too Long"),
            Self::HeadersTooLarge(_) => ("headers-too-large", "Request Header Fields Too Large"),
            Self::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            Self::Forbidden => ("forbidden", "Forbidden"),
            Self::NotFound(_) => ("not-found", "Not Found"),
            Self::MethodNotAllowed { .. } => ("method-not-allowed", "Method Not Allowed"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::CursorExpired => ("cursor-expired", "Gone"),
            Self::PreconditionFailed => ("precondition-failed", "Precondition Failed"),
            Self::PayloadTooLarge { .. } => ("payload-too-large", "Payload Too Large"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported Media Type"),
            Self::Validation(_) => ("validation", "Validation Failed"),
            Self::RateLimited { .. } => ("rate-limited", "Too Many Requests"),
            Self::Timeout(_) => ("timeout", "Service Unavailable"),
            Self::Unavailable(_) | Self::KeysUnavailable { .. } => {
                ("unavailable", "Service Unavailable")
            }
            Self::Internal(_) => ("internal", "Internal Server Error"),
        };
        let detail = match self {
            Self::Unavailable(_) => {
                "the database is unavailable right now; retry in a moment".to_owned()
            }
            Self::KeysUnavailable { .. } => "the sign-in provider's keys (JWKS) cannot be \
                fetched right now, so tokens cannot be checked; retry in a moment"
                .to_owned(),
            Self::Internal(_) => "something went wrong on our side; it has been logged".to_owned(),
            Self::Validation(errors) => {
                let fields: Vec<&str> = errors
                    .iter()
                    .take(MAX_FIELD_ERRORS)
                    .map(|e| e.field.as_str())
                    .collect();
                let more = errors.len().saturating_sub(MAX_FIELD_ERRORS);
                let more = if more > 0 {
                    format!(" (and {more} more)")
                } else {
                    String::new()
                };
                let fields = fields.join(", ").chars().take(2000).collect::<String>();
                format!("invalid input: {fields}{more}")
            }
            other => other.to_string(),
        };
        Problem {
            r#type: format!("urn:todo-api:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors: match self {
                Self::Validation(errors) => {
                    Some(errors.iter().take(MAX_FIELD_ERRORS).cloned().collect())
                }
                _ => None,
            },
        }
    }

    fn log(&self) {
        match self {
            Self::Internal(err) => tracing::error!(error = ?err, "internal error"),
            Self::Unavailable(err) => tracing::warn!(error = %err, "database unavailable"),
            Self::KeysUnavailable { .. } => {
                tracing::debug!("request not authenticated: the JWKS keys are unavailable");
            }
            Self::Unauthorized(err) => tracing::debug!(reason = %err, "request not authenticated"),
            Self::Timeout(limit) => tracing::warn!(?limit, "request timed out"),
            _ => {}
        }
    }
}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::QuotaExceeded(_) => StatusCode::FORBIDDEN,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::CursorExpired => StatusCode::GONE,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Timeout(_) | Self::Unavailable(_) | Self::KeysUnavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        self.log();
        let mut response = ProblemJson(self.problem()).into_response();
        let headers = response.headers_mut();
        match self {
            Self::Unauthorized(err) => {
                let value = match err {
                    AuthError::Missing => "Bearer".to_owned(),
                    other => format!(
                        "Bearer error=\"invalid_token\", error_description=\"{}\"",
                        other.to_string().replace('"', "'")
                    ),
                };
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            Self::Unavailable(_) | Self::Timeout(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::KeysUnavailable { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            Self::MethodNotAllowed { allow } => {
                if let Ok(value) = HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, value);
                }
            }
            Self::RateLimited { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            // The rest of the body may still be on its way: the connection cannot be reused.
            Self::RequestTimeout(_) | Self::PayloadTooLarge { .. } | Self::UriTooLong { .. } => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::KeysUnavailable { retry_after_secs } => {
                Self::KeysUnavailable { retry_after_secs }
            }
            other => Self::Unauthorized(other),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) | StoreError::NotReady(_) => Self::Unavailable(err),
            StoreError::QuotaExceeded(quota) => Self::QuotaExceeded(quota),
            StoreError::Constraint { ref constraint } => match constraint.as_str() {
                "tasks_title_length" => Self::invalid(
                    "title",
                    format!("must be 1 to {} characters", TaskTitle::MAX_CHARS),
                ),
                "tasks_description_length" => Self::invalid(
                    "description",
                    format!("must be at most {} characters", TaskDescription::MAX_CHARS),
                ),
                // Checked under the user's lock before writing: only a race the lock does not
                // cover (none is known) would meet these.
                "lists_user_name_key" => Self::Conflict(
                    "another list already has this name (names are unique, ignoring case)".into(),
                ),
                "tasks_sibling_position_key" | "lists_user_position_key" => Self::Conflict(
                    "another change to the order was made at the same time: retry".into(),
                ),
                _ => Self::Internal(err.into()),
            },
            other => Self::Internal(other.into()),
        }
    }
}
