//! Verified tokens, remembered for a while: a frontend sends the same token with every request
//! for minutes, and checking its signature and claims every time is wasted work (more so for
//! public-key signatures).
//!
//! Entries are keyed by the SHA-256 of the token, so the cache never holds a token. An entry is
//! honoured only as long as the token itself would verify (`exp` plus the leeway every verifier
//! allows), and never longer than [`MAX_AGE`] after it was verified, so that a change of keys
//! takes effect within that time; a verifier whose keys change (a JWKS refresh that retires a
//! key) invalidates what it verified at once, through its
//! [generation](super::TokenVerifier::generation). Only successes are remembered.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::digest::{SHA256, digest};

use super::{Identity, LEEWAY_SECS};

/// The most tokens remembered; when full, expired entries go first, then all of them.
pub(super) const CAPACITY: usize = 4096;

/// The longest a token is trusted without verifying it again.
pub(super) const MAX_AGE: Duration = Duration::from_secs(60);

type Key = [u8; 32];

/// A verification worth remembering: who the token names and which verifier, in which
/// generation of its keys, accepted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Remembered {
    /// The caller the token names.
    pub identity: Identity,
    /// The index of the verifier in the chain.
    pub verifier: usize,
    /// That verifier's generation when it verified the token.
    pub generation: u64,
}

struct Entry {
    remembered: Remembered,
    /// The last second (since the epoch) this entry may be used in.
    valid_until: u64,
}

/// A bounded map from token digests to the callers they were verified as.
#[derive(Default)]
pub(super) struct TokenCache {
    entries: Mutex<HashMap<Key, Entry>>,
}

fn key(token: &str) -> Key {
    let mut key = [0; 32];
    key.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    key
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl TokenCache {
    /// How `token` was verified, if that is still recent enough; the caller checks the
    /// generation.
    pub(super) fn get(&self, token: &str) -> Option<Remembered> {
        self.get_at(token, now())
    }

    /// Remembers that `token` was just verified.
    pub(super) fn insert(&self, token: &str, remembered: Remembered) {
        self.insert_at(token, remembered, now());
    }

    fn get_at(&self, token: &str, now: u64) -> Option<Remembered> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(&key(token))
            .filter(|entry| now <= entry.valid_until)
            .map(|entry| entry.remembered.clone())
    }

    fn insert_at(&self, token: &str, remembered: Remembered, now: u64) {
        let valid_until = remembered
            .identity
            .expires_at
            .saturating_add(LEEWAY_SECS)
            .min(now.saturating_add(MAX_AGE.as_secs()));
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY {
            entries.retain(|_, entry| now <= entry.valid_until);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            key(token),
            Entry {
                remembered,
                valid_until,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    const NOW: u64 = 1_800_000_000;

    fn len(cache: &TokenCache) -> usize {
        cache
            .entries
            .lock()
            .map(|entries| entries.len())
            .unwrap_or(0)
    }

    fn identity(user: &str, expires_at: u64) -> Remembered {
        Remembered {
            identity: Identity {
                user_id: UserId::parse(user).expect("a valid user id"),
                expires_at,
            },
            verifier: 0,
            generation: 0,
        }
    }

    #[test]
    fn a_remembered_token_names_its_caller_and_no_other_token_does() {
        let cache = TokenCache::default();
        let alice = identity("alice", NOW + 600);
        cache.insert_at("token-a", alice.clone(), NOW);
        assert_eq!(cache.get_at("token-a", NOW + 1), Some(alice));
        assert_eq!(cache.get_at("token-b", NOW + 1), None);
    }

    #[test]
    fn a_token_is_honoured_no_longer_than_it_would_verify() {
        let cache = TokenCache::default();
        cache.insert_at("token", identity("alice", NOW + 10), NOW);
        assert!(cache.get_at("token", NOW + 10 + LEEWAY_SECS).is_some());
        assert_eq!(cache.get_at("token", NOW + 11 + LEEWAY_SECS), None);
    }

    #[test]
    fn a_token_is_verified_again_after_max_age() {
        let cache = TokenCache::default();
        cache.insert_at("token", identity("alice", NOW + 86_400), NOW);
        assert!(cache.get_at("token", NOW + MAX_AGE.as_secs()).is_some());
        assert_eq!(cache.get_at("token", NOW + MAX_AGE.as_secs() + 1), None);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = TokenCache::default();
        for i in 0..CAPACITY {
            cache.insert_at(
                &format!("expired-{i}"),
                identity("a", NOW - 3600),
                NOW - 3600,
            );
        }
        cache.insert_at("fresh", identity("b", NOW + 600), NOW);
        assert_eq!(len(&cache), 1, "expired entries make room first");
        for i in 0..CAPACITY {
            cache.insert_at(&format!("valid-{i}"), identity("c", NOW + 600), NOW);
        }
        assert!(len(&cache) <= CAPACITY);
    }
}
