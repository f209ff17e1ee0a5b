//! todo-api: a multi-user todo REST API for Next.js frontends that sign in with Better Auth.
//!
//! The map is `ARCHITECTURE.md`. What is public here is what the binary and the tests use:
//! [`cli`] runs a command, [`config`] reads the settings, [`startup`] builds the
//! [`startup::Application`], and [`http`] produces the spec and mounts the MCP server (`mcp`:
//! the same tasks as tools for AI assistants); [`rules`] are the value rules the spec publishes. The validated types (`domain`), token verification (`auth`), persistence
//! (`store`), live sync (`sync`: which event streams to wake) and logs and metrics (`telemetry`)
//! are internal.

mod auth;
pub mod cli;
pub mod config;
mod domain;
pub mod http;
pub mod startup;
mod store;
mod sync;
mod telemetry;

/// The types whose rules the spec publishes as patterns (the tests compare the two).
pub mod rules {
    pub use crate::domain::{Tag, TaskDescription, TaskTitle};
}
