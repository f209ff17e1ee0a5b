//! `/api/{user_id}/changes` and `/api/{user_id}/events`: keeping a copy of the caller's tasks
//! up to date, by pages of changes after a cursor, and by a stream of them as they happen.

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use crate::domain::UserId;
use crate::domain::changes::{ChangePage, FeedPosition, FeedRead};
use crate::http::AppState;
use crate::http::cursor::FeedCursor;
use crate::http::error::{ApiError, Failure, FeedErrors};
use crate::http::events::{self, EventBody, Opening, PAGE};
use crate::http::json::Json;
use crate::http::limits::time_limited;
use crate::http::schemas::feed::ChangePageView;
use crate::http::security::BearerAuth;

/// The change feed operations.
pub(crate) struct FeedApi;

/// A page of changes.
#[derive(ApiResponse)]
pub(crate) enum ChangesRead {
    /// The changes after `since`, oldest first, and where to continue.
    #[oai(status = 200)]
    Ok(Json<ChangePageView>),
}

/// An event stream.
#[derive(ApiResponse)]
pub(crate) enum EventsOpened {
    /// A `text/event-stream` of `StreamEvent`s; it stays open.
    #[oai(status = 200)]
    Ok(EventBody),
}

/// The default page size of `/changes`.
const DEFAULT_LIMIT: u32 = 500;

/// The position `raw` names for `owner`, or a 422 naming `field`.
fn position(
    owner: &UserId,
    field: &str,
    raw: Option<&str>,
) -> Result<Option<FeedPosition>, ApiError> {
    raw.map(|raw| FeedCursor::decode(owner, raw).map_err(|why| ApiError::invalid(field, why)))
        .transpose()
}

/// The page, or 410 when the position has expired.
fn page(read: FeedRead) -> Result<ChangePage, ApiError> {
    match read {
        FeedRead::Page(page) => Ok(page),
        FeedRead::Expired => Err(ApiError::CursorExpired),
    }
}

#[OpenApi(tag = "ApiTags::Sync")]
impl FeedApi {
    /// List changes
    ///
    /// What changed in the user's tasks after `since`, oldest first: each change is
    /// `{"type": "upsert", "task": Task}` (created or changed: the task as it is now) or
    /// `{"type": "delete", "id": …}`. A task changed several times appears once, in its latest
    /// state. Apply the changes in order to a local copy, then continue from `cursor`; while
    /// `has_more` is true, more changes follow already. A client that does so ends with
    /// exactly what `GET /api/{user_id}/tasks?status=all` returns, whatever is written
    /// meanwhile.
    ///
    /// Without `since`: the whole current state (every task as an upsert, no deletes) and the
    /// cursor to continue from. Each page is consistent: the user's history up to a point.
    ///
    /// Deletions are remembered for `CHANGES_RETENTION` (30 days by default): a cursor older
    /// than that is answered 410 (`urn:todo-api:problem:cursor-expired`), and the client starts
    /// over without `since`. A cursor of another user, or not from this server, is a 422.
    #[oai(
        path = "/api/:user_id/changes",
        method = "get",
        transform = "time_limited",
        operation_id = "listChanges"
    )]
    async fn list_changes(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// The `cursor` of the previous page (or an event's `id`). Opaque (base64url).
        #[oai(validator(pattern = "^[A-Za-z0-9_-]+$"))]
        since: Query<Option<String>>,
        /// At most this many changes (default 500).
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<u32>>,
    ) -> Result<ChangesRead, Failure<FeedErrors>> {
        let owner = auth.owner(&user_id)?;
        let since = position(owner, "since", since.0.as_deref())?;
        let limit = limit.0.unwrap_or(DEFAULT_LIMIT);
        let page = page(state.store.changes(owner, since, limit).await?)?;
        Ok(ChangesRead::Ok(Json(ChangePageView {
            cursor: FeedCursor::encode(owner, page.end),
            has_more: page.has_more,
            changes: page.changes.into_iter().map(|c| c.change.into()).collect(),
        })))
    }

    /// Stream changes
    ///
    /// Server-Sent Events (`text/event-stream`): every change to the user's tasks as it is
    /// committed, by any replica. Use `fetch` (it sends `Authorization`) and read the body;
    /// tokens never go in the URL. Each event is one `StreamEvent`:
    ///
    /// - `event: ready` first, `data: {"cursor": …}`: the stream is open and carries every
    ///   change after that cursor;
    /// - `event: change`, `id: <cursor after it>`, `data: <Change>` (as in `/changes`), in
    ///   order;
    /// - `event: reauth`, `data: {"cursor": …}`, when the token expires; the stream ends:
    ///   reconnect with a fresh token and `Last-Event-ID: <cursor>`;
    /// - `event: resync`, `data: {"cursor": …}`, when the client fell more than
    ///   `EVENTS_MAX_LAG` revisions behind; the stream ends: catch up with
    ///   `/changes?since=<cursor>`, then reconnect.
    ///
    /// A comment line (`:`) is sent every `EVENTS_HEARTBEAT` (15 s by default) so that proxies
    /// keep the stream open. Reconnecting with `Last-Event-ID` (or `since`) set to the last
    /// `id` received resumes with nothing lost and nothing repeated (`Last-Event-ID` wins when
    /// both are sent, as a reconnecting `EventSource` does); with neither, the stream starts
    /// now. An expired cursor is a 410, as for `/changes`. The stream also ends, without an
    /// event, when the server shuts down or loses its database: reconnect with the last `id`.
    #[oai(
        path = "/api/:user_id/events",
        method = "get",
        transform = "time_limited",
        operation_id = "streamEvents"
    )]
    async fn stream_events(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id: must equal the token's `sub`.
        user_id: Path<String>,
        /// Where to start: a cursor from `/changes` or an event's `id` (opaque).
        #[oai(validator(pattern = "^[A-Za-z0-9_-]+$"))]
        since: Query<Option<String>>,
        /// The `id` of the last event received, to resume after it (what `EventSource` sends
        /// when it reconnects). Wins over `since`.
        #[oai(name = "Last-Event-ID")]
        last_event_id: Header<Option<String>>,
    ) -> Result<EventsOpened, Failure<FeedErrors>> {
        let owner = auth.owner(&user_id)?;
        let since = position(owner, "since", since.0.as_deref())?;
        let resume = position(owner, "Last-Event-ID", last_event_id.0.as_deref())?.or(since);
        // Subscribed before the start is read: a commit in between is not missed.
        let subscription = state.hub.subscribe(owner.as_str());
        let (start, first_page) = match resume {
            Some(position) => {
                let page = page(state.store.changes(owner, Some(position), PAGE).await?)?;
                (position, Some(page))
            }
            None => {
                // Only the user's revision is wanted: now.
                let page = page(state.store.changes(owner, None, 0).await?)?;
                (FeedPosition::at(page.revision), None)
            }
        };
        let body = events::events(Opening {
            store: state.store.clone(),
            owner: owner.clone(),
            subscription,
            start,
            first_page,
            expires_at: auth.0.expires_at,
            max_lag: state.sync.max_lag,
            heartbeat: state.sync.heartbeat,
            metrics: state.metrics.clone(),
        });
        Ok(EventsOpened::Ok(body))
    }
}
