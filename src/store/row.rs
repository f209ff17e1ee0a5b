use chrono::{DateTime, FixedOffset, Utc};

use crate::domain::{Priority, Recurrence, Schedule, Tag, Task, TaskId, UserId};

/// The column list every task query returns, in [`TaskRow`]'s order (a macro, so that queries
/// stay `&'static str` for sqlx).
macro_rules! columns {
    () => {
        "id, user_id, title, description, completed, completed_at, priority, due_at, due_offset, \
         remind_at, recurrence, occurrence, anchor_day, next_task_id, version, created_at, updated_at"
    };
}
pub(super) use columns;

/// Inserts a new task and returns its row. Binds, in order: user id, title, description,
/// priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, title_key,
/// search_text and the creation time (`$13`, also the update time).
pub(super) const INSERT_TASK: &str = concat!(
    "INSERT INTO tasks (user_id, title, description, completed, priority, due_at, \
     due_offset, remind_at, recurrence, occurrence, anchor_day, version, title_key, \
     search_text, created_at, updated_at) \
     VALUES ($1, $2, $3, FALSE, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13, $13) \
     RETURNING ",
    columns!()
);

/// A `tasks` row as both backends return it.
#[derive(sqlx::FromRow)]
pub(super) struct TaskRow {
    id: i64,
    user_id: String,
    title: String,
    description: Option<String>,
    completed: bool,
    completed_at: Option<DateTime<Utc>>,
    priority: i16,
    due_at: Option<DateTime<Utc>>,
    due_offset: Option<i32>,
    remind_at: Option<DateTime<Utc>>,
    recurrence: Option<String>,
    occurrence: i32,
    anchor_day: i16,
    next_task_id: Option<i64>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A `tasks` row followed by the task's tags as a JSON array of strings, in their order (`tags`:
/// `NULL` or `[]` when there are none), so that a task and its tags come in one statement.
#[derive(sqlx::FromRow)]
pub(super) struct TaggedRow {
    #[sqlx(flatten)]
    row: TaskRow,
    tags: Option<String>,
}

impl TaggedRow {
    /// The row as a domain task.
    pub(super) fn into_task(self) -> Task {
        let tags = match self
            .tags
            .as_deref()
            .map(serde_json::from_str::<Vec<String>>)
        {
            None => Vec::new(),
            Some(Ok(tags)) => tags.into_iter().map(Tag::from_stored).collect(),
            Some(Err(err)) => {
                // The database built this array itself; this cannot happen short of a bug.
                tracing::error!(task = self.row.id, %err, "unreadable tags array");
                Vec::new()
            }
        };
        self.row.into_task(tags)
    }
}

impl TaskRow {
    /// The task id of this row.
    pub(super) fn id(&self) -> i64 {
        self.id
    }

    /// The row as a domain task, with its tags.
    pub(super) fn into_task(self, tags: Vec<Tag>) -> Task {
        let offset = self
            .due_offset
            .and_then(FixedOffset::east_opt)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC is a valid offset"));
        Task {
            id: TaskId(self.id),
            user_id: UserId::parse(&self.user_id).unwrap_or_else(|_| UserId::stored(self.user_id)),
            title: self.title,
            description: self.description,
            completed: self.completed,
            completed_at: self.completed_at,
            priority: Priority::from_rank(self.priority),
            tags,
            schedule: Schedule {
                due_at: self.due_at.map(|due| due.with_timezone(&offset)),
                remind_at: self.remind_at,
                recurrence: self
                    .recurrence
                    .and_then(|json| serde_json::from_str::<Recurrence>(&json).ok()),
            },
            occurrence: u32::try_from(self.occurrence).unwrap_or(1),
            anchor_day: u32::try_from(self.anchor_day).unwrap_or(1),
            next_occurrence_id: self.next_task_id.map(TaskId),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The stored form of a task's derived and encoded columns.
pub(super) struct Encoded {
    pub title_key: String,
    pub search_text: String,
    pub priority: i16,
    pub due_at: Option<DateTime<Utc>>,
    pub due_offset: Option<i32>,
    pub recurrence: Option<String>,
    pub occurrence: i32,
    pub anchor_day: i16,
}

impl Encoded {
    pub(super) fn new(
        title: &str,
        description: Option<&str>,
        priority: Priority,
        schedule: &Schedule,
        occurrence: u32,
        anchor_day: u32,
    ) -> Self {
        Self {
            title_key: title.to_lowercase(),
            search_text: format!("{}\n{}", title, description.unwrap_or_default()).to_lowercase(),
            priority: priority.rank(),
            due_at: schedule.due_at.map(|due| due.to_utc()),
            due_offset: schedule.due_at.map(|due| due.offset().local_minus_utc()),
            recurrence: schedule
                .recurrence
                .as_ref()
                .and_then(|rule| serde_json::to_string(rule).ok()),
            occurrence: i32::try_from(occurrence).unwrap_or(i32::MAX),
            anchor_day: i16::try_from(anchor_day).unwrap_or(1),
        }
    }
}
