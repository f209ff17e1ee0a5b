//! Limits: the request time limit and the per-user rate limit. The body size limit is read
//! where bodies are read ([`crate::http::body`]).
//!
//! The time limit wraps each route's endpoint, inside the router ([`time_limited`]), so that a
//! request answered 503 for taking too long is still logged and counted under its route. (poem
//! has no time-limit middleware; tower's `Timeout`, through poem's tower-compat, would answer
//! with an error of its own rather than a problem, from outside the router.)
//!
//! The rate limit is `governor`'s keyed GCRA limiter (a token bucket by another name), checked
//! once the caller is authenticated ([`admit`]).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::auth::Identity;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::observe::RequestContext;

/// The time a request may take, attached to requests as data (`REQUEST_TIMEOUT`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimeLimit(pub(crate) Duration);

/// `endpoint`, answering 503 (problem+json) when a request is still running after the
/// [`TimeLimit`] attached to it (no limit when none is). The transform of every operation and
/// route: it is also where the route is known, so a query parameter the route does not take
/// is refused here (422, [`crate::http::strict::check_query`]) before the operation runs.
pub(crate) fn time_limited<E: Endpoint>(endpoint: E) -> TimeLimited<E> {
    TimeLimited(endpoint)
}

/// An endpoint under the request time limit: see [`time_limited`].
pub(crate) struct TimeLimited<E>(E);

impl<E: Endpoint> Endpoint for TimeLimited<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        crate::http::strict::check_query(&req)?;
        let Some(&TimeLimit(limit)) = req.data::<TimeLimit>() else {
            return self.0.call(req).await.map(IntoResponse::into_response);
        };
        match tokio::time::timeout(limit, self.0.call(req)).await {
            Ok(result) => result.map(IntoResponse::into_response),
            Err(_) => Err(ApiError::Timeout(limit).into()),
        }
    }
}

/// The per-user rate limit: `per_minute` requests a minute, in bursts of up to `per_minute`.
pub(crate) struct RateLimiter<C: Clock = DefaultClock> {
    limiter: Governor<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
    /// The number of users above which the limiter forgets those back at a full allowance.
    prune_above: AtomicUsize,
}

/// Users tracked before those with a full allowance are forgotten.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per user per minute.
    pub(crate) fn new(per_minute: NonZeroU32) -> Self {
        Self::with_clock(per_minute, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    fn with_clock(per_minute: NonZeroU32, clock: C) -> Self {
        let quota = Quota::per_minute(per_minute);
        Self {
            limiter: Governor::new(quota, DefaultKeyedStateStore::default(), clock.clone()),
            clock,
            prune_above: AtomicUsize::new(PRUNE_ABOVE),
        }
    }

    /// Takes one request from `user`'s allowance, or says how many whole seconds (at least 1)
    /// to wait.
    pub(crate) fn check(&self, user: &str) -> Result<(), u64> {
        self.forget_idle_users();
        self.limiter
            .check_key(&user.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                (wait.as_secs_f64().ceil() as u64).max(1)
            })
    }

    /// Keeps memory bounded: past the threshold, forgets every user whose allowance is full
    /// again (they are indistinguishable from new ones), then doubles the threshold if the
    /// users still tracked are that many, so a busy minute does not prune on every request.
    fn forget_idle_users(&self) {
        let threshold = self.prune_above.load(Ordering::Relaxed);
        if self.limiter.len() <= threshold {
            return;
        }
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        let next = (self.limiter.len() * 2).max(PRUNE_ABOVE);
        self.prune_above.store(next, Ordering::Relaxed);
    }
}

/// Called once the caller is known: records them for the request log and applies the rate
/// limit (429 with `Retry-After`).
pub(crate) fn admit(req: &Request, state: &AppState, identity: &Identity) -> Result<(), ApiError> {
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

    use governor::clock::FakeRelativeClock;

    use super::*;

    fn fake(per_minute: u32) -> (RateLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(NonZeroU32::new(per_minute).unwrap(), clock.clone());
        (limiter, clock)
    }

    #[test]
    fn a_user_gets_a_burst_then_the_rate() {
        let (limiter, clock) = fake(60);
        for _ in 0..60 {
            assert_eq!(limiter.check("alice"), Ok(()));
        }
        assert_eq!(limiter.check("alice"), Err(1));
        assert_eq!(limiter.check("bob"), Ok(()), "per user");
        clock.advance(Duration::from_millis(1500));
        assert_eq!(limiter.check("alice"), Ok(()));
        assert_eq!(limiter.check("alice"), Err(1), "half a second, rounded up");

        let (slow, _) = fake(2);
        assert_eq!(slow.check("carol"), Ok(()));
        assert_eq!(slow.check("carol"), Ok(()));
        assert_eq!(slow.check("carol"), Err(30));
    }

    #[test]
    fn users_back_at_a_full_allowance_are_forgotten() {
        let (limiter, clock) = fake(60);
        for user in 0..=PRUNE_ABOVE {
            assert_eq!(limiter.check(&user.to_string()), Ok(()));
        }
        assert_eq!(limiter.limiter.len(), PRUNE_ABOVE + 1);
        clock.advance(Duration::from_secs(2));
        assert_eq!(limiter.check("alice"), Ok(()));
        assert!(limiter.limiter.len() <= 2, "{}", limiter.limiter.len());
    }
}
