use std::fmt;

/// The id of a user: the `sub` claim of a verified token, never anything a client typed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct UserId(String);

impl UserId {
    /// The longest user id accepted (Better Auth ids are 32 characters).
    pub(crate) const MAX_CHARS: usize = 255;

    /// Accepts an id that is not empty once white space is trimmed, of at most [`Self::MAX_CHARS`] characters without control characters.
    pub(crate) fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.trim_matches(super::is_white_space).is_empty() {
            return Err("must not be empty or only white space");
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 255 characters");
        }
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as a string slice.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl UserId {
    /// An id read back from the store (it was validated when written).
    pub(crate) fn stored(raw: String) -> Self {
        Self(raw)
    }
}
