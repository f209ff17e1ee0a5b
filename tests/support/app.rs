//! [`TestApp`]: a server running in process, the database it uses, and a client for it.

use std::time::Duration;

use reqwest::{Method, RequestBuilder};

use super::db::{Backend, TestDb};
use super::server::{self, RunningServer, ServerConfig};
use super::{init_test_log, install_crypto, token};

/// The longest any request of the harness's client may take: a guard against a hang, not a
/// speed assertion.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// A running server and what a test needs to talk to it.
pub(crate) struct TestApp {
    /// `http://127.0.0.1:{port}`.
    pub address: String,
    /// A client that does not follow redirects.
    pub client: reqwest::Client,
    /// The store it runs on.
    pub backend: Backend,
    database_url: String,
    config: ServerConfig,
    server: RunningServer,
    /// The database, when it is the test's own (removed with the app).
    db: Option<TestDb>,
}

/// Starts a server with a fresh database; `None` when PostgreSQL is unreachable outside CI.
pub(crate) async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, ServerConfig::default()).await
}

/// Like [`spawn_app`], configured with `config`.
pub(crate) async fn spawn_app_with(backend: Backend, config: ServerConfig) -> Option<TestApp> {
    let db = TestDb::create(backend).await?;
    let url = db.url().to_owned();
    let app = TestApp::try_spawn_on(&url, config)
        .await
        .expect("the server starts");
    Some(TestApp {
        db: Some(db),
        ..app
    })
}

impl TestApp {
    /// Starts a server on a database the test owns (e.g. a cluster of its own), configured
    /// with `config`.
    pub(crate) async fn spawn_on(database_url: &str, config: ServerConfig) -> TestApp {
        Self::try_spawn_on(database_url, config)
            .await
            .expect("the server starts")
    }

    /// Like [`TestApp::spawn_on`], returning the start-up error instead of panicking.
    pub(crate) async fn try_spawn_on(
        database_url: &str,
        config: ServerConfig,
    ) -> anyhow::Result<TestApp> {
        init_test_log();
        install_crypto();
        let server = server::start(database_url, &config).await?;
        Ok(TestApp {
            address: format!("http://127.0.0.1:{}", server.port),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(HANG_GUARD)
                .build()
                .expect("the client builds"),
            backend: Backend::of_url(database_url),
            database_url: database_url.to_owned(),
            config,
            server,
            db: None,
        })
    }

    /// Stops the server gracefully and starts a new one on the same database and settings.
    pub(crate) async fn restart(mut self) -> TestApp {
        self.server.stop().await;
        let db = self.db.take();
        let app = Self::spawn_on(&self.database_url, self.config.clone()).await;
        TestApp { db, ..app }
    }

    /// Stops the server gracefully and starts a new one on the same database, configured with
    /// `config` instead.
    pub(crate) async fn reconfigure(mut self, config: ServerConfig) -> TestApp {
        self.server.stop().await;
        let db = self.db.take();
        let app = Self::spawn_on(&self.database_url, config).await;
        TestApp { db, ..app }
    }

    /// Another server on the same database (another replica), configured with `config`; it
    /// shares nothing with this one but the database.
    pub(crate) async fn replica(&self, config: ServerConfig) -> TestApp {
        Self::spawn_on(&self.database_url, config).await
    }

    /// Stops the server gracefully (in-flight requests finish) and waits until it has.
    pub(crate) async fn stop(mut self) {
        self.server.stop().await;
    }

    /// The URL of this server's database.
    pub(crate) fn database_url(&self) -> &str {
        &self.database_url
    }

    /// A valid token for `user`.
    pub(crate) fn token(&self, user: &str) -> String {
        token(user)
    }

    /// The absolute URL of `path` (path and query) on this server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request as `user` (bearer token attached), for whatever the typed methods do not cover.
    pub(crate) fn request(&self, method: Method, user: &str, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(self.token(user))
    }

    /// A request without a token.
    pub(crate) fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }
}
