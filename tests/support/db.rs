//! A database of one test's own: an SQLite file in a temporary directory, or a fresh
//! PostgreSQL database on the server `TEST_DATABASE_URL` names, dropped afterwards.

use std::str::FromStr as _;
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

/// The `INSERT` of a task of `user` titled `title`, created (and last changed) at `created`
/// (RFC 3339), as the first schema stores it (the columns every version has), with `more`
/// columns: `(name, SQL value)`.
pub(crate) fn old_task(user: &str, title: &str, created: &str, more: &[(&str, &str)]) -> String {
    let names: String = more.iter().map(|(name, _)| format!(", {name}")).collect();
    let values: String = more.iter().map(|(_, value)| format!(", {value}")).collect();
    format!(
        "INSERT INTO tasks (user_id, title, created_at, updated_at, title_key, search_text{names}) \
         VALUES ('{user}', '{title}', '{created}', '{created}', '{title}', '{title}'{values})"
    )
}

/// A database of one test's own, removed when dropped.
pub(crate) enum TestDb {
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
    pub(crate) async fn create(backend: Backend) -> Option<Self> {
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

    /// A database as an older version of the server left it: the migrations before the first
    /// whose file name contains `migration`, then `statements` (what that version stored, e.g.
    /// [`old_task`]s); `None` when PostgreSQL is unreachable outside CI.
    pub(crate) async fn left_before(
        backend: Backend,
        migration: &str,
        statements: impl IntoIterator<Item = String>,
    ) -> Option<Self> {
        let db = Self::create(backend).await?;
        db.migrate_before(migration).await;
        for statement in statements {
            db.execute(&statement).await;
        }
        Some(db)
    }

    /// Applies the migrations of its backend that come before the first whose file name
    /// contains `name`.
    async fn migrate_before(&self, name: &str) {
        let backend = match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres { .. } => "postgres",
        };
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut files: Vec<_> = std::fs::read_dir(&source)
            .expect("the migrations directory")
            .map(|entry| entry.expect("a migration").path())
            .collect();
        files.sort();
        let older = tempfile::tempdir().expect("a temporary directory");
        for file in files
            .iter()
            .take_while(|f| !f.to_string_lossy().contains(name))
        {
            std::fs::copy(
                file,
                older.path().join(file.file_name().expect("a file name")),
            )
            .expect("the migration is copied");
        }
        let migrator = sqlx::migrate::Migrator::new(older.path())
            .await
            .expect("the older migrations");
        match self {
            Self::Sqlite { url, .. } => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .expect("an SQLite URL")
                    .create_if_missing(true);
                let pool = sqlx::SqlitePool::connect_with(options)
                    .await
                    .expect("SQLite opens");
                migrator
                    .run(&pool)
                    .await
                    .expect("the older migrations apply");
                pool.close().await;
            }
            Self::Postgres { url, .. } => {
                let pool = sqlx::PgPool::connect(url)
                    .await
                    .expect("PostgreSQL answers");
                migrator
                    .run(&pool)
                    .await
                    .expect("the older migrations apply");
                pool.close().await;
            }
        }
    }

    /// Runs one SQL statement on it.
    pub(crate) async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Self::Sqlite { url, .. } => {
                let mut conn = sqlx::SqliteConnection::connect(url)
                    .await
                    .expect("SQLite opens");
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .expect("the statement runs");
            }
            Self::Postgres { url, .. } => {
                let mut conn = sqlx::PgConnection::connect(url)
                    .await
                    .expect("PostgreSQL answers");
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .expect("the statement runs");
            }
        }
    }

    /// Its URL.
    pub(crate) fn url(&self) -> &str {
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
