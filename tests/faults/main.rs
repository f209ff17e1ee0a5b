//! Fault and deployment tests, each with PostgreSQL clusters (and PgBouncer) of its own that it
//! starts, stops and removes: TLS with a CA made on the spot, Neon-style URLs, PgBouncer in
//! transaction mode, three replicas migrating one empty database, and the database going away
//! and coming back. Run: `cargo test --test faults` (needs the PostgreSQL server programs,
//! openssl and pgbouncer installed; as root the servers run as the `postgres` OS user). The
//! servers under test come from the shared harness, `tests/support` (`TEST_LOG=1` shows their
//! logs).

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../support/mod.rs"]
mod support;

mod cluster;
mod outage;
mod pgbouncer;
mod replicas;
mod round;
mod timeouts;
mod tls;
