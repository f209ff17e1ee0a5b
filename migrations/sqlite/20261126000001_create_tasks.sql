-- Tasks, one row per task, always scoped by the owning user's id (the JWT `sub`).
-- AUTOINCREMENT: ids of deleted tasks are never handed out again.
CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    description TEXT,
    completed   INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    CONSTRAINT tasks_title_length CHECK (length(title) BETWEEN 1 AND 200),
    CONSTRAINT tasks_description_length CHECK (description IS NULL OR length(description) <= 1000),
    CONSTRAINT tasks_completed_bool CHECK (completed IN (0, 1))
) STRICT;

-- Serves the list query: one user's tasks, newest first.
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at DESC, id DESC);
