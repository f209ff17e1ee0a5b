//! Fault and deployment tests, each with PostgreSQL clusters (and PgBouncer) of its own that it
//! starts, stops and removes: TLS with a CA made on the spot, Neon-style URLs, PgBouncer in
//! transaction mode, three replicas migrating one empty database, and the database going away
//! and coming back. Run: `cargo test --test faults` (needs the PostgreSQL server programs,
//! openssl and pgbouncer installed; as root the servers run as the `postgres` OS user).

#![allow(clippy::unwrap_used, missing_docs)]

mod cluster;
#[path = "../support/load.rs"]
mod load;
mod outage;
mod pgbouncer;
mod replicas;
mod server;
mod timeouts;
mod tls;
