//! How an operation declares its errors in the spec: its result's error side is a
//! [`Failure<S>`], which carries any [`ApiError`] and lists, as problem responses, the statuses
//! of the [`ErrorSet`] `S`.

use std::marker::PhantomData;

use poem_openapi::ApiResponse;
use poem_openapi::payload::Payload as _;
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;

use super::{ApiError, Problem, ProblemJson};

/// A set of error statuses an operation declares in the spec.
pub(crate) trait ErrorSet: Send + Sync + 'static {
    /// The statuses, in the order the spec lists them.
    const STATUSES: &'static [u16];
}

/// The error side of an operation's result: any [`ApiError`], declared in the spec as a
/// problem response for each status of `S`.
pub(crate) struct Failure<S>(pub(crate) ApiError, PhantomData<S>);

impl<S, E: Into<ApiError>> From<E> for Failure<S> {
    fn from(err: E) -> Self {
        Self(err.into(), PhantomData)
    }
}

impl<S> From<Failure<S>> for poem::Error {
    fn from(failure: Failure<S>) -> Self {
        poem::Error::from(failure.0)
    }
}

impl<S: ErrorSet> ApiResponse for Failure<S> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: S::STATUSES
                .iter()
                .map(|&status| problem_response(status))
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

/// The spec entry of one problem response.
fn problem_response(status: u16) -> MetaResponse {
    let description = match status {
        400 => {
            "The request cannot be read: its body is not valid JSON (`malformed-json`), or its \
             path is not UTF-8 or a header naming one thing is given twice (`bad-request`)."
        }
        401 => {
            "The bearer token is missing, malformed, badly signed, expired, for another issuer or \
             audience, or signed with a key the server does not trust."
        }
        403 => {
            "The `user_id` in the path is not the token's user (`forbidden`), or the change would \
             take the user past a quota (`quota-exceeded`: `MAX_TASKS_PER_USER`, \
             `MAX_TAGS_PER_USER`, `MAX_LISTS_PER_USER`)."
        }
        408 => "The body did not arrive within the server's limit (`BODY_READ_TIMEOUT`).",
        404 => "No such task or list for this user (or it belongs to someone else).",
        409 => {
            "The change conflicts with the current state (`conflict`): a list name already in \
             use (ignoring case), or a list that still has tasks deleted without `tasks`."
        }
        405 => "The method is not allowed on this path.",
        410 => {
            "The cursor is older than the change feed's retention window (`CHANGES_RETENTION`), \
             or not from this database (problem type `urn:todo-api:problem:cursor-expired`): \
             read the whole state again without `since` and continue from its cursor."
        }
        412 => "`If-Match` names a version the task (or list) no longer has: reload it and retry.",
        413 => "The body is larger than the server's limit (`MAX_BODY_BYTES`, 64 KiB by default).",
        414 => "The URL (path and query) is longer than the server's limit (8 KiB).",
        415 => {
            "The body is not `application/json` in UTF-8, or it is encoded (`Content-Encoding`)."
        }
        422 => {
            "The input is invalid; `errors` names each bad field or parameter (a query \
             parameter the operation does not take, or takes once, included)."
        }
        431 => "The header section is larger than 16 KiB or has more than 100 fields.",
        429 => "Too many requests from this user; retry after the `Retry-After` seconds.",
        500 => "An unexpected error; details are logged on the server, never sent.",
        503 => {
            "The database or the sign-in provider's keys (JWKS) are unavailable, or the request \
             took longer than the server's time limit; retry after the `Retry-After` seconds."
        }
        _ => "An error.",
    };
    let headers = match status {
        401 => vec![MetaHeader {
            name: "WWW-Authenticate".into(),
            description: Some("The `Bearer` challenge (RFC 6750).".into()),
            required: true,
            deprecated: false,
            schema: String::schema_ref(),
        }],
        429 | 503 => vec![MetaHeader {
            name: "Retry-After".into(),
            description: Some("Seconds to wait before retrying.".into()),
            required: true,
            deprecated: false,
            schema: u32::schema_ref(),
        }],
        _ => vec![],
    };
    MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: vec![MetaMediaType {
            content_type: ProblemJson::CONTENT_TYPE,
            schema: ProblemJson::schema_ref(),
        }],
        headers,
    }
}

// Every operation can answer 400 (an unreadable path or a repeated header), 413 (a declared
// body over the limit), 414, 422 (a query parameter it does not take) and 431: see
// `crate::http::strict`.

/// Errors of an operation without a body that lists or reads by parameters only.
pub(crate) struct ListErrors;
impl ErrorSet for ListErrors {
    const STATUSES: &'static [u16] = &[400, 401, 403, 413, 414, 422, 429, 431, 500, 503];
}

/// Errors of reading one task.
pub(crate) struct ReadErrors;
impl ErrorSet for ReadErrors {
    const STATUSES: &'static [u16] = &[400, 401, 403, 404, 413, 414, 422, 429, 431, 500, 503];
}

/// Errors of deleting one task (conditional with `If-Match`).
pub(crate) struct DeleteErrors;
impl ErrorSet for DeleteErrors {
    const STATUSES: &'static [u16] = &[400, 401, 403, 404, 412, 413, 414, 422, 429, 431, 500, 503];
}

/// Errors of an operation that creates from a JSON body.
pub(crate) struct CreateErrors;
impl ErrorSet for CreateErrors {
    const STATUSES: &'static [u16] = &[400, 401, 403, 408, 413, 414, 415, 422, 429, 431, 500, 503];
}

/// Errors of an operation on one task, with a JSON body (conditional with `If-Match`).
pub(crate) struct ChangeErrors;
impl ErrorSet for ChangeErrors {
    const STATUSES: &'static [u16] = &[
        400, 401, 403, 404, 408, 412, 413, 414, 415, 422, 429, 431, 500, 503,
    ];
}

/// Errors of creating a list (a name in use is a 409).
pub(crate) struct ConflictingCreateErrors;
impl ErrorSet for ConflictingCreateErrors {
    const STATUSES: &'static [u16] = &[
        400, 401, 403, 408, 409, 413, 414, 415, 422, 429, 431, 500, 503,
    ];
}

/// Errors of changing a list (a name in use is a 409).
pub(crate) struct ConflictingChangeErrors;
impl ErrorSet for ConflictingChangeErrors {
    const STATUSES: &'static [u16] = &[
        400, 401, 403, 404, 408, 409, 412, 413, 414, 415, 422, 429, 431, 500, 503,
    ];
}

/// Errors of deleting a list (one with tasks, without saying where they go, is a 409).
pub(crate) struct ConflictingDeleteErrors;
impl ErrorSet for ConflictingDeleteErrors {
    const STATUSES: &'static [u16] = &[
        400, 401, 403, 404, 409, 412, 413, 414, 422, 429, 431, 500, 503,
    ];
}

/// Errors of the liveness probe: only what any request can get wrong.
pub(crate) struct HealthErrors;
impl ErrorSet for HealthErrors {
    const STATUSES: &'static [u16] = &[400, 413, 414, 422, 431];
}

/// Errors of reading the change feed (from a cursor that may have expired).
pub(crate) struct FeedErrors;
impl ErrorSet for FeedErrors {
    const STATUSES: &'static [u16] = &[401, 403, 410, 422, 429, 500, 503];
}

/// Errors of the readiness probe.
pub(crate) struct ReadyErrors;
impl ErrorSet for ReadyErrors {
    const STATUSES: &'static [u16] = &[400, 413, 414, 422, 431, 503];
}
