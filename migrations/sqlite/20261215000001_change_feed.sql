-- Live sync (issue #14): every change to a user's tasks gets a per-user revision, in commit order
-- (SQLite serialises writers: `BEGIN IMMEDIATE`). `user_revisions` holds each user's latest
-- revision; `compacted_through` is the highest revision of a tombstone compacted away: a cursor
-- older than it is answered 410.
CREATE TABLE user_revisions (
    user_id           TEXT    PRIMARY KEY,
    revision          INTEGER NOT NULL,
    compacted_through INTEGER NOT NULL DEFAULT 0
) STRICT;

-- The revision of a task's latest change.
ALTER TABLE tasks ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- Tasks that exist already get revisions 1..n per user, in id order.
UPDATE tasks SET revision = numbered.rn
FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY id) AS rn FROM tasks) AS numbered
WHERE tasks.id = numbered.id;

INSERT INTO user_revisions (user_id, revision)
SELECT user_id, max(revision) FROM tasks GROUP BY user_id;

-- Serves the change feed: one user's tasks changed after a revision.
CREATE INDEX tasks_user_revision_idx ON tasks (user_id, revision);

-- A deleted task leaves its id and the revision of its deletion, until compacted.
CREATE TABLE task_tombstones (
    user_id    TEXT    NOT NULL,
    task_id    INTEGER NOT NULL,
    revision   INTEGER NOT NULL,
    deleted_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, revision)
) STRICT;
-- Serves compaction.
CREATE INDEX task_tombstones_deleted_at_idx ON task_tombstones (deleted_at);
