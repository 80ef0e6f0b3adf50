//! `tocsin backup` against a live `tocsin serve` that keeps writing results, and the restore
//! the README describes: the copy opens, its accounts log in, its monitors are there, and
//! checks resume on it.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::{BINARY, Server};
use crate::checks::eventually;
use crate::helpers::PASSWORD;
use crate::target::Target;

/// Logs in (registering first when asked) and returns a token.
async fn token(client: &reqwest::Client, addr: &str, register: bool) -> String {
    let credentials = json!({"email": "backup@example.com", "password": PASSWORD});
    if register {
        let registered = client
            .post(format!("http://{addr}/api/v1/auth/register"))
            .json(&credentials)
            .send()
            .await
            .expect("register");
        assert_eq!(registered.status(), 201);
    }
    let login: Value = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&credentials)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    login["token"].as_str().expect("a token").to_owned()
}

async fn results(client: &reqwest::Client, addr: &str, token: &str, id: i64) -> usize {
    let page: Value = client
        .get(format!(
            "http://{addr}/api/v1/monitors/{id}/results?limit=1000"
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("results")
        .json()
        .await
        .expect("JSON");
    page["results"].as_array().expect("results").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_live_database_restores_with_accounts_monitors_and_checks() {
    let target = Target::start().await;
    let env = [
        ("TOCSIN_ALLOW_PRIVATE_TARGETS", "true"),
        ("TOCSIN_MIN_INTERVAL", "1s"),
    ];
    let server = tokio::task::block_in_place(|| Server::start(&env));
    let client = reqwest::Client::new();
    let live = token(&client, &server.addr, true).await;
    let mut ids = Vec::new();
    for path in ["/ok", "/status/503"] {
        let monitor: Value = client
            .post(format!("http://{}/api/v1/monitors", server.addr))
            .bearer_auth(&live)
            .json(&json!({"url": target.url(path), "interval_seconds": 1}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("monitor");
        ids.push(monitor["id"].as_i64().expect("id"));
    }
    eventually(Duration::from_secs(15), "a few results", || async {
        (results(&client, &server.addr, &live, ids[0]).await >= 3).then_some(())
    })
    .await;

    // Taken while serve checks and writes every second.
    let saved = tempfile::TempDir::new().expect("temp dir");
    let copy = saved.path().join("tocsin-backup.db");
    let backup = |path: &std::path::Path| {
        Command::new(BINARY)
            .arg("backup")
            .arg(path)
            .current_dir(server.dir.path())
            .output()
            .expect("tocsin backup runs")
    };
    let output = tokio::task::block_in_place(|| backup(&copy));
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(said.contains("1 accounts, 2 monitors"), "{said}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&copy)
            .expect("the copy exists")
            .permissions(),
    );
    assert_eq!(
        mode & 0o077,
        0,
        "the copy is private to its owner: {mode:o}"
    );
    assert!(
        !saved.path().join("tocsin-backup.db-wal").exists(),
        "the copy is one file"
    );
    // Never over an existing file.
    let again = tokio::task::block_in_place(|| backup(&copy));
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists"),
        "{again:?}"
    );
    let (stopped, _dir) = tokio::task::block_in_place(|| server.stop());
    assert!(stopped.status.success());

    // Restore: the copy becomes the database of a new server.
    let url = format!("sqlite://{}", copy.display());
    let mut restored_env = env.to_vec();
    restored_env.push(("TOCSIN_DATABASE_URL", &url));
    let restored = tokio::task::block_in_place(|| Server::start(&restored_env));
    let token = token(&client, &restored.addr, false).await;
    let monitors: Value = client
        .get(format!("http://{}/api/v1/monitors", restored.addr))
        .bearer_auth(&token)
        .send()
        .await
        .expect("monitors")
        .json()
        .await
        .expect("JSON");
    let listed: Vec<i64> = monitors["monitors"]
        .as_array()
        .expect("monitors")
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(listed, ids);
    let at_restore = results(&client, &restored.addr, &token, ids[0]).await;
    assert!(at_restore >= 3, "the copy holds the results: {at_restore}");
    eventually(
        Duration::from_secs(15),
        "checks resume on the copy",
        || async {
            (results(&client, &restored.addr, &token, ids[0]).await > at_restore + 1).then_some(())
        },
    )
    .await;
    let (output, _dir) = tokio::task::block_in_place(|| restored.stop());
    assert!(output.status.success());
}

#[test]
fn backing_up_postgres_points_to_pg_dump() {
    let output = Command::new(BINARY)
        .args(["backup", "/tmp/never-written.db"])
        .env(
            "TOCSIN_DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/tocsin",
        )
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("pg_dump"), "{said}");
}
