//! todo-api: a multi-user todo REST API for Next.js frontends that sign in with Better Auth.
//!
//! Layout: [`config`] reads settings, [`startup`] builds the [`startup::Application`],
//! [`http`] declares the OpenAPI operations, [`auth`] verifies tokens, [`domain`] holds the
//! validated types, [`store`] persists tasks in PostgreSQL or SQLite, and [`sync`] tells open
//! event streams of changes.

pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod startup;
pub mod store;
pub mod sync;
pub mod telemetry;
