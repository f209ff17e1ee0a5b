//! The Model Context Protocol server at `/mcp`: the same tasks, users, rules and limits as the
//! REST API, as tools an AI assistant calls.
//!
//! - [`transport`]: the official Rust SDK's (`rmcp`) Streamable HTTP transport, stateless (no
//!   session lives in the process, so any replica answers any request), mounted into poem.
//! - [`auth`]: `Authorization: Bearer <JWT>` checked by the app's [`Authenticator`] in front of
//!   the transport, the rate limit applied, and the caller handed to the tools; a 401 names the
//!   protected resource metadata (RFC 9728), which [`metadata`] serves.
//! - [`server`]: the MCP handler: lists the tools and dispatches calls, one log line per call.
//! - [`tools`]: the catalogue: names, descriptions, annotations and JSON Schemas.
//! - [`calls`]: what each tool does, through the [`TaskStore`] and the domain's own validation.
//! - [`schemas`]: the tools' arguments and results; [`json_schema`] writes their JSON Schemas.
//!
//! This module is part of the HTTP layer: [`crate::http::routes`] mounts it inside the same
//! middleware as the REST routes (request log and metrics, CORS, problem responses, the request
//! time limit), and it reads the same [`AppState`].
//!
//! [`Authenticator`]: crate::auth::Authenticator
//! [`TaskStore`]: crate::store::TaskStore

pub(super) mod auth;
pub(super) mod calls;
pub(super) mod json_schema;
pub(super) mod metadata;
pub(super) mod schemas;
pub(super) mod server;
pub(super) mod tools;
pub(super) mod transport;

use poem::http::Method;
use poem::{EndpointExt, Route, get, post};

use crate::http::AppState;
use crate::http::limits::time_limited;
use crate::http::routes::RouteTable;

/// Where MCP clients connect (Streamable HTTP).
pub(super) const MCP_PATH: &str = "/mcp";

/// The protected resource metadata (RFC 9728) that a 401 from [`MCP_PATH`] points to.
pub(super) const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// The same document at the path RFC 9728 derives from the resource's own path, where MCP
/// clients look when a 401 does not name it.
pub(super) const RESOURCE_METADATA_PATH_FOR_MCP: &str = "/.well-known/oauth-protected-resource/mcp";

/// Adds `POST /mcp` and the resource metadata to `route`, and records their methods in
/// `allowed` (any other method is a 405 problem, like every route's).
///
/// Only POST reaches the transport: a stateless server has no stream to resume (GET) and no
/// session to end (DELETE), and MCP clients take the 405 for that answer.
pub(super) fn mount(route: Route, allowed: &mut RouteTable, state: &AppState) -> Route {
    allowed.add(MCP_PATH, Method::POST);
    allowed.add(RESOURCE_METADATA_PATH, Method::GET);
    allowed.add(RESOURCE_METADATA_PATH_FOR_MCP, Method::GET);
    let mcp = transport::endpoint(state).around(auth::authenticate);
    let metadata = metadata::ResourceMetadata::new(state);
    route
        .at(MCP_PATH, post(time_limited(mcp)))
        .at(RESOURCE_METADATA_PATH, get(time_limited(metadata.clone())))
        .at(RESOURCE_METADATA_PATH_FOR_MCP, get(time_limited(metadata)))
}
