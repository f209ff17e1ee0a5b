//! The real server, in process, configured through the same variables a deployment sets.

use std::collections::HashMap;
use std::sync::Once;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use todo_api::auth::{Secret, SharedSecret};
use todo_api::config::Settings;
use todo_api::startup::Application;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The secret the servers trust.
pub const SECRET: &str = "faults-secret-that-is-long-enough-for-hs256";

pub fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub fn token(user: &str) -> String {
    SharedSecret::new(&Secret::parse(SECRET.into()).unwrap())
        .issue(user, Duration::from_secs(900))
        .unwrap()
}

/// A running server.
pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Starts a server with these variables (plus PORT=0 and the shared secret).
    pub async fn start(vars: &[(&str, &str)]) -> Self {
        Self::try_start(vars).await.expect("the server starts")
    }

    /// Like [`Server::start`], returning the start-up error instead of panicking.
    pub async fn try_start(vars: &[(&str, &str)]) -> anyhow::Result<Self> {
        install_crypto();
        let mut env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        env.insert("PORT".into(), "0".into());
        env.insert("BETTER_AUTH_SECRET".into(), SECRET.into());
        let settings = Settings::from_lookup(|name| env.get(name).cloned()).unwrap();
        let app = Application::build(&settings).await?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Ok(Self {
            base,
            // A guard against a hang, not a speed assertion.
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            shutdown: Some(tx),
            handle: Some(handle),
        })
    }

    /// Sends a request (as `user` when given) and returns the status and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        user: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(user) = user {
            request = request.bearer_auth(token(user));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, json, headers)
    }

    /// Asserts a 503 problem with `Retry-After`.
    pub async fn assert_unavailable(&self, method: Method, path: &str, user: Option<&str>) {
        let (status, body, headers) = self.call(method, path, user, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert!(headers.contains_key("retry-after"));
        assert_eq!(body["status"], 503);
    }

    /// Waits (60 s at most) until `/ready` says 200.
    pub async fn wait_ready(&self) {
        for _ in 0..300 {
            if let Ok(r) = self.client.get(format!("{}/ready", self.base)).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{} never became ready", self.base);
    }

    /// Stops the server gracefully.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
    }

    /// A create, read, update, toggle, list and delete round, as `user`.
    pub async fn exercise(&self, user: &str) {
        let tasks = format!("/api/{user}/tasks");
        let (status, task, _) = self
            .call(
                Method::POST,
                &tasks,
                Some(user),
                Some(serde_json::json!({"title": "round"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        let id = task["id"].as_i64().unwrap();
        let one = format!("{tasks}/{id}");
        let (status, _, _) = self.call(Method::GET, &one, Some(user), None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, updated, _) = self
            .call(
                Method::PUT,
                &one,
                Some(user),
                Some(serde_json::json!({"title": "renamed"})),
            )
            .await;
        assert_eq!(
            (status, updated["title"].as_str()),
            (StatusCode::OK, Some("renamed"))
        );
        let (status, toggled, _) = self
            .call(Method::PATCH, &format!("{one}/complete"), Some(user), None)
            .await;
        assert_eq!(
            (status, toggled["completed"].as_bool()),
            (StatusCode::OK, Some(true))
        );
        let (status, list, _) = self
            .call(
                Method::GET,
                &format!("{tasks}?status=completed"),
                Some(user),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(list.as_array().unwrap().iter().any(|t| t["id"] == id));
        let (status, _, _) = self.call(Method::DELETE, &one, Some(user), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _, _) = self.call(Method::GET, &one, Some(user), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
