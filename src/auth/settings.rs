//! How tokens are verified: the settings of the verifiers, and how Better Auth's base URL
//! becomes a key-set location, an issuer and an audience.

use std::time::Duration;

use reqwest::Url;

use super::Secret;

/// How tokens are verified. Both modes can be on together; with neither, the server runs in
/// development mode (a random per-process secret, and a demo token printed at start-up).
#[derive(Clone, Debug, Default)]
pub struct AuthSettings {
    /// `BETTER_AUTH_SECRET`: HS256 with this shared secret.
    pub shared_secret: Option<Secret>,
    /// `BETTER_AUTH_URL`: Better Auth's JWT plugin, verified with the keys of its JWKS.
    pub jwks: Option<JwksSettings>,
    /// `AUTH_ISSUER`, when set: the `iss` shared-secret tokens must have too (the key set's
    /// own is in [`JwksSettings::issuer`]).
    pub issuer: Option<String>,
    /// `AUTH_AUDIENCE`, when set: shared-secret tokens' `aud` must contain one of these too.
    pub audiences: Option<Vec<String>>,
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

/// Where Better Auth's JWT plugin serves its keys, relative to its base URL.
const JWKS_PATH: &str = "/api/auth/jwks";

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

    /// The settings Better Auth's own defaults imply for its base URL (`BETTER_AUTH_URL`),
    /// with the overrides that are given.
    ///
    /// Mirrors how Better Auth reads the same variable: a bare origin
    /// (`https://app.example.com`) serves the auth routes under `/api/auth`, a URL with a path
    /// (`…/api/auth`) is the auth base itself, and the JWT plugin's default `iss` and `aud` are
    /// the URL's origin.
    pub fn for_better_auth(
        base: &Url,
        jwks_url: Option<Url>,
        issuer: Option<String>,
        audiences: Option<Vec<String>>,
    ) -> Self {
        let origin = base.origin().ascii_serialization();
        let url = jwks_url.unwrap_or_else(|| {
            let base_path = base.path().trim_end_matches('/');
            let mut url = base.clone();
            url.set_path(&if base_path.is_empty() {
                JWKS_PATH.to_owned()
            } else {
                format!("{base_path}/jwks")
            });
            url
        });
        Self::new(
            url,
            issuer.unwrap_or_else(|| origin.clone()),
            audiences.unwrap_or_else(|| vec![origin]),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn url(raw: &str) -> Url {
        Url::parse(raw).unwrap()
    }

    #[test]
    fn a_bare_origin_serves_the_auth_routes_under_api_auth() {
        let jwks = JwksSettings::for_better_auth(&url("http://localhost:3000/"), None, None, None);
        assert_eq!(jwks.url.as_str(), "http://localhost:3000/api/auth/jwks");
        assert_eq!(jwks.issuer, "http://localhost:3000");
        assert_eq!(jwks.audiences, ["http://localhost:3000"]);
    }

    #[test]
    fn a_url_with_a_path_is_the_auth_base() {
        let jwks =
            JwksSettings::for_better_auth(&url("https://example.com/api/auth/"), None, None, None);
        assert_eq!(jwks.url.as_str(), "https://example.com/api/auth/jwks");
        assert_eq!(jwks.issuer, "https://example.com");
    }
}
