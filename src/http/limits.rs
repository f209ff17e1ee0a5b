//! Limits: the request time limit (a middleware) and the per-user rate limit (checked once the
//! caller is authenticated). The body size limit is read where bodies are read
//! ([`crate::http::body`]).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::auth::Identity;
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::observe::RequestContext;

/// Answers 503 (problem+json) for a request still running after the time limit.
pub struct RequestTimeout(pub Duration);

impl<E: Endpoint> Middleware<E> for RequestTimeout {
    type Output = RequestTimeoutEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequestTimeoutEndpoint {
            inner,
            limit: self.0,
        }
    }
}

/// [`RequestTimeout`] applied to an endpoint.
pub struct RequestTimeoutEndpoint<E> {
    inner: E,
    limit: Duration,
}

impl<E: Endpoint> Endpoint for RequestTimeoutEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        match tokio::time::timeout(self.limit, self.inner.call(req)).await {
            Ok(result) => result.map(IntoResponse::into_response),
            Err(_) => Err(ApiError::Timeout(self.limit).into()),
        }
    }
}

/// A per-user token bucket: `per_minute` requests a minute, in bursts of up to `per_minute`.
pub struct RateLimiter {
    per_minute: NonZeroU32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Buckets kept before full ones are forgotten.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per user per minute.
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `user`'s allowance, or says how many seconds to wait.
    pub fn check(&self, user: &str) -> Result<(), u64> {
        self.check_at(user, Instant::now())
    }

    fn check_at(&self, user: &str, now: Instant) -> Result<(), u64> {
        let capacity = f64::from(self.per_minute.get());
        let per_second = capacity / 60.0;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry(user.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / per_second;
            // Whole seconds, rounded up, at least 1.
            Err((wait.ceil() as u64).max(1))
        }
    }
}

/// Called once the caller is known: records them for the request log and applies the rate
/// limit (429 with `Retry-After`).
pub fn admit(req: &Request, state: &AppState, identity: &Identity) -> Result<(), ApiError> {
    if let Some(context) = req.data::<Arc<RequestContext>>() {
        context.set_user(identity.user_id.as_str());
    }
    if let Some(limiter) = &state.rate_limiter
        && let Err(retry_after) = limiter.check(identity.user_id.as_str())
    {
        state.metrics.observe_rate_limited();
        return Err(ApiError::RateLimited { retry_after });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_bucket_allows_a_burst_then_refills_at_the_rate() {
        let limiter = RateLimiter::new(NonZeroU32::new(60).unwrap());
        let start = Instant::now();
        for _ in 0..60 {
            assert_eq!(limiter.check_at("alice", start), Ok(()));
        }
        assert_eq!(limiter.check_at("alice", start), Err(1));
        assert_eq!(limiter.check_at("bob", start), Ok(()), "per user");
        let later = start + Duration::from_millis(1500);
        assert_eq!(limiter.check_at("alice", later), Ok(()));
        assert_eq!(limiter.check_at("alice", later), Err(1));

        let slow = RateLimiter::new(NonZeroU32::new(2).unwrap());
        assert_eq!(slow.check_at("carol", start), Ok(()));
        assert_eq!(slow.check_at("carol", start), Ok(()));
        assert_eq!(slow.check_at("carol", start), Err(30));
    }
}
