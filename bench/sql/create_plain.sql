-- Ceiling (b) of a create: one plain `INSERT … RETURNING` of the row the server inserts for the
-- create workload's body, in its own (implicit) transaction: no revision taken, no quota
-- checked, no notification, no position looked up, no subtask counts. bench/run.sh reports the API's create throughput as a ratio of it
-- (issue 18, target 4b).
\set uid :writer_base + random(1, :writers)
\set position random(1, 1000000000000000)
INSERT INTO tasks (user_id, title, description, completed, priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, version, title_key, search_text, created_at, updated_at, revision, list_id, parent_id, position) VALUES (:uid, :title, :description, FALSE, :priority, :due_at, :due_offset, :remind_at, :recurrence, :occurrence, :anchor_day, 1, :title_key, :search_text, :now, :now, :revisions, NULL, NULL, :position) RETURNING id, user_id, title, description, completed, completed_at, priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, next_task_id, version, created_at, updated_at, list_id, parent_id, position;
