//! Tells the other processes on one PostgreSQL database of this process's commits:
//! `NOTIFY <channel>, '<revision> <user id>'` ([`parse_feed_payload`] reads it), sent after the
//! commit, in batches, by one task off the request path.
//!
//! Why not in the write transaction, where a notification is delivered exactly on commit:
//! PostgreSQL serialises the commits of every transaction that notified, cluster-wide (a
//! transaction holds the notification queue's lock from before its commit record is written to
//! after it is flushed), so writes that each notify commit one at a time, one WAL flush each,
//! instead of sharing flushes. Measured with pgbench on the create transaction (bench/sql),
//! 32 clients: ~1.8× the throughput without the in-transaction `NOTIFY`. A notification sent on
//! its own carries no transaction id and flushes nothing.
//!
//! What it costs: a notification leaves up to one statement's time after the commit (the
//! batch in flight), and a process that dies between a commit and its notification never sends
//! it: the listeners then learn of that commit from their safety poll (`listener.rs`), or from
//! the user's next write. Streams of this process hear of it at once, from the hub.
//!
//! [`parse_feed_payload`]: super::statements::parse_feed_payload

use std::collections::HashMap;
use std::sync::OnceLock;

use sqlx::PgPool;
use tokio::sync::mpsc;

use super::postgres::FEED_CHANNEL;

/// Notifications of this process's commits, sent by a task of their own.
pub(crate) struct Notifier {
    /// Where the notifications are sent from.
    pool: PgPool,
    /// Whether statements are prepared once and cached (not behind a transaction pooler).
    persistent: bool,
    /// The sending task's queue (the task starts with the first commit).
    queue: OnceLock<mpsc::UnboundedSender<(String, i64)>>,
}

impl Notifier {
    /// A notifier sending through `pool`.
    pub(crate) fn new(pool: PgPool, persistent: bool) -> Self {
        Self {
            pool,
            persistent,
            queue: OnceLock::new(),
        }
    }

    /// Queues the notification that `user`'s changes up to `revision` are committed.
    pub(crate) fn notify(&self, user: &str, revision: i64) {
        let queue = self.queue.get_or_init(|| {
            let (queue, pending) = mpsc::unbounded_channel();
            tokio::spawn(send(self.pool.clone(), self.persistent, pending));
            queue
        });
        // The task ends only when the store is dropped: nothing is left to notify then.
        let _ = queue.send((user.to_owned(), revision));
    }
}

/// Sends what is queued, one statement at a time: what queues up while one is in flight goes
/// in the next, one notification per user (its latest revision).
async fn send(pool: PgPool, persistent: bool, mut pending: mpsc::UnboundedReceiver<(String, i64)>) {
    while let Some((user, revision)) = pending.recv().await {
        let mut latest = HashMap::from([(user, revision)]);
        while let Ok((user, revision)) = pending.try_recv() {
            let entry = latest.entry(user).or_insert(revision);
            *entry = (*entry).max(revision);
        }
        let payloads: Vec<String> = latest
            .iter()
            .map(|(user, revision)| format!("{revision} {user}"))
            .collect();
        let sent = sqlx::query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
            .bind(FEED_CHANNEL)
            .bind(&payloads)
            .persistent(persistent)
            .execute(&pool)
            .await;
        if let Err(err) = sent {
            tracing::warn!(
                %err,
                users = payloads.len(),
                "could not notify the other processes of commits: they learn of them by polling"
            );
        }
    }
}
