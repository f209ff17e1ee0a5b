//! The Streamable HTTP transport: `rmcp`'s tower service, made a poem endpoint.

use std::sync::Arc;

use poem::Endpoint;
use poem::endpoint::TowerCompatExt as _;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};

use crate::http::AppState;
use crate::http::mcp::server::TodoServer;
use crate::http::mcp::tools::Catalogue;

/// How the transport is set up:
///
/// - stateless (`legacy_session_mode: false`, no session manager): each POST carries one
///   JSON-RPC message and is answered on its own, so two replicas can serve one client;
/// - answers as plain JSON rather than an event stream (the tools send nothing before their
///   result), so the request time limit covers the whole call;
/// - no `Host` allow-list: every request carries a bearer token (never a cookie), so a page
///   reached through DNS rebinding has nothing to call with; browsers are held by CORS;
/// - the body limit is the REST API's (`MAX_BODY_BYTES`), here enforced on streamed bodies too.
pub(crate) fn config(max_body_bytes: usize) -> StreamableHttpServerConfig {
    StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_sse_retry(None)
        .disable_allowed_hosts()
        .with_max_request_body_bytes(max_body_bytes)
}

/// The MCP endpoint over `state`'s store. The tool catalogue (names, schemas) is built here,
/// once, at start-up.
pub(crate) fn endpoint(state: &AppState) -> impl Endpoint + use<> {
    let server = TodoServer::new(state.store.clone(), Arc::new(Catalogue::new()));
    StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        config(state.max_body_bytes),
    )
    .compat()
}
