//! TLS for real: a cluster that refuses unencrypted connections, with a certificate signed by
//! a CA made on the spot; the server connects with `sslmode=require`, with `verify-full` and
//! the CA, and with a Neon-style URL (`channel_binding=require`).

use crate::cluster::{Access, Cluster, PASSWORD};
use crate::round::exercise;
use crate::support::{ServerConfig, TestApp, assert_unavailable};

fn url(cluster: &Cluster, host: &str, query: &str) -> String {
    format!(
        "postgresql://postgres:{PASSWORD}@{host}:{}/app?{query}",
        cluster.port
    )
}

/// Sessions of the server's pool that use TLS, as PostgreSQL sees them.
fn tls_sessions(cluster: &Cluster) -> i64 {
    cluster
        .psql(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'todo-api' AND s.ssl",
        )
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_connects_over_tls_with_require_and_verify_full() {
    let cluster = Cluster::start(Access::Tls);
    cluster.create_database("app");
    let ca = cluster.ca_path().display().to_string();
    let other_ca = cluster.other_ca_path().display().to_string();

    for (host, query) in [
        ("127.0.0.1", "sslmode=require".to_owned()),
        ("localhost", format!("sslmode=verify-full&sslrootcert={ca}")),
        ("127.0.0.1", format!("sslmode=verify-full&sslrootcert={ca}")),
        ("localhost", format!("sslmode=verify-ca&sslrootcert={ca}")),
    ] {
        let server = TestApp::spawn_on(&url(&cluster, host, &query), ServerConfig::default()).await;
        server.wait_ready().await;
        exercise(&server, "alice").await;
        assert!(
            tls_sessions(&cluster) >= 1,
            "{query}: the pool's sessions use TLS"
        );
        server.stop().await;
    }

    // The cluster refuses plain connections: a refused login is a configuration error, so
    // start-up stops and says why.
    let refused = TestApp::try_spawn_on(
        &url(&cluster, "127.0.0.1", "sslmode=disable"),
        ServerConfig::default(),
    )
    .await
    .err()
    .expect("a server the database refuses does not start");
    assert!(
        format!("{refused:#}").contains("no encryption"),
        "{refused:#}"
    );

    // A certificate from another CA is refused: the server starts, says not ready and
    // answers 503 (a TLS failure may be a network problem, so it keeps retrying).
    let other = url(
        &cluster,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={other_ca}"),
    );
    let config = ServerConfig::default().var("DB_ACQUIRE_TIMEOUT", "1s");
    let server = TestApp::spawn_on(&other, config).await;
    assert_unavailable(server.try_ready().await).await;
    assert_unavailable(server.try_list_tasks("alice", "").await).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_neon_style_url_with_channel_binding_connects_with_the_certificate_verified() {
    let cluster = Cluster::start(Access::Tls);
    cluster.create_database("app");
    let ca = cluster.ca_path().display().to_string();

    // Neon's dashboard URL, plus the CA this test's server certificate comes from (Neon's
    // certificates are signed by a public CA, so there nothing needs adding).
    let neon = url(
        &cluster,
        "localhost",
        &format!("sslmode=require&channel_binding=require&sslrootcert={ca}"),
    );
    let server = TestApp::spawn_on(&neon, ServerConfig::default()).await;
    server.wait_ready().await;
    exercise(&server, "alice").await;
    assert!(tls_sessions(&cluster) >= 1);
    server.stop().await;

    // Without a way to verify the certificate, `channel_binding=require` is not quietly
    // dropped: the connection is refused (and the log says what to add).
    let unverifiable = url(
        &cluster,
        "localhost",
        "sslmode=require&channel_binding=require",
    );
    let config = ServerConfig::default().var("DB_ACQUIRE_TIMEOUT", "1s");
    let server = TestApp::spawn_on(&unverifiable, config).await;
    assert_unavailable(server.try_ready().await).await;
    // The process itself is up (asserts the 200).
    server.health().await;
    server.stop().await;
}
