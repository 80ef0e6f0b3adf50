//! The real `tocsin` binary: the README's curl flow run verbatim by a shell, clean exit on
//! SIGTERM, `tocsin migrate`, and start-up errors that name the bad setting.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

pub const BINARY: &str = env!("CARGO_BIN_EXE_tocsin");

/// A `tocsin serve` child process in its own folder (so `sqlite://tocsin.db` lands there).
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: String,
    /// Its working folder, which holds its database.
    pub dir: TempDir,
}

impl Server {
    /// Starts `tocsin serve` with these extra environment variables; waits until it answers.
    pub fn start(envs: &[(&str, &str)]) -> Self {
        Self::start_command(Command::new(BINARY), envs)
    }

    /// Starts `tocsin serve` under `umask`, through a shell.
    pub fn start_with_umask(umask: &str, envs: &[(&str, &str)]) -> Self {
        let mut shell = Command::new("sh");
        shell.args([
            "-c",
            &format!("umask {umask} && exec \"$0\" \"$@\""),
            BINARY,
        ]);
        Self::start_command(shell, envs)
    }

    fn start_command(mut command: Command, envs: &[(&str, &str)]) -> Self {
        let dir = TempDir::new().expect("temp dir");
        let addr = free_address();
        let child = command
            .arg("serve")
            .current_dir(dir.path())
            .env("TOCSIN_LISTEN", &addr)
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tocsin starts");
        let server = Self { child, addr, dir };
        server.wait_until_healthy();
        server
    }

    fn wait_until_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let ok = Command::new("curl")
                .args(["-sf", &format!("http://{}/healthz", self.addr)])
                .output();
            if ok.is_ok_and(|o| o.status.success()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("tocsin did not become healthy on {}", self.addr);
    }

    /// Kills the process with SIGKILL, as a crash would, and waits for it to be gone.
    pub fn kill(mut self) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-KILL", &pid]).status();
        assert!(killed.expect("kill").success());
        let _ = self.child.wait();
    }

    pub fn terminate(self) -> Output {
        self.stop().0
    }

    /// Stops the server; its exit status is another test's business.
    pub fn terminate_quietly(self) {
        let _ = self.stop();
    }

    /// Registers `email` and answers a token for it, through curl.
    pub fn token(&self, email: &str) -> String {
        let body = format!(r#"{{"email": "{email}", "password": "correct horse battery"}}"#);
        for route in ["register", "login"] {
            let answer = shell(&format!(
                "curl -s -X POST -H 'Content-Type: application/json' -d '{body}' \
                 http://{}/api/v1/auth/{route}",
                self.addr
            ));
            if route == "login" {
                let json: Value = serde_json::from_str(&answer).expect("login JSON");
                return json["token"].as_str().expect("token").to_owned();
            }
        }
        unreachable!("login answers above")
    }

    /// Makes an API key of `scope` with `token`, through curl.
    pub fn api_key(&self, token: &str, scope: &str) -> String {
        let answer = shell(&format!(
            "curl -s -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer {token}' \
             -d '{{\"name\": \"{scope}\", \"scope\": \"{scope}\"}}' http://{}/api/v1/api-keys",
            self.addr
        ));
        let json: Value = serde_json::from_str(&answer).expect("key JSON");
        json["key"].as_str().expect("key").to_owned()
    }

    /// Sends SIGTERM and waits for the exit; the folder (and database) stays for inspection.
    pub fn stop(self) -> (Output, TempDir) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("kill")
                .success()
        );
        let output = self.child.wait_with_output().expect("exits");
        (output, self.dir)
    }
}

fn free_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("free port");
    listener.local_addr().expect("address").to_string()
}

/// The commands of the README block that follows `marker`, continuation lines joined and the
/// `$ ` prompt removed, each with the output the README shows for it (empty when none).
pub(crate) fn readme_commands(marker: &str) -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let after = readme
        .split_once(marker)
        .unwrap_or_else(|| panic!("README has no {marker}"))
        .1;
    let block = after
        .split("```sh")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block after the marker");
    let mut commands: Vec<(String, String)> = Vec::new();
    let mut current = String::new();
    for line in block.lines() {
        let line = line.trim_end();
        let Some(line) = line
            .strip_prefix("$ ")
            .or_else(|| (!current.is_empty()).then_some(line))
        else {
            // An output line shown in the README, after its command.
            if let Some((_, shown)) = commands.last_mut() {
                shown.push_str(line);
            }
            continue;
        };
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                commands.push((std::mem::take(&mut current), String::new()));
            }
        }
    }
    commands
}

/// Asserts that `actual` has the shape of the JSON the README shows: the same keys, all
/// the way down (values differ: ids, times, tokens).
pub(crate) fn same_shape(shown: &Value, actual: &Value, at: &str) {
    match (shown, actual) {
        (Value::Object(shown), Value::Object(actual)) => {
            let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(shown), keys(actual), "keys at {at}");
            for (key, value) in shown {
                same_shape(value, &actual[key], &format!("{at}.{key}"));
            }
        }
        (Value::Array(shown), Value::Array(actual)) => {
            if let (Some(shown), Some(actual)) = (shown.first(), actual.first()) {
                same_shape(shown, actual, &format!("{at}[0]"));
            }
        }
        (Value::Null, _) | (_, Value::Null) => {}
        (shown, actual) => assert_eq!(
            std::mem::discriminant(shown),
            std::mem::discriminant(actual),
            "type at {at}: README shows {shown}, got {actual}"
        ),
    }
}

/// The README's shown output of a command, as JSON.
pub(crate) fn shown(output: &str) -> Value {
    // A token shown cut short (`"eyJ…"`) is still a JSON string.
    serde_json::from_str(output).unwrap_or_else(|e| panic!("README output {output}: {e}"))
}

pub(crate) fn shell(command: &str) -> String {
    let output = Command::new("sh")
        .args(["-c", command])
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn the_readme_seed_flow_runs_verbatim_against_the_binary() {
    let server = Server::start(&[]);
    let commands = readme_commands("<!-- seed-flow -->");
    assert_eq!(commands.len(), 3, "register, login, url: {commands:#?}");
    let at = |c: &str| c.replace("127.0.0.1:8080", &server.addr);

    let user: Value =
        serde_json::from_str(&shell(&at(&commands[0].0))).expect("register answers JSON");
    assert_eq!(user["email"], "elahe.dstn@gmail.com");
    same_shape(&shown(&commands[0].1), &user, "register");

    let token: Value =
        serde_json::from_str(&shell(&at(&commands[1].0))).expect("login answers a JSON string");
    same_shape(&shown(&commands[1].1), &token, "login");
    let token = token.as_str().expect("a string").to_owned();
    assert_eq!(token.split('.').count(), 3);

    // The README, like the seed's, writes `Authorization: token` for "your token here".
    assert!(
        commands[2].0.contains("'Authorization: token'"),
        "{}",
        commands[2].0
    );
    let with_token = at(&commands[2].0).replace(
        "'Authorization: token'",
        &format!("'Authorization: {token}'"),
    );
    let monitor: Value = serde_json::from_str(&shell(&with_token)).expect("url answers JSON");
    assert_eq!(monitor["url"], "https://www.google.com/");
    assert_eq!(monitor["interval_seconds"], 120);
    same_shape(&shown(&commands[2].1), &monitor, "url");

    assert!(
        server.dir.path().join("tocsin.db").exists(),
        "the default database is created in the working folder"
    );
    let output = server.terminate();
    assert!(output.status.success(), "SIGTERM exits 0: {output:?}");
}

#[test]
fn the_readme_v1_flow_runs_verbatim_against_the_binary() {
    let server = Server::start(&[]);
    let commands = readme_commands("<!-- v1-flow -->");
    let script = commands
        .iter()
        .map(|(c, _)| c.replace("127.0.0.1:8080", &server.addr))
        .collect::<Vec<_>>()
        .join("\n");
    let output = shell(&format!("set -e\n{script}"));
    // curl prints no newline after a body, so the answers arrive as one stream of JSON values,
    // one for each command the README shows an answer for.
    let answers: Vec<Value> = serde_json::Deserializer::from_str(&output)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .expect("JSON answers");
    let shown_answers: Vec<Value> = commands
        .iter()
        .filter(|(_, out)| !out.is_empty())
        .map(|(_, out)| shown(out))
        .collect();
    assert_eq!(answers.len(), shown_answers.len(), "{output}");
    for (i, (shown, actual)) in shown_answers.iter().zip(&answers).enumerate() {
        same_shape(shown, actual, &format!("answer {i}"));
    }
    let list = answers.last().expect("the last command lists monitors");
    assert_eq!(list["monitors"][0]["url"], "https://example.com/health");
    assert_eq!(list["monitors"][0]["interval_seconds"], 30);
    server.terminate();
}

#[test]
fn migrate_creates_the_schema_and_exits() {
    let dir = TempDir::new().expect("temp dir");
    let output = Command::new(BINARY)
        .args(["migrate", "--database-url", "sqlite://data/t.db"])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("migrations applied"));
    assert!(
        dir.path().join("data/t.db").exists(),
        "the file and its folder are created"
    );
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_key() {
    for (key, value, named) in [
        ("TOCSIN_JWT_TTL", "soon", "TOCSIN_JWT_TTL"),
        ("TOCSIN_MIN_INTERVAL", "0s", "TOCSIN_MIN_INTERVAL"),
        ("TOCSIN_DATABASE_URL", "mysql://db", "TOCSIN_DATABASE_URL"),
        ("TOCSIN_JWT_SECRET", "short", "TOCSIN_JWT_SECRET"),
    ] {
        let dir = TempDir::new().expect("temp dir");
        let output = Command::new(BINARY)
            .arg("serve")
            .current_dir(dir.path())
            .env(key, value)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1), "{key}={value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{key}={value}: {stderr}");
        assert!(
            !dir.path().join("tocsin.db").exists(),
            "nothing is created before the settings are valid"
        );
    }
}

#[test]
#[cfg(unix)]
fn the_database_and_its_wal_files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;

    let server = Server::start_with_umask("000", &[]);
    // A write, so the WAL certainly exists.
    shell(&format!(
        "curl -sf -X POST -H 'Content-Type: application/json' \
         -d '{{\"email\": \"perm@example.com\", \"password\": \"correct horse\"}}' \
         http://{}/api/v1/auth/register",
        server.addr
    ));
    for name in ["tocsin.db", "tocsin.db-wal", "tocsin.db-shm"] {
        let path = server.dir.path().join(name);
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} is {:o}", mode & 0o777);
    }
    server.terminate();
}
