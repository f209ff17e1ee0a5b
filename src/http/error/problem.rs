//! The RFC 9457 problem body of every error response, its `application/problem+json` payload,
//! and [`json_response`], the writer every JSON response body (problems and
//! [`crate::http::json::Json`] alike) goes through.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::Object;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::Serialize;

/// An RFC 9457 problem: what went wrong, for people (`title`, `detail`) and programs (`type`,
/// `status`, `errors`).
#[derive(Clone, Debug, Object, Serialize)]
#[oai(rename = "Problem")]
pub(crate) struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:todo-api:problem:validation`. Stable: branch on it.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub(crate) r#type: String,
    /// A short summary of the kind of problem.
    pub(crate) title: String,
    /// The HTTP status code.
    pub(crate) status: u16,
    /// What happened in this occurrence, in words.
    pub(crate) detail: String,
    /// For validation problems (422): one entry per invalid field or parameter.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) errors: Option<Vec<FieldError>>,
}

/// One invalid field of the body, or one invalid parameter.
#[derive(Clone, Debug, Object, PartialEq, Eq, Serialize)]
pub(crate) struct FieldError {
    /// The body field or parameter name, e.g. `title`.
    pub(crate) field: String,
    /// What is wrong with it.
    pub(crate) detail: String,
}

impl FieldError {
    /// An error about `field`.
    pub(crate) fn new(field: &str, detail: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            detail: detail.into(),
        }
    }
}

/// The `application/problem+json` payload.
pub(crate) struct ProblemJson(pub(crate) Problem);

impl ProblemJson {
    /// The media type of problem bodies.
    pub(crate) const CONTENT_TYPE: &'static str = "application/problem+json";
}

impl Payload for ProblemJson {
    const CONTENT_TYPE: &'static str = ProblemJson::CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        Problem::schema_ref()
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

impl IntoResponse for ProblemJson {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Strings and numbers always encode; the fallback only keeps this total.
        let mut response = json_response(&self.0, Self::CONTENT_TYPE).unwrap_or_else(|_| {
            Response::builder()
                .content_type(Self::CONTENT_TYPE)
                .finish()
        });
        response.set_status(status);
        response
    }
}

/// A response with `value` as its body, encoded as JSON by its serde side, straight into the
/// body (no `serde_json::Value` tree first: that tree was 40% of the CPU of a list; see
/// bench/README.md).
pub(crate) fn json_response<T: Serialize>(
    value: &T,
    content_type: &str,
) -> Result<Response, serde_json::Error> {
    let body = serde_json::to_vec(value)?;
    Ok(Response::builder().content_type(content_type).body(body))
}
