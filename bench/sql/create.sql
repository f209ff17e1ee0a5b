-- What the server runs for `POST /api/{user_id}/tasks` (src/store/sql.rs: create, and
-- src/store/statements.rs: take_revisions and insert_task) with the body bench/run.sh sends: one
-- transaction that begins with the user's lock (src/store/postgres.rs: lock_user; the server
-- sends it with BEGIN in one simple query, pgbench in one pipeline, both one round trip), takes
-- the user's next revision (the change feed) and reads the last position of the inbox's
-- top-level tasks (the new task goes last) in one statement, and INSERTs the task … RETURNING, unless the user has MAX_TASKS_PER_USER tasks (checked in
-- the same statement, on the count kept in the user's row of user_revisions; the body has no
-- list, parent or Idempotency-Key, so nothing else). The other processes are notified after
-- the commit, in batches (src/store/notifier.rs), outside the transaction: not in this script.
-- pgbench cannot bind NULL: the INSERT writes the NULLs the server binds for `list_id` and
-- `parent_id` (the inbox, the top level), and :position is a random key (the server's is the
-- next one after the last). The lock's key is the user id here, its hexadecimal form in the
-- server (pgbench computes no text): the same work. A unit test (src/store/bench_sql.rs)
-- checks that these statements are the server's, each :name standing for one $N placeholder
-- in order of appearance (:now is $13; pgbench binds it twice).
--
-- bench/run.sh passes, with -D, the values the server binds for that body, and the range of
-- writers: each transaction picks one, as the create workload does.
\set uid :writer_base + random(1, :writers)
\set position random(1, 1000000000000000)
\startpipeline
BEGIN;
SELECT pg_advisory_xact_lock(1953459311, hashtext(:uid));
\endpipeline
INSERT INTO user_revisions (user_id, revision) VALUES (:uid, :revisions) ON CONFLICT (user_id) DO UPDATE SET revision = user_revisions.revision + excluded.revision RETURNING revision, (SELECT max(position) FROM tasks WHERE user_id = :uid AND id <> :no_task AND coalesce(list_id, 0) = :inbox AND coalesce(parent_id, 0) = :top_level) \gset
INSERT INTO tasks (user_id, title, description, completed, priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, version, title_key, search_text, created_at, updated_at, revision, list_id, parent_id, position, tags) SELECT :uid, :title, :description, FALSE, :priority, :due_at, :due_offset, :remind_at, :recurrence, :occurrence, :anchor_day, 1, :title_key, :search_text, :now, :now, :revision, NULL, NULL, :position, :tags WHERE (SELECT task_count FROM user_revisions WHERE user_id = :uid) < :max_tasks RETURNING id, user_id, title, description, completed, completed_at, priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, next_task_id, version, created_at, updated_at, list_id, parent_id, position, subtask_count, completed_subtask_count;
COMMIT;
