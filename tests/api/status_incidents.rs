//! Incidents on a public status page: the banner, the JSON and the Atom feed (parsed as
//! XML), with user strings escaped in each.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::checks::engine_app;
use crate::status_pages::{create_page, public, public_text, wait_for_state};
use crate::target::Target;

#[tokio::test]
async fn incidents_show_on_the_page_in_json_and_in_a_valid_atom_feed() {
    let (app, target) = (engine_app().await, Target::start().await);
    let token = app.new_user().await;
    let failing = app
        .create_monitor(
            &token,
            json!({"url": target.url("/status/503"), "name": "API & <friends>",
                   "interval_seconds": 60, "failure_threshold": 1}),
        )
        .await;
    let id = failing["id"].as_i64().expect("id");
    wait_for_state(&app, &token, id, "down").await;
    let created = create_page(
        &app,
        &token,
        json!({"slug": "incidents", "title": "Feed & co", "monitor_ids": [id]}),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    let html = public_text(&app, "/status/incidents").await;
    assert!(html.contains("Major outage"), "{html}");
    assert!(html.contains("API &amp; &lt;friends&gt;: down (ongoing)"));

    let json: Value = public(&app, "/status/incidents.json")
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(json["status"], "major_outage");
    let incident = &json["incidents"][0];
    assert_eq!(incident["monitor_id"], id);
    assert_eq!(incident["monitor_name"], "API & <friends>");
    assert_eq!(incident["kind"], "down");
    assert_eq!(incident["cause"], "status");
    assert_eq!(incident["resolved_at"], Value::Null);
    assert!(incident.get("message").is_none());

    let response = public(&app, "/status/incidents/feed.atom").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let xml = response.text().await.expect("feed");
    let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let feed = document.root_element();
    assert_eq!(
        (feed.tag_name().namespace(), feed.tag_name().name()),
        (Some("http://www.w3.org/2005/Atom"), "feed")
    );
    let child_text = |node: roxmltree::Node<'_, '_>, name: &str| {
        node.children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .map(str::to_owned)
    };
    for required in ["id", "title", "updated"] {
        assert!(
            child_text(feed, required).is_some(),
            "feed has no {required}"
        );
    }
    assert_eq!(
        child_text(feed, "title").as_deref(),
        Some("Feed & co incidents")
    );
    let entries: Vec<_> = feed
        .children()
        .filter(|c| c.has_tag_name("entry"))
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        child_text(entries[0], "title").as_deref(),
        Some("API & <friends>: down (ongoing)")
    );
    let updated = child_text(entries[0], "updated").expect("updated");
    chrono::DateTime::parse_from_rfc3339(&updated).expect("an RFC 3339 time");

    let badge = public_text(&app, &format!("/status/incidents/badges/{id}/status.svg")).await;
    assert!(badge.contains(">down</text>") && badge.contains("#e05d44"));
}
