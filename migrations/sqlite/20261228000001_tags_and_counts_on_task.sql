-- A task row carries what every read of it returns (issue #18): its tags, as the JSON array the
-- API sends (in their order), and the counts of its direct subtasks. And a user's row of
-- `user_revisions` counts the user's tasks, so that MAX_TASKS_PER_USER is checked by reading
-- one row instead of counting them all on every create. A list of tasks is then a
-- plain read of the rows (no subquery per task); `task_tags` stays, for the tag filter (through
-- its `(user_id, tag_key, …)` index), the tag counts and the tag quota.
--
-- `tags` is written by the statements that write a task's tags (src/store/statements.rs: the
-- INSERT and the UPDATE of a task bind it); the counts are kept by the triggers below, on every
-- insert and delete of a task and every change of its parent or completion, so that no write
-- path can forget them. (Every write of a user has written its `user_revisions` row first.)
ALTER TABLE tasks ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tasks ADD COLUMN subtask_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN completed_subtask_count INTEGER NOT NULL DEFAULT 0;

UPDATE tasks SET tags = (
    SELECT json_group_array(tag) FROM (
        SELECT tag FROM task_tags WHERE task_id = tasks.id ORDER BY position
    )
)
WHERE id IN (SELECT task_id FROM task_tags);

UPDATE tasks SET
    subtask_count = (SELECT count(*) FROM tasks AS c WHERE c.parent_id = tasks.id),
    completed_subtask_count =
        (SELECT count(*) FROM tasks AS c WHERE c.parent_id = tasks.id AND c.completed = 1)
WHERE id IN (SELECT parent_id FROM tasks WHERE parent_id IS NOT NULL);

CREATE TRIGGER tasks_subtask_inserted AFTER INSERT ON tasks
WHEN NEW.parent_id IS NOT NULL
BEGIN
    UPDATE tasks SET subtask_count = subtask_count + 1,
                     completed_subtask_count = completed_subtask_count + NEW.completed
    WHERE id = NEW.parent_id;
END;

CREATE TRIGGER tasks_subtask_deleted AFTER DELETE ON tasks
WHEN OLD.parent_id IS NOT NULL
BEGIN
    UPDATE tasks SET subtask_count = subtask_count - 1,
                     completed_subtask_count = completed_subtask_count - OLD.completed
    WHERE id = OLD.parent_id;
END;

CREATE TRIGGER tasks_subtask_changed AFTER UPDATE OF parent_id, completed ON tasks
WHEN OLD.parent_id IS NOT NEW.parent_id OR OLD.completed <> NEW.completed
BEGIN
    UPDATE tasks SET subtask_count = subtask_count - 1,
                     completed_subtask_count = completed_subtask_count - OLD.completed
    WHERE id = OLD.parent_id;
    UPDATE tasks SET subtask_count = subtask_count + 1,
                     completed_subtask_count = completed_subtask_count + NEW.completed
    WHERE id = NEW.parent_id;
END;

ALTER TABLE user_revisions ADD COLUMN task_count INTEGER NOT NULL DEFAULT 0;

-- Every user with tasks has a row (as the change feed's migration made them).
INSERT INTO user_revisions (user_id, revision)
SELECT user_id, max(revision) FROM tasks GROUP BY user_id
ON CONFLICT (user_id) DO NOTHING;

UPDATE user_revisions SET task_count =
    (SELECT count(*) FROM tasks WHERE tasks.user_id = user_revisions.user_id);

CREATE TRIGGER tasks_counted_in AFTER INSERT ON tasks
BEGIN
    UPDATE user_revisions SET task_count = task_count + 1 WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER tasks_counted_out AFTER DELETE ON tasks
BEGIN
    UPDATE user_revisions SET task_count = task_count - 1 WHERE user_id = OLD.user_id;
END;
