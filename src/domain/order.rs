//! Manual order: the `position` keys of tasks and lists. A key is a string of ASCII letters and
//! digits that sorts byte-wise in the user's order among its siblings, so a client keeps its copy
//! sorted by comparing strings, without asking the server.
//!
//! The scheme is fractional indexing over base-62 digits (`0-9A-Za-z`, in ASCII order): a key
//! is an integer part (a head letter giving its length, then digits) and an optional fraction
//! (no trailing `0`). A key after the last is the next integer (keys grow logarithmically when
//! tasks are appended or prepended); a key between two others is their midpoint (a key grows by
//! about one character every six inserts into the same gap). A key longer than
//! [`MAX_KEY_LEN`] is not used: the store gives the sibling set fresh short keys instead
//! ([`sequence`]), which rewrites the siblings once in a while rather than letting keys grow.

/// The digits, in the order they sort (ASCII).
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The longest key the store writes: a longer one makes it renumber the siblings.
pub(crate) const MAX_KEY_LEN: usize = 32;

/// The smallest integer part, which has no predecessor.
const SMALLEST_INTEGER: &[u8] = b"A00000000000000000000000000";

/// Where to put a task or list among its siblings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Before every sibling.
    First,
    /// Right after this sibling (a task or list id).
    After(i64),
    /// After every sibling.
    Last,
}

fn digit(c: u8) -> Option<usize> {
    DIGITS.iter().position(|&d| d == c)
}

/// The length of an integer part whose head is `head`.
fn integer_len(head: u8) -> Option<usize> {
    match head {
        b'a'..=b'z' => Some(usize::from(head - b'a') + 2),
        b'A'..=b'Z' => Some(usize::from(b'Z' - head) + 2),
        _ => None,
    }
}

/// A valid key split into its integer part and fraction.
fn split(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = integer_len(*key.first()?)?;
    if len > key.len() || key[1..].iter().any(|&c| digit(c).is_none()) {
        return None;
    }
    let (integer, fraction) = key.split_at(len);
    if fraction.last() == Some(&b'0') || key == SMALLEST_INTEGER {
        return None;
    }
    Some((integer, fraction))
}

/// A fraction strictly between `a` and `b` (`None`: 1), both without trailing zeros.
fn midpoint(a: &[u8], b: Option<&[u8]>) -> Option<Vec<u8>> {
    if let Some(b) = b {
        let mut n = 0;
        while n < b.len() && a.get(n).copied().unwrap_or(b'0') == b[n] {
            n += 1;
        }
        if n > 0 {
            let mut out = b[..n].to_vec();
            out.extend(midpoint(a.get(n..).unwrap_or_default(), Some(&b[n..]))?);
            return Some(out);
        }
    }
    let da = match a.first() {
        Some(&c) => digit(c)?,
        None => 0,
    };
    let db = match b {
        Some(b) => digit(*b.first()?)?,
        None => DIGITS.len(),
    };
    if db <= da {
        return None;
    }
    if db - da > 1 {
        return Some(vec![DIGITS[(da + db).div_ceil(2)]]);
    }
    if let Some(b) = b
        && b.len() > 1
    {
        return Some(vec![b[0]]);
    }
    let mut out = vec![DIGITS[da]];
    out.extend(midpoint(a.get(1..).unwrap_or_default(), None)?);
    Some(out)
}

fn increment(integer: &[u8]) -> Option<Vec<u8>> {
    let (&head, digits) = integer.split_first()?;
    let mut digits = digits.to_vec();
    let mut carry = true;
    for d in digits.iter_mut().rev() {
        let next = digit(*d)? + 1;
        if next == DIGITS.len() {
            *d = b'0';
        } else {
            *d = DIGITS[next];
            carry = false;
            break;
        }
    }
    if !carry {
        return Some([vec![head], digits].concat());
    }
    match head {
        b'Z' => Some(b"a0".to_vec()),
        b'z' => None,
        _ => {
            let head = head + 1;
            if head > b'a' {
                digits.push(b'0');
            } else {
                digits.pop();
            }
            Some([vec![head], digits].concat())
        }
    }
}

fn decrement(integer: &[u8]) -> Option<Vec<u8>> {
    let (&head, digits) = integer.split_first()?;
    let mut digits = digits.to_vec();
    let mut borrow = true;
    for d in digits.iter_mut().rev() {
        match digit(*d)? {
            0 => *d = b'z',
            n => {
                *d = DIGITS[n - 1];
                borrow = false;
                break;
            }
        }
    }
    if !borrow {
        return Some([vec![head], digits].concat());
    }
    match head {
        b'a' => Some(b"Zz".to_vec()),
        b'A' => None,
        _ => {
            let head = head - 1;
            if head < b'Z' {
                digits.push(b'z');
            } else {
                digits.pop();
            }
            Some([vec![head], digits].concat())
        }
    }
}

/// A key strictly between `before` and `after` (`None`: no bound on that side). `None` when a
/// bound is not a key of this scheme or they are not in order (the store then renumbers).
pub(crate) fn between(before: Option<&str>, after: Option<&str>) -> Option<String> {
    let a = before.map(str::as_bytes);
    let b = after.map(str::as_bytes);
    let key = match (a, b) {
        (None, None) => b"a0".to_vec(),
        (None, Some(b)) => {
            let (integer, fraction) = split(b)?;
            if integer == SMALLEST_INTEGER {
                [integer.to_vec(), midpoint(b"", Some(fraction))?].concat()
            } else if integer.len() < b.len() {
                integer.to_vec()
            } else {
                decrement(integer)?
            }
        }
        (Some(a), None) => {
            let (integer, fraction) = split(a)?;
            match increment(integer) {
                Some(next) => next,
                None => [integer.to_vec(), midpoint(fraction, None)?].concat(),
            }
        }
        (Some(a), Some(b)) => {
            if a >= b {
                return None;
            }
            let (ia, fa) = split(a)?;
            let (ib, fb) = split(b)?;
            if ia == ib {
                [ia.to_vec(), midpoint(fa, Some(fb))?].concat()
            } else {
                match increment(ia) {
                    Some(next) if next.as_slice() < b => next,
                    _ => [ia.to_vec(), midpoint(fa, None)?].concat(),
                }
            }
        }
    };
    String::from_utf8(key).ok()
}

/// `count` short keys in increasing order, for renumbering a sibling set.
pub(crate) fn sequence(count: usize) -> Vec<String> {
    let mut keys = Vec::with_capacity(count);
    let mut key = b"a0".to_vec();
    for _ in 0..count {
        keys.push(String::from_utf8_lossy(&key).into_owned());
        key = increment(&key).unwrap_or_else(|| [key.clone(), b"V".to_vec()].concat());
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(before: Option<&str>, after: Option<&str>) -> String {
        let key = between(before, after).unwrap_or_else(|| panic!("{before:?} {after:?}"));
        assert!(split(key.as_bytes()).is_some(), "{key}");
        if let Some(before) = before {
            assert!(before < key.as_str(), "{before} < {key}");
        }
        if let Some(after) = after {
            assert!(key.as_str() < after, "{key} < {after}");
        }
        key
    }

    #[test]
    fn keys_sort_between_their_bounds() {
        assert_eq!(check(None, None), "a0");
        assert_eq!(check(Some("a0"), None), "a1");
        assert_eq!(check(None, Some("a0")), "Zz");
        assert_eq!(check(Some("a0"), Some("a1")), "a0V");
        assert_eq!(check(Some("az"), None), "b00");
        assert_eq!(check(None, Some("b00")), "az");
        assert_eq!(check(Some("d0000"), Some("d0001")), "d0000V");
        check(Some("a0V"), Some("a1"));
        check(Some("a0"), Some("a0V"));
        check(Some("Zz"), Some("a0"));
        assert_eq!(between(Some("a1"), Some("a0")), None);
        assert_eq!(between(Some("a0"), Some("a0")), None);
        assert_eq!(between(Some("x"), None), None);
        assert_eq!(between(Some("a00"), None), None);
    }

    #[test]
    fn appending_and_prepending_keep_keys_short() {
        let mut last = check(None, None);
        let mut first = last.clone();
        for _ in 0..10_000 {
            last = check(Some(&last), None);
            first = check(None, Some(&first));
        }
        assert!(last.len() <= 4 && first.len() <= 4, "{first} {last}");
    }

    #[test]
    fn inserting_into_one_gap_grows_slowly() {
        let (low, mut high) = ("a0".to_owned(), "a1".to_owned());
        for _ in 0..100 {
            high = check(Some(&low), Some(&high));
        }
        assert!(high.len() <= 2 + 100 / 5, "{high}");
        let mut low = "a0".to_owned();
        for _ in 0..100 {
            low = check(Some(&low), Some("a1"));
        }
        assert!(low.len() <= 2 + 100 / 5, "{low}");
    }

    #[test]
    fn sequences_increase() {
        let keys = sequence(5000);
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert!(
            keys.iter()
                .all(|k| split(k.as_bytes()).is_some() && k.len() <= 4)
        );
    }
}
