//! Opaque cursors, written once for every kind: a value as JSON followed by a checksum, in
//! base64url ([`seal`], [`open`]). The listing's keyset cursors and the change feed's cursors
//! ([`FeedCursor`]) both go through it.
//!
//! The checksum catches a cursor that was cut, mistyped or edited: it is not a signature (a
//! cursor only ever selects the caller's own tasks, so a forged one reveals nothing).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::UserId;
use crate::domain::changes::FeedPosition;
use crate::http::body::fingerprint;

/// The bytes of checksum after the JSON.
const CHECKSUM_BYTES: usize = 4;

/// `value` as a cursor.
pub(crate) fn seal<T: Serialize>(value: &T) -> String {
    // Plain structs of strings and numbers: encoding them cannot fail.
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The value a cursor from [`seal`] holds; `None` for anything else.
pub(crate) fn open<T: DeserializeOwned>(raw: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
    let split = bytes.len().checked_sub(CHECKSUM_BYTES)?;
    let (payload, sum) = bytes.split_at(split);
    if checksum(payload) != sum {
        return None;
    }
    serde_json::from_slice(payload).ok()
}

fn checksum(payload: &[u8]) -> [u8; CHECKSUM_BYTES] {
    let digest = ring::digest::digest(&ring::digest::SHA256, payload);
    let mut sum = [0; CHECKSUM_BYTES];
    sum.copy_from_slice(&digest.as_ref()[..CHECKSUM_BYTES]);
    sum
}

/// A position in one user's change feed, as the `cursor` of `/changes` and the `id` of each
/// event of `/events`.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedCursor {
    /// The format version.
    v: u8,
    /// A short hash of the user id: a cursor of another user is refused.
    u: String,
    /// [`FeedPosition::after`].
    r: i64,
    /// [`FeedPosition::deletions_after`], when it is not `r`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<i64>,
}

/// The version [`FeedCursor`]s are written in.
const FEED_CURSOR_VERSION: u8 = 1;

impl FeedCursor {
    /// `owner`'s cursor at `position`.
    pub(crate) fn encode(owner: &UserId, position: FeedPosition) -> String {
        seal(&Self {
            v: FEED_CURSOR_VERSION,
            u: user_hash(owner),
            r: position.after,
            d: (position.deletions_after != position.after).then_some(position.deletions_after),
        })
    }

    /// The position `raw` holds, if it is a cursor this server issued to `owner`; otherwise
    /// what is wrong with it.
    pub(crate) fn decode(owner: &UserId, raw: &str) -> Result<FeedPosition, &'static str> {
        let cursor: Self = open(raw).ok_or("is not a cursor this server issued")?;
        if cursor.v != FEED_CURSOR_VERSION {
            return Err("is not a cursor this server issued");
        }
        if cursor.u != user_hash(owner) {
            return Err("is another user's cursor");
        }
        let position = FeedPosition {
            after: cursor.r,
            deletions_after: cursor.d.unwrap_or(cursor.r),
        };
        if !position.is_valid() {
            return Err("is not a cursor this server issued");
        }
        Ok(position)
    }
}

/// The first 8 hex digits of the SHA-256 of the user id.
fn user_hash(owner: &UserId) -> String {
    let mut hash = fingerprint(owner.as_str().as_bytes());
    hash.truncate(8);
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn a_feed_cursor_reads_back_for_its_user_only() {
        let alice = user("alice");
        for position in [
            FeedPosition::at(0),
            FeedPosition::at(42),
            FeedPosition {
                after: 7,
                deletions_after: 90,
            },
        ] {
            let raw = FeedCursor::encode(&alice, position);
            assert!(
                raw.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(FeedCursor::decode(&alice, &raw), Ok(position));
            assert_eq!(
                FeedCursor::decode(&user("bob"), &raw),
                Err("is another user's cursor")
            );
        }
    }

    #[test]
    fn garbage_and_edited_cursors_are_refused() {
        let alice = user("alice");
        let raw = FeedCursor::encode(&alice, FeedPosition::at(5));
        let mut bytes = URL_SAFE_NO_PAD.decode(&raw).unwrap_or_default();
        // The revision digit, 5 -> 6: the checksum no longer matches.
        let at = bytes.iter().position(|b| *b == b'5').unwrap_or_default();
        bytes[at] = b'6';
        let edited = URL_SAFE_NO_PAD.encode(&bytes);
        for bad in ["", "abc", "e30", &edited, &raw[..raw.len() - 1]] {
            assert!(FeedCursor::decode(&alice, bad).is_err(), "{bad}");
        }
        let backwards = seal(&FeedCursor {
            v: 1,
            u: user_hash(&alice),
            r: 9,
            d: Some(3),
        });
        assert!(FeedCursor::decode(&alice, &backwards).is_err());
    }
}
