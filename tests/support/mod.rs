//! The test harness every test crate shares (`#[path = "../support/mod.rs"] mod support;`):
//! zero2prod's `spawn_app` shape.
//!
//! - [`spawn_app`] starts the real server in process on port 0 with a fresh database of its own
//!   (an SQLite file in a temporary directory, or a new PostgreSQL database that is dropped
//!   afterwards) and returns a [`TestApp`]; [`spawn_app_with`] does the same with a
//!   [`ServerConfig`], and [`TestApp::spawn_on`] starts a server on a database the test owns
//!   (the fault tests' clusters).
//! - [`TestApp`] has one method per API operation (`list_tasks`, `create_task`, `get_task`,
//!   `update_task`, `delete_task`, `complete_task`, `clear_completed`, `list_tags`,
//!   `list_reminders`, `list_changes`, `stream_events`, `health`, `ready`) that asserts the
//!   status the operation answers on success and returns typed data ([`Task`] and friends), and
//!   a `try_` variant of each that returns the raw [`reqwest::Response`], for tests about error
//!   statuses (see [`assert_problem`]).
//!   [`TestApp::request`] builds any other request with a user's token attached. The event
//!   stream is read with [`EventStream`] (`events`), one typed [`Event`] at a time.
//! - [`on_both_backends!`] turns each `async fn(TestApp)` into one `#[tokio::test]` per store.
//!   PostgreSQL comes from `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//!   when it is unreachable the PostgreSQL cases fail if `CI` is set, and otherwise say loudly
//!   that they did not run.
//! - [`token`] issues tokens the test servers trust ([`SECRET`]); [`install_crypto`] is the one
//!   rustls set-up.
//!
//! **Server logs:** set `TEST_LOG=1` to see the in-process server's logs (filtered by `RUST_LOG`,
//! default `info`), e.g. `TEST_LOG=1 cargo test --test api -- some_test --nocapture`. They go
//! through the test harness's capture, so without `--nocapture` they are shown for failing tests
//! only. Without `TEST_LOG` the logs go nowhere.
//!
//! The server's settings are built in one place, [`server`], from the variables a deployment
//! sets: nothing else here (nor in the tests) names the server's settings types.

// Each test crate uses a part of the harness.
#![allow(dead_code, unused_imports, unused_macros)]

mod app;
mod db;
mod events;
pub(crate) mod load;
mod model;
mod node;
mod operations;
mod problem;
mod server;
mod token;

use std::sync::Once;

pub(crate) use app::{TestApp, spawn_app, spawn_app_with};
pub(crate) use db::{Backend, TestDb, old_task, postgres_admin_url};
pub(crate) use events::{Event, EventStream, Next};
pub(crate) use model::{
    Change, ChangePage, Deleted, Frequency, Health, List, Page, Priority, Readiness, Recurrence,
    Replica, TagCount, Task, Timestamp, at, ids, titles,
};
pub(crate) use node::npm_ci_once;
pub(crate) use operations::expect_json;
pub(crate) use problem::{assert_problem, assert_unavailable, error_fields};
pub(crate) use server::ServerConfig;
pub(crate) use token::{SECRET, now, sign, token};

/// Percent-encodes one path segment.
pub(crate) fn encode(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Generates one `#[tokio::test]` per backend for each listed `async fn(TestApp)`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(app) = $crate::support::spawn_app($crate::support::Backend::Sqlite).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(app) = $crate::support::spawn_app($crate::support::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

/// Installs rustls' crypto provider (ring) for the process: reqwest and the PostgreSQL driver
/// are built without one. Every client and server in the tests needs it first.
pub(crate) fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// With `TEST_LOG` set (and not `0`), sends the logs of the servers the tests start to the test
/// harness's output; otherwise they go nowhere. Safe to call from every test.
pub(crate) fn init_test_log() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let wanted = std::env::var("TEST_LOG").is_ok_and(|v| !v.is_empty() && v != "0");
        if wanted {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
    });
}
