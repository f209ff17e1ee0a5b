use serde::{Deserialize, Serialize};

// The one spelling of the values: the API's `Priority` schema derives from this enum, so its doc
// comment is the schema's description, word for word (hence this note is not a doc comment).
// Stored as its `rank`.
/// How important a task is.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    poem_openapi::Enum,
)]
#[serde(rename_all = "lowercase")]
#[oai(rename = "Priority", rename_all = "lowercase")]
pub(crate) enum Priority {
    /// Can wait.
    Low,
    /// The default.
    #[default]
    Medium,
    /// Do it first.
    High,
}

impl Priority {
    /// The stored rank: low 0, medium 1, high 2, so that it sorts by importance.
    pub(crate) fn rank(self) -> i16 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
        }
    }

    /// The priority of a stored rank (unknown ranks read as medium).
    pub(crate) fn from_rank(rank: i16) -> Self {
        match rank {
            0 => Self::Low,
            2 => Self::High,
            _ => Self::Medium,
        }
    }
}
