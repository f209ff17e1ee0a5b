//! The commits of other processes (replicas on one PostgreSQL database), brought to this
//! process's [`ChangeHub`], so that their streams hear of them within a second.
//!
//! Every process notifies (`NOTIFY`) `<revision> <user id>` after its commits (`notifier.rs`);
//! one dedicated connection per process listens (`LISTEN`). A transaction-mode pooler (PgBouncer,
//! Neon's `-pooler` host) does not deliver notifications, so the listening connection goes to
//! a direct URL: `DATABASE_LISTEN_URL`, else `DATABASE_URL` when it is direct, else, for Neon,
//! `DATABASE_URL` without `-pooler`. Without one that works, this process polls the revisions
//! of the users whose streams it holds instead ([`POLL_EVERY`]); it also polls now and then
//! while listening ([`SAFETY_POLL_EVERY`]), and once after every (re)connection, so that no
//! commit missed while the connection was down goes unnoticed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use super::postgres::FEED_CHANNEL;
use super::settings::{DatabaseSettings, ListenSetting, PoolerMode};
use super::statements::parse_feed_payload;
use super::{Backend, StoreError, TaskStore, postgres_url};
use crate::sync::ChangeHub;

/// How often the revisions of subscribed users are polled when nothing listens.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// How often they are polled while listening, in case a notification was lost.
const SAFETY_POLL_EVERY: Duration = Duration::from_secs(30);

/// After a failed `LISTEN`, how long before trying again (polling meanwhile).
const RETRY_LISTEN: Duration = Duration::from_secs(30);

/// How long connecting the listening connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How this process learns of other processes' commits.
#[derive(Clone, Debug)]
pub(crate) enum ListenTarget {
    /// One process owns the database (SQLite): there are none.
    Nothing,
    /// `LISTEN` on a connection of its own, with these options.
    Listen(Box<PgConnectOptions>),
    /// No direct connection to listen on: poll.
    Poll,
}

impl ListenTarget {
    /// Where a server on `database_url` with `settings` listens.
    pub(crate) fn resolve(
        database_url: &str,
        settings: &DatabaseSettings,
    ) -> Result<Self, StoreError> {
        if Backend::from_url(database_url).map_err(StoreError::Config)? == Backend::Sqlite {
            return Ok(Self::Nothing);
        }
        let url = match &settings.listen {
            ListenSetting::Off => return Ok(Self::Poll),
            ListenSetting::Url(url) => url.clone(),
            ListenSetting::Auto => {
                let target = postgres_url::parse(database_url).map_err(StoreError::Config)?;
                let pooled = match settings.transaction_pooler {
                    PoolerMode::On => true,
                    PoolerMode::Off => false,
                    PoolerMode::Auto => target.pooler_host,
                };
                match (pooled, target.pooler_host) {
                    (false, _) => database_url.to_owned(),
                    (true, true) => {
                        postgres_url::without_pooler(database_url).map_err(StoreError::Config)?
                    }
                    (true, false) => {
                        tracing::info!(
                            "DATABASE_URL goes through a transaction pooler and \
                             DATABASE_LISTEN_URL is not set: other replicas' changes are \
                             polled for every {POLL_EVERY:?}"
                        );
                        return Ok(Self::Poll);
                    }
                }
            }
        };
        let target = postgres_url::parse(&url)
            .map_err(|why| StoreError::Config(format!("DATABASE_LISTEN_URL: {why}")))?;
        Ok(Self::Listen(Box::new(
            target.options.application_name("todo-api-listen"),
        )))
    }
}

/// Publishes other processes' commits to `hub` as they happen, for as long as it runs.
pub(crate) async fn follow_commits(
    target: ListenTarget,
    store: Arc<dyn TaskStore>,
    hub: Arc<ChangeHub>,
) {
    let options = match target {
        ListenTarget::Nothing => return,
        ListenTarget::Poll => {
            return poll(&store, &hub, &AtomicBool::new(false)).await;
        }
        ListenTarget::Listen(options) => options,
    };
    // Polling runs beside the listener: often while it is down, now and then while it is up.
    let listening = Arc::new(AtomicBool::new(false));
    let poller = tokio::spawn({
        let (store, hub, listening) = (store.clone(), hub.clone(), listening.clone());
        async move { poll(&store, &hub, &listening).await }
    });
    // Ends the poller when this task is aborted (shutdown).
    let _poller = AbortOnDrop(poller);
    loop {
        match listen(&options).await {
            Ok(listener) => {
                tracing::info!("listening for other processes' commits (LISTEN)");
                listening.store(true, Ordering::Release);
                catch_up(&store, &hub).await;
                let err = relay(listener, &store, &hub).await;
                listening.store(false, Ordering::Release);
                tracing::warn!(error = %err, "the LISTEN connection failed; reconnecting");
            }
            Err(err) => {
                tracing::warn!(
                    error = %err,
                    "LISTEN is unavailable (DATABASE_LISTEN_URL): polling other processes' \
                     changes every {POLL_EVERY:?}, trying again in {RETRY_LISTEN:?}"
                );
                tokio::time::sleep(RETRY_LISTEN).await;
            }
        }
    }
}

async fn listen(options: &PgConnectOptions) -> Result<PgListener, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_lazy_with(options.clone());
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(FEED_CHANNEL).await?;
    Ok(listener)
}

/// Publishes every notification until the connection fails beyond repair.
async fn relay(
    mut listener: PgListener,
    store: &Arc<dyn TaskStore>,
    hub: &ChangeHub,
) -> sqlx::Error {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => match parse_feed_payload(notification.payload()) {
                Some((user, revision)) => hub.publish(user, revision),
                None => tracing::warn!("an unreadable change notification was ignored"),
            },
            // The connection was lost and is back, listening again: what was committed
            // meanwhile was not notified here.
            Ok(None) => {
                tracing::warn!("the LISTEN connection was lost and re-established");
                catch_up(store, hub).await;
            }
            Err(err) => return err,
        }
    }
}

/// Polls every [`POLL_EVERY`] while `listening` is false, every [`SAFETY_POLL_EVERY`] while it
/// is true, forever.
async fn poll(store: &Arc<dyn TaskStore>, hub: &ChangeHub, listening: &AtomicBool) {
    let mut last = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(POLL_EVERY).await;
        if listening.load(Ordering::Acquire) && last.elapsed() < SAFETY_POLL_EVERY {
            continue;
        }
        last = tokio::time::Instant::now();
        catch_up(store, hub).await;
    }
}

/// Publishes the current revision of every user with an open stream here.
async fn catch_up(store: &Arc<dyn TaskStore>, hub: &ChangeHub) {
    let users = hub.subscribed_users();
    if users.is_empty() {
        return;
    }
    match store.revisions(&users).await {
        Ok(revisions) => {
            for (user, revision) in revisions {
                hub.publish(&user, revision);
            }
        }
        Err(err) => tracing::debug!(error = %err, "polling the users' revisions failed"),
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
