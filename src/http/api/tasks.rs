//! `/api/{user_id}/…`: the caller's tasks, tags and reminders.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use crate::domain::listing::{Order, SortKey, TagQuery};
use crate::domain::{Priority, StatusFilter, Task, TaskId, Timestamp};
use crate::http::AppState;
use crate::http::body::{JsonBody, OptionalJsonBody};
use crate::http::error::{
    ApiError, ChangeErrors, CreateErrors, DeleteErrors, Failure, FieldError, ListErrors, ReadErrors,
};
use crate::http::json::Json;
use crate::http::limits::time_limited;
use crate::http::listing::{
    ListParams, MAX_LIMIT, decode_tag_cursor, encode_component, encode_tag_cursor,
};
use crate::http::schemas::{
    ClearStatus, CompleteTask, CreateTask, DeletedCount, MoveTask, TagCount, TaskView, UpdateTask,
};
use crate::http::security::BearerAuth;
use crate::store::{Created, IdempotencyKey, Outcome};

/// The task operations.
pub(crate) struct TasksApi;

/// A page of tasks.
#[derive(ApiResponse)]
pub(crate) enum TaskPage {
    /// The tasks of this page, in order.
    #[oai(status = 200)]
    Ok(
        Json<Vec<TaskView>>,
        /// How many tasks match the filters, across all pages.
        #[oai(header = "X-Total-Count")]
        u64,
        /// `<url>; rel="next"` when more tasks follow.
        #[oai(header = "Link")]
        Option<String>,
    ),
}

/// A created task.
#[derive(ApiResponse)]
pub(crate) enum TaskCreated {
    /// The task was created (or, for a repeated `Idempotency-Key`, the original answer).
    #[oai(status = 201)]
    Created(
        Json<TaskView>,
        /// The new task's URL.
        #[oai(header = "Location")]
        String,
        /// The task's version, for `If-Match`.
        #[oai(header = "ETag")]
        String,
    ),
}

/// A task.
#[derive(ApiResponse)]
#[allow(clippy::large_enum_variant)] // built once per request and moved straight into the body
pub(crate) enum TaskFound {
    /// The task.
    #[oai(status = 200)]
    Ok(
        Json<TaskView>,
        /// The task's version, for `If-Match` and `If-None-Match`.
        #[oai(header = "ETag")]
        String,
    ),
    /// The task has not changed since the `If-None-Match` version.
    #[oai(status = 304)]
    NotModified(
        /// The task's version.
        #[oai(header = "ETag")]
        String,
    ),
}

/// A changed task.
#[derive(ApiResponse)]
pub(crate) enum TaskChanged {
    /// The task after the change.
    #[oai(status = 200)]
    Ok(
        Json<TaskView>,
        /// The task's new version, for `If-Match`.
        #[oai(header = "ETag")]
        String,
    ),
}

/// A deleted task.
#[derive(ApiResponse)]
pub(crate) enum Deleted {
    /// The task was deleted.
    #[oai(status = 204)]
    NoContent,
}

/// A list of tasks.
#[derive(ApiResponse)]
pub(crate) enum TaskList {
    /// The tasks.
    #[oai(status = 200)]
    Ok(Json<Vec<TaskView>>),
}

/// A page of the user's tags.
#[derive(ApiResponse)]
pub(crate) enum TagList {
    /// The tags of this page, by name, with counts.
    #[oai(status = 200)]
    Ok(
        Json<Vec<TagCount>>,
        /// How many distinct tags the user has, across all pages.
        #[oai(header = "X-Total-Count")]
        u64,
        /// `<url>; rel="next"` when more tags follow.
        #[oai(header = "Link")]
        Option<String>,
    ),
}

/// How many tasks were cleared.
#[derive(ApiResponse)]
pub(crate) enum Cleared {
    /// The completed tasks were deleted.
    #[oai(status = 200)]
    Ok(Json<DeletedCount>),
}

const NO_SUCH_TASK: ApiError = ApiError::NotFound("no task with this id exists for this user");

fn etag(task: &Task) -> String {
    version_tag(task.version)
}

/// The `ETag` of a version.
pub(super) fn version_tag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The versions an `If-Match` / `If-None-Match` header names; `None` for `*` (any).
pub(super) fn entity_tags(header: &str) -> Option<Vec<String>> {
    let header = header.trim();
    if header == "*" {
        return None;
    }
    Some(
        header
            .split(',')
            .map(|tag| tag.trim().trim_start_matches("W/").to_owned())
            .collect(),
    )
}

/// The version `If-Match` requires, if any. A tag this server never issues can match nothing.
/// Of a list of tags, the first counts.
pub(super) fn expected_version(if_match: Option<&str>) -> Option<i64> {
    let tags = entity_tags(if_match?)?;
    Some(
        tags.first()
            .and_then(|tag| tag.trim_matches('"').parse::<i64>().ok())
            .unwrap_or(-1),
    )
}

fn outcome<T>(outcome: Outcome<T>) -> Result<T, ApiError> {
    outcome_or(outcome, NO_SUCH_TASK)
}

/// The value of a store outcome, or its error (`not_found` when there is no such item).
pub(super) fn outcome_or<T>(outcome: Outcome<T>, not_found: ApiError) -> Result<T, ApiError> {
    match outcome {
        Outcome::Done(value) => Ok(value),
        Outcome::NotFound => Err(not_found),
        Outcome::Stale => Err(ApiError::PreconditionFailed),
        Outcome::Invalid(issues) => Err(invalid(issues)),
        Outcome::Conflict(why) => Err(ApiError::Conflict(why)),
    }
}

fn invalid(issues: Vec<crate::domain::FieldIssue>) -> ApiError {
    ApiError::Validation(
        issues
            .into_iter()
            .map(|i| FieldError::new(i.field, i.message))
            .collect(),
    )
}

/// The `limit` a next-page URL repeats: none for the default page size.
fn limit_param(limit: u32) -> Option<u32> {
    (limit != MAX_LIMIT).then_some(limit)
}

fn changed(task: Task) -> TaskChanged {
    let tag = etag(&task);
    TaskChanged::Ok(Json(task.into()), tag)
}

#[OpenApi(tag = "ApiTags::Tasks")]
impl TasksApi {
    /// List tasks
    ///
    /// The user's tasks that match every filter given, newest first unless `sort`/`order` say
    /// otherwise (`sort=position` with `list_id` and `parent_id`: the manual order of one
    /// list's tasks under one parent). The body is always a JSON array; when more tasks follow, the `Link` header
    /// carries the next page's URL (`rel="next"`), and `X-Total-Count` is the number of tasks
    /// matching the filters across all pages.
    #[allow(clippy::too_many_arguments)]
    #[oai(
        path = "/api/:user_id/tasks",
        method = "get",
        transform = "time_limited",
        operation_id = "listTasks"
    )]
    async fn list_tasks(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// Which tasks to return.
        #[oai(default)]
        status: Query<StatusFilter>,
        /// Only these priorities (repeat the parameter for several).
        #[oai(default)]
        priority: Query<Vec<Priority>>,
        /// Only tasks carrying every one of these tags (repeat for several; case-insensitive).
        #[oai(default)]
        tag: Query<Vec<String>>,
        /// A keyword to find in the title or description (case-insensitive; at most 200
        /// characters).
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        /// Only tasks due before this instant.
        due_before: Query<Option<DateTime<Utc>>>,
        /// Only tasks due at or after this instant.
        due_after: Query<Option<DateTime<Utc>>>,
        /// `true`: only pending tasks whose due time has passed.
        #[oai(default)]
        overdue: Query<bool>,
        /// Only the tasks of this list (its id), or `inbox` for the tasks in no list.
        #[oai(validator(pattern = "^(inbox|[1-9][0-9]{0,15})$"))]
        list_id: Query<Option<String>>,
        /// Only the subtasks of this task (its id, direct children), or `none` for top-level
        /// tasks only.
        #[oai(validator(pattern = "^(none|[1-9][0-9]{0,15})$"))]
        parent_id: Query<Option<String>>,
        /// What to sort by (default `created`; `position`: the manual order).
        sort: Query<Option<SortKey>>,
        /// Sort direction (default: `desc` for created, updated and priority; `asc` for title
        /// and due_date).
        order: Query<Option<Order>>,
        /// Page size (default 500).
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<u32>>,
        /// Where to continue: copy it from the `Link` header of the previous page. Opaque
        /// (base64url); a cursor this server did not issue for the same filters and sort is a
        /// 422.
        #[oai(validator(pattern = "^[A-Za-z0-9_-]+$"))]
        cursor: Query<Option<String>>,
    ) -> Result<TaskPage, Failure<ListErrors>> {
        let owner = auth.owner(&user_id)?;
        let params = ListParams {
            status: status.0,
            priority: priority.0,
            tag: tag.0,
            q: q.0,
            due_before: due_before.0,
            due_after: due_after.0,
            overdue: overdue.0,
            list_id: list_id.0,
            parent_id: parent_id.0,
            sort: sort.0,
            order: order.0,
            limit: limit.0.map(|l| l.min(MAX_LIMIT)),
            cursor: cursor.0,
        };
        let query = params.to_query()?;
        let page = state.store.list(owner, &query).await?;
        let path = format!("/api/{}/tasks", encode_component(&user_id));
        let link = page
            .next
            .map(|position| format!("<{}>; rel=\"next\"", params.next_url(&path, position)));
        let tasks = page.tasks.into_iter().map(TaskView::from).collect();
        Ok(TaskPage::Ok(Json(tasks), page.total, link))
    }

    /// Create a task
    ///
    /// Creates a pending task; the title is trimmed. With an `Idempotency-Key`, retrying the
    /// same request within 24 hours returns the original answer and creates nothing; reusing
    /// the key for a different request is a 422.
    #[oai(
        path = "/api/:user_id/tasks",
        method = "post",
        transform = "time_limited",
        operation_id = "createTask"
    )]
    async fn create_task(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// Any unique string (e.g. a UUID) that makes retries of this request safe.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CreateTask>,
    ) -> Result<TaskCreated, Failure<CreateErrors>> {
        let owner = auth.owner(&user_id)?;
        let key = idempotency_key.0.map(|key| IdempotencyKey {
            key,
            fingerprint: body.fingerprint.clone(),
        });
        let task = match state.store.create(owner, body.value, key).await? {
            Created::New(task) | Created::Replayed(task) => task,
            Created::KeyReused => {
                return Err(ApiError::invalid(
                    "Idempotency-Key",
                    "was already used for a different request",
                )
                .into());
            }
            Created::Invalid(issues) => return Err(invalid(issues).into()),
        };
        let location = format!("/api/{}/tasks/{}", encode_component(&user_id), task.id.0);
        let tag = etag(&task);
        Ok(TaskCreated::Created(Json(task.into()), location, tag))
    }

    /// Get a task
    ///
    /// One of the user's tasks. A task of another user is a 404, exactly like a task that does
    /// not exist.
    ///
    /// With `If-None-Match` naming the current `ETag`, answers 304 without a body.
    #[oai(
        path = "/api/:user_id/tasks/:id",
        method = "get",
        transform = "time_limited",
        operation_id = "getTask"
    )]
    async fn get_task(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The task's id.
        id: Path<i64>,
        /// `ETag`s from earlier answers (or `*`): 304 if the task is still at one of those
        /// versions.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> Result<TaskFound, Failure<ReadErrors>> {
        let owner = auth.owner(&user_id)?;
        let task = state
            .store
            .get(owner, TaskId(id.0))
            .await?
            .ok_or(NO_SUCH_TASK)?;
        let tag = etag(&task);
        let unchanged = if_none_match
            .0
            .as_deref()
            .map(entity_tags)
            .is_some_and(|tags| tags.is_none_or(|tags| tags.contains(&tag)));
        if unchanged {
            return Ok(TaskFound::NotModified(tag));
        }
        Ok(TaskFound::Ok(Json(task.into()), tag))
    }

    /// Update a task
    ///
    /// Changes the fields present in the body and leaves the others as they are; `null`
    /// clears a nullable field. A body that changes nothing is a 422. With `If-Match`, the
    /// update happens only if the task is still at that version (else 412).
    #[oai(
        path = "/api/:user_id/tasks/:id",
        method = "put",
        transform = "time_limited",
        operation_id = "updateTask"
    )]
    async fn update_task(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The task's id.
        id: Path<i64>,
        /// The `ETag` the task must still have (or `*`): any other entity tag is a 412.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<UpdateTask>,
    ) -> Result<TaskChanged, Failure<ChangeErrors>> {
        let owner = auth.owner(&user_id)?;
        let expected = expected_version(if_match.0.as_deref());
        let result = state
            .store
            .update(owner, TaskId(id.0), &body.value, expected)
            .await?;
        Ok(changed(outcome(result)?))
    }

    /// Delete a task
    ///
    /// Deletes one of the user's tasks for good, with its subtasks (at every level); ids are
    /// never reused. Deleting it again is a 404.
    ///
    /// With `If-Match`, deletes only if the task is still at that version (else 412).
    #[oai(
        path = "/api/:user_id/tasks/:id",
        method = "delete",
        transform = "time_limited",
        operation_id = "deleteTask"
    )]
    async fn delete_task(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The task's id.
        id: Path<i64>,
        /// The `ETag` the task must still have (or `*`): any other entity tag is a 412.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<Deleted, Failure<DeleteErrors>> {
        let owner = auth.owner(&user_id)?;
        let expected = expected_version(if_match.0.as_deref());
        outcome(state.store.delete(owner, TaskId(id.0), expected).await?)?;
        Ok(Deleted::NoContent)
    }

    /// Move a task
    ///
    /// Moves a task to another list (`list_id`, `null` for the inbox), under another parent
    /// (`parent_id`, `null` for the top level), and to a place among its new siblings:
    /// `after` a sibling's id (right after it), `null` (first) or omitted (last). Its
    /// subtasks go with it. The answer's `position` is its new place; only the task (and its
    /// subtasks' `list_id`) changes, but when keys between two neighbours grow too long the
    /// siblings are renumbered (each sent in the change feed). A list, parent or `after` task
    /// that the user does not have is a 422 on that field. With `If-Match`, moves only if the
    /// task is still at that version (else 412).
    #[oai(
        path = "/api/:user_id/tasks/:id/move",
        method = "post",
        transform = "time_limited",
        operation_id = "moveTask"
    )]
    async fn move_task(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The task's id.
        id: Path<i64>,
        /// The `ETag` the task must still have (or `*`): any other entity tag is a 412.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<MoveTask>,
    ) -> Result<TaskChanged, Failure<ChangeErrors>> {
        let owner = auth.owner(&user_id)?;
        let expected = expected_version(if_match.0.as_deref());
        let result = state
            .store
            .move_task(owner, TaskId(id.0), &body.value, expected)
            .await?;
        Ok(changed(outcome(result)?))
    }

    /// Toggle or set completion
    ///
    /// Without a body, flips `completed`. With `{"completed": true|false}`, sets it instead,
    /// which is safe to retry; setting the value a task already has changes nothing.
    /// Completing a task completes its pending subtasks (every level) in the same transaction;
    /// reopening reopens the task alone. Completing a recurring task creates its next
    /// occurrence (right after it, with copies of its subtasks, reopened) in the same
    /// transaction; the answer's `next_occurrence_id` names it. Reopening does not delete it.
    #[oai(
        path = "/api/:user_id/tasks/:id/complete",
        method = "patch",
        transform = "time_limited",
        operation_id = "completeTask"
    )]
    async fn complete_task(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The task's id.
        id: Path<i64>,
        /// The `ETag` the task must still have (or `*`): any other entity tag is a 412.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<CompleteTask>,
    ) -> Result<TaskChanged, Failure<ChangeErrors>> {
        let owner = auth.owner(&user_id)?;
        let expected = expected_version(if_match.0.as_deref());
        let result = state
            .store
            .set_completed(owner, TaskId(id.0), body.0, expected)
            .await?;
        Ok(changed(outcome(result)?.task))
    }

    /// Clear completed tasks
    ///
    /// Deletes every completed task of the user, with its subtasks (completed or not), and
    /// completed subtasks of pending tasks. `status=completed` is required, so that a bare
    /// `DELETE` of the collection never deletes anything.
    #[oai(
        path = "/api/:user_id/tasks",
        method = "delete",
        transform = "time_limited",
        operation_id = "clearCompletedTasks"
    )]
    async fn clear_completed(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// Must be `completed` (the only value): a bare `DELETE` deletes nothing.
        #[oai(name = "status")]
        _status: Query<ClearStatus>,
    ) -> Result<Cleared, Failure<ListErrors>> {
        let owner = auth.owner(&user_id)?;
        let deleted = state.store.delete_completed(owner).await?;
        Ok(Cleared::Ok(Json(DeletedCount { deleted })))
    }

    /// List tags
    ///
    /// The tags on the user's tasks, sorted by name (ignoring case), with how many tasks carry
    /// each. The body is always a JSON array; when more tags follow, the `Link` header carries
    /// the next page's URL (`rel="next"`), and `X-Total-Count` is the number of distinct tags.
    #[oai(
        path = "/api/:user_id/tags",
        method = "get",
        transform = "time_limited",
        operation_id = "listTags"
    )]
    async fn list_tags(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// Page size (default 1000).
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<u32>>,
        /// Where to continue: copy it from the `Link` header of the previous page. Opaque
        /// (base64url).
        #[oai(validator(pattern = "^[A-Za-z0-9_-]+$", max_length = 2048))]
        cursor: Query<Option<String>>,
    ) -> Result<TagList, Failure<ListErrors>> {
        let owner = auth.owner(&user_id)?;
        let limit = limit.0.unwrap_or(MAX_LIMIT).min(MAX_LIMIT);
        let query = TagQuery {
            after: cursor.0.as_deref().map(decode_tag_cursor).transpose()?,
            limit,
        };
        let page = state.store.tags(owner, &query).await?;
        let link = page.next.map(|key| {
            let mut url = format!("/api/{}/tags?", encode_component(&user_id));
            if let Some(limit) = limit_param(limit) {
                url.push_str(&format!("limit={limit}&"));
            }
            format!("<{url}cursor={}>; rel=\"next\"", encode_tag_cursor(&key))
        });
        let tags = page
            .tags
            .into_iter()
            .map(|(tag, count)| TagCount { tag, count })
            .collect();
        Ok(TagList::Ok(Json(tags), page.total, link))
    }

    /// List due reminders
    ///
    /// Pending tasks whose `remind_at` is at or before `before` (default: now), soonest
    /// first: what the frontend should notify the user about.
    #[oai(
        path = "/api/:user_id/reminders",
        method = "get",
        transform = "time_limited",
        operation_id = "listReminders"
    )]
    async fn list_reminders(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// Reminders due at or before this instant (default: now).
        before: Query<Option<DateTime<Utc>>>,
        /// At most this many tasks (default 100).
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<u32>>,
    ) -> Result<TaskList, Failure<ListErrors>> {
        let owner = auth.owner(&user_id)?;
        if let Some(Err(why)) = before.0.map(Timestamp::check_utc) {
            return Err(ApiError::invalid("before", why).into());
        }
        let before = before.0.unwrap_or_else(crate::domain::now);
        let tasks = state
            .store
            .reminders(owner, before, limit.0.unwrap_or(100))
            .await?;
        Ok(TaskList::Ok(Json(
            tasks.into_iter().map(TaskView::from).collect(),
        )))
    }
}
