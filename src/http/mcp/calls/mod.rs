//! What each tool does: its arguments checked with the domain's own parsers and rules (the
//! REST API's), then the [`TaskStore`] call, scoped to the caller. A bad argument, an unknown
//! task or a broken rule is a [`ToolError`] with a message the model can correct itself from.
//!
//! [`TaskStore`]: crate::store::TaskStore

mod arguments;
mod reads;
mod writes;

use rmcp::model::JsonObject;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::listing::TagQuery;
use crate::domain::{TaskId, UserId};
use crate::http::mcp::schemas::{Cleared, NoArgs, TagList, TagOut};
use crate::http::mcp::tools::{ToolName, USER_ID};
use crate::store::{StoreError, TaskStore};

/// A call that did not do what was asked: the tool result is `isError: true` with `message`.
#[derive(Debug)]
pub(crate) struct ToolError {
    /// What the model is told.
    pub message: String,
    /// Whether the server is at fault (logged as a failure) rather than the arguments.
    pub server_fault: bool,
}

impl ToolError {
    fn refused(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            server_fault: false,
        }
    }

    /// Invalid arguments, each `(field, what is wrong)`; an empty field is the whole call.
    fn invalid(tool: ToolName, issues: impl IntoIterator<Item = (String, String)>) -> Self {
        let issues: Vec<String> = issues
            .into_iter()
            .map(|(field, why)| match field.as_str() {
                "" | "." => why,
                field => format!("`{field}` {why}"),
            })
            .collect();
        Self::refused(format!(
            "Invalid arguments for {tool}: {}. Correct them and call {tool} again.",
            issues.join("; "),
            tool = tool.as_str()
        ))
    }

    fn no_such_list(id: crate::domain::list::ListId) -> Self {
        Self::refused(format!(
            "No list with id {} exists for this user. Call list_lists to find the list's id.",
            id.0
        ))
    }

    fn no_such_task(id: TaskId) -> Self {
        Self::refused(format!(
            "No task with id {} exists for this user. Call list_tasks to find the task's id.",
            id.0
        ))
    }

    fn store(err: StoreError) -> Self {
        let api = crate::http::error::ApiError::from(err);
        let problem = api.problem();
        let server_fault = problem.status >= 500;
        if server_fault {
            tracing::error!(error = ?api, "a tool call failed");
        }
        let mut message = problem.detail;
        if let Some(errors) = problem.errors {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("`{}` {}", e.field, e.detail))
                .collect();
            message = format!("Invalid arguments: {}", fields.join("; "));
        }
        Self {
            message,
            server_fault,
        }
    }
}

impl From<StoreError> for ToolError {
    fn from(err: StoreError) -> Self {
        Self::store(err)
    }
}

/// Runs `tool` for `owner` with the raw `arguments`; the result is the tool's structured
/// output.
pub(crate) async fn call(
    tool: ToolName,
    store: &dyn TaskStore,
    owner: &UserId,
    mut arguments: JsonObject,
) -> Result<Value, ToolError> {
    check_user_id(&mut arguments, owner)?;
    match tool {
        ToolName::AddTask => output(writes::add_task(store, owner, parse(tool, arguments)?).await),
        ToolName::ListTasks => {
            output(reads::list_tasks(store, owner, parse(tool, arguments)?).await)
        }
        ToolName::GetTask => output(reads::get_task(store, owner, parse(tool, arguments)?).await),
        ToolName::UpdateTask => {
            output(writes::update_task(store, owner, parse(tool, arguments)?).await)
        }
        ToolName::CompleteTask => {
            output(writes::complete_task(store, owner, parse(tool, arguments)?).await)
        }
        ToolName::ReopenTask => {
            output(writes::reopen_task(store, owner, parse(tool, arguments)?).await)
        }
        ToolName::DeleteTask => {
            output(writes::delete_task(store, owner, parse(tool, arguments)?).await)
        }
        ToolName::ClearCompletedTasks => {
            let NoArgs {} = parse(tool, arguments)?;
            let deleted = store.delete_completed(owner).await?;
            output(Ok(Cleared { deleted }))
        }
        ToolName::ListTags => {
            let NoArgs {} = parse(tool, arguments)?;
            let query = TagQuery {
                after: None,
                limit: crate::http::listing::MAX_LIMIT,
            };
            let page = store.tags(owner, &query).await?;
            output(Ok(TagList {
                tags: page
                    .tags
                    .into_iter()
                    .map(|(tag, count)| TagOut { tag, count })
                    .collect(),
                total: page.total,
            }))
        }
        ToolName::ListReminders => {
            output(reads::list_reminders(store, owner, parse(tool, arguments)?).await)
        }
        ToolName::MoveTask => {
            output(writes::move_task(store, owner, parse(tool, arguments)?).await)
        }
        ToolName::ListLists => {
            let NoArgs {} = parse(tool, arguments)?;
            output(reads::list_lists(store, owner).await)
        }
        ToolName::CreateList => {
            output(writes::create_list(store, owner, parse(tool, arguments)?).await)
        }
        ToolName::UpdateList => {
            output(writes::update_list(store, owner, parse(tool, arguments)?).await)
        }
        ToolName::DeleteList => {
            output(writes::delete_list(store, owner, parse(tool, arguments)?).await)
        }
    }
}

fn output<T: Serialize>(result: Result<T, ToolError>) -> Result<Value, ToolError> {
    let value = result?;
    serde_json::to_value(value).map_err(|err| {
        tracing::error!(error = %err, "a tool result could not be encoded");
        ToolError {
            message: "something went wrong on our side; it has been logged".into(),
            server_fault: true,
        }
    })
}

/// The user comes from the token alone. A `user_id` argument (some tool signatures pass one)
/// is removed here, and accepted only when it names the signed-in user.
fn check_user_id(arguments: &mut JsonObject, owner: &UserId) -> Result<(), ToolError> {
    match arguments.remove(USER_ID) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(id)) if id == owner.as_str() => Ok(()),
        Some(Value::String(_)) => Err(ToolError::refused(
            "`user_id` is not the signed-in user: these tools only reach the tasks of the user \
             whose token signed the request. Omit `user_id` and call the tool again.",
        )),
        Some(_) => Err(ToolError::refused(
            "`user_id` must be a string naming the signed-in user, or omitted (best).",
        )),
    }
}

/// The arguments as `T`; a missing, misspelt or mistyped one is named in the error.
fn parse<T: DeserializeOwned>(tool: ToolName, arguments: JsonObject) -> Result<T, ToolError> {
    serde_path_to_error::deserialize(Value::Object(arguments)).map_err(|err| {
        let field = err.path().to_string();
        ToolError::invalid(tool, [(field, err.into_inner().to_string())])
    })
}
