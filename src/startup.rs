//! Builds the application from settings: store, verifiers, routes, and a bound listener.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{EndpointExt, Server};

use crate::auth::{Authenticator, Jwks, Secret, SharedSecret, TokenVerifier};
use crate::config::{AuthSettings, Settings};
use crate::http::{AppState, routes};
use crate::store::{self, TaskStore};

/// How long in-flight requests may run after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long a development-mode token lasts.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// A server that is bound and ready to run.
pub struct Application {
    acceptor: TcpAcceptor,
    port: u16,
    state: AppState,
    dev_token: Option<String>,
}

impl Application {
    /// Connects the store, applies migrations, builds the verifiers and binds the listener.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let store =
            store::connect(&settings.database_url).context("DATABASE_URL cannot be used")?;
        store
            .migrate()
            .await
            .context("could not apply the database migrations")?;

        let Auth {
            authenticator: auth,
            jwks,
            dev_token,
        } = build_auth(&settings.auth)?;
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
        let acceptor = TcpListener::bind(address.clone())
            .into_acceptor()
            .await
            .with_context(|| format!("could not listen on {address} (HOST, PORT)"))?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().map(|a| a.port()))
            .context("the listener has no address")?;

        Ok(Self {
            acceptor,
            port,
            state: AppState { store, auth, jwks },
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

    /// Serves until `shutdown` resolves, lets in-flight requests finish, then closes the pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let store: Arc<dyn TaskStore> = self.state.store.clone();
        let app = routes(self.state).boxed();
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(app, shutdown, Some(SHUTDOWN_GRACE))
            .await;
        store.close().await;
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
fn build_auth(settings: &AuthSettings) -> anyhow::Result<Auth> {
    let mut verifiers: Vec<Arc<dyn TokenVerifier>> = Vec::new();
    let jwks = match &settings.jwks {
        Some(jwks_settings) => {
            let jwks = Arc::new(Jwks::new(jwks_settings.clone())?);
            verifiers.push(jwks.clone());
            Some(jwks)
        }
        None => None,
    };
    if let Some(secret) = &settings.shared_secret {
        verifiers.push(Arc::new(SharedSecret::new(secret)));
    }
    let mut dev_token = None;
    if settings.is_development() {
        let shared = SharedSecret::new(&Secret::random());
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
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
