//! `/api/{user_id}/tasks`: the caller's tasks.

use crate::http::json::Json;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use crate::domain::TaskId;
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::body::{JsonBody, OptionalJsonBody};
use crate::http::problem::{ChangeErrors, CreateErrors, Failure, ListErrors, TaskErrors};
use crate::http::schemas::{CompleteTask, CreateTask, TaskStatus, TaskView, UpdateTask};
use crate::http::security::BearerAuth;

/// The task operations.
pub struct TasksApi;

/// A created task.
#[derive(ApiResponse)]
pub enum Created {
    /// The task was created.
    #[oai(status = 201)]
    Created(
        Json<TaskView>,
        /// The new task's URL.
        #[oai(header = "Location")]
        String,
    ),
}

/// A deleted task.
#[derive(ApiResponse)]
pub enum Deleted {
    /// The task was deleted.
    #[oai(status = 204)]
    NoContent,
}

/// Characters left as they are in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn path_segment(raw: &str) -> String {
    utf8_percent_encode(raw, SEGMENT).to_string()
}

const NO_SUCH_TASK: ApiError = ApiError::NotFound("no task with this id exists for this user");

#[OpenApi(tag = "ApiTags::Tasks")]
impl TasksApi {
    /// List tasks
    ///
    /// The user's tasks, newest first. `status` narrows the list to pending or completed tasks.
    #[oai(
        path = "/api/:user_id/tasks",
        method = "get",
        operation_id = "listTasks"
    )]
    async fn list_tasks(
        &self,
        state: poem::web::Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// Which tasks to return.
        #[oai(default)]
        status: Query<TaskStatus>,
    ) -> Result<Json<Vec<TaskView>>, Failure<ListErrors>> {
        let owner = auth.owner(&user_id)?;
        let tasks = state.store.list(owner, status.0.into()).await?;
        Ok(Json(tasks.into_iter().map(TaskView::from).collect()))
    }

    /// Create a task
    ///
    /// Creates a pending task. The title is trimmed; the response's `Location` header is the
    /// new task's URL.
    #[oai(
        path = "/api/:user_id/tasks",
        method = "post",
        operation_id = "createTask"
    )]
    async fn create_task(
        &self,
        state: poem::web::Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        body: JsonBody<CreateTask>,
    ) -> Result<Created, Failure<CreateErrors>> {
        let owner = auth.owner(&user_id)?;
        let task = state.store.create(owner, body.0).await?;
        let location = format!("/api/{}/tasks/{}", path_segment(&user_id), task.id.0);
        Ok(Created::Created(Json(task.into()), location))
    }

    /// Get a task
    ///
    /// One of the user's tasks. A task of another user is a 404, exactly like a task that does
    /// not exist.
    #[oai(
        path = "/api/:user_id/tasks/:id",
        method = "get",
        operation_id = "getTask"
    )]
    async fn get_task(
        &self,
        state: poem::web::Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The task's id.
        id: Path<i64>,
    ) -> Result<Json<TaskView>, Failure<TaskErrors>> {
        let owner = auth.owner(&user_id)?;
        let task = state.store.get(owner, TaskId(id.0)).await?;
        Ok(Json(task.ok_or(NO_SUCH_TASK)?.into()))
    }

    /// Update a task
    ///
    /// Changes the fields present in the body and leaves the others as they are;
    /// `"description": null` clears the description. A body that changes nothing is a 422.
    #[oai(
        path = "/api/:user_id/tasks/:id",
        method = "put",
        operation_id = "updateTask"
    )]
    async fn update_task(
        &self,
        state: poem::web::Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The task's id.
        id: Path<i64>,
        body: JsonBody<UpdateTask>,
    ) -> Result<Json<TaskView>, Failure<ChangeErrors>> {
        let owner = auth.owner(&user_id)?;
        let task = state.store.update(owner, TaskId(id.0), &body.0).await?;
        Ok(Json(task.ok_or(NO_SUCH_TASK)?.into()))
    }

    /// Delete a task
    ///
    /// Deletes one of the user's tasks for good; its id is never reused. Deleting it again is a
    /// 404.
    #[oai(
        path = "/api/:user_id/tasks/:id",
        method = "delete",
        operation_id = "deleteTask"
    )]
    async fn delete_task(
        &self,
        state: poem::web::Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The task's id.
        id: Path<i64>,
    ) -> Result<Deleted, Failure<TaskErrors>> {
        let owner = auth.owner(&user_id)?;
        if state.store.delete(owner, TaskId(id.0)).await? {
            Ok(Deleted::NoContent)
        } else {
            Err(NO_SUCH_TASK.into())
        }
    }

    /// Toggle or set completion
    ///
    /// Without a body, flips `completed`. With `{"completed": true|false}`, sets it instead,
    /// which is safe to retry. Setting the value a task already has leaves `updated_at` as it is.
    #[oai(
        path = "/api/:user_id/tasks/:id/complete",
        method = "patch",
        operation_id = "completeTask"
    )]
    async fn complete_task(
        &self,
        state: poem::web::Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The task's id.
        id: Path<i64>,
        body: OptionalJsonBody<CompleteTask>,
    ) -> Result<Json<TaskView>, Failure<ChangeErrors>> {
        let owner = auth.owner(&user_id)?;
        let task = state
            .store
            .set_completed(owner, TaskId(id.0), body.0)
            .await?;
        Ok(Json(task.ok_or(NO_SUCH_TASK)?.into()))
    }
}
