-- Live sync (issue #14): every change to a user's tasks gets a per-user revision, in commit order.
-- `user_revisions` holds each user's latest revision; its row lock, taken by every write, makes a
-- higher revision of a user commit after every lower one. `compacted_through` is the highest
-- revision of a tombstone compacted away: a cursor older than it is answered 410.
CREATE TABLE user_revisions (
    user_id           TEXT   PRIMARY KEY,
    revision          BIGINT NOT NULL,
    compacted_through BIGINT NOT NULL DEFAULT 0
);

-- The revision of a task's latest change.
ALTER TABLE tasks ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

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
    user_id    TEXT        NOT NULL,
    task_id    BIGINT      NOT NULL,
    revision   BIGINT      NOT NULL,
    deleted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, revision)
);
-- Serves compaction.
CREATE INDEX task_tombstones_deleted_at_idx ON task_tombstones (deleted_at);
