//! Throwaway PostgreSQL clusters (and a PgBouncer) that a test starts, stops and removes
//! itself, on free loopback ports: never the machine's shared server. As root (CI), the
//! server programs run as the `postgres` OS user, since PostgreSQL refuses to run as root.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A command run as the `postgres` OS user when we are root, as ourselves otherwise.
fn as_server_user(program: impl AsRef<Path>) -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ])
            .arg(program.as_ref());
        command
    } else {
        Command::new(program.as_ref())
    }
}

/// Hands `path` to the `postgres` OS user when we are root.
fn give_to_server_user(path: &Path) {
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The newest installed PostgreSQL's programs.
fn pg_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server programs in /usr/lib/postgresql (apt-get install postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions
        .pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
}

/// The password of the `postgres` role in clusters that require one.
pub(crate) const PASSWORD: &str = "s3cret-pw";

/// How the cluster accepts connections.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// TCP without TLS, no password.
    Plain,
    /// TLS only (a self-signed CA made on the spot), SCRAM password.
    Tls,
}

/// A PostgreSQL cluster of one test's own.
pub(crate) struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Cluster {
    /// Creates and starts a cluster.
    pub(crate) fn start(access: Access) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("todo-api-pg-")
            .tempdir()
            .unwrap();
        let bin = pg_bin();
        let port = free_port();
        let root = dir.path();
        std::fs::write(root.join("pw"), PASSWORD).unwrap();
        give_to_server_user(root);
        run(
            as_server_user(bin.join("initdb"))
                .arg("-D")
                .arg(root.join("data"))
                .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
                .arg(format!("--pwfile={}", root.join("pw").display()))
                .stdout(Stdio::null()),
            "initdb",
        );
        let mut conf = format!(
            "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 100\n",
            root.display()
        );
        let mut hba = String::from("local all all trust\n");
        if access == Access::Tls {
            make_certificates(root);
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{0}/server.crt'\nssl_key_file = '{0}/server.key'\n",
                root.display()
            ));
            hba.push_str("hostssl all all 127.0.0.1/32 scram-sha-256\n");
            hba.push_str("host all all 127.0.0.1/32 reject\n");
        } else {
            hba.push_str("host all all 127.0.0.1/32 trust\n");
        }
        append(&root.join("data/postgresql.conf"), &conf);
        std::fs::write(root.join("data/pg_hba.conf"), hba).unwrap();
        give_to_server_user(root);
        let cluster = Self { dir, bin, port };
        cluster.resume();
        cluster
    }

    /// Starts the (stopped) server again, on the same port.
    pub(crate) fn resume(&self) {
        let root = self.dir.path();
        run(
            as_server_user(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(root.join("data"))
                .arg("-l")
                .arg(root.join("server.log"))
                .args(["-w", "-t", "60", "start"])
                .stdout(Stdio::null()),
            "pg_ctl start",
        );
    }

    /// Stops the server (fast: open sessions are ended).
    pub(crate) fn stop(&self) {
        run(
            as_server_user(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .args(["-w", "-t", "60", "-m", "fast", "stop"])
                .stdout(Stdio::null()),
            "pg_ctl stop",
        );
    }

    /// Runs SQL as the superuser over the Unix socket.
    pub(crate) fn psql(&self, sql: &str) -> String {
        let output = as_server_user(self.bin.join("psql"))
            .arg("-h")
            .arg(self.dir.path())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Creates an empty database.
    pub(crate) fn create_database(&self, name: &str) {
        self.psql(&format!("CREATE DATABASE \"{name}\""));
    }

    /// The psql command that runs SQL in database `db` as the superuser.
    pub(crate) fn psql_command(&self, db: &str, sql: &str) -> Command {
        let mut command = as_server_user(self.bin.join("psql"));
        command
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", db])
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql]);
        command
    }

    /// Runs SQL in database `db` as the superuser.
    pub(crate) fn psql_in(&self, db: &str, sql: &str) -> String {
        let output = self.psql_command(db, sql).output().unwrap();
        assert!(
            output.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// The CA certificate that signed the server's (TLS clusters).
    pub(crate) fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// Another CA's certificate, which did not sign the server's.
    pub(crate) fn other_ca_path(&self) -> PathBuf {
        self.dir.path().join("other-ca.crt")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_server_user(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-w", "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// A CA, a server certificate it signs (for localhost and 127.0.0.1), and an unrelated CA.
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        run(
            Command::new("openssl").current_dir(dir).args(args),
            &format!("openssl {}", args.join(" ")),
        )
    };
    for ca in ["ca", "other-ca"] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.crt"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=todo-api test {ca}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
    }
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n\
         basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    let status = Command::new("chmod")
        .arg("600")
        .arg(dir.join("server.key"))
        .status()
        .unwrap();
    assert!(status.success());
}

/// A PgBouncer in transaction mode in front of a cluster.
pub(crate) struct Bouncer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Bouncer {
    /// Starts PgBouncer (`pool_mode = transaction`, `pool_size` server connections per
    /// database) and waits until it accepts connections.
    pub(crate) fn start(cluster: &Cluster, pool_size: u32) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("todo-api-bouncer-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let ini = dir.path().join("pgbouncer.ini");
        std::fs::write(
            &ini,
            format!(
                "[databases]\n* = host=127.0.0.1 port={pg} user=postgres\n\n[pgbouncer]\n\
                 listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
                 auth_type = any\npool_mode = transaction\nmax_client_conn = 500\n\
                 default_pool_size = {pool_size}\nlogfile = {dir}/pgbouncer.log\n",
                pg = cluster.port,
                dir = dir.path().display()
            ),
        )
        .unwrap();
        give_to_server_user(dir.path());
        let program = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("pgbouncer is installed (apt-get install pgbouncer)");
        let child = as_server_user(program)
            .arg(&ini)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Self {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
