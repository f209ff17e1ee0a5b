//! `DB_STATEMENT_TIMEOUT` bounds every statement, directly connected and behind a
//! transaction-mode pooler alike: a query stuck behind a lock is cancelled and answered 503.

use std::time::Duration;

use crate::cluster::{Access, Bouncer, Cluster};
use crate::round::exercise;
use crate::support::{ServerConfig, TestApp, assert_unavailable};

/// Holds an exclusive lock on `tasks` for a few seconds (from psql, in another thread), and
/// returns once PostgreSQL shows it held.
async fn lock_tasks(cluster: &Cluster) -> std::thread::JoinHandle<String> {
    let mut command = cluster.psql_command(
        "app",
        "BEGIN; LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;",
    );
    let holder = std::thread::spawn(move || {
        let out = command.output().unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    });
    for _ in 0..100 {
        let held = cluster.psql_in(
            "app",
            "SELECT count(*) FROM pg_locks WHERE relation = 'tasks'::regclass \
             AND mode = 'AccessExclusiveLock' AND granted",
        );
        if held == "1" {
            return holder;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the lock was never taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_over_the_timeout_is_cancelled_and_answered_503() {
    let cluster = Cluster::start(Access::Plain);
    cluster.create_database("app");
    let bouncer = Bouncer::start(&cluster, 2);
    let direct = format!("postgres://postgres@127.0.0.1:{}/app", cluster.port);
    let pooled = format!("postgres://postgres@127.0.0.1:{}/app", bouncer.port);

    for (url, pooler) in [(direct, "false"), (pooled, "true")] {
        let config = ServerConfig::default().vars(&[
            ("DB_TRANSACTION_POOLER", pooler),
            ("DB_STATEMENT_TIMEOUT", "300ms"),
        ]);
        let server = TestApp::spawn_on(&url, config).await;
        server.wait_ready().await;
        exercise(&server, "alice").await;

        let holder = lock_tasks(&cluster).await;
        assert_unavailable(server.try_list_tasks("alice", "").await).await;
        let stderr = holder.join().unwrap();
        assert!(stderr.is_empty(), "{stderr}");

        // Once the lock is gone, the same request works.
        exercise(&server, "alice").await;
        server.stop().await;
    }
}
