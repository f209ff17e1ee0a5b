//! JSON request bodies, parsed strictly: malformed JSON is a 400, and a body that parses but
//! is invalid is a 422 naming every bad field. (poem-openapi's own `Json` turns `5` into `"5"`
//! for a string field and cannot name fields, so bodies go through [`Fields`] instead.)

use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::http::problem::FieldError;

/// The largest request body accepted by default, in bytes (`MAX_BODY_BYTES` changes it).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A request body type: its schema (for the spec) comes from `Type`, its parsing from here.
pub trait RequestSchema: Type {
    /// What a valid body becomes.
    type Output: Send;

    /// Reads the body's fields; every problem is recorded in `fields`.
    fn parse(fields: &mut Fields<'_>) -> Option<Self::Output>;
}

/// A field as it stands in the body.
pub enum Field<T> {
    /// Not in the body.
    Absent,
    /// Present as `null`.
    Null,
    /// Present with a value of the right type.
    Value(T),
}

/// The fields of a JSON object body, and the errors found reading them.
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    /// Records an error about `field`.
    pub fn error(&mut self, field: &str, detail: impl Into<String>) {
        self.errors.push(FieldError::new(field, detail));
    }

    /// A string field; `None` (with an error recorded) when it has another type.
    pub fn string(&mut self, name: &str) -> Option<Field<&'a str>> {
        match self.object.get(name) {
            None => Some(Field::Absent),
            Some(Value::Null) => Some(Field::Null),
            Some(Value::String(s)) => Some(Field::Value(s.as_str())),
            Some(other) => {
                self.error(name, format!("must be a string, not {}", json_kind(other)));
                None
            }
        }
    }

    /// A boolean field; `None` (with an error recorded) when it has another type.
    pub fn boolean(&mut self, name: &str) -> Option<Field<bool>> {
        match self.object.get(name) {
            None => Some(Field::Absent),
            Some(Value::Null) => Some(Field::Null),
            Some(Value::Bool(b)) => Some(Field::Value(*b)),
            Some(other) => {
                self.error(name, format!("must be a boolean, not {}", json_kind(other)));
                None
            }
        }
    }

    /// Runs a domain `parse` on a value, recording its error under `name`.
    pub fn check<T>(&mut self, name: &str, parsed: Result<T, &'static str>) -> Option<T> {
        parsed.map_err(|why| self.error(name, why)).ok()
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A required JSON body of schema `T`, parsed into `T::Output`.
pub struct JsonBody<T: RequestSchema>(pub T::Output);

/// An optional JSON body: `None` when the request has no body.
pub struct OptionalJsonBody<T: RequestSchema>(pub Option<T::Output>);

fn request_meta<T: Type>(required: bool) -> Option<MetaRequest> {
    Some(MetaRequest {
        description: None,
        content: vec![MetaMediaType {
            content_type: "application/json",
            schema: T::schema_ref(),
        }],
        required,
    })
}

fn is_json(content_type: &str) -> bool {
    matches!(content_type.parse::<mime::Mime>(), Ok(mime)
        if mime.type_() == "application"
            && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json")))
}

/// Reads at most the configured limit ([`MAX_BODY_BYTES`] by default) of the body.
async fn read_limited(request: &Request, body: &mut RequestBody) -> Result<Vec<u8>, ApiError> {
    let limit = request
        .data::<crate::http::AppState>()
        .map_or(MAX_BODY_BYTES, |state| state.max_body_bytes);
    let too_large = ApiError::PayloadTooLarge { limit };
    let declared = request
        .header(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large);
    }
    let body = body
        .take()
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("request body: {err}")))?;
    match body.into_bytes_limit(limit).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(poem::error::ReadBodyError::PayloadTooLarge) => Err(too_large),
        Err(err) => Err(ApiError::MalformedJson(format!(
            "could not read the body: {err}"
        ))),
    }
}

fn check_content_type(request: &Request) -> Result<(), ApiError> {
    match request.content_type() {
        Some(ct) if is_json(ct) => Ok(()),
        Some(ct) => Err(ApiError::UnsupportedMediaType(format!(
            "the body must be `application/json`, not `{ct}`"
        ))),
        None => Err(ApiError::UnsupportedMediaType(
            "the request has a body but no `Content-Type: application/json` header".into(),
        )),
    }
}

fn parse_json<T: RequestSchema>(bytes: &[u8]) -> Result<T::Output, ApiError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|err| ApiError::MalformedJson(err.to_string()))?;
    let Value::Object(object) = value else {
        return Err(ApiError::invalid(
            "body",
            format!("must be a JSON object, not {}", json_kind(&value)),
        ));
    };
    let mut fields = Fields {
        object: &object,
        errors: Vec::new(),
    };
    let parsed = T::parse(&mut fields);
    match parsed {
        Some(output) if fields.errors.is_empty() => Ok(output),
        _ if fields.errors.is_empty() => Err(ApiError::invalid("body", "is invalid")),
        _ => Err(ApiError::Validation(fields.errors)),
    }
}

impl<'a, T: RequestSchema> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        request_meta::<T>(true)
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        check_content_type(request)?;
        let bytes = read_limited(request, body).await?;
        Ok(Self(parse_json::<T>(&bytes)?))
    }
}

impl<'a, T: RequestSchema> ApiExtractor<'a> for OptionalJsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        request_meta::<T>(false)
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let bytes = read_limited(request, body).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        check_content_type(request)?;
        Ok(Self(Some(parse_json::<T>(&bytes)?)))
    }
}
