//! Contract tests: the real server, started on port 0, driven over HTTP with reqwest, against
//! SQLite and PostgreSQL (a fresh database per test).

#![allow(clippy::unwrap_used, missing_docs)]

mod helpers;

mod auth;
mod better_auth;
mod cli;
mod docs;
mod fields;
mod isolation;
mod lifecycle;
mod listing;
mod mcp;
mod operations;
mod persistence;
mod recurrence;
mod safety;
mod spec;
mod tasks;
mod validation;
