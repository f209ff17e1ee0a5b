//! todo-api: a multi-user todo REST API for Next.js frontends that sign in with Better Auth.
//!
//! Layout: [`config`] reads settings, [`startup`] builds the [`startup::Application`],
//! [`http`] declares the OpenAPI operations and mounts [`mcp`] (the same tasks as tools for AI
//! assistants), [`auth`] verifies tokens, [`domain`] holds the validated types, and [`store`]
//! persists tasks in PostgreSQL or SQLite.

pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod mcp;
pub mod startup;
pub mod store;
pub mod telemetry;
