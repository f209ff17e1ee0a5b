//! `spawn_app`: a server on port 0 with its own database, and a client for it.

use std::sync::{Once, OnceLock};
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection as _;
use todo_api::auth::{AuthSettings, Secret, SharedSecret};
use todo_api::config::Settings;
use todo_api::startup::Application;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The secret every test server trusts.
pub const SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";

/// Which store a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each listed `async fn(TestApp)`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

pub fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
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
pub enum TestDb {
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
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("todo.db").display());
                Some(Self::Sqlite { url, _dir: dir })
            }
            Backend::Postgres => {
                if !postgres_available().await {
                    return None;
                }
                let name = format!("todo_test_{}", uuid::Uuid::new_v4().simple());
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let mut url = reqwest::Url::parse(&admin).unwrap();
                url.set_path(&format!("/{name}"));
                Some(Self::Postgres {
                    url: url.to_string(),
                    name,
                })
            }
        }
    }

    pub fn url(&self) -> &str {
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
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
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

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    issuer: SharedSecret,
    settings: Settings,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    db: Option<TestDb>,
}

/// Settings for a test server on `url`, port 0, trusting [`SECRET`].
pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        database_url: database_url.to_owned(),
        host: "127.0.0.1".into(),
        database: Default::default(),
        telemetry: Default::default(),
        http: Default::default(),
        port: 0,
        auth: AuthSettings {
            shared_secret: Some(Secret::parse(SECRET.into()).unwrap()),
            jwks: None,
        },
    }
}

/// Starts a server with a fresh database; `None` when PostgreSQL is unreachable outside CI.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let auth = test_settings("").auth;
    spawn_app_with_auth(backend, auth).await
}

/// Like [`spawn_app`], with these auth settings instead of the shared [`SECRET`] alone.
pub async fn spawn_app_with_auth(backend: Backend, auth: AuthSettings) -> Option<TestApp> {
    spawn_app_with(backend, |settings| settings.auth = auth).await
}

/// Starts a server with a fresh database and settings changed by `configure`.
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let db = TestDb::create(backend).await?;
    let mut settings = test_settings(db.url());
    configure(&mut settings);
    Some(start_with(backend, db, settings).await)
}

async fn start_with(backend: Backend, db: TestDb, settings: Settings) -> TestApp {
    install_crypto();
    let app = Application::build(&settings)
        .await
        .expect("the server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        backend,
        issuer: SharedSecret::new(&Secret::parse(SECRET.into()).unwrap()),
        settings,
        shutdown: Some(tx),
        server: Some(server),
        db: Some(db),
    }
}

impl TestApp {
    /// The token issuer this server trusts.
    pub fn issuer(&self) -> SharedSecret {
        SharedSecret::new(&Secret::parse(SECRET.into()).unwrap())
    }

    /// A valid token for `user`.
    pub fn token(&self, user: &str) -> String {
        self.issuer.issue(user, Duration::from_secs(600)).unwrap()
    }

    /// The URL of this server's database.
    pub fn database_url(&self) -> &str {
        self.db.as_ref().map(TestDb::url).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request as `user` (bearer token attached).
    pub fn request(&self, method: Method, user: &str, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(self.token(user))
    }

    /// GETs `path` as `user` and returns the JSON body (asserting 200).
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, user: &str, path: &str) -> T {
        let response = self.request(Method::GET, user, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    /// Creates a task for `user` and returns the response.
    pub async fn post_task(&self, user: &str, body: Value) -> Response {
        self.request(Method::POST, user, &format!("/api/{user}/tasks"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a task for `user` and returns its JSON (asserting 201).
    pub async fn create_task(&self, user: &str, title: &str) -> Value {
        let response = self.post_task(user, json!({ "title": title })).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// Lists `user`'s tasks (asserting 200).
    pub async fn list_tasks(&self, user: &str, query: &str) -> Vec<Value> {
        let response = self
            .request(Method::GET, user, &format!("/api/{user}/tasks{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Stops the server gracefully and starts a new one on the same database.
    pub async fn restart(mut self) -> TestApp {
        let db = self.stop().await;
        start_with(self.backend, db, self.settings.clone()).await
    }

    async fn stop(&mut self) -> TestDb {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        self.db.take().unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Asserts a problem+json response with `status`, and returns its body.
pub async fn assert_problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:todo-api:problem:"),
        "{body}"
    );
    assert!(!body["title"].as_str().unwrap().is_empty(), "{body}");
    assert!(!body["detail"].as_str().unwrap().is_empty(), "{body}");
    body
}

/// The field names a 422 problem lists.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("a validation problem lists its errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

/// A timestamp field as a point in time.
pub fn ts(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().expect("a timestamp string"))
        .expect("an RFC 3339 timestamp")
        .to_utc()
}
