//! Configuration: defaults, then a `.env` file if present, then the environment (which wins).
//! A bad value stops start-up with a message naming the variable, never the first request.

use std::fmt;

use crate::auth::Secret;
use crate::store::Backend;

/// The default database: an SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://todo.db";

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `DATABASE_URL`: `postgres://…` or `sqlite://…`.
    pub database_url: String,
    /// `HOST`: the address to listen on.
    pub host: String,
    /// `PORT`: the port to listen on (0 picks a free one).
    pub port: u16,
    /// How tokens are verified.
    pub auth: AuthSettings,
}

/// How tokens are verified.
#[derive(Clone, Debug)]
pub enum AuthSettings {
    /// `BETTER_AUTH_SECRET`: HS256 with this shared secret.
    SharedSecret(Secret),
    /// Nothing configured: a random per-process secret, and a demo token printed at start-up.
    Development,
}

/// A configuration value that cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Settings {
    /// Reads the process environment (after loading `.env`, which never overrides it).
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let error = |variable: &'static str, message: String| ConfigError { variable, message };

        let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        Backend::from_url(&database_url).map_err(|m| error("DATABASE_URL", m))?;

        let host = var("HOST").unwrap_or_else(|| "127.0.0.1".into());
        if host != "localhost" && host.parse::<std::net::IpAddr>().is_err() {
            return Err(error(
                "HOST",
                format!("`{host}` is not an IP address (e.g. 127.0.0.1 or 0.0.0.0) or localhost"),
            ));
        }

        let port = match var("PORT") {
            None => 8080,
            Some(raw) => raw
                .trim()
                .parse::<u16>()
                .map_err(|_| error("PORT", format!("`{raw}` is not a port number (0-65535)")))?,
        };

        if var("BETTER_AUTH_URL").is_some() && var("BETTER_AUTH_SECRET").is_none() {
            return Err(error(
                "BETTER_AUTH_URL",
                "JWKS verification is not available in this version yet; set \
                 BETTER_AUTH_SECRET (HS256) instead"
                    .into(),
            ));
        }

        let auth = match var("BETTER_AUTH_SECRET") {
            Some(raw) => AuthSettings::SharedSecret(
                Secret::parse(raw).map_err(|m| error("BETTER_AUTH_SECRET", m))?,
            ),
            None => AuthSettings::Development,
        };

        Ok(Self {
            database_url,
            host,
            port,
            auth,
        })
    }
}
