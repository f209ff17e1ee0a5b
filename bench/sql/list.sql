-- What the server sends for `GET /api/{user_id}/tasks` without parameters (src/store/listing.rs:
-- page_sql, with the task columns and PostgreSQL's tag aggregate, composed by
-- src/store/statements.rs: Texts): one statement reading the page (LIMIT 500 + 1) with each
-- task's tags and subtask counts, which the task's row holds (the migration
-- tags_and_counts_on_task). The
-- page holds every task (no next page), so the server takes X-Total-Count from it and sends no
-- count query. A unit test (src/store/bench_sql.rs) checks that this statement is the server's,
-- each :name standing for one $N placeholder.
--
-- Each transaction picks a user from :first_user..:last_user (set by bench/run.sh with -D).
-- User ids are digits because pgbench computes only numbers: it binds the text the server
-- binds.
\set k random(:first_user, :last_user)
\set uid :user_base + :k
SELECT id, user_id, title, description, completed, completed_at, priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, next_task_id, version, created_at, updated_at, list_id, parent_id, position, subtask_count, completed_subtask_count, tags FROM tasks WHERE user_id = :uid ORDER BY created_at DESC, id DESC LIMIT :limit;
