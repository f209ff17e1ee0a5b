-- Ceiling (b) of a list: the cheapest SQL that answers `GET /api/{user_id}/tasks` for the seeded
-- users, one user's 50 tasks read by the `(user_id, …)` index with the task's columns and nothing
-- else (no tags, no total): what no server can beat on this database. bench/run.sh reports the
-- API's list throughput as a ratio of it (issue 18, target 4b).
\set k random(:first_user, :last_user)
\set uid :user_base + :k
SELECT id, user_id, title, description, completed, completed_at, priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, next_task_id, version, created_at, updated_at, list_id, parent_id, position FROM tasks WHERE user_id = :uid ORDER BY id DESC LIMIT 50;
