//! The sender against local fakes of each service: events due at once for a human channel
//! go out as one message in that service's format, while webhooks and PagerDuty get one
//! request per event; a hanging receiver holds up only its own channel. Driven through the
//! store and the sender directly, so the events are due at exactly the same time.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use tempfile::TempDir;
use tocsin::alerting::channels::{ChannelConfig, ChannelKind, Guard, Outbound, Smtp};
use tocsin::auth::{Email, UserId};
use tocsin::check::{CheckRecord, CheckResult, Failure, FailureKind, Phases};
use tocsin::jobs::notify::{Sender, SenderOptions};
use tocsin::monitor::{MonitorDraft, MonitorSpec, Rules};
use tocsin::store::SqliteStore;
use tocsin::store::prelude::*;
use tocsin::telemetry::Metrics;
use tokio::sync::oneshot;

use crate::checks::eventually;
use crate::receiver::Receiver;
use crate::smtp::SmtpServer;

const MONITORS: usize = 3;

fn down(at: chrono::DateTime<Utc>) -> CheckResult {
    CheckResult {
        checked_at: at,
        kind: Default::default(),
        dns: None,
        status_code: None,
        latency: Duration::from_millis(5),
        phases: Phases::default(),
        cert_expires_at: None,
        failure: Some(Failure::new(FailureKind::Connect, "connection refused")),
    }
}

struct Setup {
    store: Arc<dyn Store>,
    stop: oneshot::Sender<()>,
    _dir: TempDir,
}

/// A store whose account has one channel of each `(kind, settings)`, [`MONITORS`] monitors
/// told to all of them, all down in one batch; and a sender running on it.
async fn outage(channels: &[(ChannelKind, Value)], smtp: Option<Smtp>) -> Setup {
    outage_corrupting(channels, smtp, None).await
}

/// [`outage`], the channel named `corrupt` (if any) given settings no kind reads before
/// the outage, as a row written by another version might hold.
async fn outage_corrupting(
    channels: &[(ChannelKind, Value)],
    smtp: Option<Smtp>,
    corrupt: Option<&str>,
) -> Setup {
    let dir = TempDir::new().expect("temp dir");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("tocsin.db"))
            .await
            .expect("opens"),
    );
    store.migrate().await.expect("migrates");
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let owner: UserId = store
        .create_user(&Email::parse("ops@example.com").expect("email"), hash)
        .await
        .expect("user")
        .id;
    let mut ids = Vec::new();
    for (i, (kind, settings)) in channels.iter().enumerate() {
        let config = ChannelConfig::stored(*kind, settings.clone()).expect("config");
        let channel = store
            .create_channel(owner, &format!("c{i}"), &config)
            .await
            .expect("channel");
        ids.push(channel.id.0);
    }
    if let Some(name) = corrupt {
        let conn = rusqlite::Connection::open(dir.path().join("tocsin.db")).expect("opens");
        conn.busy_timeout(Duration::from_secs(5)).expect("timeout");
        conn.execute(
            "UPDATE channels SET config = '{\"unheard_of\": 1}' WHERE name = ?1",
            [name],
        )
        .expect("corrupted");
    }
    let at = Utc::now();
    let mut batch = Vec::new();
    for i in 0..MONITORS {
        let spec = MonitorSpec::parse(
            MonitorDraft {
                url: format!("https://service{i}.example/"),
                failure_threshold: Some(1),
                channel_ids: Some(ids.clone()),
                ..MonitorDraft::default()
            },
            &Rules::STORED,
        )
        .expect("spec");
        let monitor = store
            .create_monitor(owner, &spec, 100)
            .await
            .expect("monitor");
        batch.push(CheckRecord {
            monitor: monitor.id,
            result: down(at),
        });
    }
    store.insert_results(&batch).await.expect("written");
    let outbound = Outbound::new(
        Guard {
            allow_private: true,
            ..Guard::default()
        },
        Duration::from_secs(1),
        smtp,
    )
    .expect("client");
    let sender = Sender::new(
        store.clone(),
        outbound,
        Arc::new(Metrics::new()),
        SenderOptions {
            poll: Duration::from_millis(100),
            timeout: Duration::from_secs(1),
            retry: Duration::from_millis(200),
            ..SenderOptions::default()
        },
    );
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(sender.run(async move {
        let _ = stopped.await;
    }));
    Setup {
        store,
        stop,
        _dir: dir,
    }
}

#[tokio::test]
async fn an_outage_is_one_message_per_chat_channel_and_one_request_per_event_for_machines() {
    let rx = Receiver::start().await;
    let setup = outage(
        &[
            (ChannelKind::Slack, json!({"url": rx.url("/slack")})),
            (ChannelKind::Discord, json!({"url": rx.url("/discord")})),
            (ChannelKind::Teams, json!({"url": rx.url("/teams")})),
            (
                ChannelKind::Ntfy,
                json!({"server": rx.url("/ntfy"), "topic": "alerts", "token": "tk_secret"}),
            ),
            (
                ChannelKind::Telegram,
                json!({"bot_token": "123:ABC", "chat_id": "-100", "base_url": rx.url("/tg")}),
            ),
            (ChannelKind::Webhook, json!({"url": rx.url("/hook")})),
            (
                ChannelKind::Pagerduty,
                json!({"routing_key": "R0UT1NG", "base_url": rx.url("/pd")}),
            ),
            // Hangs past the timeout: the others are not held up by it.
            (ChannelKind::Webhook, json!({"url": rx.url("/hang/hook")})),
        ],
        None,
    )
    .await;
    let started = std::time::Instant::now();
    eventually(Duration::from_secs(10), "every delivery", || async {
        let done = ["/slack", "/discord", "/teams", "/ntfy", "/tg"]
            .iter()
            .all(|p| !rx.received(p).is_empty())
            && rx.received("/hook").len() >= MONITORS
            && rx.received("/pd").len() >= MONITORS;
        done.then_some(())
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "delivered before the hanging receiver's timeout: {:?}",
        started.elapsed()
    );

    let one = |path: &str| {
        let got = rx.received(path);
        assert_eq!(got.len(), 1, "{path}: one message for the whole outage");
        got[0].clone()
    };
    let slack = one("/slack").json();
    assert!(
        slack["text"].as_str().expect("text").contains("3 alerts"),
        "{slack}"
    );
    // A header block and a section per event.
    assert_eq!(
        slack["blocks"].as_array().expect("blocks").len(),
        1 + MONITORS
    );
    let discord = one("/discord").json();
    assert_eq!(
        discord["embeds"].as_array().expect("embeds").len(),
        MONITORS
    );
    assert!(discord["content"].is_string());
    let teams = one("/teams").json();
    let card = &teams["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(
        card["content"]["body"].as_array().expect("body").len(),
        1 + MONITORS
    );
    let ntfy = one("/ntfy");
    assert_eq!(
        ntfy.header("authorization").as_deref(),
        Some("Bearer tk_secret")
    );
    let ntfy = ntfy.json();
    assert_eq!(ntfy["topic"], "alerts");
    for i in 0..MONITORS {
        assert!(
            ntfy["message"]
                .as_str()
                .expect("message")
                .contains(&format!("service{i}.example")),
            "{ntfy}"
        );
    }
    let telegram = one("/tg/bot123:ABC/sendMessage").json();
    assert_eq!(telegram["chat_id"], "-100");
    assert!(telegram["text"].as_str().expect("text").contains("DOWN"));

    let hooks = rx.received("/hook");
    assert_eq!(hooks.len(), MONITORS, "one webhook request per event");
    let mut event_ids: Vec<String> = hooks
        .iter()
        .map(|h| h.header("x-tocsin-event-id").expect("id"))
        .collect();
    event_ids.dedup();
    assert_eq!(event_ids.len(), MONITORS);
    let pd = rx.received("/pd/v2/enqueue");
    assert_eq!(pd.len(), MONITORS);
    for request in &pd {
        let body = request.json();
        assert_eq!(body["routing_key"], "R0UT1NG");
        assert_eq!(body["event_action"], "trigger");
        assert_eq!(body["payload"]["severity"], "critical");
        assert!(
            body["dedup_key"]
                .as_str()
                .expect("dedup")
                .parse::<i64>()
                .is_ok()
        );
    }
    // Everything but the hanging channel is settled; it is retried later.
    eventually(
        Duration::from_secs(5),
        "the backlog down to the hanging channel",
        || async { (setup.store.outbox_backlog().await.ok()? == MONITORS as u64).then_some(()) },
    )
    .await;
    let _ = setup.stop.send(());
}

#[tokio::test]
async fn an_outage_is_one_email_listing_every_monitor() {
    let Some(server) = SmtpServer::start() else {
        return;
    };
    let smtp = Smtp::new(
        &format!("smtp://127.0.0.1:{}?tls=none", server.port),
        "tocsin <tocsin@example.com>",
        Duration::from_secs(5),
        None,
    )
    .expect("relay");
    let setup = outage(
        &[(
            ChannelKind::Email,
            json!({"to": ["a@example.com", "b@example.com"]}),
        )],
        Some(smtp),
    )
    .await;
    let message = eventually(Duration::from_secs(10), "the email", || async {
        server.messages().first().cloned()
    })
    .await;
    assert!(message.contains("Subject: [tocsin] 3 alerts"), "{message}");
    assert!(
        message.contains("To: a@example.com, b@example.com"),
        "{message}"
    );
    for i in 0..MONITORS {
        assert!(
            message.contains(&format!("DOWN service{i}.example")),
            "{message}"
        );
    }
    assert!(message.contains("X-Tocsin-Event-Ids: "), "{message}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.messages().len(), 1, "one email for the outage");
    assert_eq!(setup.store.outbox_backlog().await.expect("backlog"), 0);
    let _ = setup.stop.send(());
}

#[tokio::test]
async fn an_unreadable_channel_is_given_up_and_holds_up_no_other() {
    let rx = Receiver::start().await;
    let setup = outage_corrupting(
        &[
            (ChannelKind::Webhook, json!({"url": rx.url("/hook")})),
            (ChannelKind::Webhook, json!({"url": rx.url("/never")})),
        ],
        None,
        Some("c1"),
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "the readable channel's deliveries",
        || async { (rx.received("/hook").len() >= MONITORS).then_some(()) },
    )
    .await;
    eventually(Duration::from_secs(10), "an empty backlog", || async {
        (setup.store.outbox_backlog().await.ok()? == 0).then_some(())
    })
    .await;
    assert!(rx.received("/never").is_empty());
    let _ = setup.stop.send(());
}
