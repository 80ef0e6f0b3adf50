//! `GET /api/v1/monitors` a page at a time: `limit` and `after` (an id), a `next_after`
//! cursor and a `Link` header to the next page; without them, today's full list.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn list(app: &TestApp, token: &str, query: &str) -> (Value, Option<String>) {
    let response = app.get(&format!("/api/v1/monitors{query}"), token).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {query}");
    let link = response
        .headers()
        .get("link")
        .map(|v| v.to_str().expect("ASCII").to_owned());
    (response.json().await.expect("JSON"), link)
}

fn ids(body: &Value) -> Vec<i64> {
    body["monitors"]
        .as_array()
        .expect("monitors")
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn monitors_page_by_cursor_and_the_plain_list_is_unchanged() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let other = app.new_user().await;
    let mut made = Vec::new();
    for i in 0..5 {
        let url = format!("https://{i}.example");
        let monitor = app.create_monitor(&token, json!({ "url": url })).await;
        made.push(monitor["id"].as_i64().expect("id"));
        app.create_monitor(&other, json!({ "url": url })).await;
    }

    let (all, link) = list(&app, &token, "").await;
    assert_eq!(ids(&all), made, "every monitor, oldest first");
    assert!(
        all.get("next_after").is_none(),
        "no cursor without paging: {all}"
    );
    assert_eq!(link, None);

    // Followed by cursor, then by the Link header: 2 + 2 + 1, then no next page.
    let (page, link) = list(&app, &token, "?limit=2").await;
    assert_eq!(ids(&page), made[..2]);
    assert_eq!(page["next_after"], made[1]);
    let link = link.expect("a link to the next page");
    assert_eq!(
        link,
        format!("</api/v1/monitors?limit=2&after={}>; rel=\"next\"", made[1])
    );
    let (page, _) = list(&app, &token, &format!("?limit=2&after={}", made[1])).await;
    assert_eq!(ids(&page), made[2..4]);
    let next = link_target(
        &list(&app, &token, &format!("?limit=2&after={}", made[1]))
            .await
            .1,
    );
    let (page, link) = list(&app, &token, &next).await;
    assert_eq!(ids(&page), made[4..]);
    assert_eq!(page["next_after"], Value::Null, "the last page says so");
    assert_eq!(link, None);

    // `after` alone pages by 100.
    let (page, _) = list(&app, &token, &format!("?after={}", made[0])).await;
    assert_eq!(ids(&page), made[1..]);
    assert_eq!(page["next_after"], Value::Null);
}

/// The query of a `Link: </api/v1/monitors?…>; rel="next"` header.
fn link_target(link: &Option<String>) -> String {
    let link = link.as_deref().expect("a next link");
    let start = link.find('?').expect("a query");
    let end = link.find('>').expect("closed");
    link[start..end].to_owned()
}

#[tokio::test]
async fn bad_paging_parameters_are_named() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    for (query, named) in [
        ("?limit=0", "limit"),
        ("?limit=1001", "limit"),
        ("?limit=ten", "limit"),
        ("?after=-1", "after"),
        ("?after=x", "after"),
    ] {
        let response = app.get(&format!("/api/v1/monitors{query}"), &token).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}"
        );
        let body: Value = response.json().await.expect("JSON");
        assert!(body.to_string().contains(named), "{query}: {body}");
    }
}
