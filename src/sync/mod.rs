//! Live sync, in process: the [`ChangeHub`] that tells the open event streams of a user that the
//! user's tasks changed, and the settings of the change feed and its streams ([`SyncSettings`]).
//!
//! The hub carries no changes, only "user X is now at revision R": a stream reads the changes
//! themselves from the store, the one source of truth. The store publishes into it after each
//! commit; on PostgreSQL the commits of other processes reach it too (`store`'s change feed
//! listener). Nothing here knows about HTTP or SQL.

mod hub;
mod settings;

pub(crate) use hub::{ChangeHub, Subscription};
pub use settings::SyncSettings;
