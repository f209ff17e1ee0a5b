//! Contract tests: the real server, started on port 0, driven over HTTP with reqwest, against
//! SQLite and PostgreSQL (a fresh database per test).

#![allow(clippy::unwrap_used, missing_docs)]

mod helpers;

mod auth;
mod cli;
mod docs;
mod isolation;
mod lifecycle;
mod operations;
mod persistence;
mod spec;
mod tasks;
mod validation;
