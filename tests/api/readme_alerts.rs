//! The README's "Alerts" walk-through, run as written against the real binary: the SMTP
//! server it starts, the settings it gives tocsin, its curl commands, then the watched
//! server stopped and started again: an email and a webhook POST for `down`, and again for
//! `up`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::binary::{Server, same_shape, shell, shown};
use crate::checks::eventually;
use crate::receiver::Receiver;
use crate::smtp::{available, free_port, wait_for_port};

/// The commands of the sh block after `marker` (prompt `$ ` removed, continuations
/// joined), each with the output the README shows for it.
fn block(marker: &str) -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let after = readme.split_once(marker).expect("marker").1;
    let text = after
        .split("```sh")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    let mut commands: Vec<(String, String)> = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        let Some(line) = line
            .strip_prefix("$ ")
            .or_else(|| (!current.is_empty()).then_some(line))
        else {
            if let Some((_, out)) = commands.last_mut() {
                out.push_str(line);
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

/// `KEY='value'` and `KEY=value` assignments before `tocsin serve`.
fn assignments(command: &str) -> Vec<(String, String)> {
    let mut rest = command
        .split("tocsin serve")
        .next()
        .expect("command")
        .trim();
    let mut found = Vec::new();
    while let Some((key, after)) = rest.split_once('=') {
        let (value, next) = match after.strip_prefix('\'') {
            Some(quoted) => quoted.split_once('\'').expect("closing quote"),
            None => after.split_once(' ').unwrap_or((after, "")),
        };
        found.push((key.trim().to_owned(), value.to_owned()));
        rest = next.trim();
    }
    found
}

/// A server on `port` answering 200 to anything, one connection at a time and closing
/// each (so no kept-alive connection outlives it), counting requests in `hits`, until
/// aborted: then the port refuses connections, as a stopped server's does.
async fn serve_ok(port: u16, hits: Arc<AtomicUsize>) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the watched server binds");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            hits.fetch_add(1, Ordering::SeqCst);
            let _ = stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                )
                .await;
            let _ = stream.shutdown().await;
        }
    })
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_alerts_walkthrough_sends_an_email_and_a_webhook_for_down_and_up() {
    if !available() {
        return;
    }
    let start = block("<!-- alerts-start -->");
    assert_eq!(start.len(), 3, "{start:#?}");
    assert_eq!(start[0].0, "python3 -m pip install aiosmtpd");

    // The README's SMTP server, as written, on a free port instead of 2525.
    let smtp_port = free_port().to_string();
    let out_dir = TempDir::new().expect("temp dir");
    let printed = out_dir.path().join("smtp.out");
    let smtp_command = start[1]
        .0
        .strip_suffix(" &")
        .expect("run in the background")
        .replace("2525", &smtp_port);
    let smtp = Killed(
        Command::new("sh")
            .args(["-c", &format!("exec {smtp_command}")])
            .env("PYTHONUNBUFFERED", "1")
            .stdout(std::fs::File::create(&printed).expect("output file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts"),
    );
    wait_for_port(smtp_port.parse().expect("port"));
    let printed_mail = || std::fs::read_to_string(&printed).unwrap_or_default();

    // tocsin with the README's settings.
    let settings: Vec<(String, String)> = assignments(&start[2].0)
        .into_iter()
        .map(|(k, v)| (k, v.replace("2525", &smtp_port)))
        .collect();
    assert!(
        settings.iter().any(|(k, _)| k == "TOCSIN_SMTP_URL"),
        "{settings:?}"
    );
    let envs: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let server = Server::start(&envs);

    let hook = Receiver::start().await;
    let watched_port = free_port();
    let hits = Arc::new(AtomicUsize::new(0));
    let mut watched = serve_ok(watched_port, hits.clone()).await;
    let at = |c: &str| {
        c.replace("127.0.0.1:8080", &server.addr)
            .replace("127.0.0.1:9000", &hook.addr.to_string())
            .replace("127.0.0.1:8000", &format!("127.0.0.1:{watched_port}"))
    };

    let commands: Vec<(String, String)> = block("<!-- alerts-channels -->")
        .into_iter()
        .chain(block("<!-- alerts-monitor -->"))
        .collect();
    let script = commands
        .iter()
        .map(|(c, _)| at(c))
        .collect::<Vec<_>>()
        .join("\n");
    let output = tokio::task::spawn_blocking(move || shell(&format!("set -e\n{script}")))
        .await
        .expect("shell");
    let answers: Vec<Value> = serde_json::Deserializer::from_str(&output)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .expect("JSON answers");
    let shown_answers: Vec<Value> = commands
        .iter()
        .filter(|(_, out)| !out.is_empty())
        .map(|(_, out)| shown(out))
        .collect();
    // Every shown answer, then the monitor (shown nowhere).
    assert_eq!(answers.len(), shown_answers.len() + 1, "{output}");
    for (i, (shown, actual)) in shown_answers.iter().zip(&answers).enumerate() {
        same_shape(shown, actual, &format!("answer {i}"));
    }
    assert_eq!(
        answers[3],
        serde_json::json!({"delivered": true, "error": null})
    );
    eventually(
        Duration::from_secs(10),
        "the test email printed",
        || async {
            printed_mail()
                .contains("[tocsin] test notification")
                .then_some(())
        },
    )
    .await;
    let monitor = answers.last().expect("monitor");
    assert_eq!(monitor["channel_ids"], serde_json::json!([1, 2]));

    // Up first (announced to nobody), then the server stops: down.
    eventually(Duration::from_secs(15), "a first check", || async {
        (hits.load(Ordering::SeqCst) > 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        hook.received("/hook").is_empty(),
        "the first verdict, up, tells nobody"
    );
    watched.abort();
    let _ = (&mut watched).await;
    let down = eventually(Duration::from_secs(40), "the down webhook", || async {
        hook.received("/hook")
            .into_iter()
            .find(|r| r.json()["event"] == "down")
    })
    .await;
    assert!(
        down.header("x-tocsin-signature").is_some(),
        "signed with the secret"
    );
    eventually(Duration::from_secs(10), "the down email", || async {
        printed_mail()
            .contains("[tocsin] DOWN 127.0.0.1")
            .then_some(())
    })
    .await;

    // Started again: up.
    let _watched = serve_ok(watched_port, hits.clone()).await;
    eventually(Duration::from_secs(30), "the up webhook", || async {
        hook.received("/hook")
            .into_iter()
            .find(|r| r.json()["event"] == "up")
    })
    .await;
    eventually(Duration::from_secs(10), "the up email", || async {
        printed_mail()
            .contains("[tocsin] UP 127.0.0.1")
            .then_some(())
    })
    .await;
    drop(smtp);
    let (output, _dir) = tokio::task::spawn_blocking(move || server.stop())
        .await
        .expect("stopped");
    assert!(output.status.success(), "SIGTERM exits 0: {output:?}");
}
