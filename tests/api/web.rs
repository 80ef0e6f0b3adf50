//! The web pages over real HTTP: sessions, CSRF, headers, escaping and form errors. (The
//! same in a real browser: tests/browser.)

use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};

use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_with, unique_email};

/// A browser of sorts: no redirects followed, cookies kept by hand.
pub struct Browser<'a> {
    app: &'a TestApp,
    client: Client,
    cookies: Vec<(String, String)>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let client = Client::builder()
            .redirect(Policy::none())
            .build()
            .expect("client");
        Self {
            app,
            client,
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().expect("ascii");
            let pair = text.split(';').next().expect("pair");
            let (name, value) = pair.split_once('=').expect("name=value");
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, path: &str) -> (StatusCode, String, reqwest::header::HeaderMap) {
        let response = self
            .client
            .get(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("get");
        self.keep(&response);
        let (status, headers) = (response.status(), response.headers().clone());
        (status, response.text().await.expect("body"), headers)
    }

    pub async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String, String) {
        let response = self
            .client
            .post(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("post");
        self.keep(&response);
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().expect("ascii").to_owned())
            .unwrap_or_default();
        (
            response.status(),
            response.text().await.expect("body"),
            location,
        )
    }

    /// The CSRF token in the page at `path`.
    pub async fn token(&mut self, path: &str) -> String {
        let (_, body, _) = self.get(path).await;
        let start = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        body[start..].split('"').next().expect("value").to_owned()
    }

    pub async fn register(&mut self, email: &str) {
        let token = self.token("/app/register").await;
        let (status, _, location) = self
            .post(
                "/app/register",
                &[("csrf", &token), ("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, "/app");
    }
}

#[tokio::test]
async fn visitors_are_sent_to_login_and_pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let (status, _, headers) = browser.get("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/app/login");
    let (status, _, headers) = browser.get("/app").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the dashboard needs a login");
    assert_eq!(headers[LOCATION], "/app/login");
    let (status, body, headers) = browser.get("/app/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("name=\"email\"") && body.contains("name=\"password\""));
    let csp = headers[CONTENT_SECURITY_POLICY].to_str().expect("ascii");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let (status, body, missing) = browser.get("/app/no-such-page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("page not found"), "{body}");
    assert!(missing.contains_key(CONTENT_SECURITY_POLICY));
    let cookie = headers[SET_COOKIE].to_str().expect("ascii");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_an_https_public_url() {
    let app = spawn_with(|s| {
        s.public_url = Some("https://status.example.com".parse().expect("url"));
    })
    .await;
    let mut browser = Browser::new(&app);
    let (_, _, headers) = browser.get("/app/login").await;
    assert!(
        headers[SET_COOKIE]
            .to_str()
            .expect("ascii")
            .contains("; Secure")
    );
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let email = unique_email();
    // Registering without the token made nothing.
    let (status, _, _) = browser
        .post(
            "/app/register",
            &[("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    browser.register(&email).await;
    for form in [
        vec![("url", "https://example.com/")],
        vec![("url", "https://example.com/"), ("csrf", "forged")],
    ] {
        let (status, body, _) = browser.post("/app/monitors/new", &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (_, body, _) = browser.get("/app").await;
    assert!(body.contains("No monitors yet"), "nothing was created");
    // The API agrees: the account exists and has no monitor.
    let token = app.login(&email).await;
    let list: serde_json::Value = app
        .get("/api/v1/monitors", &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["monitors"].as_array().map(Vec::len), Some(0), "{list}");
}

#[tokio::test]
async fn monitors_are_made_through_the_form_with_errors_beside_the_field_and_names_escaped() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.register(&unique_email()).await;
    let token = browser.token("/app/monitors/new").await;
    let (status, body, _) = browser
        .post(
            "/app/monitors/new",
            &[
                ("csrf", &token),
                ("url", "ftp://example.com"),
                ("interval_seconds", "60"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains(r#"id="f-url-error" data-field="url">url: scheme `ftp` is not supported"#),
        "{body}"
    );
    assert!(
        body.contains("value=\"ftp://example.com\""),
        "what was typed stays"
    );

    let name = "<img src=x onerror=alert(1)>";
    let (status, _, location) = browser
        .post(
            "/app/monitors/new",
            &[
                ("csrf", &token),
                ("url", "https://example.com/"),
                ("name", name),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("/app/monitors/"), "{location}");
    for path in ["/app", location.as_str()] {
        let (status, body, _) = browser.get(path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!body.contains(name), "{path} shows the name unescaped");
        assert!(
            body.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{path}"
        );
    }
    let (status, body, _) = browser
        .post(
            "/app/monitors/new",
            &[
                ("csrf", &token),
                ("url", "https://example.org/"),
                ("name", name),
            ],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT.max(StatusCode::UNPROCESSABLE_ENTITY)
    );
    assert!(
        body.contains(r#"data-field="name">name: a monitor named"#),
        "a taken name, beside the field: {body}"
    );
    let (_, body, _) = browser.get("/app?q=nothing-like-it").await;
    assert!(body.contains("No monitor matches"));
    let (_, body, _) = browser.get("/app?state=pending&q=EXAMPLE").await;
    assert!(body.contains("&lt;img"), "search ignores case");

    // Pause, then delete.
    let (status, _, _) = browser
        .post(&format!("{location}/pause"), &[("csrf", &token)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, body, _) = browser.get("/app?state=paused").await;
    assert!(body.contains("&lt;img"));
    let (status, _, _) = browser
        .post(&format!("{location}/delete"), &[("csrf", &token)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = browser.get(&location).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn logout_and_a_password_change_end_sessions_on_the_server() {
    let app = spawn_app().await;
    let email = unique_email();
    let mut first = Browser::new(&app);
    first.register(&email).await;
    let mut second = Browser::new(&app);
    let token = second.token("/app/login").await;
    let (status, _, _) = second
        .post(
            "/app/login",
            &[
                ("csrf", &token),
                ("email", &email),
                ("password", "wrong password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, location) = second
        .post(
            "/app/login",
            &[("csrf", &token), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/app"));

    // A password change through the first browser logs the second out.
    let token = first.token("/app/account").await;
    let (status, body, _) = first
        .post(
            "/app/account/password",
            &[
                ("csrf", &token),
                ("current_password", "not it"),
                ("new_password", "another good one"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("data-field=\"current_password\""), "{body}");
    let (status, _, _) = first
        .post(
            "/app/account/password",
            &[
                ("csrf", &token),
                ("current_password", PASSWORD),
                ("new_password", "another good one"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = second.get("/app").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the other session ended");
    let (status, _, _) = first.get("/app").await;
    assert_eq!(status, StatusCode::OK, "this browser got a new session");

    // Logout ends the session on the server: the old cookie no longer works.
    let stolen = first.cookies.clone();
    let token = first.token("/app").await;
    let (status, _, location) = first.post("/app/logout", &[("csrf", &token)]).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/app/login")
    );
    first.cookies = stolen;
    let (status, _, _) = first.get("/app").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_live_stream_tells_the_owner_only_and_ends_at_a_stop() {
    let app = spawn_app().await;
    let mut owner = Browser::new(&app);
    owner.register(&unique_email()).await;
    let mut other = Browser::new(&app);
    other.register(&unique_email()).await;
    let open = |browser: &Browser<'_>| {
        browser
            .client
            .get(app.url("/app/events"))
            .header(COOKIE, browser.cookie_header())
            .send()
    };
    let mut mine = open(&owner).await.expect("stream");
    let mut theirs = open(&other).await.expect("stream");
    assert_eq!(mine.status(), StatusCode::OK);
    assert_eq!(mine.headers()["content-type"], "text/event-stream");
    let token = owner.token("/app/monitors/new").await;
    let (status, _, _) = owner
        .post(
            "/app/monitors/new",
            &[("csrf", &token), ("url", "https://example.com/")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), mine.chunk())
        .await
        .expect("an event in time")
        .expect("read")
        .expect("a chunk");
    let text = String::from_utf8_lossy(&chunk);
    assert!(text.contains("event: list"), "{text}");
    let nothing = tokio::time::timeout(std::time::Duration::from_millis(300), theirs.chunk()).await;
    assert!(nothing.is_err(), "another account hears nothing");

    // A stop ends the stream at once, rather than after the 10 s drain.
    drop((owner, other));
    let started = std::time::Instant::now();
    drop(app);
    let end = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Ok(Some(_)) = mine.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream ended within 5 s");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
