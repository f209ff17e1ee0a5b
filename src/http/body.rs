//! JSON request bodies, parsed strictly: malformed JSON is a 400, and a body that parses but
//! is invalid is a 422 naming every bad field, unknown fields included (the spec says
//! `additionalProperties: false`). (poem-openapi's own `Json` turns `5` into `"5"` for a string
//! field and cannot name fields, so bodies go through [`Fields`] instead: serde's derive could
//! not either, as it stops at the first bad field.)
//!
//! Also the request [`fingerprint`]: SHA-256 (from `ring`) of the body's canonical JSON.

use chrono::{DateTime, FixedOffset};
use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::{ParseFromJSON, Type};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde_json::{Map, Value};

use crate::domain::Timestamp;
use crate::http::duplicates;
use crate::http::error::{ApiError, FieldError};
use crate::http::settings::{BODY_READ_TIMEOUT, MAX_BODY_BYTES};

/// A request body type: its schema (for the spec) comes from `Type`, its parsing from here.
pub(crate) trait RequestSchema: Type {
    /// What a valid body becomes.
    type Output: Send;

    /// Reads the body's fields; every problem is recorded in `fields`.
    fn parse(fields: &mut Fields<'_>) -> Option<Self::Output>;

    /// States in the registered schema of `Self` what its derive cannot (rules that live in
    /// domain types, `minProperties`).
    fn constrain(_registry: &mut Registry) {}
}

/// A field as it stands in the body.
pub(crate) enum Field<T> {
    /// Not in the body.
    Absent,
    /// Present as `null`.
    Null,
    /// Present with a value of the right type.
    Value(T),
}

/// The fields of a JSON object body, and the errors found reading them.
pub(crate) struct Fields<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    /// Records an error about `field`.
    pub(crate) fn error(&mut self, field: &str, detail: impl Into<String>) {
        self.errors.push(FieldError::new(field, detail));
    }

    /// A string field; `None` (with an error recorded) when it has another type.
    pub(crate) fn string(&mut self, name: &str) -> Option<Field<&'a str>> {
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
    pub(crate) fn boolean(&mut self, name: &str) -> Option<Field<bool>> {
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

    /// A string field holding one of the values of the enum `T` (its schema's `enum`).
    pub(crate) fn choice<T: ParseFromJSON>(&mut self, name: &str) -> Option<Field<T>> {
        match self.string(name)? {
            Field::Absent => Some(Field::Absent),
            Field::Null => Some(Field::Null),
            Field::Value(raw) => match T::parse_from_json(Some(Value::String(raw.to_owned()))) {
                Ok(value) => Some(Field::Value(value)),
                Err(_) => {
                    let schema = Registry::new().create_fake_schema::<T>();
                    let values: Vec<&str> =
                        schema.enum_items.iter().filter_map(Value::as_str).collect();
                    self.error(name, format!("must be one of: {}", values.join(", ")));
                    None
                }
            },
        }
    }

    /// An RFC 3339 timestamp field (the offset is kept), within [`Timestamp`]'s rule.
    pub(crate) fn timestamp(&mut self, name: &str) -> Option<Field<DateTime<FixedOffset>>> {
        match self.string(name)? {
            Field::Absent => Some(Field::Absent),
            Field::Null => Some(Field::Null),
            Field::Value(raw) => match Timestamp::parse(raw) {
                Ok(at) => Some(Field::Value(at)),
                Err(why) => {
                    self.error(name, why);
                    None
                }
            },
        }
    }

    /// A field holding an array of strings.
    pub(crate) fn strings(&mut self, name: &str) -> Option<Field<Vec<&'a str>>> {
        match self.object.get(name) {
            None => Some(Field::Absent),
            Some(Value::Null) => Some(Field::Null),
            Some(Value::Array(items)) => {
                let strings: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                if strings.is_none() {
                    self.error(name, "must be an array of strings");
                }
                strings.map(Field::Value)
            }
            Some(other) => {
                self.error(
                    name,
                    format!("must be an array of strings, not {}", json_kind(other)),
                );
                None
            }
        }
    }

    /// A field holding a JSON object of schema `S`, read with its own [`Fields`] (errors are
    /// prefixed with `name.`); as strict as the body: a field `S` does not declare is an error.
    pub(crate) fn object<S: Type, T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&mut Fields<'a>) -> Option<T>,
    ) -> Option<Field<T>> {
        match self.object.get(name) {
            None => Some(Field::Absent),
            Some(Value::Null) => Some(Field::Null),
            Some(Value::Object(inner)) => {
                let mut fields = Fields {
                    object: inner,
                    errors: Vec::new(),
                };
                let parsed = parse(&mut fields);
                reject_unknown_fields::<S>(&mut fields);
                for error in fields.errors {
                    self.error(&format!("{name}.{}", error.field), error.detail);
                }
                parsed.map(Field::Value)
            }
            Some(other) => {
                self.error(name, format!("must be an object, not {}", json_kind(other)));
                None
            }
        }
    }

    /// A whole-number field within `min..=max`.
    pub(crate) fn integer(&mut self, name: &str, min: u32, max: u32) -> Option<Field<u32>> {
        match self.object.get(name) {
            None => Some(Field::Absent),
            Some(Value::Null) => Some(Field::Null),
            Some(Value::Number(n)) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) if (min..=max).contains(&n) => Some(Field::Value(n)),
                _ => {
                    self.error(name, format!("must be a whole number from {min} to {max}"));
                    None
                }
            },
            Some(other) => {
                self.error(name, format!("must be a number, not {}", json_kind(other)));
                None
            }
        }
    }

    /// An id field (of a task or list): a whole number from 1 below 2^53; a string (even of
    /// digits) is refused, as is any other type.
    pub(crate) fn id(&mut self, name: &str) -> Option<Field<i64>> {
        match self.object.get(name) {
            None => Some(Field::Absent),
            Some(Value::Null) => Some(Field::Null),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(id) if (1..MAX_ID).contains(&id) => Some(Field::Value(id)),
                _ => {
                    self.error(name, "must be an id: a whole number from 1");
                    None
                }
            },
            Some(other) => {
                self.error(
                    name,
                    format!("must be an id (a number), not {}", json_kind(other)),
                );
                None
            }
        }
    }

    /// Records each domain-rule issue.
    pub(crate) fn issues(&mut self, issues: Vec<crate::domain::FieldIssue>) {
        for issue in issues {
            self.error(issue.field, issue.message);
        }
    }
}

/// Ids are below 2^53, so that a JavaScript `number` holds them exactly.
pub(crate) const MAX_ID: i64 = 1 << 53;

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
pub(crate) struct JsonBody<T: RequestSchema> {
    /// The parsed body.
    pub(crate) value: T::Output,
    /// A hash of the body's canonical JSON (keys sorted): equal for equal requests.
    pub(crate) fingerprint: String,
}

/// An optional JSON body: `None` when the request has no body.
pub(crate) struct OptionalJsonBody<T: RequestSchema>(pub(crate) Option<T::Output>);

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

/// `application/json`, in UTF-8 (the only charset JSON has, RFC 8259): a charset parameter
/// naming another is refused rather than guessed at.
fn check_media_type(content_type: &str) -> Result<(), ApiError> {
    let Ok(mime) = content_type.parse::<mime::Mime>() else {
        return Err(ApiError::UnsupportedMediaType(format!(
            "`{content_type}` is not a media type: send `Content-Type: application/json`"
        )));
    };
    if mime.type_() != mime::APPLICATION || mime.subtype() != mime::JSON || mime.suffix().is_some()
    {
        return Err(ApiError::UnsupportedMediaType(format!(
            "the body must be `application/json`, not `{content_type}`"
        )));
    }
    match mime.get_param(mime::CHARSET) {
        Some(charset) if !charset.as_str().eq_ignore_ascii_case("utf-8") => {
            Err(ApiError::UnsupportedMediaType(format!(
                "the body must be UTF-8, not `{charset}`: send `Content-Type: application/json` \
                 (or `; charset=utf-8`)"
            )))
        }
        _ => Ok(()),
    }
}

/// The body as sent, or a 415: this server decodes no content coding (gzip, deflate, br…).
fn check_content_encoding(request: &Request) -> Result<(), ApiError> {
    let encodings: Vec<&str> = request
        .headers()
        .get_all(poem::http::header::CONTENT_ENCODING)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("?").split(','))
        .map(str::trim)
        .filter(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("identity"))
        .collect();
    if encodings.is_empty() {
        return Ok(());
    }
    Err(ApiError::UnsupportedMediaType(format!(
        "the body is encoded (`Content-Encoding: {}`), which this server does not decode: \
         send it unencoded",
        encodings.join(", ")
    )))
}

/// Reads at most the configured limit ([`MAX_BODY_BYTES`] by default) of the body, within the
/// configured time (a body that stalls is a 408).
async fn read_limited(request: &Request, body: &mut RequestBody) -> Result<Vec<u8>, ApiError> {
    let state = request.data::<crate::http::AppState>();
    let limit = state.map_or(MAX_BODY_BYTES, |state| state.max_body_bytes);
    let within = state.map_or(BODY_READ_TIMEOUT, |state| state.body_read_timeout);
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
    let read = tokio::time::timeout(within, body.into_bytes_limit(limit))
        .await
        .map_err(|_| ApiError::RequestTimeout(within))?;
    match read {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(poem::error::ReadBodyError::PayloadTooLarge) => Err(too_large),
        Err(err) => Err(ApiError::MalformedJson(format!(
            "could not read the body: {err}"
        ))),
    }
}

fn check_content_type(request: &Request) -> Result<(), ApiError> {
    check_content_encoding(request)?;
    match request.content_type() {
        Some(ct) => check_media_type(ct),
        None => Err(ApiError::UnsupportedMediaType(
            "the request has a body but no `Content-Type: application/json` header".into(),
        )),
    }
}

/// The SHA-256 of `data`, in hex: tells one request (an idempotent retry, the query a cursor
/// was issued for) from a different one.
pub(crate) fn fingerprint(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_json<T: RequestSchema>(bytes: &[u8]) -> Result<(T::Output, String), ApiError> {
    let (value, repeated) =
        duplicates::parse(bytes).map_err(|err| ApiError::MalformedJson(err.to_string()))?;
    if !repeated.is_empty() {
        return Err(ApiError::Validation(
            repeated
                .iter()
                .map(|path| {
                    FieldError::new(path, "appears more than once in the body: send it once")
                })
                .collect(),
        ));
    }
    let canonical = fingerprint(value.to_string().as_bytes());
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
    reject_unknown_fields::<T>(&mut fields);
    match parsed {
        Some(output) if fields.errors.is_empty() => Ok((output, canonical)),
        _ if fields.errors.is_empty() => Err(ApiError::invalid("body", "is invalid")),
        _ => Err(ApiError::Validation(fields.errors)),
    }
}

/// Records an error for every field of the body that the schema of `T` does not declare.
fn reject_unknown_fields<T: Type>(fields: &mut Fields<'_>) {
    let declared = Registry::new().create_fake_schema::<T>().properties;
    let is_declared = |name: &str| declared.iter().any(|(field, _)| *field == name);
    let object = fields.object;
    let mut unknown = object.keys().filter(|name| !is_declared(name)).peekable();
    if unknown.peek().is_none() {
        return;
    }
    let known: Vec<String> = declared.iter().map(|(f, _)| format!("`{f}`")).collect();
    let detail = format!(
        "is not a field of this body (it takes {})",
        known.join(", ")
    );
    for name in unknown {
        fields.error(name, detail.clone());
    }
}

/// Registers the schema of `T`, with what its derive cannot say.
fn register_schema<T: RequestSchema>(registry: &mut Registry) {
    T::register(registry);
    T::constrain(registry);
}

impl<'a, T: RequestSchema> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_schema::<T>(registry);
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
        let (value, fingerprint) = parse_json::<T>(&bytes)?;
        Ok(Self { value, fingerprint })
    }
}

impl<'a, T: RequestSchema> ApiExtractor<'a> for OptionalJsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_schema::<T>(registry);
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
        Ok(Self(Some(parse_json::<T>(&bytes)?.0)))
    }
}
