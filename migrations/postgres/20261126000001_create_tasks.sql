-- Tasks, one row per task, always scoped by the owning user's id (the JWT `sub`).
CREATE TABLE tasks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     TEXT        NOT NULL,
    title       TEXT        NOT NULL,
    description TEXT,
    completed   BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT tasks_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT tasks_description_length CHECK (char_length(description) <= 1000)
);

-- Serves the list query: one user's tasks, newest first.
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at DESC, id DESC);
