//! Configuration: defaults, then a `.env` file if present, then the environment (which wins).
//! A bad value stops start-up with a message naming the variable, never the first request.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use reqwest::Url;

use crate::auth::Secret;
use crate::http::HttpSettings;
use crate::store::Backend;
use crate::telemetry::{LogFormat, TelemetrySettings};

/// The default database: an SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://todo.db";

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `DATABASE_URL`: `postgres://…` or `sqlite://…`.
    pub database_url: String,
    /// `HOST`: the address to listen on.
    pub host: String,
    /// The connection pool and how queries reach the database.
    pub database: DatabaseSettings,
    /// Logs and metrics.
    pub telemetry: TelemetrySettings,
    /// CORS, limits and shutdown.
    pub http: HttpSettings,
    /// `PORT`: the port to listen on (0 picks a free one).
    pub port: u16,
    /// How tokens are verified.
    pub auth: AuthSettings,
}

/// How tokens are verified. Both modes can be on together; with neither, the server runs in
/// development mode (a random per-process secret, and a demo token printed at start-up).
#[derive(Clone, Debug, Default)]
pub struct AuthSettings {
    /// `BETTER_AUTH_SECRET`: HS256 with this shared secret.
    pub shared_secret: Option<Secret>,
    /// `BETTER_AUTH_URL`: Better Auth's JWT plugin, verified with the keys of its JWKS.
    pub jwks: Option<JwksSettings>,
}

impl AuthSettings {
    /// Neither a shared secret nor a JWKS is configured.
    pub fn is_development(&self) -> bool {
        self.shared_secret.is_none() && self.jwks.is_none()
    }
}

/// Where Better Auth publishes its public keys, and what its tokens must say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksSettings {
    /// `AUTH_JWKS_URL`, by default `{BETTER_AUTH_URL}/api/auth/jwks`.
    pub url: Url,
    /// `AUTH_ISSUER`: the required `iss`, by default the origin of `BETTER_AUTH_URL`.
    pub issuer: String,
    /// `AUTH_AUDIENCE`: `aud` must contain one of these; by default the origin of
    /// `BETTER_AUTH_URL`.
    pub audiences: Vec<String>,
    /// How long one fetch of the key set may take before it is abandoned.
    pub fetch_timeout: Duration,
    /// The shortest time between two fetches caused by tokens with an unknown `kid`, so a flood
    /// of made-up key ids cannot make the server hammer the frontend.
    pub refetch_cooldown: Duration,
    /// How often the key set is fetched in the background, so rotated-out keys stop working and
    /// new ones are known before the first token signed with them arrives.
    pub refresh_interval: Duration,
}

impl JwksSettings {
    /// Default of [`Self::fetch_timeout`].
    pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default of [`Self::refetch_cooldown`].
    pub const REFETCH_COOLDOWN: Duration = Duration::from_secs(30);
    /// Default of [`Self::refresh_interval`].
    pub const REFRESH_INTERVAL: Duration = Duration::from_secs(300);

    /// Settings for a key set at `url`, with the default timings.
    pub fn new(url: Url, issuer: String, audiences: Vec<String>) -> Self {
        Self {
            url,
            issuer,
            audiences,
            fetch_timeout: Self::FETCH_TIMEOUT,
            refetch_cooldown: Self::REFETCH_COOLDOWN,
            refresh_interval: Self::REFRESH_INTERVAL,
        }
    }
}

/// The connection pool. The defaults suit a serverless PostgreSQL such as Neon: few
/// connections, a short wait for one, and idle connections closed so the compute can suspend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// `DB_POOL_MAX`: the most connections this process opens.
    pub pool_max: u32,
    /// `DB_ACQUIRE_TIMEOUT`: how long a request waits for a connection (connecting included)
    /// before it is answered 503.
    pub acquire_timeout: Duration,
    /// `DB_STATEMENT_TIMEOUT`: the longest a statement may run (PostgreSQL; `None` = no limit).
    pub statement_timeout: Option<Duration>,
    /// `DB_IDLE_TIMEOUT`: an idle connection is closed after this long.
    pub idle_timeout: Duration,
    /// `DB_MAX_LIFETIME`: every connection is replaced after this long.
    pub max_lifetime: Duration,
    /// `DB_TRANSACTION_POOLER`: whether `DATABASE_URL` goes through a pooler in transaction
    /// mode (PgBouncer, Neon's `-pooler` endpoint).
    pub transaction_pooler: PoolerMode,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            pool_max: 10,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Some(Duration::from_secs(10)),
            idle_timeout: Duration::from_secs(60),
            max_lifetime: Duration::from_secs(30 * 60),
            transaction_pooler: PoolerMode::Auto,
        }
    }
}

/// `DB_TRANSACTION_POOLER`: `auto` (the default), `true` or `false`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolerMode {
    /// On when the host name contains `-pooler.` (Neon's pooled endpoint), off otherwise.
    Auto,
    /// Every operation runs in its own transaction with unnamed statements, which works
    /// behind any transaction-mode pooler, with or without prepared-statement support.
    On,
    /// A direct connection (or a session-mode pooler): cached prepared statements.
    Off,
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

fn error(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// Reads typed values from a lookup function; empty values count as unset.
struct Env<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn number<T: std::str::FromStr + PartialOrd + fmt::Display>(
        &self,
        name: &'static str,
        default: T,
        min: T,
        max: T,
    ) -> Result<T, ConfigError> {
        let Some(raw) = self.raw(name) else {
            return Ok(default);
        };
        match raw.parse::<T>() {
            Ok(value) if value >= min && value <= max => Ok(value),
            _ => Err(error(
                name,
                format!("`{raw}` is not a whole number from {min} to {max}"),
            )),
        }
    }

    /// A duration such as `3s`, `500ms` or `5m` (a bare number is seconds); `0` is allowed
    /// only when `zero_ok`.
    fn duration(
        &self,
        name: &'static str,
        default: Duration,
        zero_ok: bool,
    ) -> Result<Duration, ConfigError> {
        let Some(raw) = self.raw(name) else {
            return Ok(default);
        };
        let parsed = match raw.parse::<u64>() {
            Ok(secs) => Ok(Duration::from_secs(secs)),
            Err(_) => humantime::parse_duration(&raw),
        };
        match parsed {
            Ok(d) if d.is_zero() && !zero_ok => Err(error(name, "must be more than zero")),
            Ok(d) if d > Duration::from_secs(24 * 3600) => {
                Err(error(name, format!("`{raw}` is longer than a day")))
            }
            Ok(d) => Ok(d),
            Err(_) => Err(error(
                name,
                format!("`{raw}` is not a duration (e.g. 3s, 500ms, 5m)"),
            )),
        }
    }

    fn boolean(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        let Some(raw) = self.raw(name) else {
            return Ok(default);
        };
        parse_bool(&raw).ok_or_else(|| error(name, format!("`{raw}` is not true or false")))
    }
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Checks one `CORS_ORIGINS` entry: `scheme://host[:port]`, exactly as a browser sends it.
fn parse_origin(raw: &str) -> Result<String, String> {
    if raw == "*" || raw.contains('*') {
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

impl Settings {
    /// Reads the process environment (after loading `.env`, which never overrides it).
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env { lookup };
        let var = |name: &str| env.raw(name);

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
                .parse::<u16>()
                .map_err(|_| error("PORT", format!("`{raw}` is not a port number (0-65535)")))?,
        };

        let shared_secret = var("BETTER_AUTH_SECRET")
            .map(|raw| Secret::parse(raw).map_err(|m| error("BETTER_AUTH_SECRET", m)))
            .transpose()?;
        let jwks = jwks_settings(&var)?;

        let auth = AuthSettings {
            shared_secret,
            jwks,
        };
        Ok(Self {
            database_url,
            host,
            database: database_settings(&env)?,
            telemetry: telemetry_settings(&env)?,
            http: http_settings(&env)?,
            port,
            auth,
        })
    }
}

/// Where Better Auth's JWT plugin serves its keys, relative to its base URL.
const JWKS_PATH: &str = "/api/auth/jwks";

/// JWKS mode from `BETTER_AUTH_URL` and its overrides; `None` when `BETTER_AUTH_URL` is unset.
///
/// Mirrors how Better Auth reads the same variable: a bare origin (`https://app.example.com`)
/// serves the auth routes under `/api/auth`, a URL with a path (`…/api/auth`) is the auth base
/// itself, and the JWT plugin's default `iss` and `aud` are the URL's origin.
fn jwks_settings(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<JwksSettings>, ConfigError> {
    let Some(raw) = var("BETTER_AUTH_URL") else {
        for name in ["AUTH_JWKS_URL", "AUTH_ISSUER", "AUTH_AUDIENCE"] {
            if var(name).is_some() {
                return Err(ConfigError {
                    variable: name,
                    message: "is set but BETTER_AUTH_URL is not: set BETTER_AUTH_URL to the \
                              Better Auth base URL (e.g. https://app.example.com) too"
                        .into(),
                });
            }
        }
        return Ok(None);
    };
    let base = http_url("BETTER_AUTH_URL", &raw)?;
    let origin = base.origin().ascii_serialization();

    let url = match var("AUTH_JWKS_URL") {
        Some(raw) => http_url("AUTH_JWKS_URL", &raw)?,
        None => {
            let base_path = base.path().trim_end_matches('/');
            let joined = if base_path.is_empty() {
                format!("{origin}{JWKS_PATH}")
            } else {
                format!("{origin}{base_path}/jwks")
            };
            http_url("BETTER_AUTH_URL", &joined)?
        }
    };

    let issuer = var("AUTH_ISSUER")
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| origin.clone());

    let audiences = match var("AUTH_AUDIENCE") {
        None => vec![origin],
        Some(raw) => {
            let list: Vec<String> = raw
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
            if list.is_empty() {
                return Err(ConfigError {
                    variable: "AUTH_AUDIENCE",
                    message: format!(
                        "`{raw}` names no audience: give one or more, separated by commas"
                    ),
                });
            }
            list
        }
    };

    Ok(Some(JwksSettings::new(url, issuer, audiences)))
}

/// An absolute `http://` or `https://` URL with a host, and no query, fragment or credentials.
fn http_url(variable: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let error = |message: String| ConfigError { variable, message };
    let raw = raw.trim();
    let url = Url::parse(raw).map_err(|why| {
        error(format!(
            "`{raw}` is not an absolute URL ({why}); expected e.g. https://app.example.com"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(error(format!(
            "`{raw}` must start with http:// or https://"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(error(format!("`{raw}` has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(error(format!(
            "`{raw}` must not have a query or a fragment"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(error("must not contain credentials".into()));
    }
    Ok(url)
}

fn database_settings<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<DatabaseSettings, ConfigError> {
    let d = DatabaseSettings::default();
    let statement_timeout = env.duration(
        "DB_STATEMENT_TIMEOUT",
        d.statement_timeout.unwrap_or_default(),
        true,
    )?;
    let transaction_pooler = match env.raw("DB_TRANSACTION_POOLER") {
        None => PoolerMode::Auto,
        Some(raw) if raw.eq_ignore_ascii_case("auto") => PoolerMode::Auto,
        Some(raw) => match parse_bool(&raw) {
            Some(true) => PoolerMode::On,
            Some(false) => PoolerMode::Off,
            None => {
                return Err(error(
                    "DB_TRANSACTION_POOLER",
                    format!("`{raw}` is not auto, true or false"),
                ));
            }
        },
    };
    Ok(DatabaseSettings {
        pool_max: env.number("DB_POOL_MAX", d.pool_max, 1, 1000)?,
        acquire_timeout: env.duration("DB_ACQUIRE_TIMEOUT", d.acquire_timeout, false)?,
        statement_timeout: (!statement_timeout.is_zero()).then_some(statement_timeout),
        idle_timeout: env.duration("DB_IDLE_TIMEOUT", d.idle_timeout, false)?,
        max_lifetime: env.duration("DB_MAX_LIFETIME", d.max_lifetime, false)?,
        transaction_pooler,
    })
}

fn telemetry_settings<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<TelemetrySettings, ConfigError> {
    let log_format = match env.raw("LOG_FORMAT").map(|v| v.to_ascii_lowercase()) {
        None => LogFormat::Pretty,
        Some(v) if v == "pretty" || v == "text" => LogFormat::Pretty,
        Some(v) if v == "json" => LogFormat::Json,
        Some(v) => return Err(error("LOG_FORMAT", format!("`{v}` is not json or pretty"))),
    };
    Ok(TelemetrySettings {
        log_format,
        metrics_enabled: env.boolean("METRICS_ENABLED", true)?,
    })
}

fn http_settings<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<HttpSettings, ConfigError> {
    let d = HttpSettings::default();
    let cors_origins = match env.raw("CORS_ORIGINS") {
        None => Vec::new(),
        Some(raw) => raw
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(parse_origin)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| error("CORS_ORIGINS", m))?,
    };
    let rate = env.number("RATE_LIMIT_PER_MINUTE", 0u32, 0, 1_000_000)?;
    Ok(HttpSettings {
        cors_origins,
        max_body_bytes: env.number("MAX_BODY_BYTES", d.max_body_bytes, 1024, 64 * 1024 * 1024)?,
        request_timeout: env.duration("REQUEST_TIMEOUT", d.request_timeout, false)?,
        rate_limit_per_minute: NonZeroU32::new(rate),
        shutdown_grace: env.duration("SHUTDOWN_GRACE", d.shutdown_grace, true)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    fn jwks(vars: &[(&str, &str)]) -> JwksSettings {
        settings(vars).unwrap().auth.jwks.unwrap()
    }

    fn failing_variable(vars: &[(&str, &str)]) -> &'static str {
        settings(vars).unwrap_err().variable
    }

    #[test]
    fn nothing_configured_is_development_mode() {
        let auth = settings(&[]).unwrap().auth;
        assert!(auth.is_development());
    }

    #[test]
    fn better_auth_url_alone_turns_on_jwks_mode_with_better_auths_defaults() {
        let origin = jwks(&[("BETTER_AUTH_URL", "https://app.example.com")]);
        assert_eq!(origin.url.as_str(), "https://app.example.com/api/auth/jwks");
        assert_eq!(origin.issuer, "https://app.example.com");
        assert_eq!(origin.audiences, ["https://app.example.com"]);
        assert_eq!(origin.fetch_timeout, JwksSettings::FETCH_TIMEOUT);

        // A trailing slash changes nothing: Better Auth uses the origin.
        let slash = jwks(&[("BETTER_AUTH_URL", "http://localhost:3000/")]);
        assert_eq!(slash.url.as_str(), "http://localhost:3000/api/auth/jwks");
        assert_eq!(slash.issuer, "http://localhost:3000");
    }

    #[test]
    fn a_better_auth_url_with_a_path_is_the_auth_base() {
        let jwks = jwks(&[("BETTER_AUTH_URL", "https://example.com/api/auth/")]);
        assert_eq!(jwks.url.as_str(), "https://example.com/api/auth/jwks");
        assert_eq!(jwks.issuer, "https://example.com");
        assert_eq!(jwks.audiences, ["https://example.com"]);
    }

    #[test]
    fn the_overrides_win() {
        let jwks = jwks(&[
            ("BETTER_AUTH_URL", "https://app.example.com"),
            (
                "AUTH_JWKS_URL",
                "https://keys.example.com/.well-known/jwks.json",
            ),
            ("AUTH_ISSUER", "https://issuer.example.com"),
            ("AUTH_AUDIENCE", " https://api.example.com , todo-api,,"),
        ]);
        assert_eq!(
            jwks.url.as_str(),
            "https://keys.example.com/.well-known/jwks.json"
        );
        assert_eq!(jwks.issuer, "https://issuer.example.com");
        assert_eq!(jwks.audiences, ["https://api.example.com", "todo-api"]);
    }

    #[test]
    fn both_modes_can_be_on_together() {
        let auth = settings(&[
            ("BETTER_AUTH_URL", "https://app.example.com"),
            (
                "BETTER_AUTH_SECRET",
                "a-shared-secret-that-is-long-enough-for-hs256",
            ),
        ])
        .unwrap()
        .auth;
        assert!(auth.shared_secret.is_some());
        assert!(auth.jwks.is_some());
        assert!(!auth.is_development());
    }

    #[test]
    fn bad_values_name_their_variable() {
        for bad in [
            "app.example.com",
            "ftp://app.example.com",
            "https://",
            "https://app.example.com/?x=1",
            "https://user:pass@app.example.com",
        ] {
            assert_eq!(
                failing_variable(&[("BETTER_AUTH_URL", bad)]),
                "BETTER_AUTH_URL",
                "{bad}"
            );
        }
        assert_eq!(
            failing_variable(&[
                ("BETTER_AUTH_URL", "https://app.example.com"),
                ("AUTH_JWKS_URL", "/api/auth/jwks"),
            ]),
            "AUTH_JWKS_URL"
        );
        assert_eq!(
            failing_variable(&[
                ("BETTER_AUTH_URL", "https://app.example.com"),
                ("AUTH_AUDIENCE", " , "),
            ]),
            "AUTH_AUDIENCE"
        );
        for orphan in ["AUTH_JWKS_URL", "AUTH_ISSUER", "AUTH_AUDIENCE"] {
            assert_eq!(
                failing_variable(&[(orphan, "https://keys.example.com")]),
                orphan
            );
        }
        let message = settings(&[("BETTER_AUTH_URL", "https://user:hunter2@app.example.com")])
            .unwrap_err()
            .to_string();
        assert!(!message.contains("hunter2"), "{message}");
    }
}

#[cfg(test)]
mod operational_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn fails(name: &'static str, value: &str) {
        let err = settings(&[(name, value)]).expect_err(value);
        assert_eq!(err.variable, name, "{err}");
        assert!(err.to_string().contains(name), "{err}");
    }

    #[test]
    fn defaults_suit_a_serverless_database() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database, DatabaseSettings::default());
        assert_eq!(s.database.pool_max, 10);
        assert_eq!(s.database.acquire_timeout, Duration::from_secs(3));
        assert_eq!(s.http, HttpSettings::default());
        assert_eq!(s.http.max_body_bytes, 65536);
        assert_eq!(s.http.rate_limit_per_minute, None);
        assert_eq!(s.telemetry, TelemetrySettings::default());
    }

    #[test]
    fn every_variable_is_read() {
        let s = settings(&[
            ("DB_POOL_MAX", "12"),
            ("DB_ACQUIRE_TIMEOUT", "750ms"),
            ("DB_STATEMENT_TIMEOUT", "0"),
            ("DB_IDLE_TIMEOUT", "2m"),
            ("DB_MAX_LIFETIME", "600"),
            ("DB_TRANSACTION_POOLER", "true"),
            ("LOG_FORMAT", "JSON"),
            ("METRICS_ENABLED", "false"),
            (
                "CORS_ORIGINS",
                "https://app.example.com, http://localhost:3000",
            ),
            ("MAX_BODY_BYTES", "2048"),
            ("REQUEST_TIMEOUT", "5s"),
            ("RATE_LIMIT_PER_MINUTE", "120"),
            ("SHUTDOWN_GRACE", "20s"),
        ])
        .unwrap();
        assert_eq!(s.database.pool_max, 12);
        assert_eq!(s.database.acquire_timeout, Duration::from_millis(750));
        assert_eq!(s.database.statement_timeout, None);
        assert_eq!(s.database.idle_timeout, Duration::from_secs(120));
        assert_eq!(s.database.max_lifetime, Duration::from_secs(600));
        assert_eq!(s.database.transaction_pooler, PoolerMode::On);
        assert_eq!(s.telemetry.log_format, LogFormat::Json);
        assert!(!s.telemetry.metrics_enabled);
        assert_eq!(
            s.http.cors_origins,
            ["https://app.example.com", "http://localhost:3000"]
        );
        assert_eq!(s.http.max_body_bytes, 2048);
        assert_eq!(s.http.request_timeout, Duration::from_secs(5));
        assert_eq!(s.http.rate_limit_per_minute.map(NonZeroU32::get), Some(120));
        assert_eq!(s.http.shutdown_grace, Duration::from_secs(20));
    }

    #[test]
    fn bad_values_name_their_variable() {
        fails("DB_POOL_MAX", "0");
        fails("DB_POOL_MAX", "many");
        fails("DB_ACQUIRE_TIMEOUT", "0");
        fails("DB_ACQUIRE_TIMEOUT", "soon");
        fails("DB_STATEMENT_TIMEOUT", "-1");
        fails("DB_IDLE_TIMEOUT", "3 parsecs");
        fails("DB_MAX_LIFETIME", "0");
        fails("DB_TRANSACTION_POOLER", "sometimes");
        fails("LOG_FORMAT", "xml");
        fails("METRICS_ENABLED", "maybe");
        fails("CORS_ORIGINS", "*");
        fails("CORS_ORIGINS", "https://app.example.com/");
        fails("CORS_ORIGINS", "app.example.com");
        fails("CORS_ORIGINS", "ftp://files.example.com");
        fails("MAX_BODY_BYTES", "10");
        fails("MAX_BODY_BYTES", "1e6");
        fails("REQUEST_TIMEOUT", "0");
        fails("REQUEST_TIMEOUT", "2d");
        fails("RATE_LIMIT_PER_MINUTE", "-5");
        fails("SHUTDOWN_GRACE", "forever");
    }
}
