//! Configuration: assembles each layer's settings from the environment. Defaults, then a `.env`
//! file if present, then the environment (which wins); empty values count as unset. A bad value
//! stops start-up with a message naming the variable, never the first request.
//!
//! The variables are declared once, as clap arguments ([`Environment`]): clap parses, range-checks
//! and documents them (`todo-api --help` lists each with its default). Each settings type lives
//! with the module that uses it; this module only assembles them, so it is the one place that
//! knows the variables' names.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches as _};
use reqwest::Url;

use crate::auth::Secret;
pub use crate::auth::{AuthSettings, JwksSettings};
pub use crate::http::HttpSettings;
use crate::store::Backend;
pub use crate::store::{DatabaseSettings, ListenSetting, PoolerMode, Quotas};
pub use crate::sync::SyncSettings;
pub use crate::telemetry::{LogFormat, TelemetrySettings};

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
    /// The connection pool and how queries reach the database.
    pub database: DatabaseSettings,
    /// Logs and metrics.
    pub telemetry: TelemetrySettings,
    /// CORS, limits and shutdown.
    pub http: HttpSettings,
    /// How tokens are verified.
    pub auth: AuthSettings,
    /// The change feed and its event streams.
    pub sync: SyncSettings,
}

/// The environment variables, as clap arguments (each also a `--flag` of the command line).
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Settings (environment variables; a flag wins over its variable)")]
pub struct Environment {
    /// `postgres://…` / `postgresql://…` (Neon's connection string) or `sqlite://path.db`
    /// (created if missing).
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, value_parser = database_url)]
    database_url: String,
    /// The address to listen on (`0.0.0.0` in a container).
    #[arg(long, env = "HOST", value_name = "HOST", default_value = "127.0.0.1", value_parser = host)]
    host: String,
    /// The port to listen on (`0` picks a free one).
    #[arg(long, env = "PORT", value_name = "PORT", default_value_t = 8080, value_parser = number::<u16>(0, 65535))]
    port: u16,

    /// Verify HS256 tokens signed with this secret (its raw UTF-8 bytes; at least 32 bytes).
    #[arg(
        long,
        env = "BETTER_AUTH_SECRET",
        value_name = "BETTER_AUTH_SECRET",
        hide_env_values = true
    )]
    better_auth_secret: Option<String>,
    /// The Better Auth base URL (e.g. `https://app.example.com`): verify its JWT plugin's tokens
    /// with its JWKS.
    #[arg(long, env = "BETTER_AUTH_URL", value_name = "BETTER_AUTH_URL", value_parser = http_url)]
    better_auth_url: Option<Url>,
    /// Where the public keys are fetched [default: {BETTER_AUTH_URL}/api/auth/jwks].
    #[arg(long, env = "AUTH_JWKS_URL", value_name = "AUTH_JWKS_URL", value_parser = http_url)]
    auth_jwks_url: Option<Url>,
    /// The `iss` tokens must have [default: the origin of BETTER_AUTH_URL]; when set, HS256
    /// tokens (BETTER_AUTH_SECRET) must have it too.
    #[arg(long, env = "AUTH_ISSUER", value_name = "AUTH_ISSUER", value_parser = trimmed)]
    auth_issuer: Option<String>,
    /// The accepted `aud` values, comma-separated [default: the origin of BETTER_AUTH_URL]; when
    /// set, HS256 tokens (BETTER_AUTH_SECRET) must have one of them too.
    #[arg(long, env = "AUTH_AUDIENCE", value_name = "AUTH_AUDIENCE", value_parser = audiences)]
    auth_audience: Option<Audiences>,

    /// `pretty` (human-readable) or `json` (one JSON object per line).
    #[arg(long, env = "LOG_FORMAT", value_name = "LOG_FORMAT", default_value = "pretty", value_parser = log_format)]
    log_format: LogFormat,
    /// Serve Prometheus metrics at `GET /metrics`.
    #[arg(long, env = "METRICS_ENABLED", value_name = "METRICS_ENABLED", default_value = "true", value_parser = boolean, action = clap::ArgAction::Set)]
    metrics_enabled: bool,

    /// Most database connections per process (PostgreSQL).
    #[arg(long, env = "DB_POOL_MAX", value_name = "DB_POOL_MAX", default_value = "10", value_parser = number::<u32>(1, 1000))]
    db_pool_max: u32,
    /// More database connections per process, to read the change feed (event streams and
    /// `/changes`) without waiting behind writes.
    #[arg(long, env = "DB_FEED_POOL_MAX", value_name = "DB_FEED_POOL_MAX", default_value = "8", value_parser = number::<u32>(1, 100))]
    db_feed_pool_max: u32,
    /// How long a request waits for a connection, connecting included, before a 503.
    #[arg(long, env = "DB_ACQUIRE_TIMEOUT", value_name = "DB_ACQUIRE_TIMEOUT", default_value = "3s", value_parser = duration)]
    db_acquire_timeout: Duration,
    /// The longest a PostgreSQL statement may run; `0` = no limit.
    #[arg(long, env = "DB_STATEMENT_TIMEOUT", value_name = "DB_STATEMENT_TIMEOUT", default_value = "10s", value_parser = duration_or_zero)]
    db_statement_timeout: Duration,
    /// An idle connection is closed after this long (lets Neon's compute suspend).
    #[arg(long, env = "DB_IDLE_TIMEOUT", value_name = "DB_IDLE_TIMEOUT", default_value = "60s", value_parser = duration)]
    db_idle_timeout: Duration,
    /// Every connection is replaced after this long.
    #[arg(long, env = "DB_MAX_LIFETIME", value_name = "DB_MAX_LIFETIME", default_value = "30m", value_parser = duration)]
    db_max_lifetime: Duration,
    /// `auto`, `true` or `false`: whether DATABASE_URL goes through a transaction-mode pooler
    /// (`auto`: on for Neon's `-pooler` hosts).
    #[arg(long, env = "DB_TRANSACTION_POOLER", value_name = "DB_TRANSACTION_POOLER", default_value = "auto", value_parser = pooler_mode)]
    db_transaction_pooler: PoolerMode,

    /// A direct PostgreSQL URL this process listens on (`LISTEN`) for other replicas' changes
    /// [default: DATABASE_URL, or for Neon's `-pooler` host the same without `-pooler`]; `off`
    /// polls instead.
    #[arg(long, env = "DATABASE_LISTEN_URL", value_name = "DATABASE_LISTEN_URL", hide_env_values = true, value_parser = listen_url)]
    database_listen_url: Option<ListenSetting>,

    /// How long a deleted task's tombstone is kept for the change feed; an older cursor is
    /// answered 410.
    #[arg(long, env = "CHANGES_RETENTION", value_name = "CHANGES_RETENTION", default_value = "30d", value_parser = retention)]
    changes_retention: Duration,
    /// How often an idle event stream sends a heartbeat comment (at most 20s).
    #[arg(long, env = "EVENTS_HEARTBEAT", value_name = "EVENTS_HEARTBEAT", default_value = "15s", value_parser = heartbeat)]
    events_heartbeat: Duration,
    /// How many revisions an event stream may fall behind before it is sent `resync` and closed.
    #[arg(long, env = "EVENTS_MAX_LAG", value_name = "EVENTS_MAX_LAG", default_value = "1000", value_parser = number::<u64>(1, 1_000_000))]
    events_max_lag: u64,

    /// Comma-separated browser origins allowed to call the API (exact origins; no `*`).
    #[arg(long, env = "CORS_ORIGINS", value_name = "CORS_ORIGINS", value_parser = origins)]
    cors_origins: Option<Origins>,
    /// The largest request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", value_name = "MAX_BODY_BYTES", default_value = "65536", value_parser = number::<usize>(1024, 64 * 1024 * 1024))]
    max_body_bytes: usize,
    /// A request still running after this long is answered 503.
    #[arg(long, env = "REQUEST_TIMEOUT", value_name = "REQUEST_TIMEOUT", default_value = "30s", value_parser = duration)]
    request_timeout: Duration,
    /// A request body that has not arrived after this long is answered 408.
    #[arg(long, env = "BODY_READ_TIMEOUT", value_name = "BODY_READ_TIMEOUT", default_value = "10s", value_parser = duration)]
    body_read_timeout: Duration,
    /// A connection that has not sent a request's headers this long after it became ready for
    /// one (a new connection, or an idle keep-alive one) is closed.
    #[arg(long, env = "HEADER_READ_TIMEOUT", value_name = "HEADER_READ_TIMEOUT", default_value = "10s", value_parser = duration)]
    header_read_timeout: Duration,
    /// A connection on which nothing is read or written for this long is closed (requests in
    /// flight finish first).
    #[arg(long, env = "IDLE_TIMEOUT", value_name = "IDLE_TIMEOUT", default_value = "60s", value_parser = duration)]
    idle_timeout: Duration,
    /// The most tasks one user may have.
    #[arg(long, env = "MAX_TASKS_PER_USER", value_name = "MAX_TASKS_PER_USER", default_value = "10000", value_parser = number::<u64>(1, 100_000_000))]
    max_tasks_per_user: u64,
    /// The most distinct tags (ignoring case) across one user's tasks.
    #[arg(long, env = "MAX_TAGS_PER_USER", value_name = "MAX_TAGS_PER_USER", default_value = "1000", value_parser = number::<u64>(1, 1_000_000))]
    max_tags_per_user: u64,
    /// The most lists one user may have; a list beyond it is refused with 403 `quota-exceeded`.
    #[arg(long, env = "MAX_LISTS_PER_USER", value_name = "MAX_LISTS_PER_USER", default_value = "500", value_parser = number::<u64>(1, 1_000_000))]
    max_lists_per_user: u64,
    /// Requests per user per minute, per process (`0`: no limit).
    #[arg(long, env = "RATE_LIMIT_PER_MINUTE", value_name = "RATE_LIMIT_PER_MINUTE", default_value = "0", value_parser = number::<u32>(0, 1_000_000))]
    rate_limit_per_minute: u32,
    /// After SIGTERM or SIGINT, how long in-flight requests may finish.
    #[arg(long, env = "SHUTDOWN_GRACE", value_name = "SHUTDOWN_GRACE", default_value = "10s", value_parser = duration_or_zero)]
    shutdown_grace: Duration,
}

/// A configuration value that cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn error(variable: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.to_owned(),
        message: message.into(),
    }
}

impl Settings {
    /// Reads settings through `lookup` instead of the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let command = Environment::augment_args(Command::new("todo-api").no_binary_name(true));
        // Each variable `lookup` gives becomes its flag; clap reads nothing else.
        let mut argv = Vec::new();
        let command = command.mut_args(|arg| {
            if let Some(value) = env_name(&arg).and_then(|name| usable(lookup(&name)))
                && let Some(long) = arg.get_long()
            {
                argv.push(format!("--{long}={value}"));
            }
            arg.env(None::<&'static str>)
        });
        let matches = command
            .try_get_matches_from(argv)
            .map_err(|err| clap_error(&err))?;
        Self::from_matches(&matches)
    }

    /// The settings from parsed arguments (see [`Environment::command`] for the binary's).
    pub fn from_matches(matches: &ArgMatches) -> Result<Self, ConfigError> {
        let env = Environment::from_arg_matches(matches)
            .map_err(|err| error("the environment", err.to_string()))?;
        env.assemble()
    }
}

impl Environment {
    /// The variables as a command of their own, reading the process environment (empty values
    /// count as unset); the binary flattens them into its command line.
    pub fn command(command: Command) -> Command {
        Self::augment_args(command).mut_args(|arg| match env_name(&arg) {
            Some(name) if usable(std::env::var(&name).ok()).is_none() => {
                arg.env(None::<&'static str>)
            }
            _ => arg,
        })
    }

    fn assemble(self) -> Result<Settings, ConfigError> {
        let shared_secret = self
            .better_auth_secret
            .and_then(|raw| usable(Some(raw)))
            .map(|raw| Secret::parse(raw).map_err(|m| error("BETTER_AUTH_SECRET", m)))
            .transpose()?;
        let issuer = self.auth_issuer.filter(|issuer| !issuer.is_empty());
        let audiences = self.auth_audience.map(|a| a.0);
        let jwks = match &self.better_auth_url {
            Some(base) => Some(JwksSettings::for_better_auth(
                base,
                self.auth_jwks_url,
                issuer.clone(),
                audiences.clone(),
            )),
            None if self.auth_jwks_url.is_some() => {
                return Err(error(
                    "AUTH_JWKS_URL",
                    "is set but BETTER_AUTH_URL is not: set BETTER_AUTH_URL to the Better \
                     Auth base URL (e.g. https://app.example.com) too",
                ));
            }
            None => None,
        };
        Ok(Settings {
            database_url: self.database_url,
            host: self.host,
            port: self.port,
            database: DatabaseSettings {
                pool_max: self.db_pool_max,
                feed_pool_max: self.db_feed_pool_max,
                acquire_timeout: self.db_acquire_timeout,
                statement_timeout: (!self.db_statement_timeout.is_zero())
                    .then_some(self.db_statement_timeout),
                idle_timeout: self.db_idle_timeout,
                max_lifetime: self.db_max_lifetime,
                transaction_pooler: self.db_transaction_pooler,
                quotas: Quotas {
                    max_tasks_per_user: self.max_tasks_per_user,
                    max_tags_per_user: self.max_tags_per_user,
                    max_lists_per_user: self.max_lists_per_user,
                },
                listen: self.database_listen_url.unwrap_or(ListenSetting::Auto),
            },
            sync: SyncSettings {
                retention: self.changes_retention,
                heartbeat: self.events_heartbeat,
                max_lag: self.events_max_lag,
            },
            telemetry: TelemetrySettings {
                log_format: self.log_format,
                metrics_enabled: self.metrics_enabled,
            },
            http: HttpSettings {
                cors_origins: self.cors_origins.map(|o| o.0).unwrap_or_default(),
                max_body_bytes: self.max_body_bytes,
                request_timeout: self.request_timeout,
                body_read_timeout: self.body_read_timeout,
                header_read_timeout: self.header_read_timeout,
                idle_timeout: self.idle_timeout,
                rate_limit_per_minute: NonZeroU32::new(self.rate_limit_per_minute),
                shutdown_grace: self.shutdown_grace,
            },
            auth: AuthSettings {
                shared_secret,
                jwks,
                issuer,
                audiences,
            },
        })
    }
}

/// The environment variable an argument reads.
fn env_name(arg: &Arg) -> Option<String> {
    arg.get_env()
        .map(|name| name.to_string_lossy().into_owned())
}

/// A value with its surrounding white space trimmed; `None` when it is empty.
fn usable(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A clap error as a [`ConfigError`] naming the variable (never the value of a secret: only
/// checked values reach clap's messages, and the secret is checked after it).
pub(crate) fn clap_error(err: &clap::Error) -> ConfigError {
    use clap::error::{ContextKind, ContextValue};
    let flag = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(flag)) => flag.clone(),
        _ => String::new(),
    };
    let variables = Environment::augment_args(Command::new("todo-api"));
    let variable = variables
        .get_arguments()
        .find(|arg| {
            arg.get_long().is_some_and(|long| {
                flag.starts_with(&format!("--{long} ")) || flag == format!("--{long}")
            })
        })
        .and_then(env_name)
        .unwrap_or_else(|| "the environment".to_owned());
    let message = match std::error::Error::source(err) {
        Some(why) => why.to_string(),
        None => err.kind().to_string(),
    };
    error(&variable, message)
}

// Value parsers: each says what it expects in words a person configuring a server reads.

/// A whole number within `min..=max`.
fn number<T>(min: T, max: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy + Send + Sync + 'static,
{
    move |raw| match raw.trim().parse::<T>() {
        Ok(value) if value >= min && value <= max => Ok(value),
        _ => Err(format!("`{raw}` is not a whole number from {min} to {max}")),
    }
}

/// A duration such as `3s`, `500ms` or `5m` (a bare number is seconds), from 0 to a day.
fn duration_or_zero(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let parsed = match raw.parse::<u64>() {
        Ok(secs) => Ok(Duration::from_secs(secs)),
        Err(_) => humantime::parse_duration(raw),
    };
    match parsed {
        Ok(d) if d > Duration::from_secs(24 * 3600) => Err(format!("`{raw}` is longer than a day")),
        Ok(d) => Ok(d),
        Err(_) => Err(format!("`{raw}` is not a duration (e.g. 3s, 500ms, 5m)")),
    }
}

/// Like [`duration_or_zero`], more than zero.
fn duration(raw: &str) -> Result<Duration, String> {
    match duration_or_zero(raw)? {
        d if d.is_zero() => Err("must be more than zero".into()),
        d => Ok(d),
    }
}

/// A retention window such as `30d` or `12h` (a bare number is seconds), from a second to ten
/// years.
fn retention(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let parsed = match raw.parse::<u64>() {
        Ok(secs) => Ok(Duration::from_secs(secs)),
        Err(_) => humantime::parse_duration(raw),
    };
    match parsed {
        Ok(d) if d < Duration::from_secs(1) => Err("must be at least 1s".into()),
        Ok(d) if d > Duration::from_secs(3650 * 24 * 3600) => {
            Err(format!("`{raw}` is longer than ten years"))
        }
        Ok(d) => Ok(d),
        Err(_) => Err(format!("`{raw}` is not a duration (e.g. 30d, 12h)")),
    }
}

/// A heartbeat interval: more than zero, at most 20 seconds (proxies close quiet streams).
fn heartbeat(raw: &str) -> Result<Duration, String> {
    match duration(raw)? {
        d if d > Duration::from_secs(20) => Err(format!("`{}` is more than 20s", raw.trim())),
        d => Ok(d),
    }
}

/// `off`, or a PostgreSQL URL (never repeated in a message: it may hold a password).
fn listen_url(raw: &str) -> Result<ListenSetting, String> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("off") {
        return Ok(ListenSetting::Off);
    }
    match Backend::from_url(raw) {
        Ok(Backend::Postgres) => Ok(ListenSetting::Url(raw.to_owned())),
        _ => Err("must be `off` or a postgres:// URL".into()),
    }
}

fn boolean(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("`{raw}` is not true or false")),
    }
}

fn trimmed(raw: &str) -> Result<String, String> {
    Ok(raw.trim().to_owned())
}

fn database_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    Backend::from_url(raw)?;
    Ok(raw.to_owned())
}

fn host(raw: &str) -> Result<String, String> {
    let host = raw.trim();
    if host != "localhost" && host.parse::<std::net::IpAddr>().is_err() {
        return Err(format!(
            "`{host}` is not an IP address (e.g. 127.0.0.1 or 0.0.0.0) or localhost"
        ));
    }
    Ok(host.to_owned())
}

fn log_format(raw: &str) -> Result<LogFormat, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "pretty" | "text" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("`{other}` is not json or pretty")),
    }
}

fn pooler_mode(raw: &str) -> Result<PoolerMode, String> {
    if raw.trim().eq_ignore_ascii_case("auto") {
        return Ok(PoolerMode::Auto);
    }
    match boolean(raw) {
        Ok(true) => Ok(PoolerMode::On),
        Ok(false) => Ok(PoolerMode::Off),
        Err(_) => Err(format!("`{raw}` is not auto, true or false")),
    }
}

/// An absolute `http://` or `https://` URL with a host, and no query, fragment or credentials.
fn http_url(raw: &str) -> Result<Url, String> {
    let raw = raw.trim();
    let url = Url::parse(raw).map_err(|why| {
        format!("`{raw}` is not an absolute URL ({why}); expected e.g. https://app.example.com")
    })?;
    // Credentials are checked first, so that the message never repeats them.
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{raw}` must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{raw}` has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{raw}` must not have a query or a fragment"));
    }
    Ok(url)
}

/// A comma-separated list of `aud` values.
#[derive(Clone, Debug)]
struct Audiences(Vec<String>);

fn audiences(raw: &str) -> Result<Audiences, String> {
    let list: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    if list.is_empty() {
        return Err(format!(
            "`{raw}` names no audience: give one or more, separated by commas"
        ));
    }
    Ok(Audiences(list))
}

/// A comma-separated list of browser origins.
#[derive(Clone, Debug)]
struct Origins(Vec<String>);

fn origins(raw: &str) -> Result<Origins, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(origin)
        .collect::<Result<Vec<_>, _>>()
        .map(Origins)
}

/// One origin: `scheme://host[:port]`, exactly as a browser sends it.
fn origin(raw: &str) -> Result<String, String> {
    if raw.contains('*') {
        return Err(
            "wildcards are not allowed: list each origin, e.g. https://app.example.com".into(),
        );
    }
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or_else(|| format!("`{raw}` is not an origin like https://app.example.com"))?;
    if !matches!(scheme, "http" | "https") {
        return Err(format!("`{raw}`: the scheme must be http or https"));
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!(
            "`{raw}` is not an origin: scheme://host[:port], with no path or trailing slash"
        ));
    }
    Ok(raw.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
