//! Several servers on one PostgreSQL database (replicas): a change committed through one
//! reaches the streams held by another, through `LISTEN`/`NOTIFY` or, without a usable
//! `LISTEN` connection, by polling; and writers on both never make a reader skip a change.
//! Each server shares nothing with the other but the database (its own pool, hub and listener).

use std::time::Duration;

use crate::events::{WAIT, expect_changes};
use crate::feed::{listing, write_for_a_while};
use crate::support::{Backend, Change, Replica, ServerConfig, TestApp, spawn_app};

/// A server on PostgreSQL and a second one on its database, with `config`.
async fn two_servers(config: ServerConfig) -> Option<(TestApp, TestApp)> {
    let one = spawn_app(Backend::Postgres).await?;
    let two = one.replica(config).await;
    Some((one, two))
}

#[tokio::test]
async fn a_change_through_one_server_reaches_streams_on_another() {
    let Some((one, two)) = two_servers(ServerConfig::default()).await else {
        return;
    };
    let mut stream = two.stream_events("alice", "", None).await;
    stream.ready().await;
    for n in 0..3 {
        let task = one
            .create_titled("alice", &format!("through one, {n}"))
            .await;
        expect_changes(&mut stream, vec![Change::Upsert { task }]).await;
    }
    let task = two.create_titled("alice", "through two").await;
    expect_changes(&mut stream, vec![Change::Upsert { task: task.clone() }]).await;
    one.delete_task("alice", task.id).await;
    expect_changes(&mut stream, vec![Change::Delete { id: task.id }]).await;
}

#[tokio::test]
async fn without_listen_the_other_server_polls() {
    // Nothing listens on port 9 (discard): LISTEN fails, and the server polls instead.
    let unusable = ServerConfig::default().var(
        "DATABASE_LISTEN_URL",
        "postgres://postgres@127.0.0.1:9/postgres",
    );
    let Some((one, two)) = two_servers(unusable).await else {
        return;
    };
    let mut stream = two.stream_events("alice", "", None).await;
    stream.ready().await;
    let task = one.create_titled("alice", "through one").await;
    expect_changes(&mut stream, vec![Change::Upsert { task }]).await;

    let off = one
        .replica(ServerConfig::default().var("DATABASE_LISTEN_URL", "off"))
        .await;
    let mut polled = off.stream_events("alice", "", None).await;
    polled.ready().await;
    let task = one.create_titled("alice", "polled").await;
    expect_changes(&mut polled, vec![Change::Upsert { task: task.clone() }]).await;
    expect_changes(&mut stream, vec![Change::Upsert { task }]).await;
}

#[tokio::test]
async fn writers_on_two_servers_never_make_a_reader_skip_a_change() {
    let Some((one, two)) = two_servers(ServerConfig::default()).await else {
        return;
    };
    let mut stream = one.stream_events("alice", "", None).await;
    let start = stream.ready().await;
    let writers = async {
        futures_util::future::join_all((0..6).map(|writer| {
            let app = if writer % 2 == 0 { &one } else { &two };
            write_for_a_while(app, "alice", writer, 40)
        }))
        .await
    };
    // One reader pages /changes on the second server while the writers write.
    let reader = async {
        let mut replica = Replica::default();
        let mut cursor = start.clone();
        for _ in 0..40 {
            cursor = two
                .sync_changes("alice", Some(&cursor), 4, &mut replica)
                .await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (replica, cursor)
    };
    let (_, (mut paged, cursor)) = tokio::join!(writers, reader);
    two.sync_changes("alice", Some(&cursor), 4, &mut paged)
        .await;
    let expected = listing(&one, "alice").await;
    assert_eq!(paged.sorted(), expected);

    // The stream on the first server, read afterwards, ends the same.
    let mut streamed = Replica::default();
    while streamed.sorted() != expected {
        match stream.next(WAIT).await {
            Some(crate::support::Event::Change { change, .. }) => streamed.apply(&change),
            other => panic!("unexpected {other:?}"),
        }
    }
    stream.quiet_for(Duration::from_millis(500)).await;
}
