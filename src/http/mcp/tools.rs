//! The tool catalogue: each tool's name, the description a model acts on, its annotations,
//! and the JSON Schemas of its arguments and result. What the tools do is in
//! [`crate::http::mcp::calls`].

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};

use crate::http::mcp::json_schema::{Contract, schema_of};
use crate::http::mcp::schemas::{
    AddTaskArgs, Cleared, CreateListArgs, DeleteListArgs, ListRemindersArgs, ListTasksArgs,
    ListWritten, ListsOut, MoveTaskArgs, NoArgs, ReminderList, TagList, TaskCompleted, TaskDeleted,
    TaskFound, TaskIdArgs, TaskPage, TaskWritten, UpdateListArgs, UpdateTaskArgs,
};

/// Every tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ToolName {
    /// `add_task`.
    AddTask,
    /// `list_tasks`.
    ListTasks,
    /// `get_task`.
    GetTask,
    /// `update_task`.
    UpdateTask,
    /// `complete_task`.
    CompleteTask,
    /// `reopen_task`.
    ReopenTask,
    /// `delete_task`.
    DeleteTask,
    /// `clear_completed_tasks`.
    ClearCompletedTasks,
    /// `list_tags`.
    ListTags,
    /// `list_reminders`.
    ListReminders,
    /// `move_task`.
    MoveTask,
    /// `list_lists`.
    ListLists,
    /// `create_list`.
    CreateList,
    /// `update_list`.
    UpdateList,
    /// `delete_list`.
    DeleteList,
}

/// What a tool does to the user's tasks, as MCP's annotations say it.
#[derive(Clone, Copy)]
enum Effect {
    /// Changes nothing.
    ReadOnly,
    /// Changes tasks without losing anything; `idempotent` when repeating it changes nothing
    /// more.
    Additive { idempotent: bool },
    /// May overwrite or delete what the user wrote.
    Destructive { idempotent: bool },
}

impl ToolName {
    /// Every tool, in the order they are listed.
    pub(crate) const ALL: [Self; 15] = [
        Self::AddTask,
        Self::ListTasks,
        Self::GetTask,
        Self::UpdateTask,
        Self::CompleteTask,
        Self::ReopenTask,
        Self::DeleteTask,
        Self::ClearCompletedTasks,
        Self::ListTags,
        Self::ListReminders,
        Self::MoveTask,
        Self::ListLists,
        Self::CreateList,
        Self::UpdateList,
        Self::DeleteList,
    ];

    /// The tool's name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::AddTask => "add_task",
            Self::ListTasks => "list_tasks",
            Self::GetTask => "get_task",
            Self::UpdateTask => "update_task",
            Self::CompleteTask => "complete_task",
            Self::ReopenTask => "reopen_task",
            Self::DeleteTask => "delete_task",
            Self::ClearCompletedTasks => "clear_completed_tasks",
            Self::ListTags => "list_tags",
            Self::ListReminders => "list_reminders",
            Self::MoveTask => "move_task",
            Self::ListLists => "list_lists",
            Self::CreateList => "create_list",
            Self::UpdateList => "update_list",
            Self::DeleteList => "delete_list",
        }
    }

    /// The tool called `name`, if there is one.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tool| tool.as_str() == name)
    }

    fn title(self) -> &'static str {
        match self {
            Self::AddTask => "Add a task",
            Self::ListTasks => "List or search tasks",
            Self::GetTask => "Get a task",
            Self::UpdateTask => "Update a task",
            Self::CompleteTask => "Complete a task",
            Self::ReopenTask => "Reopen a task",
            Self::DeleteTask => "Delete a task",
            Self::ClearCompletedTasks => "Clear completed tasks",
            Self::ListTags => "List tags",
            Self::ListReminders => "List due reminders",
            Self::MoveTask => "Move a task",
            Self::ListLists => "List lists",
            Self::CreateList => "Create a list",
            Self::UpdateList => "Rename or recolor a list",
            Self::DeleteList => "Delete a list",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::AddTask => {
                "Create a task for the signed-in user. Only `title` is required. Times are RFC \
                 3339 with an offset, e.g. 2030-01-31T09:00:00+01:00 (use the user's offset: a \
                 recurring task repeats in that calendar). `remind_at` must not be after \
                 `due_at`; `recurrence` needs a `due_at` (e.g. \"every Sunday\": frequency \
                 weekly, due_at on the next Sunday). Returns {task_id, status: \"created\", \
                 title, task}."
            }
            Self::ListTasks => {
                "List or search the signed-in user's tasks. Filters (all optional, all must \
                 match): status (pending, completed or all), q (a keyword in the title or \
                 description), tags (every one), priorities (any one), due_before/due_after, \
                 overdue (pending and past due). Sort by created, updated, title, due_date or \
                 priority. Returns {tasks, total, more, now}; `now` is the server's time, for \
                 relative dates. Use it to find a task's id before changing the task."
            }
            Self::GetTask => "One of the signed-in user's tasks, by id. Returns {task}.",
            Self::UpdateTask => {
                "Change some fields of a task: omitted fields stay as they are; `null` removes \
                 the description, due time, reminder or repetition; `tags` replaces all tags. \
                 Same rules as add_task. Returns {task_id, status: \"updated\", title, task}."
            }
            Self::CompleteTask => {
                "Mark a task done (repeating it changes nothing). Completing a recurring task \
                 creates its next occurrence, returned as `next_occurrence`. Returns {task_id, \
                 status: \"completed\", title, task, next_occurrence}."
            }
            Self::ReopenTask => {
                "Mark a completed task as not done again (repeating it changes nothing). \
                 Returns {task_id, status: \"reopened\", title, task}."
            }
            Self::DeleteTask => {
                "Delete a task for good; it cannot be undone. Returns {task_id, status: \
                 \"deleted\", title}."
            }
            Self::ClearCompletedTasks => {
                "Delete every completed task of the signed-in user for good; it cannot be \
                 undone. Returns {deleted}: how many."
            }
            Self::ListTags => {
                "The tags on the signed-in user's tasks, by name, with how many tasks carry \
                 each. Returns {tags}."
            }
            Self::ListReminders => {
                "Pending tasks whose reminder time has come (at or before `before`, default \
                 now), soonest first: what to remind the user about. Returns {tasks, before}."
            }
            Self::MoveTask => {
                "Move a task (with its subtasks) to another list (`list_id`, null: the inbox), \
                 under another task (`parent_id`, null: top level; at most 4 levels), and/or to \
                 another place among its siblings (`after`: a sibling's id to go right after, \
                 null: first, omitted: last). Returns {task_id, status: \"moved\", title, \
                 task}."
            }
            Self::ListLists => {
                "The signed-in user's lists (projects), in their order, with how many tasks \
                 each holds. Tasks in no list are in the inbox. Returns {lists}."
            }
            Self::CreateList => {
                "Create a list (a project) after the user's others. The name is unique ignoring \
                 case. Returns {list_id, status: \"created\", name, list}."
            }
            Self::UpdateList => {
                "Rename a list or change its color (`null` removes it). Returns {list_id, \
                 status: \"updated\", name, list}."
            }
            Self::DeleteList => {
                "Delete a list for good. If it has tasks, `tasks` says what happens to them: \
                 `inbox` (moved to the inbox) or `delete` (deleted too; ask the user first). \
                 Returns {list_id, status: \"deleted\", name}."
            }
        }
    }

    fn effect(self) -> Effect {
        match self {
            Self::ListTasks
            | Self::GetTask
            | Self::ListTags
            | Self::ListReminders
            | Self::ListLists => Effect::ReadOnly,
            Self::AddTask | Self::CreateList => Effect::Additive { idempotent: false },
            Self::MoveTask => Effect::Additive { idempotent: false },
            Self::UpdateList | Self::DeleteList => Effect::Destructive { idempotent: true },
            Self::CompleteTask | Self::ReopenTask => Effect::Additive { idempotent: true },
            Self::UpdateTask | Self::DeleteTask | Self::ClearCompletedTasks => {
                Effect::Destructive { idempotent: true }
            }
        }
    }

    fn input_schema(self) -> Arc<JsonObject> {
        let mut schema = match self {
            Self::AddTask => schema_of::<AddTaskArgs>(Contract::Input),
            Self::ListTasks => schema_of::<ListTasksArgs>(Contract::Input),
            Self::UpdateTask => schema_of::<UpdateTaskArgs>(Contract::Input),
            Self::GetTask | Self::CompleteTask | Self::ReopenTask | Self::DeleteTask => {
                schema_of::<TaskIdArgs>(Contract::Input)
            }
            Self::ClearCompletedTasks | Self::ListTags | Self::ListLists => {
                schema_of::<NoArgs>(Contract::Input)
            }
            Self::ListReminders => schema_of::<ListRemindersArgs>(Contract::Input),
            Self::MoveTask => schema_of::<MoveTaskArgs>(Contract::Input),
            Self::CreateList => schema_of::<CreateListArgs>(Contract::Input),
            Self::UpdateList => schema_of::<UpdateListArgs>(Contract::Input),
            Self::DeleteList => schema_of::<DeleteListArgs>(Contract::Input),
        };
        let properties = schema
            .entry("properties")
            .or_insert_with(|| Value::Object(JsonObject::new()));
        if let Value::Object(properties) = properties {
            properties.insert(USER_ID.into(), user_id_schema());
        }
        Arc::new(schema)
    }

    fn output_schema(self) -> Arc<JsonObject> {
        Arc::new(match self {
            Self::AddTask | Self::UpdateTask | Self::ReopenTask | Self::MoveTask => {
                schema_of::<TaskWritten>(Contract::Output)
            }
            Self::ListLists => schema_of::<ListsOut>(Contract::Output),
            Self::CreateList | Self::UpdateList | Self::DeleteList => {
                schema_of::<ListWritten>(Contract::Output)
            }
            Self::CompleteTask => schema_of::<TaskCompleted>(Contract::Output),
            Self::DeleteTask => schema_of::<TaskDeleted>(Contract::Output),
            Self::GetTask => schema_of::<TaskFound>(Contract::Output),
            Self::ListTasks => schema_of::<TaskPage>(Contract::Output),
            Self::ClearCompletedTasks => schema_of::<Cleared>(Contract::Output),
            Self::ListTags => schema_of::<TagList>(Contract::Output),
            Self::ListReminders => schema_of::<ReminderList>(Contract::Output),
        })
    }

    fn annotations(self) -> ToolAnnotations {
        let (read_only, destructive, idempotent) = match self.effect() {
            Effect::ReadOnly => (true, false, true),
            Effect::Additive { idempotent } => (false, false, idempotent),
            Effect::Destructive { idempotent } => (false, true, idempotent),
        };
        ToolAnnotations::with_title(self.title())
            .read_only(read_only)
            .destructive(destructive)
            .idempotent(idempotent)
            .open_world(false)
    }

    /// The tool as `tools/list` shows it.
    fn describe(self) -> Tool {
        Tool::new(self.as_str(), self.description(), self.input_schema())
            .with_title(self.title())
            .with_raw_output_schema(self.output_schema())
            .with_annotations(self.annotations())
    }
}

/// The optional argument every tool accepts for compatibility with tool signatures that pass
/// the user: it must name the signed-in user.
pub(crate) const USER_ID: &str = "user_id";

fn user_id_schema() -> Value {
    json!({
        "type": "string",
        "description": "Optional, and best omitted: the tools always act for the signed-in \
            user. If given, it must be that user's id; any other value is refused."
    })
}

/// Every tool as `tools/list` shows it, built once.
#[derive(Debug)]
pub(crate) struct Catalogue {
    tools: Vec<Tool>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Self::new()
    }
}

impl Catalogue {
    /// Describes every tool.
    pub(crate) fn new() -> Self {
        Self {
            tools: ToolName::ALL.into_iter().map(ToolName::describe).collect(),
        }
    }

    /// Every tool.
    pub(crate) fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// The tool called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|tool| tool.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn properties(schema: &JsonObject) -> Vec<String> {
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn every_tool_has_object_schemas_without_references_and_all_three_hints() {
        let catalogue = Catalogue::new();
        assert_eq!(catalogue.tools().len(), ToolName::ALL.len());
        for tool in catalogue.tools() {
            assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
            let output = tool.output_schema.as_ref().expect("an output schema");
            assert_eq!(output["type"], "object", "{}", tool.name);
            for schema in [&tool.input_schema, output] {
                let text = serde_json::to_string(schema.as_ref()).unwrap_or_default();
                assert!(!text.contains("$ref"), "{}: {text}", tool.name);
                assert!(!text.contains("$schema"), "{}: {text}", tool.name);
                assert!(!text.contains("uint"), "{}: {text}", tool.name);
            }
            assert!(properties(&tool.input_schema).contains(&USER_ID.to_owned()));
            let hints = tool.annotations.as_ref().expect("annotations");
            assert!(hints.read_only_hint.is_some() && hints.destructive_hint.is_some());
            assert!(hints.idempotent_hint.is_some(), "{}", tool.name);
            assert_eq!(
                ToolName::parse(&tool.name).map(ToolName::as_str),
                Some(&*tool.name)
            );
        }
    }

    #[test]
    fn the_five_tutorial_tools_take_what_tutorials_pass() {
        let catalogue = Catalogue::new();
        let input = |name: &str| {
            catalogue
                .get(name)
                .map(|tool| properties(&tool.input_schema))
                .unwrap_or_default()
        };
        for (tool, field) in [
            ("add_task", "title"),
            ("add_task", "description"),
            ("list_tasks", "status"),
            ("complete_task", "task_id"),
            ("delete_task", "task_id"),
            ("update_task", "task_id"),
            ("update_task", "title"),
            ("update_task", "description"),
        ] {
            assert!(input(tool).contains(&field.to_owned()), "{tool}.{field}");
        }
        let add = catalogue.get("add_task").expect("add_task");
        assert_eq!(add.input_schema["required"], json!(["title"]));
        assert_eq!(add.input_schema["additionalProperties"], json!(false));
    }
}
