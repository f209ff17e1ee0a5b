//! Tags: trimmed, case-insensitively unique labels.

use serde::{Deserialize, Serialize};

/// A tag as the user wrote it (trimmed); tags compare case-insensitively through [`Tag::key`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag(String);

impl Tag {
    /// The longest tag accepted, in characters.
    pub const MAX_CHARS: usize = 32;
    /// The most tags a task may carry.
    pub const MAX_PER_TASK: usize = 20;

    /// Trims, then checks the length (1 to 32 characters).
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("a tag must not be empty or only white space");
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err("a tag must be at most 32 characters");
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A stored tag, trusted as it is.
    pub fn from_stored(tag: String) -> Self {
        Self(tag)
    }

    /// The tag as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key tags are matched and de-duplicated by.
    pub fn key(&self) -> String {
        key(&self.0)
    }

    /// A task's tags: each valid, case-insensitively unique, at most [`Self::MAX_PER_TASK`].
    pub fn parse_list<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Vec<Self>, String> {
        let mut tags: Vec<Self> = Vec::new();
        for (i, raw) in raw.into_iter().enumerate() {
            let tag = Self::parse(raw).map_err(|why| format!("tag {}: {why}", i + 1))?;
            if tags.iter().any(|t| t.key() == tag.key()) {
                return Err(format!(
                    "tag {}: `{}` is repeated (tags ignore case)",
                    i + 1,
                    tag.0
                ));
            }
            tags.push(tag);
        }
        if tags.len() > Self::MAX_PER_TASK {
            return Err(format!("at most {} tags per task", Self::MAX_PER_TASK));
        }
        Ok(tags)
    }
}

/// The case-insensitive key of a tag or of a tag filter.
pub fn key(raw: &str) -> String {
    raw.trim().to_lowercase()
}
