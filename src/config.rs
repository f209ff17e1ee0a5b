//! Configuration: defaults, then a `.env` file if present, then the environment (which wins).
//! A bad value stops start-up with a message naming the variable, never the first request.

use std::fmt;
use std::time::Duration;

use reqwest::Url;

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
