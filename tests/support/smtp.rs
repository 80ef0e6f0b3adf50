//! A real SMTP server on loopback for tests: aiosmtpd (PyPI) run as a process, storing each
//! message it accepts in a Maildir the test reads. Where aiosmtpd is not installed the test
//! skips with one line, unless `TOCSIN_REQUIRE_SERVICES=1` (as `.ci/run` sets, after
//! installing it), where it fails.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use tempfile::TempDir;

static SKIPPED: Once = Once::new();

/// Whether aiosmtpd can run; where it cannot, says so once and skips, unless required
/// (`TOCSIN_REQUIRE_SERVICES=1`), where it fails.
pub fn available() -> bool {
    let present = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        let required = std::env::var("TOCSIN_REQUIRE_SERVICES")
            .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        assert!(
            !required,
            "aiosmtpd is required (TOCSIN_REQUIRE_SERVICES=1) but `python3 -c 'import aiosmtpd'` \
             fails: python3 -m pip install aiosmtpd"
        );
        SKIPPED.call_once(|| {
            eprintln!(
                "skipped: SMTP tests: aiosmtpd is not installed (python3 -m pip install aiosmtpd)"
            );
        });
    }
    present
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("address")
        .port()
}

/// Waits until something listens on `port`.
pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running aiosmtpd; killed when dropped.
pub struct SmtpServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: TempDir,
}

impl SmtpServer {
    /// Starts one, or `None` (having said why) where aiosmtpd is missing and not required.
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// [`SmtpServer::start`] with more aiosmtpd arguments (`--tlscert`, `--tlskey`: STARTTLS
    /// offered, and required before anything is sent).
    pub fn start_with(extra: &[&str]) -> Option<Self> {
        if !available() {
            return None;
        }
        let dir = TempDir::new().expect("temp dir");
        let maildir = dir.path().join("mail");
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(extra)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let server = Self { child, port, dir };
        wait_for_port(port);
        Some(server)
    }

    /// Every message received so far, as text, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.dir.path().join("mail").join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let modified = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                files.push((modified, entry.path()));
            }
        }
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read_to_string(path).ok())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
