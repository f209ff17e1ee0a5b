//! What request bodies take: `CreateTask`, `UpdateTask` and `CompleteTask`, and how each is
//! parsed (field by field, through [`Fields`]) into the domain's [`NewTask`], [`TaskChanges`]
//! or completion state.
//!
//! The rules on text fields and recurrence bounds are the domain types' ([`TaskTitle`],
//! [`TaskDescription`], [`Tag`], [`Recurrence`]): `domain_rules` writes them into the spec
//! from there, so the structs below carry no validator of their own.

use chrono::{DateTime, FixedOffset, Utc};
use poem_openapi::Object;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;

use super::views::RecurrenceView;
use crate::domain::list::{Color, ListChanges, ListId, ListName, NewList};
use crate::domain::order::Slot;
use crate::domain::{
    NewTask, Priority, Recurrence, Schedule, Tag, TaskChanges, TaskDescription, TaskId, TaskMove,
    TaskTitle,
};
use crate::http::body::{Field, Fields, RequestSchema};

/// A new task.
#[derive(Debug, Object)]
#[oai(rename = "CreateTask")]
pub(crate) struct CreateTask {
    /// 1–200 characters after trimming surrounding white space (the server trims it); no NUL
    /// character.
    pub(crate) title: String,
    /// Up to 1000 characters, no NUL character; `null` or omitted for none.
    #[oai(nullable)]
    pub(crate) description: Option<String>,
    /// Importance; `null` or omitted for `medium`.
    #[oai(nullable)]
    pub(crate) priority: Option<Priority>,
    /// Up to 20 tags, each 1–32 characters after trimming (no NUL), unique ignoring case;
    /// `null` or omitted for none.
    #[oai(nullable)]
    pub(crate) tags: Option<Vec<String>>,
    /// When the task is due (RFC 3339, any offset; recurrence follows that offset's calendar).
    #[oai(nullable)]
    pub(crate) due_at: Option<DateTime<Utc>>,
    /// When to remind the user; not after `due_at`.
    #[oai(nullable)]
    pub(crate) remind_at: Option<DateTime<Utc>>,
    /// How the task repeats (needs `due_at`).
    #[oai(nullable)]
    pub(crate) recurrence: Option<RecurrenceView>,
    /// The list to put it in; `null` for the inbox. Omitted: the parent's list (with
    /// `parent_id`), else the inbox. Another user's list, or one that does not exist, is a 422.
    #[oai(nullable, validator(minimum(value = "1")))]
    pub(crate) list_id: Option<i64>,
    /// The task to make it a subtask of (it goes into that task's list; at most 4 levels
    /// deep); `null` or omitted for a top-level task.
    #[oai(nullable, validator(minimum(value = "1")))]
    pub(crate) parent_id: Option<i64>,
}

/// What every body field of a task parses to; `None` where the field was invalid.
struct TaskFields {
    title: Option<Field<TaskTitle>>,
    description: Option<Field<TaskDescription>>,
    priority: Option<Field<Priority>>,
    tags: Option<Field<Vec<Tag>>>,
    due_at: Option<Field<DateTime<FixedOffset>>>,
    remind_at: Option<Field<DateTime<Utc>>>,
    recurrence: Option<Field<Recurrence>>,
    list_id: Option<Field<ListId>>,
    parent_id: Option<Field<TaskId>>,
}

fn map_field<T, U>(field: Field<T>, f: impl FnOnce(T) -> Option<U>) -> Option<Field<U>> {
    match field {
        Field::Absent => Some(Field::Absent),
        Field::Null => Some(Field::Null),
        Field::Value(v) => f(v).map(Field::Value),
    }
}

impl TaskFields {
    fn read(fields: &mut Fields<'_>) -> Self {
        let title = fields.string("title").and_then(|f| {
            map_field(f, |raw| {
                TaskTitle::parse(raw)
                    .map_err(|why| fields.error("title", why))
                    .ok()
            })
        });
        let description = fields.string("description").and_then(|f| {
            map_field(f, |raw| {
                TaskDescription::parse(raw)
                    .map_err(|why| fields.error("description", why))
                    .ok()
            })
        });
        let priority = fields.choice("priority");
        let tags = fields.strings("tags").and_then(|f| {
            map_field(f, |raw| {
                Tag::parse_list(raw)
                    .map_err(|why| fields.error("tags", why))
                    .ok()
            })
        });
        let due_at = fields.timestamp("due_at");
        let remind_at = fields
            .timestamp("remind_at")
            .and_then(|f| map_field(f, |at| Some(at.to_utc())));
        let recurrence = fields.object::<RecurrenceView, _>("recurrence", parse_recurrence);
        let list_id = fields
            .id("list_id")
            .and_then(|f| map_field(f, |id| Some(ListId(id))));
        let parent_id = fields
            .id("parent_id")
            .and_then(|f| map_field(f, |id| Some(TaskId(id))));
        Self {
            title,
            description,
            priority,
            tags,
            due_at,
            remind_at,
            recurrence,
            list_id,
            parent_id,
        }
    }
}

/// The fields of a rule are not nullable (the spec says so): `null` is refused, not read as
/// "omitted".
fn omit_instead_of_null<T>(fields: &mut Fields<'_>, name: &str) -> Option<T> {
    fields.error(name, "cannot be null: omit it instead");
    None
}

fn parse_recurrence(fields: &mut Fields<'_>) -> Option<Recurrence> {
    let frequency = match fields.choice("frequency")? {
        Field::Value(frequency) => Some(frequency),
        Field::Absent | Field::Null => {
            fields.error("frequency", "is required");
            None
        }
    };
    let interval = match fields.integer("interval", 1, Recurrence::MAX_INTERVAL)? {
        Field::Value(n) => Some(n),
        Field::Absent => Some(1),
        Field::Null => omit_instead_of_null(fields, "interval"),
    };
    let until = match fields.timestamp("until")? {
        Field::Value(at) => Some(Some(at.to_utc())),
        Field::Absent => Some(None),
        Field::Null => omit_instead_of_null(fields, "until"),
    };
    let count = match fields.integer("count", 1, Recurrence::MAX_COUNT)? {
        Field::Value(n) => Some(Some(n)),
        Field::Absent => Some(None),
        Field::Null => omit_instead_of_null(fields, "count"),
    };
    let rule = Recurrence {
        frequency: frequency?,
        interval: interval?,
        until: until?,
        count: count?,
    };
    rule.validate()
        .map_err(|why| fields.error("count", why))
        .ok()?;
    Some(rule)
}

/// `Some(x)` for a value, `None` for absent or null.
fn value<T>(field: Field<T>) -> Option<T> {
    match field {
        Field::Value(v) => Some(v),
        Field::Absent | Field::Null => None,
    }
}

/// For a PUT: absent → `None` (unchanged), null → `Some(None)` (cleared), value → `Some(Some(_))`.
fn change<T>(field: Field<T>) -> Option<Option<T>> {
    match field {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Value(v) => Some(Some(v)),
    }
}

impl RequestSchema for CreateTask {
    type Output = NewTask;

    fn constrain(registry: &mut Registry) {
        domain_rules::<Self>(registry, |_| ());
    }

    fn parse(fields: &mut Fields<'_>) -> Option<NewTask> {
        let read = TaskFields::read(fields);
        let title = match read.title {
            Some(Field::Value(title)) => Some(title),
            Some(Field::Absent | Field::Null) => {
                fields.error("title", "is required");
                None
            }
            None => None,
        };
        let schedule = Schedule {
            due_at: value(read.due_at?),
            remind_at: value(read.remind_at?),
            recurrence: value(read.recurrence?),
        };
        let list_id = change(read.list_id?);
        let parent_id = value(read.parent_id?);
        let created = NewTask::new(
            title?,
            value(read.description?),
            value(read.priority?).unwrap_or_default(),
            value(read.tags?).unwrap_or_default(),
            schedule,
        );
        let mut created = created.map_err(|issues| fields.issues(issues)).ok()?;
        created.list_id = list_id;
        created.parent_id = parent_id;
        Some(created)
    }
}

/// Changes to a task: every field is optional, an omitted field stays as it is, and `null`
/// clears a nullable field. At least one field is required.
#[derive(Debug, Object)]
#[oai(rename = "UpdateTask")]
pub(crate) struct UpdateTask {
    /// A new title: 1–200 characters after trimming surrounding white space; no NUL character.
    pub(crate) title: Option<String>,
    /// A new description (up to 1000 characters, no NUL character), or `null` to clear it.
    #[oai(nullable)]
    pub(crate) description: Option<String>,
    /// A new priority.
    pub(crate) priority: Option<Priority>,
    /// New tags, replacing the old ones (`[]` or `null` removes them all); each 1–32
    /// characters after trimming (no NUL), unique ignoring case.
    #[oai(nullable)]
    pub(crate) tags: Option<Vec<String>>,
    /// A new due time, or `null` to clear it.
    #[oai(nullable)]
    pub(crate) due_at: Option<DateTime<Utc>>,
    /// A new reminder time, or `null` to clear it.
    #[oai(nullable)]
    pub(crate) remind_at: Option<DateTime<Utc>>,
    /// A new rule, or `null` to stop repeating.
    #[oai(nullable)]
    pub(crate) recurrence: Option<RecurrenceView>,
    /// Another list (`null`: the inbox), with the task's subtasks; the task goes last there.
    /// Without `parent_id`, a subtask moved to another list leaves its parent.
    #[oai(nullable, validator(minimum(value = "1")))]
    pub(crate) list_id: Option<i64>,
    /// Another parent (`null`: the top level), into that task's list; the task goes last
    /// among its subtasks. Not the task itself nor one of its subtasks; at most 4 levels deep.
    #[oai(nullable, validator(minimum(value = "1")))]
    pub(crate) parent_id: Option<i64>,
}

impl RequestSchema for UpdateTask {
    type Output = TaskChanges;

    /// Unknown fields are rejected, so one field (`minProperties: 1`) is what "changes
    /// something" takes.
    fn constrain(registry: &mut Registry) {
        domain_rules::<Self>(registry, |schema| schema.min_properties = Some(1));
    }

    fn parse(fields: &mut Fields<'_>) -> Option<TaskChanges> {
        let read = TaskFields::read(fields);
        let not_null = |field: Option<Field<_>>, name: &str, fields: &mut Fields<'_>| match field {
            Some(Field::Null) => {
                fields.error(name, "cannot be null: omit it to keep the current value");
                None
            }
            other => other,
        };
        let title = not_null(read.title, "title", fields);
        let priority = match read.priority {
            Some(Field::Null) => {
                fields.error(
                    "priority",
                    "cannot be null: omit it to keep the current value",
                );
                None
            }
            other => other,
        };
        let tags = match read.tags {
            Some(Field::Null) => Some(Field::Value(Vec::new())),
            other => other,
        };
        let changes = TaskChanges {
            title: change(title?).flatten(),
            description: change(read.description?),
            priority: change(priority?).flatten(),
            tags: change(tags?).flatten(),
            due_at: change(read.due_at?),
            remind_at: change(read.remind_at?),
            recurrence: change(read.recurrence?),
            list_id: change(read.list_id?),
            parent_id: change(read.parent_id?),
        };
        if changes.is_empty() {
            fields.error("body", "changes nothing: send at least one field to change");
            return None;
        }
        Some(changes)
    }
}

/// Where to move a task: its list, its parent and its place among its new siblings (the tasks
/// of the same list under the same parent). Every field is optional: `{}` moves it last among
/// its siblings.
#[derive(Debug, Object)]
#[oai(rename = "MoveTask")]
pub(crate) struct MoveTask {
    /// Another list (`null`: the inbox), with the task's subtasks. Without `parent_id`, a
    /// subtask moved to another list leaves its parent.
    #[oai(nullable, validator(minimum(value = "1")))]
    pub(crate) list_id: Option<i64>,
    /// Another parent (`null`: the top level), into that task's list. Not the task itself nor
    /// one of its subtasks; at most 4 levels deep.
    #[oai(nullable, validator(minimum(value = "1")))]
    pub(crate) parent_id: Option<i64>,
    /// The sibling to put it right after; `null` puts it first; omitted, last.
    #[oai(nullable, validator(minimum(value = "1")))]
    pub(crate) after: Option<i64>,
}

/// `after`: absent → last, `null` → first, an id → right after it.
fn slot(fields: &mut Fields<'_>) -> Option<Slot> {
    Some(match fields.id("after")? {
        Field::Absent => Slot::Last,
        Field::Null => Slot::First,
        Field::Value(id) => Slot::After(id),
    })
}

impl RequestSchema for MoveTask {
    type Output = TaskMove;

    fn parse(fields: &mut Fields<'_>) -> Option<TaskMove> {
        let list_id = fields
            .id("list_id")
            .and_then(|f| map_field(f, |id| Some(ListId(id))));
        let parent_id = fields
            .id("parent_id")
            .and_then(|f| map_field(f, |id| Some(TaskId(id))));
        let slot = slot(fields);
        Some(TaskMove {
            list_id: change(list_id?),
            parent_id: change(parent_id?),
            slot: slot?,
        })
    }
}

/// A new list.
#[derive(Debug, Object)]
#[oai(rename = "CreateList")]
pub(crate) struct CreateList {
    /// 1–100 characters after trimming surrounding white space; no NUL character; unique
    /// among the user's lists, ignoring case (a name in use is a 409).
    pub(crate) name: String,
    /// `#rrggbb` (hex digits), or `null`/omitted for none.
    #[oai(nullable)]
    pub(crate) color: Option<String>,
}

fn list_name(fields: &mut Fields<'_>) -> Option<Field<ListName>> {
    fields.string("name").and_then(|f| {
        map_field(f, |raw| {
            ListName::parse(raw)
                .map_err(|why| fields.error("name", why))
                .ok()
        })
    })
}

fn color(fields: &mut Fields<'_>) -> Option<Field<Color>> {
    fields.string("color").and_then(|f| {
        map_field(f, |raw| {
            Color::parse(raw)
                .map_err(|why| fields.error("color", why))
                .ok()
        })
    })
}

/// States the list rules in the spec (`name`, `color`).
fn list_rules<T: Type>(registry: &mut Registry, more: impl FnOnce(&mut MetaSchema)) {
    if let Some(schema) = registry.schemas.get_mut(T::name().as_ref()) {
        if let Some(name) = property(schema, "name") {
            name.min_length = Some(1);
            name.pattern = Some(ListName::PATTERN.to_owned());
        }
        if let Some(color) = property(schema, "color") {
            color.pattern = Some(Color::PATTERN.to_owned());
        }
        more(schema);
    }
}

impl RequestSchema for CreateList {
    type Output = NewList;

    fn constrain(registry: &mut Registry) {
        list_rules::<Self>(registry, |_| ());
    }

    fn parse(fields: &mut Fields<'_>) -> Option<NewList> {
        let name = match list_name(fields) {
            Some(Field::Value(name)) => Some(name),
            Some(Field::Absent | Field::Null) => {
                fields.error("name", "is required");
                None
            }
            None => None,
        };
        let color = color(fields);
        Some(NewList {
            name: name?,
            color: value(color?),
        })
    }
}

/// Changes to a list: an omitted field stays as it is; `null` clears the color. At least one
/// field is required.
#[derive(Debug, Object)]
#[oai(rename = "UpdateList")]
pub(crate) struct UpdateList {
    /// A new name: 1–100 characters after trimming; unique among the user's lists, ignoring
    /// case (a name in use is a 409).
    pub(crate) name: Option<String>,
    /// A new color (`#rrggbb`), or `null` to clear it.
    #[oai(nullable)]
    pub(crate) color: Option<String>,
}

impl RequestSchema for UpdateList {
    type Output = ListChanges;

    fn constrain(registry: &mut Registry) {
        list_rules::<Self>(registry, |schema| schema.min_properties = Some(1));
    }

    fn parse(fields: &mut Fields<'_>) -> Option<ListChanges> {
        let name = match list_name(fields) {
            Some(Field::Null) => {
                fields.error("name", "cannot be null: omit it to keep the current value");
                None
            }
            other => other,
        };
        let color = color(fields);
        let changes = ListChanges {
            name: change(name?).flatten(),
            color: change(color?),
        };
        if changes.is_empty() {
            fields.error("body", "changes nothing: send at least one field to change");
            return None;
        }
        Some(changes)
    }
}

/// Where to move a list among the user's lists.
#[derive(Debug, Object)]
#[oai(rename = "MoveList")]
pub(crate) struct MoveList {
    /// The list to put it right after; `null` puts it first; omitted, last.
    #[oai(nullable, validator(minimum(value = "1")))]
    pub(crate) after: Option<i64>,
}

impl RequestSchema for MoveList {
    type Output = Slot;

    fn parse(fields: &mut Fields<'_>) -> Option<Slot> {
        slot(fields)
    }
}

/// Sets the completion state instead of toggling it (safe to retry).
#[derive(Debug, Object)]
#[oai(rename = "CompleteTask")]
pub(crate) struct CompleteTask {
    /// The state to set.
    pub(crate) completed: bool,
}

impl RequestSchema for CompleteTask {
    type Output = bool;

    fn parse(fields: &mut Fields<'_>) -> Option<bool> {
        match fields.boolean("completed")? {
            Field::Value(completed) => Some(completed),
            Field::Absent | Field::Null => {
                fields.error("completed", "is required (true or false)");
                None
            }
        }
    }
}

/// States in the spec the rules the domain types check, on the registered schema of `T` (a task
/// body) and on `Recurrence`; `more` adds what is particular to `T`.
fn domain_rules<T: Type>(registry: &mut Registry, more: impl FnOnce(&mut MetaSchema)) {
    if let Some(schema) = registry.schemas.get_mut(T::name().as_ref()) {
        if let Some(title) = property(schema, "title") {
            title.min_length = Some(1);
            title.pattern = Some(TaskTitle::PATTERN.to_owned());
        }
        if let Some(description) = property(schema, "description") {
            description.max_length = Some(TaskDescription::MAX_CHARS);
            description.pattern = Some(TaskDescription::PATTERN.to_owned());
        }
        if let Some(tags) = property(schema, "tags") {
            tags.max_items = Some(Tag::MAX_PER_TASK);
            tags.unique_items = Some(true);
            if let Some(MetaSchemaRef::Inline(tag)) = tags.items.as_deref_mut() {
                tag.pattern = Some(Tag::PATTERN.to_owned());
            }
        }
        more(schema);
    }
    if let Some(rule) = registry.schemas.get_mut(RecurrenceView::name().as_ref()) {
        let bounds = [
            ("interval", Recurrence::MAX_INTERVAL),
            ("count", Recurrence::MAX_COUNT),
        ];
        for (name, max) in bounds {
            if let Some(field) = property(rule, name) {
                field.minimum = Some(1.0);
                field.maximum = Some(f64::from(max));
            }
        }
    }
}

/// The inline schema of one property of `schema`.
fn property<'a>(schema: &'a mut MetaSchema, name: &str) -> Option<&'a mut MetaSchema> {
    schema
        .properties
        .iter_mut()
        .find(|(field, _)| *field == name)
        .and_then(|(_, property)| match property {
            MetaSchemaRef::Inline(inline) => Some(&mut **inline),
            MetaSchemaRef::Reference(_) => None,
        })
}

#[cfg(test)]
mod tests {
    //! The spec's words about the task fields agree with the domain rules it states.

    use super::*;
    use crate::http::schemas::TaskView;

    /// The description of a field, its lines joined.
    fn doc(registry: &mut Registry, schema: &str, field: &str) -> String {
        let doc = registry
            .schemas
            .get_mut(schema)
            .and_then(|schema| property(schema, field))
            .and_then(|field| field.description)
            .unwrap_or_else(|| panic!("{schema}.{field} has no description"));
        doc.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn the_field_docs_say_the_domain_limits() {
        let mut registry = Registry::new();
        CreateTask::register(&mut registry);
        UpdateTask::register(&mut registry);
        TaskView::register(&mut registry);
        let title = format!("1–{} characters", TaskTitle::MAX_CHARS);
        let description = format!("{} characters", TaskDescription::MAX_CHARS);
        let tag = format!("1–{} characters", Tag::MAX_CHARS);
        for schema in ["CreateTask", "UpdateTask", "Task"] {
            let says = doc(&mut registry, schema, "title");
            assert!(says.contains(&title), "{schema}.title: {says}");
            let says = doc(&mut registry, schema, "description");
            assert!(says.contains(&description), "{schema}.description: {says}");
        }
        for schema in ["CreateTask", "UpdateTask"] {
            let says = doc(&mut registry, schema, "tags");
            assert!(says.contains(&tag), "{schema}.tags: {says}");
        }
        let says = doc(&mut registry, "CreateTask", "tags");
        assert!(says.contains(&format!("Up to {} tags", Tag::MAX_PER_TASK)));
    }

    #[test]
    fn the_patterns_count_what_the_domain_counts() {
        // The first and last characters are not white space; the pattern counts those between.
        let between = |max: usize| format!("{{0,{}}}", max - 2);
        assert!(TaskTitle::PATTERN.contains(&between(TaskTitle::MAX_CHARS)));
        assert!(Tag::PATTERN.contains(&between(Tag::MAX_CHARS)));
    }
}
