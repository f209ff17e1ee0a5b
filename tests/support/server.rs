//! The one place that knows how the server is configured and started in process: a test says
//! what it wants in the deployment's own vocabulary (environment variables, [`ServerConfig`]),
//! and [`settings`] turns that into the server's settings. When the settings types move or
//! change shape, this file is the only one to follow them.

use std::collections::BTreeMap;
use std::time::Duration;

use todo_api::config::Settings;
use todo_api::startup::Application;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::token::SECRET;

/// How a test server differs from the default test server (port 0 on 127.0.0.1, trusting
/// [`SECRET`], everything else at its default): the variables a deployment would set, plus the
/// few JWKS timings no variable reaches.
#[derive(Clone, Debug, Default)]
pub(crate) struct ServerConfig {
    /// Variables set (`Some`) or removed (`None`) over the test defaults.
    vars: BTreeMap<String, Option<String>>,
    jwks_fetch_timeout: Option<Duration>,
    jwks_refetch_cooldown: Option<Duration>,
    jwks_refresh_interval: Option<Duration>,
}

impl ServerConfig {
    /// Sets a variable, e.g. `var("MAX_BODY_BYTES", "2048")`.
    pub(crate) fn var(mut self, name: &str, value: impl Into<String>) -> Self {
        self.vars.insert(name.to_owned(), Some(value.into()));
        self
    }

    /// Sets several variables.
    pub(crate) fn vars(self, vars: &[(&str, &str)]) -> Self {
        vars.iter()
            .fold(self, |config, (name, value)| config.var(name, *value))
    }

    /// Removes a variable the test server sets by default (`BETTER_AUTH_SECRET`).
    pub(crate) fn unset(mut self, name: &str) -> Self {
        self.vars.insert(name.to_owned(), None);
        self
    }

    /// How long one fetch of the JWKS may take (JWKS mode).
    pub(crate) fn jwks_fetch_timeout(mut self, timeout: Duration) -> Self {
        self.jwks_fetch_timeout = Some(timeout);
        self
    }

    /// The shortest time between two JWKS fetches caused by unknown key ids (JWKS mode).
    pub(crate) fn jwks_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.jwks_refetch_cooldown = Some(cooldown);
        self
    }

    /// How often the JWKS is fetched in the background (JWKS mode).
    pub(crate) fn jwks_refresh_interval(mut self, interval: Duration) -> Self {
        self.jwks_refresh_interval = Some(interval);
        self
    }
}

/// The settings of a test server on `database_url`: the test defaults, then `config`.
pub(super) fn settings(database_url: &str, config: &ServerConfig) -> anyhow::Result<Settings> {
    let mut vars: BTreeMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("BETTER_AUTH_SECRET", SECRET),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    for (name, value) in &config.vars {
        match value {
            Some(value) => vars.insert(name.clone(), value.clone()),
            None => vars.remove(name),
        };
    }
    let mut settings = Settings::from_lookup(|name| vars.get(name).cloned())?;
    let timings = [
        config.jwks_fetch_timeout,
        config.jwks_refetch_cooldown,
        config.jwks_refresh_interval,
    ];
    if timings.iter().any(Option::is_some) {
        let jwks = settings
            .auth
            .jwks
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("JWKS timings need BETTER_AUTH_URL"))?;
        if let Some(timeout) = config.jwks_fetch_timeout {
            jwks.fetch_timeout = timeout;
        }
        if let Some(cooldown) = config.jwks_refetch_cooldown {
            jwks.refetch_cooldown = cooldown;
        }
        if let Some(interval) = config.jwks_refresh_interval {
            jwks.refresh_interval = interval;
        }
    }
    Ok(settings)
}

/// A server running in this process.
pub(super) struct RunningServer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
}

/// Builds the server for `database_url` and `config` (migrations included) and runs it on a task.
pub(super) async fn start(
    database_url: &str,
    config: &ServerConfig,
) -> anyhow::Result<RunningServer> {
    let settings = settings(database_url, config)?;
    let app = Application::build(&settings).await?;
    let port = app.port();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    Ok(RunningServer {
        port,
        shutdown: Some(tx),
        handle: Some(handle),
    })
}

impl RunningServer {
    /// Shuts down gracefully and waits until the server has stopped.
    pub(super) async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle
                .await
                .expect("the server task does not panic")
                .expect("the server stops cleanly");
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
