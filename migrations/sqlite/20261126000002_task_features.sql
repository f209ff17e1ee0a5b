-- Priorities, tags, search, due dates, reminders, recurrence, ETags and idempotent creates.
ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 1 CONSTRAINT tasks_priority_range CHECK (priority BETWEEN 0 AND 2);
ALTER TABLE tasks ADD COLUMN due_at TEXT;
ALTER TABLE tasks ADD COLUMN due_offset INTEGER;
ALTER TABLE tasks ADD COLUMN remind_at TEXT;
ALTER TABLE tasks ADD COLUMN recurrence TEXT;
ALTER TABLE tasks ADD COLUMN occurrence INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tasks ADD COLUMN anchor_day INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tasks ADD COLUMN next_task_id INTEGER;
ALTER TABLE tasks ADD COLUMN completed_at TEXT;
ALTER TABLE tasks ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tasks ADD COLUMN title_key TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

UPDATE tasks SET
    title_key = lower(title),
    search_text = lower(title || char(10) || coalesce(description, '')),
    completed_at = CASE WHEN completed THEN updated_at END;

CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at DESC, id DESC);
CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_at, id);
CREATE INDEX tasks_user_title_idx ON tasks (user_id, title_key, id);
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, id);
CREATE INDEX tasks_user_remind_idx ON tasks (user_id, remind_at) WHERE remind_at IS NOT NULL AND NOT completed;

CREATE TABLE task_tags (
    task_id  INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id  TEXT    NOT NULL,
    tag      TEXT    NOT NULL,
    tag_key  TEXT    NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (task_id, tag_key)
) STRICT;
CREATE INDEX task_tags_user_tag_idx ON task_tags (user_id, tag_key, task_id);

CREATE TABLE idempotency_keys (
    user_id     TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) STRICT;
