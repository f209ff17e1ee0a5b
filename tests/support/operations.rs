//! One [`TestApp`] method per API operation (the `operationId`s of `openapi.yaml`). The plain
//! method asserts the status the operation answers on success (naming the request and showing
//! the body when it is not) and returns typed data; its `try_` twin returns the raw response,
//! for tests about errors.

use reqwest::{Method, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::TestApp;
use super::events::EventStream;
use super::model::{ChangePage, Deleted, Health, List, Page, Readiness, Replica, TagCount, Task};

/// Asserts `status`, naming `what` and showing the body when it is another, and returns the
/// body as a `T`.
pub(crate) async fn expect_json<T: DeserializeOwned>(
    response: Response,
    status: StatusCode,
    what: &str,
) -> T {
    let actual = response.status();
    let text = response.text().await.expect("the body is read");
    assert_eq!(actual, status, "{what}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{what}: the body is not a {} ({e}): {text}",
            std::any::type_name::<T>()
        )
    })
}

/// The `/api/{user}/tasks` collection, plus a query (`""` or `"?…"`).
fn tasks(user: &str, query: &str) -> String {
    format!("/api/{user}/tasks{query}")
}

/// One task.
fn task(user: &str, id: i64) -> String {
    format!("/api/{user}/tasks/{id}")
}

impl TestApp {
    async fn send(&self, method: Method, user: &str, path: &str, body: Option<&Value>) -> Response {
        let mut request = self.request(method.clone(), user, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: no answer: {e}"))
    }

    /// GETs `path` as `user`, asserting 200, and returns the body.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, user: &str, path: &str) -> T {
        let response = self.send(Method::GET, user, path, None).await;
        expect_json(response, StatusCode::OK, &format!("GET {path}")).await
    }

    /// `listTasks`; `query` is `""` or `"?status=…&…"`.
    pub(crate) async fn try_list_tasks(&self, user: &str, query: &str) -> Response {
        self.send(Method::GET, user, &tasks(user, query), None)
            .await
    }

    /// `listTasks`, asserting 200.
    pub(crate) async fn list_tasks(&self, user: &str, query: &str) -> Vec<Task> {
        self.list_page_at(user, &tasks(user, query)).await.tasks
    }

    /// `listTasks`, asserting 200, with the paging headers.
    pub(crate) async fn list_page(&self, user: &str, query: &str) -> Page {
        self.list_page_at(user, &tasks(user, query)).await
    }

    /// `listTasks` at `path` (e.g. a `Link` of a previous page), asserting 200, with the paging
    /// headers.
    pub(crate) async fn list_page_at(&self, user: &str, path: &str) -> Page {
        let response = self.send(Method::GET, user, path, None).await;
        let total = response.headers().get("x-total-count").map(|v| {
            v.to_str()
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("GET {path}: X-Total-Count {v:?} is not a count"))
        });
        let next = response.headers().get("link").map(|link| {
            let link = link.to_str().expect("Link is text");
            assert!(link.ends_with(">; rel=\"next\""), "{link}");
            link.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or_default()
                .to_owned()
        });
        let tasks: Vec<Task> = expect_json(response, StatusCode::OK, &format!("GET {path}")).await;
        Page {
            tasks,
            total: total.unwrap_or_else(|| panic!("GET {path}: no X-Total-Count")),
            next,
        }
    }

    /// `createTask` with `body` (any JSON).
    pub(crate) async fn try_create_task(&self, user: &str, body: Value) -> Response {
        self.send(Method::POST, user, &tasks(user, ""), Some(&body))
            .await
    }

    /// `createTask`, asserting 201.
    pub(crate) async fn create_task(&self, user: &str, body: Value) -> Task {
        let response = self.try_create_task(user, body).await;
        expect_json(
            response,
            StatusCode::CREATED,
            &format!("POST {}", tasks(user, "")),
        )
        .await
    }

    /// `createTask` with a title alone, asserting 201.
    pub(crate) async fn create_titled(&self, user: &str, title: &str) -> Task {
        self.create_task(user, json!({ "title": title })).await
    }

    /// `getTask`.
    pub(crate) async fn try_get_task(&self, user: &str, id: i64) -> Response {
        self.send(Method::GET, user, &task(user, id), None).await
    }

    /// `getTask`, asserting 200.
    pub(crate) async fn get_task(&self, user: &str, id: i64) -> Task {
        self.get_json(user, &task(user, id)).await
    }

    /// `updateTask` with `body` (any JSON).
    pub(crate) async fn try_update_task(&self, user: &str, id: i64, body: Value) -> Response {
        self.send(Method::PUT, user, &task(user, id), Some(&body))
            .await
    }

    /// `updateTask`, asserting 200.
    pub(crate) async fn update_task(&self, user: &str, id: i64, body: Value) -> Task {
        let response = self.try_update_task(user, id, body).await;
        expect_json(response, StatusCode::OK, &format!("PUT {}", task(user, id))).await
    }

    /// `deleteTask`.
    pub(crate) async fn try_delete_task(&self, user: &str, id: i64) -> Response {
        self.send(Method::DELETE, user, &task(user, id), None).await
    }

    /// `deleteTask`, asserting 204 and an empty body.
    pub(crate) async fn delete_task(&self, user: &str, id: i64) {
        let response = self.try_delete_task(user, id).await;
        let status = response.status();
        let body = response.text().await.expect("the body is read");
        assert_eq!(
            status,
            StatusCode::NO_CONTENT,
            "DELETE {}: {body}",
            task(user, id)
        );
        assert!(body.is_empty(), "a 204 has no body: {body}");
    }

    /// `completeTask`: toggles without a body, sets the state with `{"completed": …}`.
    pub(crate) async fn try_complete_task(
        &self,
        user: &str,
        id: i64,
        body: Option<Value>,
    ) -> Response {
        let path = format!("{}/complete", task(user, id));
        self.send(Method::PATCH, user, &path, body.as_ref()).await
    }

    /// `completeTask` without a body (a toggle), asserting 200.
    pub(crate) async fn complete_task(&self, user: &str, id: i64) -> Task {
        let response = self.try_complete_task(user, id, None).await;
        expect_json(
            response,
            StatusCode::OK,
            &format!("PATCH {}/complete", task(user, id)),
        )
        .await
    }

    /// `completeTask` with `{"completed": completed}` (sets the state), asserting 200.
    pub(crate) async fn set_completed(&self, user: &str, id: i64, completed: bool) -> Task {
        let body = json!({ "completed": completed });
        let response = self.try_complete_task(user, id, Some(body)).await;
        expect_json(
            response,
            StatusCode::OK,
            &format!("PATCH {}/complete", task(user, id)),
        )
        .await
    }

    /// `moveTask` with `body` (any JSON), and `If-Match` when given.
    pub(crate) async fn try_move_task_if(
        &self,
        user: &str,
        id: i64,
        body: Value,
        if_match: Option<&str>,
    ) -> Response {
        let path = format!("{}/move", task(user, id));
        let mut request = self.request(Method::POST, user, &path).json(&body);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: no answer: {e}"))
    }

    /// `moveTask` with `body` (any JSON).
    pub(crate) async fn try_move_task(&self, user: &str, id: i64, body: Value) -> Response {
        self.try_move_task_if(user, id, body, None).await
    }

    /// `moveTask`, asserting 200.
    pub(crate) async fn move_task(&self, user: &str, id: i64, body: Value) -> Task {
        let response = self.try_move_task(user, id, body).await;
        expect_json(
            response,
            StatusCode::OK,
            &format!("POST {}/move", task(user, id)),
        )
        .await
    }

    /// `listLists`, asserting 200.
    pub(crate) async fn list_lists(&self, user: &str) -> Vec<List> {
        self.get_json(user, &format!("/api/{user}/lists")).await
    }

    /// `createList` with `body` (any JSON).
    pub(crate) async fn try_create_list(&self, user: &str, body: Value) -> Response {
        self.send(
            Method::POST,
            user,
            &format!("/api/{user}/lists"),
            Some(&body),
        )
        .await
    }

    /// `createList`, asserting 201.
    pub(crate) async fn create_list(&self, user: &str, body: Value) -> List {
        let response = self.try_create_list(user, body).await;
        expect_json(
            response,
            StatusCode::CREATED,
            &format!("POST /api/{user}/lists"),
        )
        .await
    }

    /// `createList` with a name alone, asserting 201.
    pub(crate) async fn create_named_list(&self, user: &str, name: &str) -> List {
        self.create_list(user, json!({ "name": name })).await
    }

    /// `getList`.
    pub(crate) async fn try_get_list(&self, user: &str, id: i64) -> Response {
        self.send(Method::GET, user, &format!("/api/{user}/lists/{id}"), None)
            .await
    }

    /// `getList`, asserting 200.
    pub(crate) async fn get_list(&self, user: &str, id: i64) -> List {
        self.get_json(user, &format!("/api/{user}/lists/{id}"))
            .await
    }

    /// `updateList` with `body` (any JSON), and `If-Match` when given.
    pub(crate) async fn try_update_list_if(
        &self,
        user: &str,
        id: i64,
        body: Value,
        if_match: Option<&str>,
    ) -> Response {
        let path = format!("/api/{user}/lists/{id}");
        let mut request = self.request(Method::PUT, user, &path).json(&body);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("PUT {path}: no answer: {e}"))
    }

    /// `updateList`, asserting 200.
    pub(crate) async fn update_list(&self, user: &str, id: i64, body: Value) -> List {
        let response = self.try_update_list_if(user, id, body, None).await;
        expect_json(
            response,
            StatusCode::OK,
            &format!("PUT /api/{user}/lists/{id}"),
        )
        .await
    }

    /// `deleteList`; `query` is `""` or `"?tasks=…"`.
    pub(crate) async fn try_delete_list(&self, user: &str, id: i64, query: &str) -> Response {
        let path = format!("/api/{user}/lists/{id}{query}");
        self.send(Method::DELETE, user, &path, None).await
    }

    /// `deleteList`, asserting 204.
    pub(crate) async fn delete_list(&self, user: &str, id: i64, query: &str) {
        let response = self.try_delete_list(user, id, query).await;
        let status = response.status();
        let body = response.text().await.expect("the body is read");
        assert_eq!(
            status,
            StatusCode::NO_CONTENT,
            "DELETE /api/{user}/lists/{id}{query}: {body}"
        );
    }

    /// `moveList` with `body` (any JSON).
    pub(crate) async fn try_move_list(&self, user: &str, id: i64, body: Value) -> Response {
        let path = format!("/api/{user}/lists/{id}/move");
        self.send(Method::POST, user, &path, Some(&body)).await
    }

    /// `moveList`, asserting 200.
    pub(crate) async fn move_list(&self, user: &str, id: i64, body: Value) -> List {
        let response = self.try_move_list(user, id, body).await;
        expect_json(
            response,
            StatusCode::OK,
            &format!("POST /api/{user}/lists/{id}/move"),
        )
        .await
    }

    /// `clearCompletedTasks`; `query` is `""` or `"?…"`.
    pub(crate) async fn try_clear_completed(&self, user: &str, query: &str) -> Response {
        self.send(Method::DELETE, user, &tasks(user, query), None)
            .await
    }

    /// `clearCompletedTasks` (`?status=completed`), asserting 200; returns how many were deleted.
    pub(crate) async fn clear_completed(&self, user: &str) -> u64 {
        let query = "?status=completed";
        let response = self.try_clear_completed(user, query).await;
        let what = format!("DELETE {}", tasks(user, query));
        expect_json::<Deleted>(response, StatusCode::OK, &what)
            .await
            .deleted
    }

    /// `listTags`, asserting 200.
    pub(crate) async fn list_tags(&self, user: &str) -> Vec<TagCount> {
        self.get_json(user, &format!("/api/{user}/tags")).await
    }

    /// `listReminders`; `query` is `""` or `"?before=…&limit=…"`.
    pub(crate) async fn try_list_reminders(&self, user: &str, query: &str) -> Response {
        let path = format!("/api/{user}/reminders{query}");
        self.send(Method::GET, user, &path, None).await
    }

    /// `listReminders`, asserting 200.
    pub(crate) async fn list_reminders(&self, user: &str, query: &str) -> Vec<Task> {
        self.get_json(user, &format!("/api/{user}/reminders{query}"))
            .await
    }

    /// `listChanges`; `query` is `""` or `"?since=…&limit=…"`.
    pub(crate) async fn try_list_changes(&self, user: &str, query: &str) -> Response {
        let path = format!("/api/{user}/changes{query}");
        self.send(Method::GET, user, &path, None).await
    }

    /// `listChanges`, asserting 200.
    pub(crate) async fn list_changes(&self, user: &str, query: &str) -> ChangePage {
        let response = self.try_list_changes(user, query).await;
        expect_json(
            response,
            StatusCode::OK,
            &format!("GET /api/{user}/changes{query}"),
        )
        .await
    }

    /// `listChanges` from `since` (`None`: the whole state) until `has_more` is false, `limit`
    /// changes a page, applying each change to `replica` in order; returns the last cursor.
    pub(crate) async fn sync_changes(
        &self,
        user: &str,
        since: Option<&str>,
        limit: u32,
        replica: &mut Replica,
    ) -> String {
        let mut since = since.map(str::to_owned);
        loop {
            let query = match &since {
                Some(cursor) => format!("?since={cursor}&limit={limit}"),
                None => format!("?limit={limit}"),
            };
            let page = self.list_changes(user, &query).await;
            for change in &page.changes {
                replica.apply(change);
            }
            since = Some(page.cursor);
            if !page.has_more {
                return since.unwrap_or_default();
            }
        }
    }

    /// `streamEvents` with `token`; `query` is `""` or `"?since=…"`, `last_event_id` the
    /// `Last-Event-ID` header, if any.
    pub(crate) async fn try_stream_events_as(
        &self,
        token: &str,
        user: &str,
        query: &str,
        last_event_id: Option<&str>,
    ) -> Response {
        let path = format!("/api/{user}/events{query}");
        let mut request = self
            .client
            .get(self.url(&path))
            .bearer_auth(token)
            // Longer than any test holds a stream (the client's own limit is shorter).
            .timeout(std::time::Duration::from_secs(600));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: no answer: {e}"))
    }

    /// `streamEvents` as `user`.
    pub(crate) async fn try_stream_events(
        &self,
        user: &str,
        query: &str,
        last_event_id: Option<&str>,
    ) -> Response {
        self.try_stream_events_as(&self.token(user), user, query, last_event_id)
            .await
    }

    /// `streamEvents` with `token`, asserting 200 and `text/event-stream`.
    pub(crate) async fn stream_events_as(
        &self,
        token: &str,
        user: &str,
        query: &str,
        last_event_id: Option<&str>,
    ) -> EventStream {
        let response = self
            .try_stream_events_as(token, user, query, last_event_id)
            .await;
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if status != StatusCode::OK {
            let body = response.text().await.unwrap_or_default();
            panic!("GET /api/{user}/events{query}: {status}: {body}");
        }
        assert_eq!(content_type, "text/event-stream", "the stream's type");
        EventStream::new(response)
    }

    /// `streamEvents` as `user`, asserting 200 and `text/event-stream`.
    pub(crate) async fn stream_events(
        &self,
        user: &str,
        query: &str,
        last_event_id: Option<&str>,
    ) -> EventStream {
        self.stream_events_as(&self.token(user), user, query, last_event_id)
            .await
    }

    /// `getHealth`, asserting 200.
    pub(crate) async fn health(&self) -> Health {
        let response = self.try_health().await;
        expect_json(response, StatusCode::OK, "GET /health").await
    }

    /// `getHealth`.
    pub(crate) async fn try_health(&self) -> Response {
        self.anonymous(Method::GET, "/health")
            .send()
            .await
            .expect("GET /health: an answer")
    }

    /// `getReadiness`.
    pub(crate) async fn try_ready(&self) -> Response {
        self.anonymous(Method::GET, "/ready")
            .send()
            .await
            .expect("GET /ready: an answer")
    }

    /// `getReadiness`, asserting 200.
    pub(crate) async fn ready(&self) -> Readiness {
        let response = self.try_ready().await;
        expect_json(response, StatusCode::OK, "GET /ready").await
    }

    /// Waits (60 s at most) until `/ready` answers 200.
    pub(crate) async fn wait_ready(&self) {
        for _ in 0..300 {
            if let Ok(r) = self.anonymous(Method::GET, "/ready").send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        panic!("{} never became ready", self.address);
    }
}
