//! A page of the change feed, assembled from what one snapshot holds: the tasks changed after
//! the reader's position and the tombstones after the deletions it has, merged in revision
//! order (both databases, the same way).

use super::row::RevisedRow;
use crate::domain::TaskId;
use crate::domain::changes::{Change, ChangePage, FeedPosition, Revised};

/// The page after `start` of a user at `revision`: `tasks` (changed after `start.after`) and
/// `deletions` (`(revision, task id)` after `start.deletions_after`), each in revision order and
/// at most `limit + 1` long, as read in one snapshot.
pub(super) fn page(
    start: FeedPosition,
    revision: i64,
    tasks: Vec<RevisedRow>,
    deletions: Vec<(i64, i64)>,
    limit: u32,
) -> ChangePage {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut changes = Vec::with_capacity((tasks.len() + deletions.len()).min(limit + 1));
    let mut tasks = tasks.into_iter().peekable();
    let mut deletions = deletions.into_iter().peekable();
    while changes.len() <= limit {
        let task_first = match (tasks.peek(), deletions.peek()) {
            (Some(task), Some((deleted, _))) => task.change_revision < *deleted,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if task_first {
            tasks.next().map(|task| Revised {
                revision: task.change_revision,
                change: Change::Upsert(task.row.into_task()),
            })
        } else {
            deletions.next().map(|(revision, id)| Revised {
                revision,
                change: Change::Delete(TaskId(id)),
            })
        };
        changes.extend(next);
    }
    let has_more = changes.len() > limit;
    changes.truncate(limit);
    let end = if has_more {
        changes
            .iter()
            .fold(start, |position, change| position.past(change.revision))
    } else {
        // Everything up to the user's revision is in this page (or was before `start`).
        FeedPosition::at(revision)
    };
    ChangePage {
        start,
        changes,
        end,
        has_more,
        revision,
    }
}
