//! Contract tests: the real server, started on port 0, driven over HTTP with reqwest, against
//! SQLite and PostgreSQL (a fresh database per test). The harness is `tests/support` (shared
//! with the fault tests); `TEST_LOG=1` shows the servers' logs.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../support/mod.rs"]
mod support;

mod auth;
mod better_auth;
mod cli;
mod docs;
mod events;
mod feed;
mod fields;
mod hostile;
mod isolation;
mod lifecycle;
mod listing;
mod mcp;
mod operations;
mod organize;
mod persistence;
mod properties;
mod recurrence;
mod replicas;
mod safety;
mod spec;
mod tasks;
mod validation;
