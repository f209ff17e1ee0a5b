-- Lists, subtasks and manual order (issue #15).
--
-- A list (a project) belongs to one user; its name is unique per user ignoring case. Lists and
-- tasks carry `position`: a key that sorts byte-wise in the user's order among its siblings
-- (every list of the user; the tasks of one list, or the inbox, under one parent). The server
-- assigns it (fractional indexing over base-62 digits); the unique indexes below make a tie
-- impossible, whatever the concurrency.
CREATE TABLE lists (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL,
    color      TEXT,
    position   TEXT    NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    revision   INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    CONSTRAINT lists_name_length CHECK (length(name) BETWEEN 1 AND 100),
    CONSTRAINT lists_color_format CHECK (color IS NULL OR (length(color) = 7 AND color GLOB '#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'))
) STRICT;
CREATE UNIQUE INDEX lists_user_name_key ON lists (user_id, name_key);
CREATE UNIQUE INDEX lists_user_position_key ON lists (user_id, position);
-- Serves the change feed.
CREATE INDEX lists_user_revision_idx ON lists (user_id, revision);

-- `list_id` NULL: the inbox; `parent_id` NULL: a top-level task.
ALTER TABLE tasks ADD COLUMN list_id INTEGER;
ALTER TABLE tasks ADD COLUMN parent_id INTEGER;
ALTER TABLE tasks ADD COLUMN position TEXT NOT NULL DEFAULT '';

-- Existing tasks: in the inbox, at the top level, in creation order. Keys `d` + 4 base-62
-- digits (an integer key of the ordering scheme; enough for 62^4 tasks per user).
UPDATE tasks SET position = 'd'
    || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (n / 238328) % 62 + 1, 1)
    || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (n / 3844) % 62 + 1, 1)
    || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (n / 62) % 62 + 1, 1)
    || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', n % 62 + 1, 1)
FROM (
    SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY created_at, id) - 1 AS n
    FROM tasks
) AS numbered
WHERE tasks.id = numbered.id;

-- No two siblings share a position (the inbox and the top level are 0 here), and the manual
-- order of one list's (or the inbox's) tasks under one parent is an index scan.
CREATE UNIQUE INDEX tasks_sibling_position_key
    ON tasks (user_id, coalesce(list_id, 0), coalesce(parent_id, 0), position);
-- A task's subtasks (and their counts); a list's tasks (and its counts).
CREATE INDEX tasks_parent_idx ON tasks (parent_id, completed) WHERE parent_id IS NOT NULL;
CREATE INDEX tasks_list_idx ON tasks (list_id, completed) WHERE list_id IS NOT NULL;

-- A tombstone is a task's (`task`) or a list's (`list`).
ALTER TABLE task_tombstones ADD COLUMN kind TEXT NOT NULL DEFAULT 'task'
    CONSTRAINT task_tombstones_kind CHECK (kind IN ('task', 'list'));
