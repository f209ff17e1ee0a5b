//! Swagger UI at `/docs` (vendored; no internet needed), loading `/openapi.json`.

use std::sync::Arc;

use poem::http::{StatusCode, header};
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

/// `/docs` → `/docs/` (Swagger UI loads its files relative to the page).
#[handler]
pub(crate) fn docs_root() -> Redirect {
    Redirect::permanent(format!("{DOCS_PATH}/"))
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
        response.headers_mut().insert(
            header::CONTENT_ENCODING,
            "gzip".parse().expect("static header"),
        );
    }
    Ok(response)
}
