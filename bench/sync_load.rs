//! The load client of `bench/sync.sh`: event streams (`GET /api/{user}/events`) held open by
//! the thousand, and writes while they are open. A binary of its own (`sync-load`, built with
//! the server by `cargo build --release`, from the server's dependencies only): it costs the
//! machine a fraction of what an interpreted client does, so that on a small shared machine the
//! CPU goes to the server and the database being measured.
//!
//! ```text
//! sync-load rss --base URL --secret S --pid PID --streams 10000
//!     Opens one stream per user (distinct users), waits for each stream's `ready`, holds them
//!     all (reading what comes), and prints the server's resident memory (VmRSS of PID) before
//!     and with them open.
//!
//! sync-load idle --base URL --pid PID --connections 10000
//!     The same number of connections, each kept open after one `GET /health`, without a
//!     stream: what the HTTP server holds per connection, for comparison.
//!
//! sync-load delays --base URL
//!     The server's own histogram of the delay (to the event handed to the connection), from
//!     /metrics: the bucket bounds holding p50 and p99.
//!
//! sync-load latency --streams-base URL --writes-base URL --secret S --streams 1000 \
//!                   --rate 500 --seconds 30
//!     Opens one stream per user on the first server, then creates tasks through the second
//!     (the same server, or another replica on the same database) at `rate` a second, each for
//!     a user picked at random, and measures for every event the delay from the write to its
//!     arrival: the arrival time minus the task's `updated_at`, which the server takes inside
//!     the write transaction before it commits (so the figure overstates the delay from the
//!     commit by the time the commit itself takes). Also, from the writer's 201 (sent after the
//!     commit) to the event, 0 when the event came first (which understates it). Both clocks
//!     are this machine's. Prints percentiles as JSON.
//! ```
//!
//! Tokens are HS256 JWTs signed with the server's `BETTER_AUTH_SECRET`. The connections are
//! plain HTTP/1.1 over TCP, written and read here (a request line, headers, a chunked body):
//! nothing between the measurement and the socket.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow, bail};
use clap::{Parser, Subcommand};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::Rng as _;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

#[derive(Parser)]
#[command(about = "The load client of bench/sync.sh")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Hold `streams` event streams open and report the server's RSS.
    Rss {
        #[arg(long)]
        base: String,
        #[arg(long)]
        secret: String,
        #[arg(long)]
        pid: u32,
        #[arg(long, default_value_t = 10_000)]
        streams: usize,
        /// Seconds the streams are held open (heartbeats go out meanwhile).
        #[arg(long, default_value_t = 20)]
        hold: u64,
    },
    /// Hold `connections` keep-alive connections (one `GET /health` each) and report the RSS.
    Idle {
        #[arg(long)]
        base: String,
        #[arg(long)]
        pid: u32,
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        #[arg(long, default_value_t = 5)]
        hold: u64,
    },
    /// The server's histogram of the delay to each event.
    Delays {
        #[arg(long)]
        base: String,
    },
    /// Write at `rate` a second while `streams` streams are open; the delay to each event.
    Latency {
        #[arg(long)]
        streams_base: String,
        #[arg(long)]
        writes_base: String,
        #[arg(long)]
        secret: String,
        #[arg(long, default_value_t = 1000)]
        streams: usize,
        #[arg(long, default_value_t = 500)]
        rate: u64,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // One thread: the client must stay small beside the server it measures.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        match cli.mode {
            Mode::Rss {
                base,
                secret,
                pid,
                streams,
                hold,
            } => rss(&Addr::parse(&base)?, &secret, pid, streams, hold).await,
            Mode::Idle {
                base,
                pid,
                connections,
                hold,
            } => idle(&Addr::parse(&base)?, pid, connections, hold).await,
            Mode::Delays { base } => delays(&Addr::parse(&base)?).await,
            Mode::Latency {
                streams_base,
                writes_base,
                secret,
                streams,
                rate,
                seconds,
            } => {
                latency(
                    &Addr::parse(&streams_base)?,
                    &Addr::parse(&writes_base)?,
                    &secret,
                    streams,
                    rate,
                    seconds,
                )
                .await
            }
        }
    })?;
    println!("{report}");
    Ok(())
}

/// `http://host:port`, as the server logs it.
#[derive(Clone)]
struct Addr {
    host_port: String,
}

impl Addr {
    fn parse(base: &str) -> anyhow::Result<Self> {
        let host_port = base
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("{base}: only http:// is supported"))?
            .trim_end_matches('/')
            .to_owned();
        Ok(Self { host_port })
    }

    async fn connect(&self) -> anyhow::Result<TcpStream> {
        let stream = TcpStream::connect(&self.host_port)
            .await
            .with_context(|| format!("connecting to {}", self.host_port))?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

fn token(secret: &str, user: &str) -> String {
    let now = unix_now().as_secs();
    let claims = json!({ "sub": user, "iat": now, "exp": now + 3600 });
    // HS256 over a JSON object: signing cannot fail.
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS for {pid}"))
}

/// An HTTP/1.1 response read off a connection: its status, then its body, chunked or not.
struct Response {
    stream: TcpStream,
    /// Bytes read and not consumed yet.
    buffer: Vec<u8>,
    status: u16,
    chunked: bool,
    /// `Content-Length`, when not chunked.
    length: Option<usize>,
}

impl Response {
    /// Sends `request` on `stream` and reads the response's head.
    async fn send(stream: TcpStream, request: &[u8]) -> anyhow::Result<Self> {
        write_all(&stream, request).await?;
        let mut buffer = Vec::with_capacity(1024);
        let head_end = loop {
            if let Some(at) = find(&buffer, b"\r\n\r\n") {
                break at;
            }
            if read_more(&stream, &mut buffer).await? == 0 {
                bail!("the connection closed before a response");
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        buffer.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| anyhow!("not an HTTP response: {head}"))?;
        let (mut chunked, mut length) = (false, None);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().ok();
            }
        }
        Ok(Self {
            stream,
            buffer,
            status,
            chunked,
            length,
        })
    }

    /// The next piece of the body (`None` at its end).
    async fn next_piece(&mut self) -> anyhow::Result<Option<Vec<u8>>> {
        if !self.chunked {
            if let Some(length) = self.length {
                while self.buffer.len() < length {
                    if read_more(&self.stream, &mut self.buffer).await? == 0 {
                        bail!("the body ended early");
                    }
                }
                self.length = Some(0);
                return Ok((length > 0).then(|| self.buffer.drain(..length).collect()));
            }
            if self.buffer.is_empty() && read_more(&self.stream, &mut self.buffer).await? == 0 {
                return Ok(None);
            }
            return Ok(Some(std::mem::take(&mut self.buffer)));
        }
        let size_end = loop {
            if let Some(at) = find(&self.buffer, b"\r\n") {
                break at;
            }
            if read_more(&self.stream, &mut self.buffer).await? == 0 {
                return Ok(None);
            }
        };
        let size_text = String::from_utf8_lossy(&self.buffer[..size_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .with_context(|| format!("a chunk size: {size_text:?}"))?;
        while self.buffer.len() < size_end + 2 + size + 2 {
            if read_more(&self.stream, &mut self.buffer).await? == 0 {
                bail!("a chunk ended early");
            }
        }
        let piece = self.buffer[size_end + 2..size_end + 2 + size].to_vec();
        self.buffer.drain(..size_end + 2 + size + 2);
        Ok((size > 0).then_some(piece))
    }

    /// The rest of the body; the connection can then carry the next request.
    async fn read_body(&mut self) -> anyhow::Result<Vec<u8>> {
        let mut body = Vec::new();
        while let Some(piece) = self.next_piece().await? {
            body.extend_from_slice(&piece);
        }
        Ok(body)
    }
}

/// Reads what has come (0 at the end of the stream) onto `buffer`.
async fn read_more(stream: &TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<usize> {
    let mut chunk = [0_u8; 4096];
    loop {
        stream.readable().await?;
        match stream.try_read(&mut chunk) {
            Ok(n) => {
                buffer.extend_from_slice(&chunk[..n]);
                return Ok(n);
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err.into()),
        }
    }
}

async fn write_all(stream: &TcpStream, mut data: &[u8]) -> anyhow::Result<()> {
    while !data.is_empty() {
        stream.writable().await?;
        match stream.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn get(addr: &Addr, path: &str, token: Option<&str>) -> Vec<u8> {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\n{auth}\r\n",
        addr.host_port
    )
    .into_bytes()
}

/// One SSE event: its `event:` name and its `data:`.
struct SseEvent {
    name: String,
    data: String,
}

/// Splits a stream's body into events.
#[derive(Default)]
struct SseParser {
    pending: Vec<u8>,
    name: String,
    data: String,
}

impl SseParser {
    fn feed(&mut self, piece: &[u8], mut on_event: impl FnMut(SseEvent)) {
        self.pending.extend_from_slice(piece);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.name.is_empty() || !self.data.is_empty() {
                    on_event(SseEvent {
                        name: std::mem::take(&mut self.name),
                        data: std::mem::take(&mut self.data),
                    });
                }
            } else if let Some(name) = line.strip_prefix("event:") {
                self.name = name.trim().to_owned();
            } else if let Some(data) = line.strip_prefix("data:") {
                self.data = data.trim().to_owned();
            }
        }
    }
}

/// Opens a user's stream and returns it once `ready` has come.
async fn open_stream(
    addr: &Addr,
    secret: &str,
    user: &str,
) -> anyhow::Result<(Response, SseParser)> {
    let request = get(
        addr,
        &format!("/api/{user}/events"),
        Some(&token(secret, user)),
    );
    let mut response = Response::send(addr.connect().await?, &request).await?;
    if response.status != 200 {
        let status = response.status;
        let body = response.read_body().await.unwrap_or_default();
        bail!("{status}: {}", String::from_utf8_lossy(&body));
    }
    let mut parser = SseParser::default();
    loop {
        let piece = response
            .next_piece()
            .await?
            .ok_or_else(|| anyhow!("the stream ended before ready"))?;
        let mut ready = false;
        parser.feed(&piece, |event| ready |= event.name == "ready");
        if ready {
            return Ok((response, parser));
        }
    }
}

/// Opens a stream for each user, `parallel` at a time; each is then read by `hold`.
async fn open_streams<F>(
    addr: &Addr,
    secret: &str,
    users: &[String],
    hold: F,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>>
where
    F: Fn(Response, SseParser) -> tokio::task::JoinHandle<()>,
{
    let gate = Arc::new(Semaphore::new(200));
    let mut opening = tokio::task::JoinSet::new();
    for user in users {
        let (gate, addr, secret, user) =
            (gate.clone(), addr.clone(), secret.to_owned(), user.clone());
        opening.spawn(async move {
            let _permit = gate.acquire_owned().await;
            open_stream(&addr, &secret, &user).await
        });
    }
    let mut held = Vec::with_capacity(users.len());
    let mut failed = Vec::new();
    while let Some(opened) = opening.join_next().await {
        match opened? {
            Ok((response, parser)) => held.push(hold(response, parser)),
            Err(err) => failed.push(err),
        }
    }
    if let Some(first) = failed.first() {
        bail!("{} streams failed, e.g. {first:#}", failed.len());
    }
    Ok(held)
}

async fn metrics_text(addr: &Addr) -> anyhow::Result<String> {
    let mut response = Response::send(addr.connect().await?, &get(addr, "/metrics", None)).await?;
    Ok(String::from_utf8_lossy(&response.read_body().await?).into_owned())
}

async fn rss(
    addr: &Addr,
    secret: &str,
    pid: u32,
    streams: usize,
    hold: u64,
) -> anyhow::Result<Value> {
    let users: Vec<String> = (0..streams).map(|n| format!("rss{n}")).collect();
    let before = rss_kib(pid)?;
    let started = Instant::now();
    let held = open_streams(addr, secret, &users, |mut response, _| {
        tokio::spawn(async move { while let Ok(Some(_)) = response.next_piece().await {} })
    })
    .await?;
    let opened = started.elapsed();
    // Held a while (heartbeats go out meanwhile); the highest sample counts.
    let mut peak = 0;
    for _ in 0..hold {
        tokio::time::sleep(Duration::from_secs(1)).await;
        peak = peak.max(rss_kib(pid)?);
    }
    let metrics = metrics_text(addr).await?;
    let open_now = metrics.lines().find_map(|line| {
        line.strip_prefix("todo_api_event_streams_open ")
            .and_then(|v| v.trim().parse::<f64>().ok())
    });
    for task in &held {
        task.abort();
    }
    Ok(json!({
        "streams": held.len(),
        "server_says_open": open_now,
        "open_seconds": round1(opened.as_secs_f64()),
        "rss_before_kib": before,
        "rss_kib": peak,
        "kib_per_stream": round2(peak.saturating_sub(before) as f64 / held.len().max(1) as f64),
    }))
}

async fn idle(addr: &Addr, pid: u32, connections: usize, hold: u64) -> anyhow::Result<Value> {
    let before = rss_kib(pid)?;
    let gate = Arc::new(Semaphore::new(200));
    let mut opening = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (gate, addr) = (gate.clone(), addr.clone());
        opening.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let response =
                Response::send(addr.connect().await?, &get(&addr, "/health", None)).await?;
            if response.status != 200 {
                bail!("GET /health: {}", response.status);
            }
            anyhow::Ok(response)
        });
    }
    let mut held = Vec::with_capacity(connections);
    while let Some(opened) = opening.join_next().await {
        held.push(opened??);
    }
    let mut peak = 0;
    for _ in 0..hold {
        tokio::time::sleep(Duration::from_secs(1)).await;
        peak = peak.max(rss_kib(pid)?);
    }
    Ok(json!({
        "connections": held.len(),
        "rss_before_kib": before,
        "rss_kib": peak,
        "kib_per_connection": round2(peak.saturating_sub(before) as f64 / held.len().max(1) as f64),
    }))
}

async fn delays(addr: &Addr) -> anyhow::Result<Value> {
    let text = metrics_text(addr).await?;
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("todo_api_event_delay_seconds_bucket{") else {
            continue;
        };
        let bound = rest
            .split_once("le=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(bound, _)| bound)
            .unwrap_or("+Inf");
        let upper = if bound == "+Inf" {
            f64::INFINITY
        } else {
            bound.parse()?
        };
        let count = line
            .rsplit(' ')
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0.0);
        buckets.push((upper, count));
    }
    let total = buckets.last().map_or(0.0, |b| b.1);
    let bound = |p: f64| {
        buckets
            .iter()
            .find(|(_, count)| *count >= p / 100.0 * total)
            .and_then(|(upper, _)| upper.is_finite().then(|| (upper * 1000.0).round()))
    };
    Ok(json!({ "count": total, "p50_le_ms": bound(50.0), "p99_le_ms": bound(99.0) }))
}

/// What a stream saw of a change: the task's id, when it arrived, and the delay from the
/// task's `updated_at`.
struct Arrival {
    id: String,
    at: f64,
    delay_ms: f64,
}

fn arrival(at: f64, data: &str) -> Option<Arrival> {
    let change: Value = serde_json::from_str(data).ok()?;
    if change.get("type")?.as_str()? != "upsert" {
        return None;
    }
    let task = change.get("task")?;
    let updated = chrono::DateTime::parse_from_rfc3339(task.get("updated_at")?.as_str()?).ok()?;
    let written = updated.timestamp_micros() as f64 / 1e6;
    Some(Arrival {
        id: task.get("id")?.to_string(),
        at,
        delay_ms: (at - written) * 1000.0,
    })
}

async fn latency(
    streams_addr: &Addr,
    writes_addr: &Addr,
    secret: &str,
    streams: usize,
    rate: u64,
    seconds: u64,
) -> anyhow::Result<Value> {
    let users: Vec<String> = (0..streams).map(|n| format!("lat{n}")).collect();
    let (arrived_tx, mut arrived_rx) = mpsc::unbounded_channel::<Arrival>();
    let held = open_streams(streams_addr, secret, &users, |mut response, mut parser| {
        let arrived = arrived_tx.clone();
        tokio::spawn(async move {
            while let Ok(Some(piece)) = response.next_piece().await {
                let at = unix_now().as_secs_f64();
                parser.feed(&piece, |event| {
                    if event.name == "change"
                        && let Some(a) = arrival(at, &event.data)
                    {
                        let _ = arrived.send(a);
                    }
                });
            }
        })
    })
    .await?;
    drop(arrived_tx);
    let tokens: Arc<HashMap<String, String>> = Arc::new(
        users
            .iter()
            .map(|user| (user.clone(), token(secret, user)))
            .collect(),
    );

    // Writers: 64 keep-alive connections, each taking the next due write.
    let acked: Arc<Mutex<HashMap<String, f64>>> = Arc::default();
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let total = rate * seconds;
    let (due_tx, due_rx) = mpsc::channel::<u64>(usize::try_from(total.max(1))?);
    let due_rx = Arc::new(tokio::sync::Mutex::new(due_rx));
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (addr, users, tokens, acked, errors, due_rx) = (
            writes_addr.clone(),
            users.clone(),
            tokens.clone(),
            acked.clone(),
            errors.clone(),
            due_rx.clone(),
        );
        writers.spawn(async move {
            let mut connection: Option<TcpStream> = None;
            loop {
                let Some(n) = due_rx.lock().await.recv().await else {
                    return;
                };
                let user = &users[rand::rng().random_range(0..users.len())];
                let body = json!({ "title": format!("bench {n}") }).to_string();
                let request = format!(
                    "POST /api/{user}/tasks HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
                     Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    addr.host_port,
                    tokens[user],
                    body.len()
                );
                let stream = match connection.take() {
                    Some(stream) => stream,
                    None => match addr.connect().await {
                        Ok(stream) => stream,
                        Err(err) => {
                            errors.lock().expect("errors").push(format!("{err:#}"));
                            continue;
                        }
                    },
                };
                let outcome = async {
                    let mut response = Response::send(stream, request.as_bytes()).await?;
                    let body = response.read_body().await?;
                    anyhow::Ok((response.status, body, response.stream))
                }
                .await;
                match outcome {
                    Ok((201, body, stream)) => {
                        let at = unix_now().as_secs_f64();
                        let id = serde_json::from_slice::<Value>(&body)
                            .ok()
                            .and_then(|task| task.get("id").map(Value::to_string));
                        match id {
                            Some(id) => {
                                acked.lock().expect("acked").insert(id, at);
                            }
                            None => errors.lock().expect("errors").push("no id".to_owned()),
                        }
                        connection = Some(stream);
                    }
                    Ok((status, body, _)) => errors
                        .lock()
                        .expect("errors")
                        .push(format!("{status}: {}", String::from_utf8_lossy(&body))),
                    Err(err) => errors.lock().expect("errors").push(format!("{err:#}")),
                }
            }
        });
    }

    let mut arrivals: Vec<Arrival> = Vec::new();
    let started = Instant::now();
    let pacing = async {
        for n in 0..total {
            let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
            tokio::time::sleep_until(due).await;
            if due_tx.send(n).await.is_err() {
                break;
            }
        }
        drop(due_tx);
        while writers.join_next().await.is_some() {}
    };
    tokio::pin!(pacing);
    loop {
        tokio::select! {
            () = &mut pacing => break,
            Some(a) = arrived_rx.recv() => arrivals.push(a),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Late events get a few seconds more.
    let expected: HashSet<String> = acked.lock().expect("acked").keys().cloned().collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen: HashSet<String> = arrivals.iter().map(|a| a.id.clone()).collect();
    while !expected.is_subset(&seen) {
        match tokio::time::timeout_at(deadline, arrived_rx.recv()).await {
            Ok(Some(a)) => {
                seen.insert(a.id.clone());
                arrivals.push(a);
            }
            _ => break,
        }
    }
    for task in &held {
        task.abort();
    }
    let acked = acked.lock().expect("acked").clone();
    let errors = errors.lock().expect("errors").clone();
    let mut delays: Vec<f64> = arrivals.iter().map(|a| a.delay_ms).collect();
    delays.sort_by(f64::total_cmp);
    let arrived_at: HashMap<&str, f64> = arrivals.iter().map(|a| (a.id.as_str(), a.at)).collect();
    let mut after_ack: Vec<f64> = acked
        .iter()
        .filter_map(|(id, ack)| {
            arrived_at
                .get(id.as_str())
                .map(|at| ((at - ack) * 1000.0).max(0.0))
        })
        .collect();
    after_ack.sort_by(f64::total_cmp);
    let missing = expected.iter().filter(|id| !seen.contains(*id)).count();
    Ok(json!({
        "streams": held.len(),
        "writes": expected.len(),
        "write_errors": errors.len(),
        "first_error": errors.first(),
        "writes_per_second": round1(expected.len() as f64 / elapsed),
        "events": delays.len(),
        "missing_events": missing,
        "p50_ms": percentile(&delays, 50.0).map(round1),
        "p90_ms": percentile(&delays, 90.0).map(round1),
        "p99_ms": percentile(&delays, 99.0).map(round1),
        "max_ms": delays.last().copied().map(round1),
        "after_ack_p50_ms": percentile(&after_ack, 50.0).map(round1),
        "after_ack_p99_ms": percentile(&after_ack, 99.0).map(round1),
        "client_cpu_seconds": cpu_seconds().map(round1),
    }))
}

/// The CPU time (user and system) this process has used, in seconds.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th,
    // in clock ticks (100 a second on Linux).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).round() as usize;
    Some(sorted[rank.saturating_sub(1).min(sorted.len() - 1)])
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
