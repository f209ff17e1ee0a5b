//! The change feed of a user's tasks and lists: what changed ([`Change`]), in the order of the per-user
//! revisions the store gives every write, and where a reader of the feed stands
//! ([`FeedPosition`]).

use super::list::{List, ListId};
use super::{Task, TaskId};

/// One change, as a client applies it to its copy of the tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // mostly upserts: boxing them would only add an allocation
pub(crate) enum Change {
    /// The task as it is now (created or changed).
    Upsert(Task),
    /// The task was deleted.
    Delete(TaskId),
    /// The list as it is now (created, renamed, recolored or moved).
    ListUpsert(List),
    /// The list was deleted.
    ListDelete(ListId),
}

/// A change and the revision it was made at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Revised {
    /// The user's revision of this change (each change has its own).
    pub revision: i64,
    /// What changed.
    pub change: Change,
}

/// Where a reader of a user's feed stands: it has every change up to revision `after`, and every
/// deletion up to `deletions_after` (which is never below `after`).
///
/// The two differ only while a reader pages through the whole current state: it then needs the
/// deletions made since that read began (`deletions_after` is the user's revision then), not the
/// older ones, of tasks it never received; those may have been compacted away meanwhile without
/// harming it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FeedPosition {
    /// The revision of the last change the reader has.
    pub after: i64,
    /// The revision up to which the reader needs no deletion.
    pub deletions_after: i64,
}

impl FeedPosition {
    /// Up to date at `revision`.
    pub(crate) fn at(revision: i64) -> Self {
        Self {
            after: revision,
            deletions_after: revision,
        }
    }

    /// Whether the two revisions are consistent (a position a server could have issued).
    pub(crate) fn is_valid(&self) -> bool {
        self.after >= 0 && self.deletions_after >= self.after
    }

    /// The position once the change made at `revision` (one after this position) is applied.
    pub(crate) fn past(self, revision: i64) -> Self {
        Self {
            after: revision,
            deletions_after: self.deletions_after.max(revision),
        }
    }
}

/// One page of a user's feed: consistent, the user's history up to a revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChangePage {
    /// Where the page starts: the position asked for, or, for a read of the whole state, the
    /// start of that read (nothing yet, every deletion so far not needed).
    pub start: FeedPosition,
    /// The changes after `start`, oldest first; each task at most once, in its latest state.
    pub changes: Vec<Revised>,
    /// Where to continue from.
    pub end: FeedPosition,
    /// Whether more changes follow `end` already.
    pub has_more: bool,
    /// The user's latest revision when the page was read (the page goes no further).
    pub revision: i64,
}

/// What reading a page of the feed gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FeedRead {
    /// The page.
    Page(ChangePage),
    /// The position is older than the retention window (the deletions after it were compacted
    /// away), or newer than anything the store has: the reader must start over.
    Expired,
}
