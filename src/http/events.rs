//! One user's event stream: `ready`, then every change after the stream's position, in order,
//! read from the store (never from memory: a wake-up from the [`ChangeHub`] only says that
//! there is something to read), until the token expires (`reauth`), the client falls behind
//! (`resync`), the client goes away, or the server shuts down.
//!
//! Memory per stream is bounded: the hub keeps one number per user, not a queue, and a stream
//! holds at most one page of changes ([`PAGE`]). A client that stops reading stops the stream
//! where it is (the connection's buffers fill and the server stops asking for events); once it
//! reads again, a stream more than `EVENTS_MAX_LAG` revisions behind is sent `resync` and closed.
//!
//! The body is written here ([`EventBody`]): each event is framed straight into the bytes the
//! connection sends, and the one timer a stream waits on serves both the token's expiry and
//! the heartbeat. (poem's `SSE` reads its events through a 4 KiB buffer per stream and keeps a
//! second timer for the heartbeat: with streams by the ten thousand, that is most of what a
//! stream costs beyond its connection.)
//!
//! [`ChangeHub`]: crate::sync::ChangeHub

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt as _};
use poem::{Body, IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use tokio::time::Instant;

use crate::domain::UserId;
use crate::domain::changes::{ChangePage, FeedPosition, FeedRead, Revised};
use crate::http::cursor::FeedCursor;
use crate::http::schemas::feed::{
    ChangeEvent, ChangeView, ReadyEvent, ReauthEvent, ResyncEvent, StreamCursor, StreamEvent,
};
use crate::store::TaskStore;
use crate::sync::Subscription;
use crate::telemetry::metrics::Metrics;

/// The most changes a stream reads at once.
pub(crate) const PAGE: u32 = 100;

/// The longest a stream waits for its token to expire (a token for years is capped here).
const LONGEST_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// What a stream needs to start.
pub(crate) struct Opening {
    /// Where the stream's data comes from.
    pub(crate) store: Arc<dyn TaskStore>,
    /// The user, already subscribed to (before `start` was read, so nothing falls between).
    pub(crate) owner: UserId,
    /// The subscription to the user's revisions.
    pub(crate) subscription: Subscription,
    /// Where the stream starts.
    pub(crate) start: FeedPosition,
    /// The first page after `start`, when the client resumes from a cursor.
    pub(crate) first_page: Option<ChangePage>,
    /// The token's `exp`, in seconds since the epoch.
    pub(crate) expires_at: u64,
    /// `EVENTS_MAX_LAG`.
    pub(crate) max_lag: u64,
    /// `EVENTS_HEARTBEAT`: the longest the stream stays silent.
    pub(crate) heartbeat: Duration,
    /// Where streams are counted.
    pub(crate) metrics: Arc<Metrics>,
}

/// The body of an event stream (`text/event-stream`, each event a [`StreamEvent`]).
pub(crate) struct EventBody(BoxStream<'static, Bytes>);

impl Payload for EventBody {
    const CONTENT_TYPE: &'static str = "text/event-stream";

    // As poem-openapi spells an `EventStream` of `StreamEvent`s.
    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            items: Some(Box::new(StreamEvent::schema_ref())),
            ..MetaSchema::new_with_format("array", "event-stream")
        }))
    }

    fn register(registry: &mut Registry) {
        StreamEvent::register(registry);
    }
}

impl IntoResponse for EventBody {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(Self::CONTENT_TYPE)
            .header("X-Accel-Buffering", "no")
            .header("Cache-Control", "no-cache")
            .body(Body::from_bytes_stream(self.0.map(Ok::<_, std::io::Error>)))
    }
}

/// The stream's body: its events, framed, and heartbeats between them.
pub(crate) fn events(opening: Opening) -> EventBody {
    let Opening {
        store,
        owner,
        subscription,
        start,
        first_page,
        expires_at,
        max_lag,
        heartbeat,
        metrics,
    } = opening;
    metrics.observe_stream_opened();
    let mut feed = Feed {
        store,
        owner,
        subscription,
        position: start,
        pending: VecDeque::new(),
        page_end: None,
        read_needed: false,
        resync_due: false,
        expires: expiry(expires_at),
        heartbeat,
        quiet_until: Instant::now() + heartbeat,
        max_lag,
        stage: Stage::Opening,
        closing: Closing {
            metrics,
            reason: "client_gone",
        },
    };
    if let Some(page) = first_page {
        if feed.behind(page.revision) {
            feed.resync_due = true;
        } else {
            feed.take(page);
        }
    }
    EventBody(
        stream::unfold(feed, |mut feed| async move {
            let bytes = match feed.next().await? {
                Some(event) => frame(event, &feed.closing.metrics),
                None => Bytes::from_static(HEARTBEAT),
            };
            feed.quiet_until = Instant::now() + feed.heartbeat;
            Some((bytes, feed))
        })
        .boxed(),
    )
}

/// A heartbeat: an SSE comment.
const HEARTBEAT: &[u8] = b":\n\n";

/// The SSE frame of an event: `id:`, `event:` and the data as one line of JSON.
fn frame(event: StreamEvent, metrics: &Metrics) -> Bytes {
    let (name, bytes) = match event {
        StreamEvent::Ready(event) => ("ready", encode("ready", &event.id, &event.data)),
        StreamEvent::Change(event) => {
            if let ChangeView::Upsert(upsert) = &event.data
                && let Ok(delay) = (chrono::Utc::now() - upsert.task.updated_at).to_std()
            {
                metrics.observe_event_delay(delay);
            }
            ("change", encode("change", &event.id, &event.data))
        }
        StreamEvent::Reauth(event) => ("reauth", encode("reauth", &event.id, &event.data)),
        StreamEvent::Resync(event) => ("resync", encode("resync", &event.id, &event.data)),
    };
    metrics.observe_event_sent(name);
    bytes
}

/// `id: <id>\nevent: <name>\ndata: <data as one line of JSON>\n\n`, in one allocation.
fn encode<T: serde::Serialize>(name: &str, id: &str, data: &T) -> Bytes {
    let mut frame = Vec::with_capacity(512);
    frame.extend_from_slice(b"id: ");
    frame.extend_from_slice(id.as_bytes());
    frame.extend_from_slice(b"\nevent: ");
    frame.extend_from_slice(name.as_bytes());
    frame.extend_from_slice(b"\ndata: ");
    // Views of strings and numbers: encoding them cannot fail. JSON escapes line breaks in
    // strings, so the data is one line.
    let _ = serde_json::to_writer(&mut frame, data);
    frame.extend_from_slice(b"\n\n");
    Bytes::from(frame)
}

/// When the token expires, as an instant of this process's clock.
fn expiry(expires_at: u64) -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let left = Duration::from_secs(expires_at.saturating_sub(now)).min(LONGEST_WAIT);
    Instant::now() + left
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// `ready` is next.
    Opening,
    /// Changes are next.
    Streaming,
    /// The stream ends.
    Ended,
}

/// The state of one stream between two events.
struct Feed {
    store: Arc<dyn TaskStore>,
    owner: UserId,
    subscription: Subscription,
    /// Where the client stands: the cursor of the last event sent.
    position: FeedPosition,
    /// The rest of the page being sent.
    pending: VecDeque<Revised>,
    /// Where the page being sent ends, and whether more changes follow it.
    page_end: Option<(FeedPosition, bool)>,
    /// Whether the store may hold changes after `position`.
    read_needed: bool,
    /// Whether the client was too far behind from the start.
    resync_due: bool,
    expires: Instant,
    heartbeat: Duration,
    /// When a heartbeat is due if nothing else is sent.
    quiet_until: Instant,
    max_lag: u64,
    stage: Stage,
    closing: Closing,
}

/// Counts the stream as ended, for the reason last set, when it is dropped.
struct Closing {
    metrics: Arc<Metrics>,
    reason: &'static str,
}

impl Drop for Closing {
    fn drop(&mut self) {
        self.metrics.observe_stream_closed(self.reason);
    }
}

impl Feed {
    fn cursor(&self) -> StreamCursor {
        StreamCursor {
            cursor: FeedCursor::encode(&self.owner, self.position),
        }
    }

    fn end(&mut self, reason: &'static str) {
        self.stage = Stage::Ended;
        self.closing.reason = reason;
    }

    fn reauth(&mut self) -> StreamEvent {
        self.end("reauth");
        let data = self.cursor();
        StreamEvent::Reauth(ReauthEvent {
            id: data.cursor.clone(),
            data,
        })
    }

    fn resync(&mut self) -> StreamEvent {
        self.end("resync");
        let data = self.cursor();
        StreamEvent::Resync(ResyncEvent {
            id: data.cursor.clone(),
            data,
        })
    }

    fn behind(&self, revision: i64) -> bool {
        u64::try_from(revision.saturating_sub(self.position.after)).unwrap_or_default()
            > self.max_lag
    }

    /// Makes `page` the one being sent.
    fn take(&mut self, page: ChangePage) {
        self.pending = page.changes.into();
        self.page_end = Some((page.end, page.has_more));
    }

    /// The next event (`Some(None)`: nothing was sent for `EVENTS_HEARTBEAT`, a heartbeat is
    /// due), or `None` when the stream ends.
    async fn next(&mut self) -> Option<Option<StreamEvent>> {
        match self.stage {
            Stage::Ended => return None,
            Stage::Opening => {
                self.stage = Stage::Streaming;
                let data = self.cursor();
                return Some(Some(StreamEvent::Ready(ReadyEvent {
                    id: data.cursor.clone(),
                    data,
                })));
            }
            Stage::Streaming if self.resync_due => return Some(Some(self.resync())),
            Stage::Streaming => {}
        }
        loop {
            if let Some(revised) = self.pending.pop_front() {
                self.position = self.position.past(revised.revision);
                return Some(Some(StreamEvent::Change(ChangeEvent {
                    id: FeedCursor::encode(&self.owner, self.position),
                    data: revised.change.into(),
                })));
            }
            if let Some((end, has_more)) = self.page_end.take() {
                self.position = end;
                self.read_needed |= has_more;
            }
            if Instant::now() >= self.expires {
                return Some(Some(self.reauth()));
            }
            if self.subscription.is_closing() {
                self.end("shutdown");
                return None;
            }
            if self.read_needed {
                self.read_needed = false;
                match self
                    .store
                    .changes(&self.owner, Some(self.position), PAGE)
                    .await
                {
                    Ok(FeedRead::Page(page)) if self.behind(page.revision) => {
                        return Some(Some(self.resync()));
                    }
                    Ok(FeedRead::Page(page)) => self.take(page),
                    Ok(FeedRead::Expired) => return Some(Some(self.resync())),
                    Err(err) => {
                        tracing::warn!(error = %err, "an event stream could not read the feed");
                        self.end("error");
                        return None;
                    }
                }
                continue;
            }
            let closed = self.subscription.closed();
            // One timer: the token's expiry or the heartbeat, whichever comes first.
            let wake = self.expires.min(self.quiet_until);
            tokio::select! {
                () = self.subscription.changed() => {
                    let latest = self.subscription.latest();
                    if self.behind(latest) {
                        return Some(Some(self.resync()));
                    }
                    self.read_needed = latest > self.position.after;
                }
                () = tokio::time::sleep_until(wake) => {
                    if Instant::now() >= self.expires {
                        return Some(Some(self.reauth()));
                    }
                    return Some(None);
                }
                () = closed => {
                    self.end("shutdown");
                    return None;
                }
            }
        }
    }
}
