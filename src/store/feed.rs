//! A page of the change feed, assembled from what one snapshot holds: the tasks and lists
//! changed after the reader's position and the tombstones after the deletions it has, merged in
//! revision order (both databases, the same way).

use super::row::{RevisedListRow, RevisedRow};
use crate::domain::TaskId;
use crate::domain::changes::{Change, ChangePage, FeedPosition, Revised};
use crate::domain::list::ListId;

/// The page after `start` of a user at `revision`: `tasks` and `lists` (changed after
/// `start.after`) and `deletions` (`(revision, task or list id, kind)` after
/// `start.deletions_after`), each in revision order and at most `limit + 1` long, as read in
/// one snapshot.
pub(super) fn page(
    start: FeedPosition,
    revision: i64,
    tasks: Vec<RevisedRow>,
    lists: Vec<RevisedListRow>,
    deletions: Vec<(i64, i64, String)>,
    limit: u32,
) -> ChangePage {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut changes =
        Vec::with_capacity((tasks.len() + lists.len() + deletions.len()).min(limit + 1));
    let mut tasks = tasks.into_iter().peekable();
    let mut lists = lists.into_iter().peekable();
    let mut deletions = deletions.into_iter().peekable();
    while changes.len() <= limit {
        let heads = [
            tasks.peek().map(|task| task.change_revision),
            lists.peek().map(|list| list.change_revision),
            deletions.peek().map(|(deleted, _, _)| *deleted),
        ];
        let Some((stream, _)) = heads
            .iter()
            .enumerate()
            .filter_map(|(stream, head)| head.map(|revision| (stream, revision)))
            .min_by_key(|(_, revision)| *revision)
        else {
            break;
        };
        let next = match stream {
            0 => tasks.next().map(|task| Revised {
                revision: task.change_revision,
                change: Change::Upsert(task.row.into_task()),
            }),
            1 => lists.next().map(|list| Revised {
                revision: list.change_revision,
                change: Change::ListUpsert(list.row.into_list()),
            }),
            _ => deletions.next().map(|(revision, id, kind)| Revised {
                revision,
                change: if kind == "list" {
                    Change::ListDelete(ListId(id))
                } else {
                    Change::Delete(TaskId(id))
                },
            }),
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
