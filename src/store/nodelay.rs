//! `TCP_NODELAY` for sqlx's PostgreSQL connections, which sqlx 0.9.0 no longer sets
//! (transact-rs/sqlx#4335; fixed by #4336, in no release yet): without it, a new TLS connection
//! waits twice for the server's delayed ACK during its handshake (≈ 80 ms on loopback).
//!
//! sqlx opens the socket itself and exposes no hook to configure it, so the pool connects to a
//! Unix socket of this process instead ([`NoDelayRelay`]), which opens the TCP connection with
//! `TCP_NODELAY` and copies bytes both ways. sqlx still negotiates TLS with the server, end to
//! end (the host name it verifies is the URL's): the relay only sees encrypted bytes. Remove this
//! module when sqlx sets `TCP_NODELAY` again.

use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use tokio::net::{TcpStream, UnixListener};
use tokio::task::JoinHandle;

/// A Unix socket that relays each connection to a PostgreSQL server over TCP with
/// `TCP_NODELAY`. Stops, and removes its socket, when dropped.
pub(super) struct NoDelayRelay {
    dir: PathBuf,
    accept: JoinHandle<()>,
}

impl NoDelayRelay {
    /// Where `options` connect through a relay, when they would open a TLS connection over TCP
    /// (the handshake is what the delayed ACKs slow down): the options that connect through it,
    /// and the relay, which must live as long as they are used. Otherwise `options` unchanged.
    pub(super) fn wrap(options: PgConnectOptions) -> (PgConnectOptions, Option<Self>) {
        let tcp = options.get_socket().is_none() && !options.get_host().starts_with('/');
        let tls = !matches!(
            options.get_ssl_mode(),
            PgSslMode::Disable | PgSslMode::Allow
        );
        if !(tcp && tls) {
            return (options, None);
        }
        match Self::start(options.get_host(), options.get_port()) {
            Ok(relay) => {
                let options = options.socket(&relay.dir);
                (options, Some(relay))
            }
            Err(err) => {
                tracing::warn!(
                    error = %err,
                    "no TCP_NODELAY relay for PostgreSQL: each new TLS connection may take \
                     ≈ 80 ms longer"
                );
                (options, None)
            }
        }
    }

    /// Listens on `.s.PGSQL.<port>` (the name sqlx connects to) in a new private directory.
    fn start(host: &str, port: u16) -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "todo-api-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let listener = match UnixListener::bind(socket_path(&dir, port)) {
            Ok(listener) => listener,
            Err(err) => {
                let _ = std::fs::remove_dir(&dir);
                return Err(err);
            }
        };
        let host = host.to_owned();
        let accept = tokio::spawn(async move {
            loop {
                let mut local = match listener.accept().await {
                    Ok((local, _)) => local,
                    Err(err) => {
                        tracing::warn!(error = %err, "the TCP_NODELAY relay could not accept");
                        continue;
                    }
                };
                let host = host.clone();
                tokio::spawn(async move {
                    // A failure closes `local`: sqlx reports it as an I/O error (503).
                    match TcpStream::connect((host.as_str(), port)).await {
                        Ok(mut remote) => {
                            let _ = remote.set_nodelay(true);
                            let _ = tokio::io::copy_bidirectional(&mut local, &mut remote).await;
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, %host, port, "PostgreSQL is unreachable");
                        }
                    }
                });
            }
        });
        Ok(Self { dir, accept })
    }
}

impl Drop for NoDelayRelay {
    fn drop(&mut self) {
        self.accept.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The socket sqlx connects to in `dir` for `port`.
fn socket_path(dir: &Path, port: u16) -> PathBuf {
    dir.join(format!(".s.PGSQL.{port}"))
}
