//! Validated domain types. Every value that reaches the store went through one of these `parse`
//! functions, so the store never sees an empty title or a user id that did not come from a token.

pub mod changes;
pub mod listing;
mod priority;
mod recurrence;
pub mod tag;
mod task;
mod user;

pub use priority::Priority;
pub use recurrence::{Frequency, Recurrence};
pub use tag::Tag;
pub use task::{
    FieldIssue, NewTask, Schedule, StatusFilter, Task, TaskChanges, TaskDescription, TaskId,
    TaskTitle, is_white_space, now,
};
pub use user::UserId;
