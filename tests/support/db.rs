//! A database of one test's own: an SQLite file in a temporary directory, or a fresh
//! PostgreSQL database on the server `TEST_DATABASE_URL` names, dropped afterwards.

use std::sync::OnceLock;
use std::time::Duration;

use sqlx::Connection as _;

/// Which store a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The store a database URL names.
    pub(crate) fn of_url(url: &str) -> Self {
        if url.starts_with("sqlite:") {
            Self::Sqlite
        } else {
            Self::Postgres
        }
    }
}

/// The PostgreSQL server tests create their databases on.
pub(crate) fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Whether PostgreSQL is reachable. Unreachable with `CI` set is a failure; otherwise the
/// PostgreSQL cases say loudly that they did not run.
async fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    if let Some(available) = AVAILABLE.get() {
        return *available;
    }
    let url = postgres_admin_url();
    let reachable = tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(&url))
        .await
        .map(|r| r.is_ok())
        .unwrap_or(false);
    if !reachable {
        if std::env::var_os("CI").is_some() {
            panic!(
                "PostgreSQL at {url} (TEST_DATABASE_URL) is unreachable, and CI is set: the PostgreSQL tests are required"
            );
        }
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !! PostgreSQL at {url} is unreachable: the PostgreSQL tests DID NOT RUN.\n\
             !! Start PostgreSQL or set TEST_DATABASE_URL (with CI set they fail instead).\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
    }
    *AVAILABLE.get_or_init(|| reachable)
}

/// A database of one test's own, removed when dropped.
pub(super) enum TestDb {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres {
        url: String,
        name: String,
    },
}

impl TestDb {
    /// Creates an empty database; `None` when PostgreSQL is unreachable outside CI.
    pub(super) async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("todo.db").display());
                Some(Self::Sqlite { url, _dir: dir })
            }
            Backend::Postgres => {
                if !postgres_available().await {
                    return None;
                }
                let name = format!("todo_test_{}", uuid::Uuid::new_v4().simple());
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("PostgreSQL answers");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut conn)
                    .await
                    .expect("the test database is created");
                let mut url = reqwest::Url::parse(&admin).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                Some(Self::Postgres {
                    url: url.to_string(),
                    name,
                })
            }
        }
    }

    /// Its URL.
    pub(super) fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { name, .. } = self {
            let name = name.clone();
            // Drop runs inside the test's runtime: use a thread with a runtime of its own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                            .execute(&mut conn)
                            .await;
                    }
                });
            })
            .join();
        }
    }
}
