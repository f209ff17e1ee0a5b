//! Better Auth's JWT plugin: tokens verified with the public keys its JWKS publishes.
//!
//! The key is chosen by the token's `kid` and the algorithm by the key, never by the token
//! header alone. The key set is fetched at start-up and cached. A token naming an unknown `kid`
//! causes a refetch, at most one per cooldown (single-flight: concurrent requests wait for the
//! same fetch), so a flood of made-up kids cannot make the server hammer the frontend, while a
//! key Better Auth has just rotated in is picked up at once. A background task refreshes the set
//! periodically, so keys rotated out of the JWKS stop working, remembered tokens included: a
//! refresh that drops or replaces a key bumps the verifier's
//! [generation](TokenVerifier::generation). Every fetch has a timeout; when the JWKS is
//! unreachable the cached keys keep working.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once, RwLock, Weak};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_trait::async_trait;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde_json::Value;
use tokio::sync::Mutex;

use super::JwksSettings;
use super::jwk::{self, VerifyingKey};
use super::{AuthError, Claims, Identity, LEEWAY_SECS, TokenVerifier};
use crate::telemetry::metrics::Metrics;

/// The largest key set accepted, in bytes.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// The shortest pause between background fetches, whatever the settings say.
const MIN_BACKGROUND_PAUSE: Duration = Duration::from_secs(1);

/// Verifies tokens signed with the keys of a JWK set (Better Auth's `/api/auth/jwks`).
pub(crate) struct Jwks {
    settings: JwksSettings,
    client: reqwest::Client,
    /// What every token must satisfy besides its key's algorithm.
    validation: Validation,
    /// The usable keys of the last successful fetch, by `kid`.
    keys: RwLock<Arc<HashMap<String, Arc<Key>>>>,
    /// Bumped after a refresh drops or replaces a cached key (see
    /// [`TokenVerifier::generation`]).
    generation: AtomicU64,
    /// Held while fetching: concurrent refetches wait for one fetch instead of starting theirs.
    fetches: Mutex<FetchState>,
    /// Where fetches are counted (`todo_api_jwks_refreshes_total`).
    metrics: Option<Arc<Metrics>>,
}

/// A published key with the validation for its algorithm.
struct Key {
    verifying: VerifyingKey,
    validation: Validation,
    /// The JWK as published, to tell a replaced key from the same key fetched again.
    published: Value,
}

#[derive(Default)]
struct FetchState {
    /// When the last on-demand fetch (unknown `kid`, `/ready` without keys) started: the
    /// cooldown runs from there. Start-up and background fetches do not count.
    last_on_demand: Option<Instant>,
    /// Whether the last fetch of any kind succeeded.
    last_succeeded: bool,
}

/// Why the key set is fetched.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// At start-up, or by the background refresh: not rate-limited.
    Scheduled,
    /// A request needs a key that is not cached: at most one per cooldown.
    OnDemand,
}

/// The key set could not be fetched, or no key of it is usable.
#[derive(Debug)]
pub(crate) struct KeysNotLoaded {
    /// Seconds until the server tries again.
    pub retry_after_secs: u64,
}

impl Jwks {
    /// A verifier for the key set `settings` describe. No key is fetched yet: see
    /// [`Self::load`] and [`Self::spawn_refresh`].
    pub(crate) fn new(settings: JwksSettings) -> anyhow::Result<Self> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(settings.fetch_timeout)
            .connect_timeout(settings.fetch_timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("todo-api/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("could not build the HTTP client for the JWKS")?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&settings.audiences);
        Ok(Self {
            settings,
            client,
            validation,
            keys: RwLock::default(),
            generation: AtomicU64::new(0),
            fetches: Mutex::default(),
            metrics: None,
        })
    }

    /// Counts every fetch of the key set in `metrics`, by outcome.
    pub(crate) fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The address the keys are fetched from.
    pub(crate) fn url(&self) -> &str {
        self.settings.url.as_str()
    }

    /// The `iss` its tokens must carry: Better Auth's issuer identifier (what the MCP server's
    /// protected resource metadata names as the authorization server).
    pub(crate) fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// How many usable keys are cached.
    pub(crate) fn key_count(&self) -> usize {
        self.snapshot().len()
    }

    /// Fetches the key set now (at start-up) and returns how many usable keys are cached.
    pub(crate) async fn load(&self) -> usize {
        let mut state = self.fetches.lock().await;
        self.refresh(&mut state, Trigger::Scheduled).await;
        self.key_count()
    }

    /// Succeeds when at least one usable key is cached, fetching the set first if none is (and
    /// the cooldown allows a fetch).
    pub(crate) async fn ensure_loaded(&self) -> Result<usize, KeysNotLoaded> {
        let count = self.key_count();
        if count > 0 {
            return Ok(count);
        }
        let mut state = self.fetches.lock().await;
        if self.key_count() == 0 && self.cooldown_over(&state) {
            self.refresh(&mut state, Trigger::OnDemand).await;
        }
        match self.key_count() {
            0 => Err(KeysNotLoaded {
                retry_after_secs: self.retry_after(&state),
            }),
            count => Ok(count),
        }
    }

    /// Refreshes the key set in the background for as long as this verifier is alive: every
    /// refresh interval, or every cooldown while the JWKS is failing.
    pub(crate) fn spawn_refresh(self: &Arc<Self>) {
        let jwks: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let pause = match jwks.upgrade() {
                    Some(this) => this.background_pause().await,
                    None => return,
                };
                tokio::time::sleep(pause).await;
                let Some(this) = jwks.upgrade() else {
                    return;
                };
                let mut state = this.fetches.lock().await;
                this.refresh(&mut state, Trigger::Scheduled).await;
            }
        });
    }

    async fn background_pause(&self) -> Duration {
        let state = self.fetches.lock().await;
        let pause = if state.last_succeeded {
            self.settings.refresh_interval
        } else {
            self.settings.refetch_cooldown
        };
        pause.max(MIN_BACKGROUND_PAUSE)
    }

    fn snapshot(&self) -> Arc<HashMap<String, Arc<Key>>> {
        match self.keys.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn cached(&self, kid: &str) -> Option<Arc<Key>> {
        self.snapshot().get(kid).cloned()
    }

    fn cooldown_over(&self, state: &FetchState) -> bool {
        state
            .last_on_demand
            .is_none_or(|at| at.elapsed() >= self.settings.refetch_cooldown)
    }

    fn retry_after(&self, state: &FetchState) -> u64 {
        let remaining = state.last_on_demand.map_or(Duration::ZERO, |at| {
            self.settings.refetch_cooldown.saturating_sub(at.elapsed())
        });
        remaining.as_secs_f64().ceil().max(1.0) as u64
    }

    /// The key `kid` names: cached, or after one refetch if the cooldown allows it.
    async fn key(&self, kid: &str) -> Result<Arc<Key>, AuthError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let mut state = self.fetches.lock().await;
        // Another request may have fetched the set while this one waited.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        if self.cooldown_over(&state) {
            self.refresh(&mut state, Trigger::OnDemand).await;
            if let Some(key) = self.cached(kid) {
                return Ok(key);
            }
        }
        if state.last_succeeded {
            Err(AuthError::UnknownKey)
        } else {
            // The key may well exist: the set just cannot be fetched right now.
            Err(AuthError::KeysUnavailable {
                retry_after_secs: self.retry_after(&state),
            })
        }
    }

    /// Fetches the set and replaces the cached keys; on failure the cached keys stay.
    async fn refresh(&self, state: &mut FetchState, trigger: Trigger) {
        if trigger == Trigger::OnDemand {
            state.last_on_demand = Some(Instant::now());
        }
        let fetched = self.fetch().await;
        if let Some(metrics) = &self.metrics {
            metrics.observe_jwks_refresh(if fetched.is_ok() { "ok" } else { "error" });
        }
        match fetched {
            Ok(keys) => {
                state.last_succeeded = true;
                let previous = self.snapshot();
                if previous.len() != keys.len() || keys.keys().any(|k| !previous.contains_key(k)) {
                    let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
                    kids.sort_unstable();
                    tracing::info!(url = %self.settings.url, keys = ?kids, "JWKS keys loaded");
                }
                let retired = previous.iter().any(|(kid, key)| {
                    keys.get(kid)
                        .is_none_or(|now| now.published != key.published)
                });
                let keys = Arc::new(keys);
                match self.keys.write() {
                    Ok(mut cached) => *cached = keys,
                    Err(poisoned) => *poisoned.into_inner() = keys,
                }
                if retired {
                    // After the swap: a verification that read the old generation is stale.
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
            }
            Err(err) => {
                state.last_succeeded = false;
                tracing::warn!(
                    url = %self.settings.url,
                    error = format!("{err:#}"),
                    cached_keys = self.key_count(),
                    "could not fetch the JWKS; keeping the cached keys"
                );
            }
        }
    }

    async fn fetch(&self) -> anyhow::Result<HashMap<String, Arc<Key>>> {
        let mut response = self
            .client
            .get(self.settings.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .context("request failed")?;
        let status = response.status();
        if !status.is_success() {
            anyhow::bail!("it answered HTTP {status}");
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.context("reading the body failed")? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                anyhow::bail!("the key set is larger than {MAX_JWKS_BYTES} bytes");
            }
            body.extend_from_slice(&chunk);
        }
        let document: Value = serde_json::from_slice(&body).context("the body is not JSON")?;
        let entries = document
            .get("keys")
            .and_then(Value::as_array)
            .context("the body is not a JWK set (no `keys` array)")?;

        let mut keys = HashMap::new();
        for entry in entries {
            match jwk::parse(entry) {
                Ok(verifying) => {
                    let mut validation = self.validation.clone();
                    validation.algorithms = vec![verifying.algorithm];
                    let kid = verifying.kid.clone();
                    if keys
                        .insert(
                            kid.clone(),
                            Arc::new(Key {
                                verifying,
                                validation,
                                published: entry.clone(),
                            }),
                        )
                        .is_some()
                    {
                        tracing::warn!(kid, "the JWKS publishes this kid twice; using the last");
                    }
                }
                Err(skipped) => tracing::warn!(
                    kid = skipped.kid.as_deref().unwrap_or("(none)"),
                    reason = skipped.reason,
                    "skipping a key of the JWKS"
                ),
            }
        }
        Ok(keys)
    }
}

#[async_trait]
impl TokenVerifier for Jwks {
    fn describe(&self) -> String {
        format!(
            "EdDSA, ES256, RS256 and PS256 tokens verified with the JWKS at {} (iss {}, aud {})",
            self.settings.url,
            self.settings.issuer,
            self.settings.audiences.join(" or ")
        )
    }

    /// Every asymmetric token, and any token whose `kid` names a cached key (so an HS256 token
    /// borrowing a JWKS key id is refused here rather than tried against a shared secret).
    fn handles(&self, header: &Header) -> bool {
        let symmetric = matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        );
        !symmetric
            || header
                .kid
                .as_deref()
                .is_some_and(|kid| self.cached(kid).is_some())
    }

    /// Changes when a refresh drops or replaces a key, so that tokens it verified stop being
    /// remembered: a retired key stops working at the next refresh, cached tokens included.
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    async fn verify(&self, token: &str, header: &Header) -> Result<Identity, AuthError> {
        let kid = header.kid.as_deref().ok_or(AuthError::MissingKeyId)?;
        let key = self.key(kid).await?;
        if header.alg != key.verifying.algorithm {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &key.verifying.key, &key.validation)?;
        data.claims.into_identity()
    }
}

/// Makes ring the process's rustls crypto provider (reqwest is built without one).
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when a provider is already installed, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
