//! Query parameter values that only the API has. The others are the domain's own enums,
//! which derive their spec schemas: `TaskStatus` is [`crate::domain::StatusFilter`],
//! `TaskSort` is [`crate::domain::listing::SortKey`], `SortOrder` is
//! [`crate::domain::listing::Order`], and `Priority` is [`crate::domain::Priority`].

use poem_openapi::Enum;

/// Which tasks `DELETE /api/{user_id}/tasks` deletes: only completed ones, named explicitly so
/// that a bare `DELETE` of the collection deletes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "ClearStatus", rename_all = "lowercase")]
pub(crate) enum ClearStatus {
    /// Completed tasks.
    Completed,
}
