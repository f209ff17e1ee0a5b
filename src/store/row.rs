use chrono::{DateTime, Utc};

use crate::domain::{Task, TaskId, UserId};

/// The column list every query returns, in [`TaskRow`]'s order (a macro, so that queries
/// stay `&'static str` for sqlx).
macro_rules! columns {
    () => {
        "id, user_id, title, description, completed, created_at, updated_at"
    };
}
pub(super) use columns;

/// A `tasks` row as both backends return it.
#[derive(sqlx::FromRow)]
pub(super) struct TaskRow {
    id: i64,
    user_id: String,
    title: String,
    description: Option<String>,
    completed: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TaskRow {
    /// The row as a domain task; `owner` is the id the query was scoped by.
    pub(super) fn into_task(self, owner: &UserId) -> Task {
        debug_assert_eq!(self.user_id, owner.as_str());
        Task {
            id: TaskId(self.id),
            user_id: owner.clone(),
            title: self.title,
            description: self.description,
            completed: self.completed,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}
