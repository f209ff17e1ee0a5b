-- Priorities, tags, search, due dates, reminders, recurrence, ETags and idempotent creates.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE tasks
    ADD COLUMN priority     SMALLINT    NOT NULL DEFAULT 1,
    ADD COLUMN due_at       TIMESTAMPTZ,
    ADD COLUMN due_offset   INTEGER,
    ADD COLUMN remind_at    TIMESTAMPTZ,
    ADD COLUMN recurrence   TEXT,
    ADD COLUMN occurrence   INTEGER     NOT NULL DEFAULT 1,
    ADD COLUMN anchor_day   SMALLINT    NOT NULL DEFAULT 1,
    ADD COLUMN next_task_id BIGINT,
    ADD COLUMN completed_at TIMESTAMPTZ,
    ADD COLUMN version      BIGINT      NOT NULL DEFAULT 1,
    ADD COLUMN title_key    TEXT,
    ADD COLUMN search_text  TEXT,
    ADD CONSTRAINT tasks_priority_range CHECK (priority BETWEEN 0 AND 2);

UPDATE tasks SET
    title_key = lower(title),
    search_text = lower(title || E'\n' || coalesce(description, '')),
    completed_at = CASE WHEN completed THEN updated_at END;

ALTER TABLE tasks
    ALTER COLUMN title_key SET NOT NULL,
    ALTER COLUMN search_text SET NOT NULL;

-- Sorting and filtering within one user's tasks.
CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at DESC, id DESC);
CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_at, id);
CREATE INDEX tasks_user_title_idx ON tasks (user_id, title_key, id);
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, id);
CREATE INDEX tasks_user_remind_idx ON tasks (user_id, remind_at) WHERE remind_at IS NOT NULL AND NOT completed;
-- Keyword search (`q`): trigram index, used by `search_text LIKE '%…%'`.
CREATE INDEX tasks_search_trgm_idx ON tasks USING gin (search_text gin_trgm_ops);

CREATE TABLE task_tags (
    task_id  BIGINT   NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id  TEXT     NOT NULL,
    tag      TEXT     NOT NULL,
    tag_key  TEXT     NOT NULL,
    position SMALLINT NOT NULL,
    PRIMARY KEY (task_id, tag_key)
);
-- Filtering by tag and counting a user's tags.
CREATE INDEX task_tags_user_tag_idx ON task_tags (user_id, tag_key, task_id);

CREATE TABLE idempotency_keys (
    user_id      TEXT        NOT NULL,
    key          TEXT        NOT NULL,
    fingerprint  TEXT        NOT NULL,
    response     TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);
