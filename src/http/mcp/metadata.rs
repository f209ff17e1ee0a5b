//! `GET /.well-known/oauth-protected-resource`: the protected resource metadata (RFC 9728) an
//! MCP client reads after a 401 to learn where users sign in.
//!
//! The document names this resource (`{base}/mcp`) and, when `BETTER_AUTH_URL` is set, Better
//! Auth (its issuer) as the authorization server. The base URL is the one the client used:
//! `X-Forwarded-Proto` and `X-Forwarded-Host` when a proxy in front sets them, else the
//! request's own scheme and `Host`. (They only shape what this same client is told.)

use poem::http::header;
use poem::{Endpoint, IntoResponse, Request, Response};
use serde::Serialize;

use crate::http::AppState;
use crate::http::mcp::{MCP_PATH, RESOURCE_METADATA_PATH};

/// The endpoint serving the document.
#[derive(Clone, Debug)]
pub(crate) struct ResourceMetadata {
    authorization_server: Option<String>,
}

impl ResourceMetadata {
    /// The document for `state`'s verifiers: Better Auth's issuer when its key set is trusted.
    pub(crate) fn new(state: &AppState) -> Self {
        Self {
            authorization_server: state.jwks.as_ref().map(|jwks| jwks.issuer().to_owned()),
        }
    }
}

/// The fields of RFC 9728, section 2, that this resource has.
#[derive(Serialize)]
struct Document<'a> {
    resource: String,
    resource_name: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authorization_servers: Vec<&'a str>,
    bearer_methods_supported: [&'static str; 1],
}

impl Endpoint for ResourceMetadata {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let base = public_base(&req);
        let document = Document {
            resource: format!("{base}{MCP_PATH}"),
            resource_name: "todo-api",
            authorization_servers: self.authorization_server.as_deref().into_iter().collect(),
            bearer_methods_supported: ["header"],
        };
        Ok(poem::web::Json(document)
            .with_header(header::CACHE_CONTROL, "public, max-age=300")
            .into_response())
    }
}

/// Where the resource metadata of the server `req` reached is.
pub(crate) fn resource_metadata_url(req: &Request) -> String {
    format!("{}{RESOURCE_METADATA_PATH}", public_base(req))
}

/// `scheme://host[:port]` as the client addressed this server.
fn public_base(req: &Request) -> String {
    let first = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let scheme = first("x-forwarded-proto")
        .map(|p| p.to_ascii_lowercase())
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| req.scheme().as_str().to_owned());
    let host = first("x-forwarded-host")
        .or_else(|| first(header::HOST.as_str()))
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))
        .filter(|host| is_authority(host))
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{scheme}://{host}")
}

/// A host name or address with an optional port: nothing that could break out of the quoted
/// string of a `WWW-Authenticate` parameter or out of the URL.
fn is_authority(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_authorities_make_the_base_url() {
        assert!(is_authority("todo.example.com"));
        assert!(is_authority("127.0.0.1:8080"));
        assert!(is_authority("[::1]:80"));
        assert!(!is_authority("evil\"host"));
        assert!(!is_authority("a b"));
        assert!(!is_authority("host/path"));
        assert!(!is_authority(""));
    }

    #[test]
    fn the_base_follows_the_proxy_headers() {
        let req = Request::builder()
            .header("host", "10.0.0.5:8080")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "todo.example.com, proxy.internal")
            .finish();
        assert_eq!(public_base(&req), "https://todo.example.com");
        let req = Request::builder().header("host", "127.0.0.1:3000").finish();
        assert_eq!(
            resource_metadata_url(&req),
            "http://127.0.0.1:3000/.well-known/oauth-protected-resource"
        );
        let req = Request::builder()
            .header("host", "a\"b")
            .header("x-forwarded-proto", "gopher")
            .finish();
        assert_eq!(public_base(&req), "http://localhost");
    }
}
