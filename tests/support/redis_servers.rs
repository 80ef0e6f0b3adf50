//! Private Redis servers and Sentinels for one test, on free loopback ports, in a temporary
//! folder: for what the machine's shared Redis cannot be made to do (restart empty, run
//! without persistence, serve TLS, fail over). Debian's `redis-server` runs Sentinels too
//! (`--sentinel`). Killed on drop.
//!
//! Where `redis-server` is not installed the test skips with one line, unless
//! `TOCSIN_REQUIRE_SERVICES=1`, which makes it fail.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

static SKIPPED: Once = Once::new();

fn binary() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("redis-server"))
            .find(|candidate| candidate.is_file())
    })
}

/// `redis-server`, or `None` after saying so.
fn available() -> Option<PathBuf> {
    let found = binary();
    if found.is_none() {
        if std::env::var("TOCSIN_REQUIRE_SERVICES").is_ok_and(|v| v == "1" || v == "true") {
            panic!("redis-server is required but not installed");
        }
        SKIPPED.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "skipped: private Redis tests: no redis-server (install redis-server)"
            );
        });
    }
    found
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One `redis-server` process (a server or a Sentinel).
pub struct RedisProcess {
    /// The port it listens on.
    pub port: u16,
    child: Option<Child>,
    program: PathBuf,
    args: Vec<String>,
    dir: PathBuf,
}

impl RedisProcess {
    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.join(format!("{}.log", self.port))).expect("log");
        let child = Command::new(&self.program)
            .args(&self.args)
            .current_dir(&self.dir)
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        self.wait_until_answering();
    }

    fn wait_until_answering(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    /// Kills it at once, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills it and starts it again on the same port with the same arguments.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// What it logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("{}.log", self.port))).unwrap_or_default()
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A folder of private Redis processes.
pub struct RedisLab {
    dir: tempfile::TempDir,
    program: PathBuf,
}

impl RedisLab {
    /// A new, empty lab, or `None` when there is no `redis-server`.
    pub fn new() -> Option<Self> {
        let program = available()?;
        let dir = tempfile::Builder::new()
            .prefix("tocsin-redis-")
            .tempdir()
            .expect("temp dir");
        Some(Self { dir, program })
    }

    /// The lab's folder (for certificates and configuration files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A server on a free port with `extra` arguments after the defaults (loopback only,
    /// no persistence, its own data folder); e.g. `["--appendonly", "yes"]`.
    pub fn server(&self, extra: &[&str]) -> RedisProcess {
        let port = free_port();
        let data = self.dir.path().join(format!("data-{port}"));
        std::fs::create_dir_all(&data).expect("data folder");
        let mut args: Vec<String> = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            data.to_str().expect("UTF-8"),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        self.process(port, args)
    }

    /// A server reading the configuration file `conf` first, then listening on a free
    /// loopback port with its own data folder.
    pub fn server_with_config(&self, conf: &Path) -> RedisProcess {
        let port = free_port();
        let data = self.dir.path().join(format!("data-{port}"));
        std::fs::create_dir_all(&data).expect("data folder");
        let args = vec![
            conf.to_str().expect("UTF-8").to_owned(),
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            data.to_str().expect("UTF-8").to_owned(),
        ];
        self.process(port, args)
    }

    /// A server speaking only TLS, with `cert` and `key` (PEM files), on a free port.
    pub fn tls_server(&self, cert: &Path, key: &Path, ca: &Path) -> RedisProcess {
        let port = free_port();
        let args = [
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            self.dir.path().to_str().expect("UTF-8"),
            "--save",
            "",
            "--tls-cert-file",
            cert.to_str().expect("UTF-8"),
            "--tls-key-file",
            key.to_str().expect("UTF-8"),
            "--tls-ca-cert-file",
            ca.to_str().expect("UTF-8"),
            "--tls-auth-clients",
            "no",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        self.process(port, args)
    }

    /// A Sentinel watching `master_port` as `name`, agreeing on a failure with `quorum`
    /// others, quick to decide (1 s without an answer means down).
    pub fn sentinel(&self, name: &str, master_port: u16, quorum: u32) -> RedisProcess {
        let port = free_port();
        let conf = self.dir.path().join(format!("sentinel-{port}.conf"));
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\nprotected-mode no\ndir {}\n\
                 sentinel monitor {name} 127.0.0.1 {master_port} {quorum}\n\
                 sentinel down-after-milliseconds {name} 1000\n\
                 sentinel failover-timeout {name} 10000\n\
                 sentinel parallel-syncs {name} 1\n",
                self.dir.path().display()
            ),
        )
        .expect("sentinel.conf");
        let args = vec![
            conf.to_str().expect("UTF-8").to_owned(),
            "--sentinel".into(),
        ];
        self.process(port, args)
    }

    fn process(&self, port: u16, args: Vec<String>) -> RedisProcess {
        let mut process = RedisProcess {
            port,
            child: None,
            program: self.program.clone(),
            args,
            dir: self.dir.path().to_path_buf(),
        };
        process.spawn();
        process
    }
}

/// Runs one command on `port` and returns the reply.
pub async fn command<T: redis::FromRedisValue>(
    port: u16,
    cmd: &redis::Cmd,
) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let mut conn = tokio::time::timeout(
        Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect"))??;
    cmd.query_async(&mut conn).await
}
