-- What the server runs for `POST /api/{user_id}/tasks` (src/store/sql.rs: create, and
-- src/store/statements.rs: take_revisions and insert_task) with the body bench/run.sh sends: one
-- transaction that takes the user's next revision (the change feed) and notifies the other
-- processes of it (one statement), and INSERTs the task … RETURNING (the body has no tags and no
-- Idempotency-Key, so nothing else). A unit test (src/store/bench_sql.rs) checks that these
-- statements are the server's, each :name standing for one $N placeholder (:now is $13; pgbench
-- binds it twice).
--
-- bench/run.sh passes, with -D, the values the server binds for that body, and the range of
-- writers: each transaction picks one, as the create workload does.
\set uid :writer_base + random(1, :writers)
BEGIN;
WITH taken AS (INSERT INTO user_revisions (user_id, revision) VALUES (:uid, :revisions) ON CONFLICT (user_id) DO UPDATE SET revision = user_revisions.revision + excluded.revision RETURNING revision) SELECT revision FROM taken, pg_notify('todo_api_changes', revision || ' ' || :uid) \gset
INSERT INTO tasks (user_id, title, description, completed, priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, version, title_key, search_text, created_at, updated_at, revision) VALUES (:uid, :title, :description, FALSE, :priority, :due_at, :due_offset, :remind_at, :recurrence, :occurrence, :anchor_day, 1, :title_key, :search_text, :now, :now, :revision) RETURNING id, user_id, title, description, completed, completed_at, priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, next_task_id, version, created_at, updated_at;
COMMIT;
