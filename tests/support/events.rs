//! Reading an event stream (`text/event-stream`) as a browser's `fetch` reader would: [`EventStream`]
//! parses the bytes into typed [`Event`]s (the `StreamEvent`s of `openapi.yaml`), and counts the
//! heartbeat comments between them. Every wait is bounded: a stream that says nothing for too
//! long fails the test instead of hanging it.

use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use serde::Deserialize;

use super::model::Change;

/// One event of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // a test's handful
pub(crate) enum Event {
    /// `event: ready`.
    Ready { id: String, cursor: String },
    /// `event: change`.
    Change { id: String, change: Change },
    /// `event: reauth`.
    Reauth { id: String, cursor: String },
    /// `event: resync`.
    Resync { id: String, cursor: String },
}

impl Event {
    /// Its `id`: the cursor after it.
    pub(crate) fn id(&self) -> &str {
        match self {
            Self::Ready { id, .. }
            | Self::Change { id, .. }
            | Self::Reauth { id, .. }
            | Self::Resync { id, .. } => id,
        }
    }
}

/// The `data` of `ready`, `reauth` and `resync`: a `StreamCursor`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamCursor {
    cursor: String,
}

type Body = Pin<Box<dyn Stream<Item = Result<Vec<u8>, String>> + Send>>;

/// An open event stream.
pub(crate) struct EventStream {
    body: Body,
    buffer: Vec<u8>,
    ended: bool,
    /// The comment lines (heartbeats) read so far.
    pub comments: usize,
}

/// What one wait for the stream gives.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // a test's handful
pub(crate) enum Next {
    /// An event.
    Event(Event),
    /// The server ended the stream.
    End,
    /// Nothing within the time given.
    Quiet,
}

impl EventStream {
    /// Reads the body of a `200 text/event-stream` answer.
    pub(crate) fn new(response: reqwest::Response) -> Self {
        Self {
            body: Box::pin(
                response
                    .bytes_stream()
                    .map(|chunk| chunk.map(|b| b.to_vec()).map_err(|e| e.to_string())),
            ),
            buffer: Vec::new(),
            ended: false,
            comments: 0,
        }
    }

    /// Opens `path` (an event stream) on the server at `address` (`http://127.0.0.1:port`) over
    /// a plain socket whose receive buffer is about `receive_buffer` bytes, and reads the
    /// answer's head (which must be 200). The socket is read only while the stream is asked for
    /// events: a test that stops asking stops reading, as a stalled client does, and the
    /// server's writes back up after a few kilobytes.
    pub(crate) async fn raw(address: &str, path: &str, token: &str, receive_buffer: u32) -> Self {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        let host = address.trim_start_matches("http://");
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .set_recv_buffer_size(receive_buffer)
            .expect("the receive buffer is set");
        let mut stream = socket
            .connect(host.parse().expect("an address"))
            .await
            .expect("the server accepts");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Accept: text/event-stream\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .expect("the request is sent");
        let mut buffer = Vec::new();
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let mut chunk = [0; 4096];
            let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
                .await
                .expect("the head comes")
                .expect("the socket reads");
            assert!(read > 0, "the server closed before answering");
            buffer.extend_from_slice(&chunk[..read]);
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(head.contains("transfer-encoding: chunked"), "{head}");
        buffer.drain(..head_end + 4);
        let body = futures_util::stream::unfold(
            (stream, buffer, false),
            |(mut stream, mut buffer, done)| async move {
                if done {
                    return None;
                }
                loop {
                    // One whole chunk: `<size in hex>\r\n<data>\r\n`; size 0 ends the body.
                    if let Some(line_end) = buffer.windows(2).position(|w| w == b"\r\n") {
                        let size = std::str::from_utf8(&buffer[..line_end])
                            .ok()
                            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
                            .expect("a chunk size");
                        if size == 0 {
                            return None;
                        }
                        if buffer.len() >= line_end + 2 + size + 2 {
                            let data = buffer[line_end + 2..line_end + 2 + size].to_vec();
                            buffer.drain(..line_end + 2 + size + 2);
                            return Some((Ok(data), (stream, buffer, false)));
                        }
                    }
                    let mut chunk = [0; 4096];
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => {
                            return Some((Err("closed".to_owned()), (stream, buffer, true)));
                        }
                        Ok(read) => buffer.extend_from_slice(&chunk[..read]),
                    }
                }
            },
        );
        Self {
            body: Box::pin(body),
            buffer: Vec::new(),
            ended: false,
            comments: 0,
        }
    }

    /// The next event (or the end) within `within`, else [`Next::Quiet`].
    pub(crate) async fn next_within(&mut self, within: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(event) = self.parse_one() {
                return Next::Event(event);
            }
            if self.ended {
                assert!(
                    self.buffer.iter().all(u8::is_ascii_whitespace),
                    "the stream ended in the middle of an event: {:?}",
                    String::from_utf8_lossy(&self.buffer)
                );
                return Next::End;
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_) => return Next::Quiet,
                Ok(None) => self.ended = true,
                Ok(Some(Ok(bytes))) => self.buffer.extend_from_slice(&bytes),
                // A connection cut by the server reads as the end.
                Ok(Some(Err(_))) => self.ended = true,
            }
        }
    }

    /// The next event, which must come within `within`; `None` when the stream ends.
    pub(crate) async fn next(&mut self, within: Duration) -> Option<Event> {
        match self.next_within(within).await {
            Next::Event(event) => Some(event),
            Next::End => None,
            Next::Quiet => panic!("no event within {within:?}"),
        }
    }

    /// The next event, which must be `ready` (within 10 s); returns its cursor.
    pub(crate) async fn ready(&mut self) -> String {
        match self.next(Duration::from_secs(10)).await {
            Some(Event::Ready { id, cursor }) => {
                assert_eq!(id, cursor, "ready's id is its cursor");
                cursor
            }
            other => panic!("expected `ready`, got {other:?}"),
        }
    }

    /// The next `count` events, which must all be changes, each within `within`, with their
    /// ids.
    pub(crate) async fn changes(
        &mut self,
        count: usize,
        within: Duration,
    ) -> Vec<(String, Change)> {
        let mut changes = Vec::with_capacity(count);
        while changes.len() < count {
            match self.next(within).await {
                Some(Event::Change { id, change }) => changes.push((id, change)),
                other => panic!(
                    "expected change {} of {count}, got {other:?}",
                    changes.len() + 1
                ),
            }
        }
        changes
    }

    /// Asserts that no event comes within `within` (heartbeats aside) and the stream stays open.
    pub(crate) async fn quiet_for(&mut self, within: Duration) {
        match self.next_within(within).await {
            Next::Quiet => {}
            other => panic!("expected nothing for {within:?}, got {other:?}"),
        }
    }

    /// Asserts that the stream ends, with no other event, within `within`.
    pub(crate) async fn ends_within(&mut self, within: Duration) {
        match self.next_within(within).await {
            Next::End => {}
            other => panic!("expected the stream to end, got {other:?}"),
        }
    }

    /// One event from the buffer, if a whole one is there; comments are counted and skipped.
    fn parse_one(&mut self) -> Option<Event> {
        loop {
            let end = self.buffer.windows(2).position(|w| w == b"\n\n")?;
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let block = String::from_utf8(block).expect("the stream is UTF-8");
            let (mut name, mut id, mut data) = (None, None, Vec::new());
            for line in block.lines().filter(|line| !line.is_empty()) {
                if line.starts_with(':') {
                    self.comments += 1;
                    continue;
                }
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => name = Some(value.to_owned()),
                    "id" => id = Some(value.to_owned()),
                    "data" => data.push(value.to_owned()),
                    other => panic!("unexpected field `{other}` in {block:?}"),
                }
            }
            let Some(name) = name else {
                assert!(
                    data.is_empty() && id.is_none(),
                    "an event without a name: {block:?}"
                );
                continue;
            };
            let id = id.unwrap_or_else(|| panic!("every event has an id: {block:?}"));
            assert_eq!(data.len(), 1, "the data is one line of JSON: {block:?}");
            let data = &data[0];
            let cursor = || -> String {
                let parsed: StreamCursor = serde_json::from_str(data)
                    .unwrap_or_else(|e| panic!("{name}: not a StreamCursor ({e}): {data}"));
                assert_eq!(parsed.cursor, id, "{name}: the id is the cursor");
                parsed.cursor
            };
            return Some(match name.as_str() {
                "ready" => Event::Ready {
                    cursor: cursor(),
                    id,
                },
                "reauth" => Event::Reauth {
                    cursor: cursor(),
                    id,
                },
                "resync" => Event::Resync {
                    cursor: cursor(),
                    id,
                },
                "change" => Event::Change {
                    change: serde_json::from_str(data)
                        .unwrap_or_else(|e| panic!("not a Change ({e}): {data}")),
                    id,
                },
                other => panic!("unknown event `{other}`: {block:?}"),
            });
        }
    }
}
