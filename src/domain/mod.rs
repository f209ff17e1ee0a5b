//! Validated domain types. Every value that reaches the store went through one of these `parse`
//! functions, so the store never sees an empty title or a user id that did not come from a token.

mod task;
mod user;

pub use task::{
    NewTask, StatusFilter, Task, TaskChanges, TaskDescription, TaskId, TaskTitle, is_white_space,
    now,
};
pub use user::UserId;
