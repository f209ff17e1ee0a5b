//! Swagger UI at `/docs` (vendored; no internet needed), loading `/openapi.json`, served with a
//! Content-Security-Policy and `X-Frame-Options: DENY`.

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Path, Redirect};
use poem::{IntoResponse, Response, handler};
use utoipa_swagger_ui::Config;

use crate::http::error::ApiError;

/// Where Swagger UI is served.
pub(crate) const DOCS_PATH: &str = "/docs";

/// The route of Swagger UI's files.
pub(crate) const FILES_PATH: &str = "/docs/*path";

fn config() -> Arc<Config<'static>> {
    Arc::new(
        Config::new(["/openapi.json"])
            .persist_authorization(true)
            .try_it_out_enabled(true)
            .display_request_duration(true),
    )
}

/// What Swagger UI's page may load and do: its own files, the spec and the API (same origin),
/// inline styles and `data:` images (which Swagger UI uses); nothing else, and no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Adds the headers every Swagger UI answer carries.
fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `/docs` → `/docs/` (Swagger UI loads its files relative to the page).
#[handler]
pub(crate) fn docs_root() -> Response {
    secured(Redirect::permanent(format!("{DOCS_PATH}/")).into_response())
}

/// One Swagger UI file.
#[handler]
pub(crate) fn docs_file(Path(path): Path<String>) -> poem::Result<Response> {
    let file = utoipa_swagger_ui::serve(&path, config())
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("swagger ui: {err}")))?
        .ok_or(ApiError::NotFound("no such file"))?;
    let mut response = file
        .bytes
        .into_owned()
        .with_status(StatusCode::OK)
        .with_content_type(file.content_type)
        .into_response();
    if file.gzpipped {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(secured(response))
}
