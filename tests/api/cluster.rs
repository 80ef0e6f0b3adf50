//! Several identical instances on one PostgreSQL database: every due check runs on exactly
//! one of them, a token from one is good on the other, and `GET /api/v1/cluster` lists both
//! with the checks each ran.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tocsin::config::{DatabaseUrl, Settings};

use crate::checks::eventually;
use crate::helpers::{TestApp, start, test_settings};
use crate::services::fresh_postgres;
use crate::target::Target;

fn instance(dir: &TempDir, database: &str) -> Settings {
    let mut settings = test_settings(dir.path());
    settings.database_url = DatabaseUrl::try_from(database.to_owned()).expect("URL");
    // Generated once and kept in the database: both instances must find the same one.
    settings.jwt_secret = None;
    settings.min_interval = Duration::from_secs(1);
    settings.allow_private_targets = true;
    settings
}

async fn cluster(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get("/api/v1/cluster", token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    body["instances"].as_array().expect("instances").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_checks_once_each_and_list_each_other() {
    let Some(database) = fresh_postgres().await else {
        return;
    };
    let target = Target::start().await;
    let dir = TempDir::new().expect("dir");
    let first = start(instance(&dir, &database.url)).await;
    let second = start(instance(&dir, &database.url)).await;

    let token = first.new_user().await;
    let unauthorised = second
        .client
        .get(second.url("/api/v1/cluster"))
        .send()
        .await
        .expect("sent");
    assert_eq!(unauthorised.status(), StatusCode::UNAUTHORIZED);
    let paths: Vec<String> = (0..6).map(|n| format!("/status/{}", 200 + n)).collect();
    for path in &paths {
        // Created through the second with the first's token.
        second
            .create_monitor(
                &token,
                json!({"url": target.url(path), "interval_seconds": 1}),
            )
            .await;
    }

    // Both instances check, and report it in their heartbeats (every 5 s).
    let listed = eventually(Duration::from_secs(20), "both instances busy", || async {
        let listed = cluster(&first, &token).await;
        let busy = listed
            .iter()
            .filter(|i| i["checks_last_minute"].as_u64() > Some(0))
            .count();
        (listed.len() == 2 && busy == 2).then_some(listed)
    })
    .await;
    assert_eq!(
        listed.iter().filter(|i| i["this"] == true).count(),
        1,
        "{listed:?}"
    );
    let addresses: Vec<&str> = listed
        .iter()
        .map(|i| i["address"].as_str().expect("address"))
        .collect();
    assert!(addresses.contains(&first.addr.to_string().as_str()));
    assert!(addresses.contains(&second.addr.to_string().as_str()));

    // One check per period per monitor, whichever instance ran it: two instances checking
    // the same due time would show two hits a few milliseconds apart.
    for path in &paths {
        let hits = target.hits(path);
        assert!(hits.len() >= 4, "{path}: {} hits", hits.len());
        for pair in hits.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= Duration::from_millis(700),
                "{path}: two checks {gap:?} apart"
            );
        }
    }
}
