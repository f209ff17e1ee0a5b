//! The [`TaskStore`](super::TaskStore) implementation shared by both backends.
//!
//! PostgreSQL and SQLite accept the same SQL here (`$N` placeholders, `RETURNING`), so the
//! queries are written once; the macro instantiates them for each backend's concrete pool type
//! (sqlx's generic executor bounds would obscure more than they share). Only the transaction
//! start (`BEGIN IMMEDIATE` on SQLite), the row lock (`FOR UPDATE` on PostgreSQL), the
//! aggregate that reads a task's tags along with it (`json_agg`, `json_group_array`) and the
//! migrations differ.

/// Binds [`Param`](super::listing::Param)s to a query in order.
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                $crate::store::listing::Param::Text(v) => query.bind(v),
                $crate::store::listing::Param::Int(v) => query.bind(v),
                $crate::store::listing::Param::Bool(v) => query.bind(v),
                $crate::store::listing::Param::Time(v) => query.bind(v),
            };
        }
        query
    }};
}

/// Implements `TaskStore` for `$store`, which provides `persistent()` (whether statements are
/// cached), `session()` (a connection, or a transaction of its own behind a pooler), `begin()`,
/// and `ping_impl`, `migrate_impl`, `pool_stats_impl` and a `pool`.
macro_rules! sql_task_store {
    (
        $store:ty,
        $db:ty,
        lock = $lock:literal,
        tags = $tags:literal $(,)?
    ) => {
        pub(super) mod shared {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use sqlx::{AssertSqlSafe, Executor, Transaction};

            use $crate::domain::listing::{ListQuery, Page, Position};
            use $crate::domain::{NewTask, Tag, Task, TaskChanges, TaskId, UserId, now};
            use $crate::store::listing;
            use $crate::store::row::{Encoded, INSERT_TASK, TaggedRow, TaskRow, columns};
            use $crate::store::{
                Completion, Created, IDEMPOTENCY_WINDOW, IdempotencyKey, Outcome, StoreError,
                TaskStore,
            };

            type Db = $db;
            type Tx = Transaction<'static, Db>;

            /// The task columns, then the task's tags as a JSON array ([`TaggedRow`]).
            pub(in $crate::store) const TAGGED_COLUMNS: &str =
                concat!(columns!(), ", ", $tags, " AS tags");

            async fn insert_tags(
                tx: &mut Tx,
                owner: &UserId,
                task_id: i64,
                tags: &[Tag],
                persistent: bool,
            ) -> Result<(), StoreError> {
                for (position, tag) in tags.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO task_tags (task_id, user_id, tag, tag_key, position) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(task_id)
                    .bind(owner.as_str())
                    .bind(tag.as_str())
                    .bind(tag.key())
                    .bind(i16::try_from(position).unwrap_or(i16::MAX))
                    .persistent(persistent)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            async fn insert_task(
                tx: &mut Tx,
                owner: &UserId,
                task: &NewTask,
                persistent: bool,
            ) -> Result<Task, StoreError> {
                let description = task.description.as_ref().map(|d| d.as_str());
                let e = Encoded::new(
                    task.title.as_str(),
                    description,
                    task.priority,
                    &task.schedule,
                    task.occurrence,
                    task.anchor_day,
                );
                let row: TaskRow = sqlx::query_as(INSERT_TASK)
                .bind(owner.as_str())
                .bind(task.title.as_str())
                .bind(description)
                .bind(e.priority)
                .bind(e.due_at)
                .bind(e.due_offset)
                .bind(task.schedule.remind_at)
                .bind(e.recurrence)
                .bind(e.occurrence)
                .bind(e.anchor_day)
                .bind(e.title_key)
                .bind(e.search_text)
                .bind(now())
                .persistent(persistent)
                .fetch_one(&mut **tx)
                .await?;
                insert_tags(tx, owner, row.id(), &task.tags, persistent).await?;
                Ok(row.into_task(task.tags.clone()))
            }

            /// The task, locked for the rest of the transaction.
            async fn load_for_update(
                tx: &mut Tx,
                owner: &UserId,
                id: TaskId,
                persistent: bool,
            ) -> Result<Option<Task>, StoreError> {
                let row: Option<TaggedRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    columns!(),
                    ", ",
                    $tags,
                    " AS tags FROM tasks WHERE id = $1 AND user_id = $2",
                    $lock
                ))
                .bind(id.0)
                .bind(owner.as_str())
                .persistent(persistent)
                .fetch_optional(&mut **tx)
                .await?;
                Ok(row.map(TaggedRow::into_task))
            }

            /// The stored answer to an earlier use of `key`, if any.
            async fn replay<'e, E>(
                executor: E,
                owner: &UserId,
                key: &IdempotencyKey,
                persistent: bool,
            ) -> Result<Option<Created>, StoreError>
            where
                E: Executor<'e, Database = Db>,
            {
                let row: Option<(String, String)> = sqlx::query_as(
                    "SELECT fingerprint, response FROM idempotency_keys \
                     WHERE user_id = $1 AND key = $2 AND created_at > $3",
                )
                .bind(owner.as_str())
                .bind(&key.key)
                .bind(now() - IDEMPOTENCY_WINDOW)
                .persistent(persistent)
                .fetch_optional(executor)
                .await?;
                Ok(row.map(|(fingerprint, response)| {
                    if fingerprint != key.fingerprint {
                        return Created::KeyReused;
                    }
                    match serde_json::from_str::<Task>(&response) {
                        Ok(task) => Created::Replayed(task),
                        Err(_) => Created::KeyReused,
                    }
                }))
            }

            #[async_trait]
            impl TaskStore for $store {
                async fn list(&self, owner: &UserId, query: &ListQuery) -> Result<Page, StoreError> {
                    let p = self.persistent();
                    let mut session = self.session().await?;
                    let sql = listing::page_sql(owner, query, TAGGED_COLUMNS);
                    let mut rows: Vec<TaggedRow> = bind_params!(
                        sqlx::query_as(AssertSqlSafe(sql.text)),
                        sql.params
                    )
                    .persistent(p)
                    .fetch_all(session.conn())
                    .await?;
                    let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
                    let more = rows.len() > limit;
                    rows.truncate(limit);
                    let total: i64 = if query.after.is_none() && !more {
                        // A first page that is also the last holds every match: no need to count.
                        i64::try_from(rows.len()).unwrap_or(i64::MAX)
                    } else {
                        let count = listing::count_sql(owner, query);
                        bind_params!(sqlx::query_scalar(AssertSqlSafe(count.text)), count.params)
                            .persistent(p)
                            .fetch_one(session.conn())
                            .await?
                    };
                    session.finish().await?;
                    let tasks: Vec<Task> = rows.into_iter().map(TaggedRow::into_task).collect();
                    let next = if more {
                        tasks.last().map(|task| Position::of(task, query.sort))
                    } else {
                        None
                    };
                    Ok(Page {
                        tasks,
                        total: u64::try_from(total).unwrap_or_default(),
                        next,
                    })
                }

                async fn create(
                    &self,
                    owner: &UserId,
                    task: NewTask,
                    key: Option<IdempotencyKey>,
                ) -> Result<Created, StoreError> {
                    let p = self.persistent();
                    let mut tx: Tx = self.begin().await?;
                    if let Some(key) = &key {
                        if let Some(earlier) = replay(&mut *tx, owner, key, p).await? {
                            return Ok(earlier);
                        }
                    }
                    let created = insert_task(&mut tx, owner, &task, p).await?;
                    if let Some(key) = &key {
                        let response = serde_json::to_string(&created)
                            .map_err(|err| StoreError::Encode(err.to_string()))?;
                        // An expired use of the key gives way to this one.
                        let stored = sqlx::query(
                            "INSERT INTO idempotency_keys (user_id, key, fingerprint, response, created_at) \
                             VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (user_id, key) DO UPDATE SET \
                               fingerprint = excluded.fingerprint, response = excluded.response, \
                               created_at = excluded.created_at \
                             WHERE idempotency_keys.created_at <= $6",
                        )
                        .bind(owner.as_str())
                        .bind(&key.key)
                        .bind(&key.fingerprint)
                        .bind(response)
                        .bind(now())
                        .bind(now() - IDEMPOTENCY_WINDOW)
                        .persistent(p)
                        .execute(&mut *tx)
                        .await?;
                        if stored.rows_affected() == 0 {
                            // A concurrent request with the same key won: answer as it did.
                            tx.rollback().await?;
                            let mut session = self.session().await?;
                            let earlier = replay(session.conn(), owner, key, p).await?;
                            session.finish().await?;
                            return Ok(earlier.unwrap_or(Created::KeyReused));
                        }
                    }
                    tx.commit().await?;
                    Ok(Created::New(created))
                }

                async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
                    let mut session = self.session().await?;
                    let row: Option<TaggedRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        columns!(),
                        ", ",
                        $tags,
                        " AS tags FROM tasks WHERE id = $1 AND user_id = $2"
                    ))
                    .bind(id.0)
                    .bind(owner.as_str())
                    .persistent(self.persistent())
                    .fetch_optional(session.conn())
                    .await?;
                    session.finish().await?;
                    Ok(row.map(TaggedRow::into_task))
                }

                async fn update(
                    &self,
                    owner: &UserId,
                    id: TaskId,
                    changes: &TaskChanges,
                    expected_version: Option<i64>,
                ) -> Result<Outcome<Task>, StoreError> {
                    let p = self.persistent();
                    let mut tx: Tx = self.begin().await?;
                    let Some(mut task) = load_for_update(&mut tx, owner, id, p).await? else {
                        return Ok(Outcome::NotFound);
                    };
                    if expected_version.is_some_and(|v| v != task.version) {
                        return Ok(Outcome::Stale);
                    }
                    if let Err(issues) = task.apply(changes) {
                        return Ok(Outcome::Invalid(issues));
                    }
                    let e = Encoded::new(
                        &task.title,
                        task.description.as_deref(),
                        task.priority,
                        &task.schedule,
                        task.occurrence,
                        task.anchor_day,
                    );
                    let row: TaskRow = sqlx::query_as(concat!(
                        "UPDATE tasks SET title = $3, description = $4, priority = $5, due_at = $6, \
                         due_offset = $7, remind_at = $8, recurrence = $9, occurrence = $10, \
                         anchor_day = $11, title_key = $12, search_text = $13, \
                         version = version + 1, updated_at = $14 \
                         WHERE id = $1 AND user_id = $2 RETURNING ",
                        columns!()
                    ))
                    .bind(id.0)
                    .bind(owner.as_str())
                    .bind(&task.title)
                    .bind(task.description.as_deref())
                    .bind(e.priority)
                    .bind(e.due_at)
                    .bind(e.due_offset)
                    .bind(task.schedule.remind_at)
                    .bind(e.recurrence)
                    .bind(e.occurrence)
                    .bind(e.anchor_day)
                    .bind(e.title_key)
                    .bind(e.search_text)
                    .bind(now())
                    .persistent(p)
                    .fetch_one(&mut *tx)
                    .await?;
                    if let Some(tags) = &changes.tags {
                        sqlx::query("DELETE FROM task_tags WHERE task_id = $1")
                            .bind(id.0)
                            .persistent(p)
                            .execute(&mut *tx)
                            .await?;
                        insert_tags(&mut tx, owner, id.0, tags, p).await?;
                    }
                    tx.commit().await?;
                    Ok(Outcome::Done(row.into_task(task.tags)))
                }

                async fn set_completed(
                    &self,
                    owner: &UserId,
                    id: TaskId,
                    completed: Option<bool>,
                    expected_version: Option<i64>,
                ) -> Result<Outcome<Completion>, StoreError> {
                    let p = self.persistent();
                    let mut tx: Tx = self.begin().await?;
                    let Some(task) = load_for_update(&mut tx, owner, id, p).await? else {
                        return Ok(Outcome::NotFound);
                    };
                    if expected_version.is_some_and(|v| v != task.version) {
                        return Ok(Outcome::Stale);
                    }
                    let completed = completed.unwrap_or(!task.completed);
                    if completed == task.completed {
                        // Setting the value it already has changes nothing.
                        return Ok(Outcome::Done(Completion { task, next: None }));
                    }
                    let at = now();
                    let mut row: TaskRow = sqlx::query_as(concat!(
                        "UPDATE tasks SET completed = $3, completed_at = $4, \
                         version = version + 1, updated_at = $5 \
                         WHERE id = $1 AND user_id = $2 RETURNING ",
                        columns!()
                    ))
                    .bind(id.0)
                    .bind(owner.as_str())
                    .bind(completed)
                    .bind(completed.then_some(at))
                    .bind(at)
                    .persistent(p)
                    .fetch_one(&mut *tx)
                    .await?;
                    let mut next = None;
                    if completed && task.next_occurrence_id.is_none() {
                        if let Some(occurrence) = task.next_occurrence() {
                            let created = insert_task(&mut tx, owner, &occurrence, p).await?;
                            row = sqlx::query_as(concat!(
                                "UPDATE tasks SET next_task_id = $3 WHERE id = $1 AND user_id = $2 RETURNING ",
                                columns!()
                            ))
                            .bind(id.0)
                            .bind(owner.as_str())
                            .bind(created.id.0)
                            .persistent(p)
                            .fetch_one(&mut *tx)
                            .await?;
                            next = Some(created);
                        }
                    }
                    tx.commit().await?;
                    Ok(Outcome::Done(Completion {
                        task: row.into_task(task.tags),
                        next,
                    }))
                }

                async fn delete(
                    &self,
                    owner: &UserId,
                    id: TaskId,
                    expected_version: Option<i64>,
                ) -> Result<Outcome<()>, StoreError> {
                    let mut session = self.session().await?;
                    let result = sqlx::query(
                        "DELETE FROM tasks WHERE id = $1 AND user_id = $2 \
                         AND ($3 IS NULL OR version = $3)",
                    )
                    .bind(id.0)
                    .bind(owner.as_str())
                    .bind(expected_version)
                    .persistent(self.persistent())
                    .execute(session.conn())
                    .await?;
                    session.finish().await?;
                    if result.rows_affected() > 0 {
                        return Ok(Outcome::Done(()));
                    }
                    Ok(match self.get(owner, id).await? {
                        Some(_) => Outcome::Stale,
                        None => Outcome::NotFound,
                    })
                }

                async fn delete_completed(&self, owner: &UserId) -> Result<u64, StoreError> {
                    let mut session = self.session().await?;
                    let result = sqlx::query("DELETE FROM tasks WHERE user_id = $1 AND completed = TRUE")
                        .bind(owner.as_str())
                        .persistent(self.persistent())
                        .execute(session.conn())
                        .await?;
                    session.finish().await?;
                    Ok(result.rows_affected())
                }

                async fn tags(&self, owner: &UserId) -> Result<Vec<(String, u64)>, StoreError> {
                    let mut session = self.session().await?;
                    let rows: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT min(tag), count(*) FROM task_tags WHERE user_id = $1 \
                         GROUP BY tag_key ORDER BY tag_key",
                    )
                    .bind(owner.as_str())
                    .persistent(self.persistent())
                    .fetch_all(session.conn())
                    .await?;
                    session.finish().await?;
                    Ok(rows
                        .into_iter()
                        .map(|(tag, count)| (tag, u64::try_from(count).unwrap_or_default()))
                        .collect())
                }

                async fn reminders(
                    &self,
                    owner: &UserId,
                    before: DateTime<Utc>,
                    limit: u32,
                ) -> Result<Vec<Task>, StoreError> {
                    let mut session = self.session().await?;
                    let rows: Vec<TaggedRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        columns!(),
                        ", ",
                        $tags,
                        " AS tags FROM tasks WHERE user_id = $1 AND completed = FALSE \
                         AND remind_at IS NOT NULL AND remind_at <= $2 \
                         ORDER BY remind_at, id LIMIT $3"
                    ))
                    .bind(owner.as_str())
                    .bind(before)
                    .bind(i64::from(limit))
                    .persistent(self.persistent())
                    .fetch_all(session.conn())
                    .await?;
                    session.finish().await?;
                    Ok(rows.into_iter().map(TaggedRow::into_task).collect())
                }

                async fn ping(&self) -> Result<(), StoreError> {
                    self.ping_impl().await
                }

                async fn migrate(&self) -> Result<(), StoreError> {
                    self.migrate_impl().await
                }

                fn pool_stats(&self) -> $crate::store::PoolStats {
                    self.pool_stats_impl()
                }

                async fn close(&self) {
                    self.pool.close().await;
                }
            }
        }
    };
}
