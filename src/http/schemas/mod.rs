//! The JSON shapes of the API: what the spec (and so the TypeScript client) calls `Task`,
//! `CreateTask`, `UpdateTask`, `CompleteTask` and friends.
//!
//! - [`views`]: response bodies, built from domain types;
//! - [`requests`]: request bodies and how each is parsed into domain types;
//! - [`query`]: the query parameter values that are the API's alone;
//! - [`feed`]: the change feed's pages and the event stream's events.
//!
//! Enum values (priority, frequency, status filter, sort key and order) are spelled once, by the
//! domain enums, which derive their schemas.

pub(crate) mod feed;
pub(crate) mod query;
pub(crate) mod requests;
pub(crate) mod views;

pub(crate) use query::ClearStatus;
pub(crate) use requests::{
    CompleteTask, CreateList, CreateTask, MoveList, MoveTask, UpdateList, UpdateTask,
};
pub(crate) use views::{DeletedCount, ListView, TagCount, TaskView};
