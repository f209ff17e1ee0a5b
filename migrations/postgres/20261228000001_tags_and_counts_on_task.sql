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
ALTER TABLE tasks
    ADD COLUMN tags                    TEXT    NOT NULL DEFAULT '[]',
    ADD COLUMN subtask_count           BIGINT  NOT NULL DEFAULT 0,
    ADD COLUMN completed_subtask_count BIGINT  NOT NULL DEFAULT 0;

UPDATE tasks SET tags = t.tags
FROM (SELECT task_id, json_agg(tag ORDER BY position)::text AS tags FROM task_tags GROUP BY task_id) AS t
WHERE tasks.id = t.task_id;

UPDATE tasks SET subtask_count = c.total, completed_subtask_count = c.completed
FROM (
    SELECT parent_id, count(*) AS total, count(*) FILTER (WHERE completed) AS completed
    FROM tasks WHERE parent_id IS NOT NULL GROUP BY parent_id
) AS c
WHERE tasks.id = c.parent_id;

-- Moves a task's weight between parents: out of its old parent (DELETE, UPDATE), into its new
-- one (INSERT, UPDATE).
CREATE FUNCTION tasks_subtask_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.parent_id IS NOT NULL THEN
        UPDATE tasks SET subtask_count = subtask_count - 1,
                         completed_subtask_count = completed_subtask_count - OLD.completed::int
        WHERE id = OLD.parent_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.parent_id IS NOT NULL THEN
        UPDATE tasks SET subtask_count = subtask_count + 1,
                         completed_subtask_count = completed_subtask_count + NEW.completed::int
        WHERE id = NEW.parent_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_subtask_inserted AFTER INSERT ON tasks
    FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL) EXECUTE FUNCTION tasks_subtask_counts();
CREATE TRIGGER tasks_subtask_deleted AFTER DELETE ON tasks
    FOR EACH ROW WHEN (OLD.parent_id IS NOT NULL) EXECUTE FUNCTION tasks_subtask_counts();
CREATE TRIGGER tasks_subtask_changed AFTER UPDATE OF parent_id, completed ON tasks
    FOR EACH ROW
    WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id OR OLD.completed <> NEW.completed)
    EXECUTE FUNCTION tasks_subtask_counts();

ALTER TABLE user_revisions ADD COLUMN task_count BIGINT NOT NULL DEFAULT 0;

-- Every user with tasks has a row (as the change feed's migration made them).
INSERT INTO user_revisions (user_id, revision)
SELECT user_id, max(revision) FROM tasks GROUP BY user_id
ON CONFLICT (user_id) DO NOTHING;

UPDATE user_revisions SET task_count = c.total
FROM (SELECT user_id, count(*) AS total FROM tasks GROUP BY user_id) AS c
WHERE user_revisions.user_id = c.user_id;

CREATE FUNCTION tasks_per_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE user_revisions SET task_count = task_count + 1 WHERE user_id = NEW.user_id;
    ELSE
        UPDATE user_revisions SET task_count = task_count - 1 WHERE user_id = OLD.user_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_counted AFTER INSERT OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_per_user();
