//! Builds the application from settings: store, verifiers, routes, and a bound listener.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{EndpointExt, Server};

use crate::auth::{Authenticator, Secret, SharedSecret, TokenVerifier};
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

        let (auth, dev_token) = build_auth(&settings.auth)?;
        for mode in auth.describe() {
            tracing::info!("accepting {mode}");
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
            state: AppState { store, auth },
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

fn build_auth(settings: &AuthSettings) -> anyhow::Result<(Authenticator, Option<String>)> {
    Ok(match settings {
        AuthSettings::SharedSecret(secret) => {
            let verifier: Arc<dyn TokenVerifier> = Arc::new(SharedSecret::new(secret));
            (Authenticator::new(vec![verifier]), None)
        }
        AuthSettings::Development => {
            let shared = SharedSecret::new(&Secret::random());
            let token = shared
                .issue("demo", DEV_TOKEN_TTL)
                .context("could not issue the development token")?;
            let verifier: Arc<dyn TokenVerifier> = Arc::new(shared);
            (Authenticator::new(vec![verifier]), Some(token))
        }
    })
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
