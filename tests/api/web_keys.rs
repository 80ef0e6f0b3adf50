//! API keys on the account page: made through the form, shown once, listed without the key,
//! revoked through the form, and nothing changed by a post without the CSRF token.

use reqwest::{Client, StatusCode};

use crate::helpers::{TestApp, spawn_app, unique_email};
use crate::web::Browser;

async fn monitors_with(app: &TestApp, key: &str) -> StatusCode {
    Client::new()
        .get(app.url("/api/v1/monitors"))
        .bearer_auth(key)
        .send()
        .await
        .expect("monitors")
        .status()
}

/// The key shown on the page, from its `data-api-key` element.
fn shown_key(body: &str) -> String {
    let start = body.find("data-api-key>").expect("the new key shown") + "data-api-key>".len();
    body[start..].split('<').next().expect("key").to_owned()
}

/// The revoke form's action for the first key listed.
fn revoke_path(body: &str) -> String {
    let start = body.find("/app/account/api-keys/").expect("a revoke form");
    body[start..].split('"').next().expect("action").to_owned()
}

#[tokio::test]
async fn a_key_made_on_the_account_page_works_until_revoked_there() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.register(&unique_email()).await;
    let token = browser.token("/app/account").await;

    let (status, body, _) = browser
        .post(
            "/app/account/api-keys",
            &[
                ("csrf", &token),
                ("name", "ci <b>"),
                ("scope", "read"),
                ("expires_in_days", "0"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains(r#"id="f-expires_in_days-error" data-field="expires_in_days">expires_in_days: must be from 1"#),
        "the service's message beside its field: {body}"
    );
    assert!(
        body.contains("ci &lt;b&gt;"),
        "the name typed is kept, escaped"
    );
    let (status, body, _) = browser
        .post(
            "/app/account/api-keys",
            &[("csrf", &token), ("name", "ci"), ("scope", "admin")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains(r#"data-field="scope">scope: must be read or write"#),
        "{body}"
    );

    let (status, body, _) = browser
        .post(
            "/app/account/api-keys",
            &[
                ("csrf", &token),
                ("name", "ci <b>"),
                ("scope", "read"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("it is not shown again"), "{body}");
    let key = shown_key(&body);
    assert!(key.len() > 20, "a key: {key}");
    assert_eq!(monitors_with(&app, &key).await, StatusCode::OK);

    let (status, page, _) = browser.get("/app/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("ci &lt;b&gt;") && page.contains(">read<"),
        "{page}"
    );
    assert!(!page.contains(&key), "the key is never listed");
    assert!(!page.contains("data-api-key"), "the key is shown once only");
    let revoke = revoke_path(&page);

    let (status, _, _) = browser.post(&revoke, &[("csrf", "forged")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = browser.post(&revoke, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        monitors_with(&app, &key).await,
        StatusCode::OK,
        "a post without the CSRF token changes nothing"
    );
    let (status, _, _) = browser
        .post(
            "/app/account/api-keys",
            &[("name", "sneaky"), ("scope", "write")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, page, _) = browser.get("/app/account").await;
    assert!(!page.contains("sneaky"), "no key made without the token");

    let (status, _, location) = browser.post(&revoke, &[("csrf", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/app/account#api-keys");
    assert_eq!(monitors_with(&app, &key).await, StatusCode::UNAUTHORIZED);
    let (_, page, _) = browser.get("/app/account").await;
    assert!(page.contains("No API keys yet."), "{page}");
}
