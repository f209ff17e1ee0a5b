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
//! [`ChangeHub`]: crate::sync::ChangeHub

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::stream::{self, BoxStream, StreamExt as _};
use poem::web::sse::Event;
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
    /// Where streams are counted.
    pub(crate) metrics: Arc<Metrics>,
}

/// The events of the stream.
pub(crate) fn events(opening: Opening) -> BoxStream<'static, StreamEvent> {
    let Opening {
        store,
        owner,
        subscription,
        start,
        first_page,
        expires_at,
        max_lag,
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
    stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((event, feed))
    })
    .boxed()
}

/// The SSE frame of an event: `event:`, `id:` and the data as one line of JSON.
pub(crate) fn frame(event: StreamEvent, metrics: &Metrics) -> Event {
    let (name, id, data) = match event {
        StreamEvent::Ready(event) => ("ready", event.id, json(&event.data)),
        StreamEvent::Change(event) => {
            if let ChangeView::Upsert(upsert) = &event.data
                && let Ok(delay) = (chrono::Utc::now() - upsert.task.updated_at).to_std()
            {
                metrics.observe_event_delay(delay);
            }
            ("change", event.id, json(&event.data))
        }
        StreamEvent::Reauth(event) => ("reauth", event.id, json(&event.data)),
        StreamEvent::Resync(event) => ("resync", event.id, json(&event.data)),
    };
    metrics.observe_event_sent(name);
    Event::message(data).event_type(name).id(id)
}

fn json<T: serde::Serialize>(data: &T) -> String {
    // Views of strings and numbers: encoding them cannot fail.
    serde_json::to_string(data).unwrap_or_default()
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

    /// The next event, or `None` when the stream ends.
    async fn next(&mut self) -> Option<StreamEvent> {
        match self.stage {
            Stage::Ended => return None,
            Stage::Opening => {
                self.stage = Stage::Streaming;
                let data = self.cursor();
                return Some(StreamEvent::Ready(ReadyEvent {
                    id: data.cursor.clone(),
                    data,
                }));
            }
            Stage::Streaming if self.resync_due => return Some(self.resync()),
            Stage::Streaming => {}
        }
        loop {
            if let Some(revised) = self.pending.pop_front() {
                self.position = self.position.past(revised.revision);
                return Some(StreamEvent::Change(ChangeEvent {
                    id: FeedCursor::encode(&self.owner, self.position),
                    data: revised.change.into(),
                }));
            }
            if let Some((end, has_more)) = self.page_end.take() {
                self.position = end;
                self.read_needed |= has_more;
            }
            if Instant::now() >= self.expires {
                return Some(self.reauth());
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
                        return Some(self.resync());
                    }
                    Ok(FeedRead::Page(page)) => self.take(page),
                    Ok(FeedRead::Expired) => return Some(self.resync()),
                    Err(err) => {
                        tracing::warn!(error = %err, "an event stream could not read the feed");
                        self.end("error");
                        return None;
                    }
                }
                continue;
            }
            let closed = self.subscription.closed();
            tokio::select! {
                () = self.subscription.changed() => {
                    let latest = self.subscription.latest();
                    if self.behind(latest) {
                        return Some(self.resync());
                    }
                    self.read_needed = latest > self.position.after;
                }
                () = tokio::time::sleep_until(self.expires) => return Some(self.reauth()),
                () = closed => {
                    self.end("shutdown");
                    return None;
                }
            }
        }
    }
}
