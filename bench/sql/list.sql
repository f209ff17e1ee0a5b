-- What the server sends for `GET /api/{user_id}/tasks` without parameters, statement for
-- statement (src/store/listing.rs: page_sql, tags_sql): the page (LIMIT 500 + 1) and the tags
-- of its 50 tasks, each statement on its own as the server runs them (no transaction). The
-- page holds every task (no next page), so the server takes X-Total-Count from it and sends no
-- count query. A unit test (src/store/bench_sql.rs) checks that these statements are the
-- server's, each :name standing for one $N placeholder.
--
-- Each transaction picks a user from :first_user..:last_user (set by bench/run.sh with -D).
-- User ids are digits because pgbench computes only numbers: it binds the text the server
-- binds. bench/run.sh seeds the tasks one after another, so user k's 50 tasks have
-- consecutive ids ending at :first_task + 50k - 1, and newest first is highest id first.
\set k random(:first_user, :last_user)
\set uid :user_base + :k
\set newest :first_task + 50 * :k - 1
\set t1 :newest
\set t2 :newest - 1
\set t3 :newest - 2
\set t4 :newest - 3
\set t5 :newest - 4
\set t6 :newest - 5
\set t7 :newest - 6
\set t8 :newest - 7
\set t9 :newest - 8
\set t10 :newest - 9
\set t11 :newest - 10
\set t12 :newest - 11
\set t13 :newest - 12
\set t14 :newest - 13
\set t15 :newest - 14
\set t16 :newest - 15
\set t17 :newest - 16
\set t18 :newest - 17
\set t19 :newest - 18
\set t20 :newest - 19
\set t21 :newest - 20
\set t22 :newest - 21
\set t23 :newest - 22
\set t24 :newest - 23
\set t25 :newest - 24
\set t26 :newest - 25
\set t27 :newest - 26
\set t28 :newest - 27
\set t29 :newest - 28
\set t30 :newest - 29
\set t31 :newest - 30
\set t32 :newest - 31
\set t33 :newest - 32
\set t34 :newest - 33
\set t35 :newest - 34
\set t36 :newest - 35
\set t37 :newest - 36
\set t38 :newest - 37
\set t39 :newest - 38
\set t40 :newest - 39
\set t41 :newest - 40
\set t42 :newest - 41
\set t43 :newest - 42
\set t44 :newest - 43
\set t45 :newest - 44
\set t46 :newest - 45
\set t47 :newest - 46
\set t48 :newest - 47
\set t49 :newest - 48
\set t50 :newest - 49
SELECT id, user_id, title, description, completed, completed_at, priority, due_at, due_offset, remind_at, recurrence, occurrence, anchor_day, next_task_id, version, created_at, updated_at FROM tasks WHERE user_id = :uid ORDER BY created_at DESC, id DESC LIMIT :limit;
SELECT task_id, tag FROM task_tags WHERE task_id IN (:t1, :t2, :t3, :t4, :t5, :t6, :t7, :t8, :t9, :t10, :t11, :t12, :t13, :t14, :t15, :t16, :t17, :t18, :t19, :t20, :t21, :t22, :t23, :t24, :t25, :t26, :t27, :t28, :t29, :t30, :t31, :t32, :t33, :t34, :t35, :t36, :t37, :t38, :t39, :t40, :t41, :t42, :t43, :t44, :t45, :t46, :t47, :t48, :t49, :t50) ORDER BY task_id, position;
