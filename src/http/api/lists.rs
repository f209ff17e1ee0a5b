//! `/api/{user_id}/lists/…`: the caller's lists (projects).

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::tasks::{entity_tags, expected_version, outcome_or, version_tag};
use crate::domain::list::{List, ListId, TasksOnDelete};
use crate::http::AppState;
use crate::http::body::JsonBody;
use crate::http::error::{
    ApiError, ConflictingChangeErrors, ConflictingCreateErrors, ConflictingDeleteErrors, Failure,
    ListErrors, ReadErrors,
};
use crate::http::json::Json;
use crate::http::limits::time_limited;
use crate::http::listing::encode_component;
use crate::http::schemas::{CreateList, ListView, MoveList, UpdateList};
use crate::http::security::BearerAuth;

/// The list operations.
pub(crate) struct ListsApi;

/// The user's lists.
#[derive(ApiResponse)]
pub(crate) enum Lists {
    /// Every list of the user, in the user's order (by `position`).
    #[oai(status = 200)]
    Ok(Json<Vec<ListView>>),
}

/// A created list.
#[derive(ApiResponse)]
pub(crate) enum ListCreated {
    /// The list was created, after the others.
    #[oai(status = 201)]
    Created(
        Json<ListView>,
        /// The new list's URL.
        #[oai(header = "Location")]
        String,
        /// The list's version, for `If-Match`.
        #[oai(header = "ETag")]
        String,
    ),
}

/// A list.
#[derive(ApiResponse)]
pub(crate) enum ListFound {
    /// The list.
    #[oai(status = 200)]
    Ok(
        Json<ListView>,
        /// The list's version, for `If-Match` and `If-None-Match`.
        #[oai(header = "ETag")]
        String,
    ),
    /// The list has not changed since the `If-None-Match` version.
    #[oai(status = 304)]
    NotModified(
        /// The list's version.
        #[oai(header = "ETag")]
        String,
    ),
}

/// A changed list.
#[derive(ApiResponse)]
pub(crate) enum ListChanged {
    /// The list after the change.
    #[oai(status = 200)]
    Ok(
        Json<ListView>,
        /// The list's new version, for `If-Match`.
        #[oai(header = "ETag")]
        String,
    ),
}

/// A deleted list.
#[derive(ApiResponse)]
pub(crate) enum ListDeleted {
    /// The list was deleted.
    #[oai(status = 204)]
    NoContent,
}

const NO_SUCH_LIST: ApiError = ApiError::NotFound("no list with this id exists for this user");

fn changed(list: List) -> ListChanged {
    let tag = version_tag(list.version);
    ListChanged::Ok(Json(list.into()), tag)
}

#[OpenApi(tag = "ApiTags::Lists")]
impl ListsApi {
    /// List lists
    ///
    /// Every list of the user, in the user's order (sort by `position`, comparing strings byte
    /// by byte), with how many tasks each holds. Tasks in no list are in the inbox
    /// (`list_id=inbox` when listing tasks).
    #[oai(
        path = "/api/:user_id/lists",
        method = "get",
        transform = "time_limited",
        operation_id = "listLists"
    )]
    async fn list_lists(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
    ) -> Result<Lists, Failure<ListErrors>> {
        let owner = auth.owner(&user_id)?;
        let lists = state.store.lists(owner).await?;
        Ok(Lists::Ok(Json(
            lists.into_iter().map(ListView::from).collect(),
        )))
    }

    /// Create a list
    ///
    /// Creates a list after the user's others; the name is trimmed. A name another of the
    /// user's lists has (ignoring case) is a 409.
    #[oai(
        path = "/api/:user_id/lists",
        method = "post",
        transform = "time_limited",
        operation_id = "createList"
    )]
    async fn create_list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        body: JsonBody<CreateList>,
    ) -> Result<ListCreated, Failure<ConflictingCreateErrors>> {
        let owner = auth.owner(&user_id)?;
        let result = state.store.create_list(owner, &body.value).await?;
        let list = outcome_or(result, NO_SUCH_LIST)?;
        let location = format!("/api/{}/lists/{}", encode_component(&user_id), list.id.0);
        let tag = version_tag(list.version);
        Ok(ListCreated::Created(Json(list.into()), location, tag))
    }

    /// Get a list
    ///
    /// One of the user's lists. A list of another user is a 404, exactly like one that does
    /// not exist. With `If-None-Match` naming the current `ETag`, answers 304 without a body.
    #[oai(
        path = "/api/:user_id/lists/:list_id",
        method = "get",
        transform = "time_limited",
        operation_id = "getList"
    )]
    async fn get_list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The list's id.
        list_id: Path<i64>,
        /// `ETag`s from earlier answers (or `*`): 304 if the list is still at one of those
        /// versions.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> Result<ListFound, Failure<ReadErrors>> {
        let owner = auth.owner(&user_id)?;
        let list = state
            .store
            .get_list(owner, ListId(list_id.0))
            .await?
            .ok_or(NO_SUCH_LIST)?;
        let tag = version_tag(list.version);
        let unchanged = if_none_match
            .0
            .as_deref()
            .map(entity_tags)
            .is_some_and(|tags| tags.is_none_or(|tags| tags.contains(&tag)));
        if unchanged {
            return Ok(ListFound::NotModified(tag));
        }
        Ok(ListFound::Ok(Json(list.into()), tag))
    }

    /// Update a list
    ///
    /// Renames or recolors a list: the fields present change, the others stay; `null` clears
    /// the color. A name another of the user's lists has (ignoring case) is a 409. With
    /// `If-Match`, the update happens only if the list is still at that version (else 412).
    #[oai(
        path = "/api/:user_id/lists/:list_id",
        method = "put",
        transform = "time_limited",
        operation_id = "updateList"
    )]
    async fn update_list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The list's id.
        list_id: Path<i64>,
        /// The `ETag` the list must still have (or `*`): any other entity tag is a 412.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<UpdateList>,
    ) -> Result<ListChanged, Failure<ConflictingChangeErrors>> {
        let owner = auth.owner(&user_id)?;
        let expected = expected_version(if_match.0.as_deref());
        let result = state
            .store
            .update_list(owner, ListId(list_id.0), &body.value, expected)
            .await?;
        Ok(changed(outcome_or(result, NO_SUCH_LIST)?))
    }

    /// Delete a list
    ///
    /// Deletes a list. A list that still has tasks needs `tasks`: `inbox` moves them (with
    /// their subtasks, in their order, after the inbox's tasks) to the inbox, `delete` deletes
    /// them too; without it, a 409 says how many there are. With `If-Match`, deletes only if
    /// the list is still at that version (else 412).
    #[oai(
        path = "/api/:user_id/lists/:list_id",
        method = "delete",
        transform = "time_limited",
        operation_id = "deleteList"
    )]
    async fn delete_list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The list's id.
        list_id: Path<i64>,
        /// What happens to the list's tasks: `inbox` or `delete` (required when it has some).
        tasks: Query<Option<TasksOnDelete>>,
        /// The `ETag` the list must still have (or `*`): any other entity tag is a 412.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<ListDeleted, Failure<ConflictingDeleteErrors>> {
        let owner = auth.owner(&user_id)?;
        let expected = expected_version(if_match.0.as_deref());
        let result = state
            .store
            .delete_list(owner, ListId(list_id.0), tasks.0, expected)
            .await?;
        outcome_or(result, NO_SUCH_LIST)?;
        Ok(ListDeleted::NoContent)
    }

    /// Move a list
    ///
    /// Moves a list among the user's lists: `after` a list's id (right after it), `null`
    /// (first) or omitted (last). The answer's `position` is its new place. With `If-Match`,
    /// moves only if the list is still at that version (else 412).
    #[oai(
        path = "/api/:user_id/lists/:list_id/move",
        method = "post",
        transform = "time_limited",
        operation_id = "moveList"
    )]
    async fn move_list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The list's id.
        list_id: Path<i64>,
        /// The `ETag` the list must still have (or `*`): any other entity tag is a 412.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<MoveList>,
    ) -> Result<ListChanged, Failure<ConflictingChangeErrors>> {
        let owner = auth.owner(&user_id)?;
        let expected = expected_version(if_match.0.as_deref());
        let result = state
            .store
            .move_list(owner, ListId(list_id.0), body.value, expected)
            .await?;
        Ok(changed(outcome_or(result, NO_SUCH_LIST)?))
    }
}
