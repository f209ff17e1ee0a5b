//! Validated domain types. Every value that reaches the store went through one of these `parse`
//! functions, so the store never sees an empty title or a user id that did not come from a token.

pub(crate) mod changes;
pub(crate) mod list;
pub(crate) mod listing;
pub(crate) mod order;
mod priority;
mod recurrence;
pub(crate) mod tag;
mod task;
mod timestamp;
mod user;

pub(crate) use priority::Priority;
pub(crate) use recurrence::{Frequency, Recurrence};
pub use tag::Tag;
pub(crate) use task::{
    FieldIssue, MAX_DEPTH, NewTask, Schedule, StatusFilter, Task, TaskChanges, TaskId, TaskMove,
    is_white_space, now,
};
pub use task::{TaskDescription, TaskTitle};
pub(crate) use timestamp::Timestamp;
pub(crate) use user::UserId;
