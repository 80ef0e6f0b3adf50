//! A private PostgreSQL cluster for one test: `initdb` into a temporary folder (as the
//! `postgres` user when the tests run as root, since initdb refuses root), a free port on
//! loopback, the configuration and files the test gives, stopped and removed on drop. For
//! what the machine's shared server cannot be turned into: TLS, a read-only standby.
//!
//! Where no PostgreSQL server binaries are installed the test skips with one line, unless
//! `TOCSIN_REQUIRE_SERVICES=1`, which makes it fail.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

static SKIPPED: Once = Once::new();

/// A server binary: on the PATH, else the newest of Debian's `/usr/lib/postgresql/*/bin`.
pub fn pg_bin(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin").join(name)))
            .filter(|candidate| candidate.is_file())
            .collect();
        versions.sort();
        versions.pop()
    })
}

fn required() -> bool {
    std::env::var("TOCSIN_REQUIRE_SERVICES").is_ok_and(|v| v == "1" || v == "true")
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn id_of(flag: &str) -> u32 {
    let out = Command::new("id")
        .args([flag, "postgres"])
        .output()
        .expect("id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the postgres user exists")
}

/// A running private cluster.
pub struct PgCluster {
    /// The loopback port it listens on.
    pub port: u16,
    /// The folder of its Unix socket (and its data, and its log).
    pub dir: PathBuf,
    data: PathBuf,
    owner: Option<(u32, u32)>,
    _temp: tempfile::TempDir,
}

impl PgCluster {
    /// initdb, `conf` appended to postgresql.conf, `hba` as the whole pg_hba.conf, `files`
    /// written into the data folder (readable by the server only), started. `None` after
    /// saying so when there is no PostgreSQL server installed.
    pub fn start(conf: &str, hba: &str, files: &[(&str, &[u8])]) -> Option<Self> {
        let Some(initdb) = pg_bin("initdb") else {
            if required() {
                panic!("PostgreSQL server binaries (initdb) are required but not installed");
            }
            SKIPPED.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "skipped: private PostgreSQL cluster tests: no initdb (install postgresql)"
                );
            });
            return None;
        };
        let temp = tempfile::Builder::new()
            .prefix("tocsin-pg-")
            .tempdir()
            .expect("temp dir");
        let dir = temp.path().to_path_buf();
        let owner = root().then(|| (id_of("-u"), id_of("-g")));
        if let Some((uid, gid)) = owner {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown");
        }
        let cluster = Self {
            port: free_port(),
            data: dir.join("data"),
            dir,
            owner,
            _temp: temp,
        };
        cluster.run(
            &initdb,
            &[
                "-D",
                path(&cluster.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        for (name, contents) in files {
            cluster.write(name, contents);
        }
        cluster.write("pg_hba.conf", hba.as_bytes());
        let settings = format!(
            "\n# tests/support/pg_cluster.rs\nport = {}\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\nfsync = off\n{conf}\n",
            cluster.port,
            cluster.dir.display()
        );
        let conf_path = cluster.data.join("postgresql.conf");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&conf_path)
            .expect("postgresql.conf");
        file.write_all(settings.as_bytes()).expect("write conf");
        cluster.pg_ctl(&["start", "-w", "-t", "60"]);
        Some(cluster)
    }

    /// Writes `name` into the data folder, owned by the server's user and private to it
    /// (PostgreSQL refuses a key file others can read).
    fn write(&self, name: &str, contents: &[u8]) {
        let target = self.data.join(name);
        std::fs::write(&target, contents).expect("write file");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(&target, Some(uid), Some(gid)).expect("chown");
        }
    }

    fn run(&self, program: &Path, args: &[&str]) -> Output {
        let mut command = if self.owner.is_some() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        let output = command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("runs");
        assert!(
            output.status.success(),
            "{} {args:?}: {}{}",
            program.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn pg_ctl(&self, args: &[&str]) {
        let pg_ctl = pg_bin("pg_ctl").expect("pg_ctl beside initdb");
        let log = self.dir.join("server.log");
        let mut all = vec!["-D", path(&self.data), "-l", path(&log)];
        all.extend_from_slice(args);
        self.run(&pg_ctl, &all);
    }

    /// Stops the server at once (as a crash would, for a failover).
    pub fn stop(&self) {
        if self.data.join("postmaster.pid").exists() {
            self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
        }
    }

    /// A connection configuration over the Unix socket, which needs no TLS.
    pub fn local(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(&self.dir)
            .port(self.port)
            .user("postgres")
            .dbname("postgres");
        config
    }

    /// Runs `sql` over the Unix socket.
    pub async fn execute(&self, sql: &str) {
        let (client, connection) = self
            .local()
            .connect(tokio_postgres::NoTls)
            .await
            .expect("connects over the socket");
        let driver = tokio::spawn(connection);
        client.batch_execute(sql).await.expect("runs");
        drop(client);
        let _ = driver.await;
    }

    /// The server's log, for assertion messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.data.join("postmaster.pid").exists()
            && let Some(pg_ctl) = pg_bin("pg_ctl")
        {
            let mut command = if self.owner.is_some() {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(pg_ctl);
                c
            } else {
                Command::new(pg_ctl)
            };
            let _ = command
                .args(["-D", path(&self.data), "stop", "-m", "immediate", "-w"])
                .output();
        }
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}
