-- Ceiling (b) of a list: the cheapest SQL that answers `GET /api/{user_id}/tasks` for the seeded
-- users, one user's 50 tasks read by the `(user_id, …)` index with the task's columns and nothing
-- else (no tags, no total): what no server can beat on this database. bench/run.sh reports the
-- API's list throughput as a ratio of it (issue 18, target 4b). The issue writes it `ORDER BY id
-- DESC`, but no index of `tasks` starts `(user_id, id)`: prepared, PostgreSQL then plans it as
-- a backward walk of the primary key filtering on the user, which passes every newer task of
-- every user (13 tps at 64 connections in the run of 2026-12-02, once the create workload had
-- added ~40,000 tasks). `ORDER BY created_at DESC, id DESC` is read from the
-- `(user_id, created_at DESC, id DESC)` index, as the issue means: newest first, as the API.
\set k random(:first_user, :last_user)
\set uid :user_base + :k
SELECT id, user_id, title, description, completed, completed_at, priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, next_task_id, version, created_at, updated_at, list_id, parent_id, position FROM tasks WHERE user_id = :uid ORDER BY created_at DESC, id DESC LIMIT 50;
