//! Builds the application from settings: store, verifiers, routes, and a bound listener.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use poem::EndpointExt;
use tokio::net::TcpListener;

use crate::auth::AuthSettings;
use crate::auth::{Authenticator, Jwks, Secret, SharedSecret, TokenVerifier};
use crate::config::Settings;
use crate::http::{AppState, HttpSettings, RateLimiter, routes};
use crate::store::{self, ListenTarget, MigrationGate, StoreError, TaskStore, migrate_until_done};
use crate::sync::ChangeHub;
use crate::telemetry::metrics::Metrics;

/// The longest wait between two attempts to reach a database that was down at start-up.
const MIGRATION_RETRY_MAX: Duration = Duration::from_secs(15);

/// How long closing the database connections may take at shutdown.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

/// How long a development-mode token lasts.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// A server that is bound and ready to run.
pub struct Application {
    listener: TcpListener,
    port: u16,
    state: AppState,
    http: HttpSettings,
    metrics_enabled: bool,
    migrations: Option<tokio::task::JoinHandle<()>>,
    /// How this process hears of other processes' commits.
    listen: ListenTarget,
    dev_token: Option<String>,
}

impl Application {
    /// Connects the store, applies migrations, builds the verifiers and binds the listener.
    ///
    /// A database that cannot be reached does not stop start-up: the server answers 503 (and
    /// `/ready` says not ready) while a background task retries the migrations until the
    /// database answers. Any other migration failure (a broken or edited migration, a refused
    /// login) stops start-up.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let hub = Arc::new(ChangeHub::new());
        let inner = store::connect(&settings.database_url, &settings.database, hub.clone())
            .context("DATABASE_URL cannot be used")?;
        let listen = ListenTarget::resolve(&settings.database_url, &settings.database)
            .context("DATABASE_LISTEN_URL cannot be used")?;
        let gate = Arc::new(MigrationGate::new(inner));
        let migrations = match gate.migrate().await {
            Ok(()) => None,
            Err(err @ (StoreError::Unavailable(_) | StoreError::NotReady(_))) => {
                tracing::warn!(
                    error = %err,
                    "the database is unreachable: serving 503 until it answers"
                );
                Some(tokio::spawn(migrate_until_done(
                    gate.clone(),
                    MIGRATION_RETRY_MAX,
                )))
            }
            Err(err) => {
                return Err(anyhow::Error::new(err))
                    .context("could not apply the database migrations");
            }
        };

        let metrics = Arc::new(Metrics::default());
        let Auth {
            authenticator: auth,
            jwks,
            dev_token,
        } = build_auth(&settings.auth, &metrics)?;
        log_auth_modes(&settings.auth, &auth);
        if let Some(jwks) = &jwks {
            match jwks.load().await {
                0 => tracing::warn!(
                    url = jwks.url(),
                    "no usable key loaded from the JWKS yet: /ready answers 503 until one is; the \
                     set is fetched again in the background and when a token names an unknown key"
                ),
                count => tracing::info!(url = jwks.url(), "{count} JWKS key(s) loaded"),
            }
            jwks.spawn_refresh();
        }

        let address = format!("{}:{}", settings.host, settings.port);
        let listener = TcpListener::bind(address.clone())
            .await
            .with_context(|| format!("could not listen on {address} (HOST, PORT)"))?;
        let port = listener
            .local_addr()
            .context("the listener has no address")?
            .port();

        let store: Arc<dyn TaskStore> = gate.clone();
        Ok(Self {
            listener,
            port,
            state: AppState {
                store,
                auth,
                jwks,
                migrations: gate,
                metrics,
                rate_limiter: settings
                    .http
                    .rate_limit_per_minute
                    .map(|n| Arc::new(RateLimiter::new(n))),
                max_body_bytes: settings.http.max_body_bytes,
                body_read_timeout: settings.http.body_read_timeout,
                hub,
                sync: settings.sync.clone(),
            },
            http: settings.http.clone(),
            metrics_enabled: settings.telemetry.metrics_enabled,
            migrations,
            listen,
            dev_token,
        })
    }

    /// The port the server listens on (useful with `PORT=0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// In development mode, a token for user `demo`, valid one hour.
    pub fn dev_token(&self) -> Option<&str> {
        self.dev_token.as_deref()
    }

    /// The metrics this server records (the hook for JWKS refresh counts, among others).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.state.metrics.clone()
    }

    /// Serves until `shutdown` resolves: then stops accepting connections, ends the event
    /// streams, lets in-flight requests finish within `SHUTDOWN_GRACE`, and closes the pool.
    ///
    /// While it serves, two tasks run beside it: one brings other processes' commits to the
    /// event streams (PostgreSQL), one compacts the change feed (`CHANGES_RETENTION`).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let store: Arc<dyn TaskStore> = self.state.store.clone();
        let hub = self.state.hub.clone();
        let background = [
            tokio::spawn(store::follow_commits(
                self.listen,
                store.clone(),
                hub.clone(),
            )),
            tokio::spawn(store::compact_periodically(
                store.clone(),
                self.state.sync.retention,
            )),
        ];
        let shutdown = async move {
            shutdown.await;
            // Streams never finish on their own: they end now, so that shutdown does not wait
            // for SHUTDOWN_GRACE.
            hub.close();
        };
        let http = self.http;
        let app = routes(self.state, &http, self.metrics_enabled).boxed();
        let result = crate::http::serve(self.listener, app, &http, shutdown).await;
        for task in background.into_iter().chain(self.migrations) {
            task.abort();
        }
        // Closing says goodbye to every connection; one that never answers (seen once after
        // a benchmark's load, cause unknown) must not keep the process from exiting.
        if tokio::time::timeout(CLOSE_WITHIN, store.close())
            .await
            .is_err()
        {
            tracing::warn!(
                "the database connections did not close within {} s: exiting without them",
                CLOSE_WITHIN.as_secs()
            );
        }
        tracing::info!("stopped");
        result
    }
}

/// The verifiers built from the settings.
struct Auth {
    authenticator: Authenticator,
    jwks: Option<Arc<Jwks>>,
    dev_token: Option<String>,
}

/// The key set first (it decides every token naming one of its keys), then the shared secret;
/// with neither configured, a random development secret.
fn build_auth(settings: &AuthSettings, metrics: &Arc<Metrics>) -> anyhow::Result<Auth> {
    let mut verifiers: Vec<Arc<dyn TokenVerifier>> = Vec::new();
    let jwks = match &settings.jwks {
        Some(jwks_settings) => {
            let jwks = Arc::new(Jwks::new(jwks_settings.clone())?.with_metrics(metrics.clone()));
            verifiers.push(jwks.clone());
            Some(jwks)
        }
        None => None,
    };
    let claims = |secret: &Secret| {
        SharedSecret::new(secret)
            .with_claims(settings.issuer.as_deref(), settings.audiences.as_deref())
    };
    if let Some(secret) = &settings.shared_secret {
        verifiers.push(Arc::new(claims(secret)));
    }
    let mut dev_token = None;
    if settings.is_development() {
        let shared = claims(&Secret::random());
        dev_token = Some(
            shared
                .issue("demo", DEV_TOKEN_TTL)
                .context("could not issue the development token")?,
        );
        verifiers.push(Arc::new(shared));
    }
    Ok(Auth {
        authenticator: Authenticator::new(verifiers),
        jwks,
        dev_token,
    })
}

fn log_auth_modes(settings: &AuthSettings, auth: &Authenticator) {
    let mut modes = Vec::new();
    if settings.jwks.is_some() {
        modes.push("Better Auth JWKS (BETTER_AUTH_URL)");
    }
    if settings.shared_secret.is_some() {
        modes.push("HS256 shared secret (BETTER_AUTH_SECRET)");
    }
    if settings.is_development() {
        modes.push("development (random per-process secret)");
    }
    tracing::info!("auth modes: {}", modes.join(" + "));
    for verifier in auth.describe() {
        tracing::info!("accepting {verifier}");
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send {
    // The handlers are installed now, before the server accepts anything: a SIGTERM that
    // arrives while the first request is in flight must not kill the process outright.
    #[cfg(unix)]
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let terminated = async {
                match terminate.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let interrupted = async {
                match interrupt.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = terminated => {},
                () = interrupted => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing in-flight requests");
    }
}
