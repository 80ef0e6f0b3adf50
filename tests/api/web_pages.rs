//! The web pages for incidents and maintenance windows.

use reqwest::StatusCode;

use crate::helpers::{spawn_app, unique_email};
use crate::web::Browser;

#[tokio::test]
async fn maintenance_windows_are_made_and_deleted_through_the_form() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.register(&unique_email()).await;
    let token = browser.token("/app/maintenance").await;
    let (status, body, _) = browser
        .post(
            "/app/maintenance",
            &[
                ("csrf", &token),
                ("name", "deploy <b>"),
                ("starts_at", "2026-12-01T22:00"),
                ("ends_at", "soon"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains(r#"id="f-ends_at-error" data-field="ends_at">ends_at: `soon` is not a time"#),
        "{body}"
    );
    let (status, body, _) = browser
        .post(
            "/app/maintenance",
            &[
                ("csrf", &token),
                ("name", "deploy <b>"),
                ("starts_at", "2026-12-01T23:00"),
                ("ends_at", "2026-12-01T22:00"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("data-field=\"ends_at\""),
        "the API's rule, beside its field: {body}"
    );
    let (status, _, location) = browser
        .post(
            "/app/maintenance",
            &[
                ("csrf", &token),
                ("name", "deploy <b>"),
                ("starts_at", "2026-12-01T22:00"),
                ("ends_at", "2026-12-01T23:30"),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/app/maintenance")
    );
    let (_, body, _) = browser.get("/app/maintenance").await;
    assert!(body.contains("deploy &lt;b&gt;"), "{body}");
    assert!(body.contains("2026-12-01 22:00 UTC"));
    let start = body
        .find("action=\"/app/maintenance/")
        .expect("a delete form")
        + 8;
    let action = body[start..].split('"').next().expect("action").to_owned();
    let (status, _, _) = browser.post(&action, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no token, no delete");
    let (status, _, _) = browser.post(&action, &[("csrf", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, body, _) = browser.get("/app/maintenance").await;
    assert!(body.contains("No maintenance windows"));
}

#[tokio::test]
async fn the_incidents_page_lists_and_filters() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.register(&unique_email()).await;
    let (status, body, _) = browser.get("/app/incidents").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("No incidents."));
    let (status, _, _) = browser.get("/app/incidents?state=open").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = browser.get("/app/incidents?state=sideways").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("state:"), "{body}");
}

#[tokio::test]
async fn the_pages_share_the_apis_throttle_and_registration_rule() {
    let app = crate::helpers::spawn_with(|s| {
        s.auth_rate_per_minute = 2;
        s.registration = tocsin::config::Registration::Closed;
    })
    .await;
    let mut first = Browser::new(&app);
    first.register(&unique_email()).await;
    let mut second = Browser::new(&app);
    let token = second.token("/app/register").await;
    let (status, body, _) = second
        .post(
            "/app/register",
            &[
                ("csrf", &token),
                ("email", &unique_email()),
                ("password", crate::helpers::PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("registration is closed"), "{body}");
    // Two attempts a minute: the third is refused before any password is hashed.
    let (status, body, _) = second
        .post(
            "/app/login",
            &[
                ("csrf", &token),
                ("email", "x@example.com"),
                ("password", "whatever1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.contains("too many attempts"), "{body}");
}

#[tokio::test]
async fn a_status_page_is_made_through_the_form_and_its_badges_are_offered() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.register(&unique_email()).await;
    let token = browser.token("/app/monitors/new").await;
    let (_, _, location) = browser
        .post(
            "/app/monitors/new",
            &[
                ("csrf", &token),
                ("url", "https://example.com/"),
                ("name", "Shop"),
            ],
        )
        .await;
    let id = location.rsplit('/').next().expect("id").to_owned();
    let (status, body, _) = browser
        .post(
            "/app/status-pages",
            &[("csrf", &token), ("slug", "Not A Slug"), ("title", "Acme")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains(r#"id="f-slug-error" data-field="slug">slug:"#),
        "{body}"
    );
    let form = [
        ("csrf", token.as_str()),
        ("slug", "acme"),
        ("title", "Acme <status>"),
        ("monitor_ids", id.as_str()),
    ];
    let (status, _, location) = browser.post("/app/status-pages", &form).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/app/status-pages")
    );
    let (_, body, _) = browser.get("/app/status-pages").await;
    assert!(body.contains("Acme &lt;status&gt;"), "{body}");
    assert!(
        body.contains(&format!("![status](/status/acme/badges/{id}/status.svg)")),
        "{body}"
    );
    // The same slug again: refused beside the field.
    let (status, body, _) = browser.post("/app/status-pages", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("data-field=\"slug\""), "{body}");
    // The page and its badge need no session.
    let public = app
        .client
        .get(app.url("/status/acme"))
        .send()
        .await
        .expect("get");
    assert_eq!(public.status(), StatusCode::OK);
    let badge = app
        .client
        .get(app.url(&format!("/status/acme/badges/{id}/status.svg")))
        .send()
        .await
        .expect("get");
    assert_eq!(badge.status(), StatusCode::OK);
    let start = body
        .find("action=\"/app/status-pages/")
        .expect("a delete form")
        + 8;
    let action = body[start..].split('"').next().expect("action").to_owned();
    let (status, _, _) = browser.post(&action, &[("csrf", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let gone = app
        .client
        .get(app.url("/status/acme"))
        .send()
        .await
        .expect("get");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn channels_are_made_and_deleted_through_the_form_with_the_apis_messages() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.register(&unique_email()).await;
    let token = browser.token("/app/channels").await;
    let (status, body, _) = browser
        .post(
            "/app/channels",
            &[
                ("csrf", &token),
                ("name", "ops"),
                ("kind", "email"),
                ("to", "not an address"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("data-field=\"to\""),
        "the API's message beside `to`: {body}"
    );
    let (status, _body, location) = browser
        .post(
            "/app/channels",
            &[
                ("csrf", &token),
                ("name", "ops <team>"),
                ("kind", "webhook"),
                ("url", "https://hooks.example.com/tocsin"),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/app/channels"),
        "{_body}"
    );
    let (_, body, _) = browser.get("/app/channels").await;
    assert!(body.contains("ops &lt;team&gt;"), "{body}");
    let start = body.find("action=\"/app/channels/").expect("a form") + 8;
    let test_action = body[start..].split('"').next().expect("action").to_owned();
    assert!(test_action.ends_with("/test"));
    let delete_action = test_action.replace("/test", "/delete");
    let (status, _, _) = browser.post(&delete_action, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = browser.post(&delete_action, &[("csrf", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, body, _) = browser.get("/app/channels").await;
    assert!(body.contains("No channels yet"));
}
