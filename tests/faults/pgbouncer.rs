//! PgBouncer in transaction mode (what Neon's pooled endpoint runs) in front of PostgreSQL:
//! migrations, every operation, the change feed and its streams, and a concurrent load all work
//! through it.

use std::sync::Arc;

use crate::cluster::{Access, Bouncer, Cluster};
use crate::round::exercise;
use crate::support::{Change, Event, ServerConfig, TestApp, load, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_works_through_pgbouncer_in_transaction_mode() {
    let cluster = Cluster::start(Access::Plain);
    cluster.create_database("app");
    let bouncer = Bouncer::start(&cluster, 4);
    let url = format!("postgres://postgres@127.0.0.1:{}/app", bouncer.port);

    // Two replicas: the first migrates through the pooler, the second finds it done.
    let pooled =
        ServerConfig::default().vars(&[("DB_TRANSACTION_POOLER", "true"), ("DB_POOL_MAX", "10")]);
    let first = TestApp::spawn_on(&url, pooled.clone()).await;
    let second = TestApp::spawn_on(&url, pooled).await;
    first.wait_ready().await;
    second.wait_ready().await;
    exercise(&first, "alice").await;
    exercise(&second, "bob").await;

    // The change feed and its streams: LISTEN cannot go through the pooler, so each replica
    // polls for the other's commits (DATABASE_LISTEN_URL is not set).
    let mut stream = first.stream_events("carol", "", None).await;
    stream.ready().await;
    let mine = first.create_titled("carol", "through the first").await;
    let theirs = second.create_titled("carol", "through the second").await;
    let mut arrived = Vec::new();
    while arrived.len() < 2 {
        match stream.next(std::time::Duration::from_secs(10)).await {
            Some(Event::Change {
                change: Change::Upsert { task },
                ..
            }) => arrived.push(task),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(arrived, [mine, theirs]);
    let page = second.list_changes("carol", "").await;
    assert_eq!(page.changes.len(), 2);
    drop(stream);

    // More clients than server connections, through both replicas at once.
    let token: Arc<dyn Fn(&str) -> String + Send + Sync> = Arc::new(token);
    let size = |namespace| load::Load {
        namespace,
        clients: 25,
        users: 10,
        ops_per_client: 40,
    };
    let (a, b) = tokio::join!(
        load::run(&first.address, token.clone(), size("first")),
        load::run(&second.address, token.clone(), size("second"))
    );
    assert_eq!(a.failed + b.failed, 0, "{:?} {:?}", a.failures, b.failures);
    assert!(a.acknowledged_writes + b.acknowledged_writes >= 2000);
    first.stop().await;
    second.stop().await;
}
