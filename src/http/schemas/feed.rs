//! What the change feed and the event stream hold: `Change` (an `UpsertChange`, a
//! `DeleteChange`, a `ListUpsertChange` or a `ListDeleteChange`), `ChangePage`, and the frames of the stream (`StreamEvent`), each event's
//! `data` spelled as a schema so that the TypeScript client gets its type.

use poem_openapi::{Object, Union};
use serde::Serialize;

use super::{ListView, TaskView};
use crate::domain::changes::Change;

/// One change to apply, in order, to a local copy of the user's tasks and lists: `upsert` (the
/// task as it is now: insert it or replace the copy), `delete` (remove the task with this id;
/// nothing to do if there is none), `list_upsert` and `list_delete` (the same for a list).
#[derive(Debug, Union, Serialize)]
#[oai(rename = "Change", discriminator_name = "type", one_of)]
#[serde(tag = "type")]
#[allow(clippy::large_enum_variant)] // mostly upserts: boxing them would only add an allocation
pub(crate) enum ChangeView {
    /// A task was created or changed.
    #[oai(mapping = "upsert")]
    #[serde(rename = "upsert")]
    Upsert(UpsertChange),
    /// A task was deleted.
    #[oai(mapping = "delete")]
    #[serde(rename = "delete")]
    Delete(DeleteChange),
    /// A list was created or changed.
    #[oai(mapping = "list_upsert")]
    #[serde(rename = "list_upsert")]
    ListUpsert(ListUpsertChange),
    /// A list was deleted.
    #[oai(mapping = "list_delete")]
    #[serde(rename = "list_delete")]
    ListDelete(ListDeleteChange),
}

/// A list created or changed (renamed, recolored, moved): its latest state. Its counts are
/// those of when the change was read; the feed sends a list again when the list itself
/// changes, not when its tasks do (count the tasks of the copy instead).
#[derive(Debug, Object, Serialize)]
#[oai(rename = "ListUpsertChange")]
pub(crate) struct ListUpsertChange {
    /// The list as it is now.
    pub(crate) list: ListView,
}

/// A list deleted (its tasks were moved to the inbox or deleted: their own changes say which).
#[derive(Debug, Object, Serialize)]
#[oai(rename = "ListDeleteChange")]
pub(crate) struct ListDeleteChange {
    /// The id of the deleted list.
    pub(crate) id: i64,
}

/// A task created or changed: its latest state.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "UpsertChange")]
pub(crate) struct UpsertChange {
    /// The task as it is now.
    pub(crate) task: TaskView,
}

/// A task deleted.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "DeleteChange")]
pub(crate) struct DeleteChange {
    /// The id of the deleted task.
    pub(crate) id: i64,
}

impl From<Change> for ChangeView {
    fn from(change: Change) -> Self {
        match change {
            Change::Upsert(task) => Self::Upsert(UpsertChange { task: task.into() }),
            Change::Delete(id) => Self::Delete(DeleteChange { id: id.0 }),
            Change::ListUpsert(list) => Self::ListUpsert(ListUpsertChange { list: list.into() }),
            Change::ListDelete(id) => Self::ListDelete(ListDeleteChange { id: id.0 }),
        }
    }
}

/// A page of the change feed.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "ChangePage")]
pub(crate) struct ChangePageView {
    /// The changes, oldest first; a task changed several times appears once, in its latest
    /// state. Apply them in order.
    pub(crate) changes: Vec<ChangeView>,
    /// Where to continue: pass it as `since` (or as `Last-Event-ID` to the event stream).
    /// Opaque.
    pub(crate) cursor: String,
    /// `true` when more changes follow already: ask again with `since` set to `cursor` now.
    pub(crate) has_more: bool,
}

/// A cursor in the event stream: where the stream stands.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "StreamCursor")]
pub(crate) struct StreamCursor {
    /// Opaque: resume the stream with it as `Last-Event-ID` (or `since`), or read the changes
    /// after it with `GET /api/{user_id}/changes?since=…`.
    pub(crate) cursor: String,
}

/// One frame of the event stream (`text/event-stream`), as the fields of an SSE event:
/// `event: <event>`, `id: <id>`, `data: <data as one line of JSON>`. Between events the
/// server sends comment lines (`:`) as heartbeats.
#[derive(Debug, Union)]
#[oai(rename = "StreamEvent", discriminator_name = "event", one_of)]
#[allow(clippy::large_enum_variant)] // mostly changes, built once and sent at once
pub(crate) enum StreamEvent {
    /// The first event.
    #[oai(mapping = "ready")]
    Ready(ReadyEvent),
    /// A change.
    #[oai(mapping = "change")]
    Change(ChangeEvent),
    /// The token expired.
    #[oai(mapping = "reauth")]
    Reauth(ReauthEvent),
    /// The client fell behind.
    #[oai(mapping = "resync")]
    Resync(ResyncEvent),
}

/// `event: ready`: the stream is open and will carry every change after `data.cursor` (the
/// first event of every stream). Without `since` or `Last-Event-ID`, that is "now".
#[derive(Debug, Object)]
#[oai(rename = "ReadyEvent")]
pub(crate) struct ReadyEvent {
    /// Where the stream starts (the same as `data.cursor`).
    pub(crate) id: String,
    /// Where the stream starts.
    pub(crate) data: StreamCursor,
}

/// `event: change`: one change, in order. Its `id` is the cursor after it: the
/// `Last-Event-ID` to resume from.
#[derive(Debug, Object)]
#[oai(rename = "ChangeEvent")]
pub(crate) struct ChangeEvent {
    /// The cursor after this change.
    pub(crate) id: String,
    // The change, as `/changes` gives it. (Not a doc comment: a described field is written
    // `allOf: [$ref]`, which OpenAPI reads as a subtype of the discriminated `Change`, and the
    // TypeScript client would then type it without its `type`.)
    pub(crate) data: ChangeView,
}

/// `event: reauth`: the token has expired and the stream ends. Reconnect with a fresh token and
/// `Last-Event-ID` set to `data.cursor`: nothing is lost.
#[derive(Debug, Object)]
#[oai(rename = "ReauthEvent")]
pub(crate) struct ReauthEvent {
    /// Where to resume (the same as `data.cursor`).
    pub(crate) id: String,
    /// Where to resume.
    pub(crate) data: StreamCursor,
}

/// `event: resync`: the client fell too far behind (`EVENTS_MAX_LAG`) and the stream ends.
/// Catch up with `GET /api/{user_id}/changes?since=<data.cursor>` (paging while `has_more`),
/// then reconnect with the cursor of the last page.
#[derive(Debug, Object)]
#[oai(rename = "ResyncEvent")]
pub(crate) struct ResyncEvent {
    /// Where the client stands (the same as `data.cursor`).
    pub(crate) id: String,
    /// Where the client stands.
    pub(crate) data: StreamCursor,
}
