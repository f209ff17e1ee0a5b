//! The MCP handler `rmcp` runs for each request: `initialize`, `tools/list` and `tools/call`.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::http::mcp::auth::caller;
use crate::http::mcp::calls;
use crate::http::mcp::tools::{Catalogue, ToolName};
use crate::store::TaskStore;

/// What the server tells a client at `initialize`.
const INSTRUCTIONS: &str = "Manages the signed-in user's todo tasks: the same tasks and rules \
    as the todo-api REST API and its apps. Find a task's id with list_tasks before changing it. \
    Times are RFC 3339 with an offset; list_tasks returns the server's current time as `now`. \
    A tool result with isError explains what to correct.";

/// The MCP server: stateless, so one is made per request from these shared parts.
#[derive(Clone)]
pub(crate) struct TodoServer {
    store: Arc<dyn TaskStore>,
    catalogue: Arc<Catalogue>,
}

impl TodoServer {
    /// A server over `store` offering the tools of `catalogue`.
    pub(crate) fn new(store: Arc<dyn TaskStore>, catalogue: Arc<Catalogue>) -> Self {
        Self { store, catalogue }
    }
}

impl ServerHandler for TodoServer {
    fn get_info(&self) -> ServerConfig {
        let mut implementation = Implementation::new("todo-api", env!("CARGO_PKG_VERSION"));
        implementation.title = Some("todo-api".into());
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(implementation)
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.catalogue.tools().to_vec(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.catalogue.get(name).cloned()
    }

    /// Runs a tool for the caller the bearer token names. An unknown tool is a protocol error
    /// (`-32602`, as MCP says); everything that goes wrong inside a tool is a result with
    /// `isError: true`. One log line per call names the tool and the outcome, never the
    /// arguments.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some((identity, span)) = caller(context.extensions.get()) else {
            // Unreachable: `/mcp` is only mounted behind `auth::authenticate`.
            return Err(ErrorData::internal_error("the caller is not known", None));
        };
        let Some(tool) = ToolName::parse(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{}`: tools/list names them", request.name),
                None,
            ));
        };
        let arguments = request.arguments.unwrap_or_default();
        let result = calls::call(tool, self.store.as_ref(), &identity.user_id, arguments).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(err) if err.server_fault => "failed",
            Err(_) => "refused",
        };
        span.in_scope(|| {
            tracing::info!(
                target: "todo_api::mcp",
                tool = tool.as_str(),
                outcome,
                user_id = identity.user_id.as_str(),
                "tool call"
            );
        });
        Ok(match result {
            Ok(value) => CallToolResult::structured(value),
            Err(err) => CallToolResult::error(vec![ContentBlock::text(err.message)]),
        }
        .into())
    }
}
