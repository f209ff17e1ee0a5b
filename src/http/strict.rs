//! Requests that could mean two things, or that cost more than any request of this API needs,
//! are refused with a problem before anything acts on them:
//!
//! - [`Strict`] (before routing): a URL longer than [`MAX_URI_BYTES`] (414), a header section
//!   larger than [`MAX_HEADER_BYTES`] or with more than [`MAX_HEADERS`] fields (431), a header
//!   that names one thing given twice (400), a path that is not UTF-8 once percent-decoded (400),
//!   and a declared body over `MAX_BODY_BYTES` (413, before a byte of it is read);
//! - [`check_query`] (once the route is known, before the operation runs): a query parameter the
//!   operation does not take, or one it takes once given twice (422, on every route);
//! - [`expectation`]: what a parameter's value must be, in words, for the 422 of a value that
//!   does not parse (instead of the parser's own words about internal formats).
//!
//! (The limits hyper itself enforces beyond these, on a request it cannot parse at all, are
//! answered by hyper, without a body.)

use percent_encoding::percent_decode_str;
use poem::error::ResponseError as _;
use poem::http::{HeaderName, header};
use poem::{Endpoint, IntoResponse, Middleware, PathPattern, Request, Response};
use poem_openapi::registry::{MetaParamIn, MetaSchema, MetaSchemaRef, Registry};

use crate::domain::Timestamp;
use crate::http::error::{ApiError, FieldError};
use crate::http::routes::RouteTable;
pub(crate) use crate::http::settings::{MAX_HEADER_BYTES, MAX_HEADERS, MAX_URI_BYTES};

/// Headers that name one thing: given twice, the request means two things.
const SINGULAR: [HeaderName; 5] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::HOST,
    HeaderName::from_static("idempotency-key"),
];

/// The checks made before routing.
pub(crate) struct Strict {
    max_body_bytes: usize,
}

impl Strict {
    /// Refuses declared bodies over `max_body_bytes`, among the rest.
    pub(crate) fn new(max_body_bytes: usize) -> Self {
        Self { max_body_bytes }
    }
}

impl<E: Endpoint> Middleware<E> for Strict {
    type Output = StrictEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        StrictEndpoint {
            inner,
            max_body_bytes: self.max_body_bytes,
        }
    }
}

/// [`Strict`] applied to an endpoint.
pub(crate) struct StrictEndpoint<E> {
    inner: E,
    max_body_bytes: usize,
}

impl<E> StrictEndpoint<E> {
    fn check(&self, req: &Request) -> Result<(), ApiError> {
        let uri_bytes = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
        if uri_bytes > MAX_URI_BYTES {
            return Err(ApiError::UriTooLong {
                limit: MAX_URI_BYTES,
            });
        }
        let headers = req.headers();
        if headers.len() > MAX_HEADERS {
            return Err(ApiError::HeadersTooLarge(format!(
                "the request has {} header fields; the limit is {MAX_HEADERS}",
                headers.len()
            )));
        }
        let header_bytes: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        if header_bytes > MAX_HEADER_BYTES {
            return Err(ApiError::HeadersTooLarge(format!(
                "the request's header fields hold {header_bytes} bytes; the limit is \
                 {MAX_HEADER_BYTES}"
            )));
        }
        for name in &SINGULAR {
            if headers.get_all(name).iter().nth(1).is_some() {
                return Err(ApiError::BadRequest(format!(
                    "the `{name}` header is given more than once: send it once"
                )));
            }
        }
        if req
            .uri()
            .path()
            .split('/')
            .any(|segment| percent_decode_str(segment).decode_utf8().is_err())
        {
            return Err(ApiError::BadRequest(
                "the path is not valid UTF-8 once percent-decoded".into(),
            ));
        }
        let declared = headers.get(header::CONTENT_LENGTH).map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        });
        match declared {
            Some(None) => Err(ApiError::BadRequest(
                "the `content-length` header is not a number of bytes".into(),
            )),
            Some(Some(length)) if length > self.max_body_bytes as u64 => {
                Err(ApiError::PayloadTooLarge {
                    limit: self.max_body_bytes,
                })
            }
            _ => Ok(()),
        }
    }
}

impl<E: Endpoint> Endpoint for StrictEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        if let Err(err) = self.check(&req) {
            return Ok(err.as_response());
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

/// Refuses a query parameter the operation of the matched route does not take (none, for a
/// route outside the API), one it takes once given more than once, and one that is not UTF-8.
pub(crate) fn check_query(req: &Request) -> Result<(), ApiError> {
    let Some(query) = req.uri().query() else {
        return Ok(());
    };
    let (Some(table), Some(pattern)) = (
        req.data::<std::sync::Arc<RouteTable>>(),
        req.data::<PathPattern>(),
    ) else {
        return Ok(());
    };
    let params = table.params(pattern, req.method());
    let mut errors: Vec<FieldError> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut error = |field: &str, detail: String| {
        if !errors.iter().any(|e| e.field == field) {
            errors.push(FieldError::new(field, detail));
        }
    };
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(name), Some(_)) = (form_decode(raw_name), form_decode(raw_value)) else {
            error(
                &form_decode_lossy(raw_name),
                "is not valid UTF-8 once percent-decoded".into(),
            );
            continue;
        };
        let declared = params
            .iter()
            .find(|p| p.location == MetaParamIn::Query && p.name == name);
        match declared {
            None => {
                let takes: Vec<String> = params
                    .iter()
                    .filter(|p| p.location == MetaParamIn::Query)
                    .map(|p| format!("`{}`", p.name))
                    .collect();
                let takes = if takes.is_empty() {
                    "it takes none".to_owned()
                } else {
                    format!("it takes {}", takes.join(", "))
                };
                error(
                    &name,
                    format!("is not a parameter of this operation ({takes})"),
                );
            }
            Some(param) if !param.repeatable && seen.contains(&name) => {
                error(&name, "is given more than once: give it once".into());
            }
            Some(_) => seen.push(name),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A query component (`+` is a space), percent-decoded; `None` when it is not UTF-8.
fn form_decode(raw: &str) -> Option<String> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

fn form_decode_lossy(raw: &str) -> String {
    percent_decode_str(&raw.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// What a value of `schema` must be, in words, when that can be said better than the parser
/// says it (`None` otherwise).
pub(crate) fn expectation(schema: &MetaSchemaRef, registry: &Registry) -> Option<String> {
    let schema = resolve(schema, registry)?;
    if schema.ty == "array" {
        let items = schema.items.as_deref()?;
        return expectation(items, registry).map(|each| format!("each value {each}"));
    }
    if !schema.enum_items.is_empty() {
        let values: Vec<&str> = schema
            .enum_items
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        return Some(format!("must be one of: {}", values.join(", ")));
    }
    match (schema.ty, schema.format) {
        ("integer", _) => Some(match (schema.minimum, schema.maximum) {
            (Some(min), Some(max)) => format!("must be a whole number from {min} to {max}"),
            _ => "must be a whole number".to_owned(),
        }),
        ("boolean", _) => Some("must be true or false".to_owned()),
        ("string", Some("date-time")) => Some(Timestamp::NOT_RFC3339.to_owned()),
        ("string", _) => match (schema.min_length, schema.max_length, &schema.pattern) {
            (_, _, Some(pattern)) => Some(format!("must match the pattern {pattern}")),
            (Some(min), Some(max), None) => Some(format!("must be {min} to {max} characters")),
            (None, Some(max), None) => Some(format!("must be at most {max} characters")),
            _ => None,
        },
        _ => None,
    }
}

/// The schema itself: a reference resolved, and an inline `allOf: [$ref]` (how a parameter with
/// a default refers to its type) followed.
pub(crate) fn resolve<'a>(
    schema: &'a MetaSchemaRef,
    registry: &'a Registry,
) -> Option<&'a MetaSchema> {
    match schema {
        MetaSchemaRef::Inline(inline) if inline.ty.is_empty() || inline.ty == "object" => {
            match inline.all_of.first() {
                Some(inner) => resolve(inner, registry),
                None => Some(inline),
            }
        }
        MetaSchemaRef::Inline(inline) => Some(inline),
        MetaSchemaRef::Reference(name) => registry.schemas.get(name),
    }
}
