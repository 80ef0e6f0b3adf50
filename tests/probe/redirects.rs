//! Following redirects: the hop limit, method rewriting and credentials across origins.

use tocsin::check::FailureKind;
use tocsin::monitor::MonitorDraft;

use crate::target::Target;
use crate::{failed, headers, open_probe, spec, spec_with, up};

#[tokio::test]
async fn five_redirects_are_followed() {
    let target = Target::http().await;
    let result = open_probe().check(&spec(&target.url("/redirect/5"))).await;
    up(&result);
    assert_eq!(result.status_code, Some(200));
    assert_eq!(target.requests("/redirect/"), 6);
    assert_eq!(target.connections(), 6, "a fresh connection per hop");
}

#[tokio::test]
async fn a_sixth_redirect_fails_status() {
    let target = Target::http().await;
    let result = open_probe().check(&spec(&target.url("/redirect/6"))).await;
    let message = failed(&result, FailureKind::Status);
    assert!(
        message.to_lowercase().contains("more than 5 redirects"),
        "{message}"
    );
    assert_eq!(result.status_code, Some(302));
    assert_eq!(target.requests("/redirect/"), 6);
}

#[tokio::test]
async fn without_following_the_redirect_is_the_answer() {
    let target = Target::http().await;
    let spec = spec_with(
        &target.url("/redirect/1"),
        MonitorDraft {
            follow_redirects: Some(false),
            ..Default::default()
        },
    );
    let result = open_probe().check(&spec).await;
    up(&result);
    assert_eq!(result.status_code, Some(302));
    assert_eq!(target.requests("/redirect/0"), 0);
}

fn post_via(
    target: &Target,
    code: u16,
    keyword: &str,
    extra: &[(&str, &str)],
) -> tocsin::monitor::MonitorSpec {
    spec_with(
        &target.url(&format!("/to?code={code}&url={}", target.url("/echo"))),
        MonitorDraft {
            method: Some("POST".into()),
            body: Some("data".into()),
            keyword: Some(keyword.into()),
            headers: headers(extra),
            ..Default::default()
        },
    )
}

#[tokio::test]
async fn a_303_turns_a_post_into_a_get_without_body() {
    let target = Target::http().await;
    up(&open_probe()
        .check(&post_via(
            &target,
            303,
            "GET x-probe=- auth=false others= body=",
            &[],
        ))
        .await);
    failed(
        &open_probe()
            .check(&post_via(&target, 303, "body=data", &[]))
            .await,
        FailureKind::Keyword,
    );
}

#[tokio::test]
async fn a_307_keeps_the_method_and_body() {
    let target = Target::http().await;
    up(&open_probe()
        .check(&post_via(
            &target,
            307,
            "POST x-probe=- auth=false others= body=data",
            &[],
        ))
        .await);
}

#[tokio::test]
async fn user_headers_stay_on_the_same_origin() {
    let target = Target::http().await;
    let creds = [
        ("Authorization", "Bearer x"),
        ("X-Probe", "kept"),
        ("X-Api-Key", "k"),
        ("Proxy-Authorization", "Basic eA=="),
    ];
    up(&open_probe()
        .check(&post_via(
            &target,
            307,
            "x-probe=kept auth=true others=proxy-authorization,x-api-key",
            &creds,
        ))
        .await);

    // localhost and 127.0.0.1 are different origins on the same server: not one of the
    // headers the user set goes there, whatever its name.
    let other = format!("http://localhost:{}/echo", target.addr.port());
    let spec = spec_with(
        &target.url(&format!("/to?url={other}")),
        MonitorDraft {
            keyword: Some("x-probe=- auth=false others= body=".into()),
            headers: headers(&creds),
            ..Default::default()
        },
    );
    up(&open_probe().check(&spec).await);
}

#[tokio::test]
async fn credentials_in_the_url_are_sent_as_basic_auth_to_their_origin_only() {
    let target = Target::http().await;
    let with_userinfo = |path: &str| {
        target
            .url(path)
            .replacen("http://", "http://ada:secret@", 1)
    };
    let same = spec_with(
        &with_userinfo("/echo"),
        MonitorDraft {
            keyword: Some("auth=true".into()),
            ..Default::default()
        },
    );
    assert!(
        !same.target().as_str().contains("secret"),
        "not kept in the URL"
    );
    up(&open_probe().check(&same).await);

    let other = format!("http://localhost:{}/echo", target.addr.port());
    let away = spec_with(
        &with_userinfo(&format!("/to?url={other}")),
        MonitorDraft {
            keyword: Some("auth=false".into()),
            ..Default::default()
        },
    );
    up(&open_probe().check(&away).await);
}

#[tokio::test]
async fn a_redirect_to_another_scheme_fails_status() {
    let target = Target::http().await;
    let result = open_probe()
        .check(&spec(&target.url("/to?url=ftp://example.com/file")))
        .await;
    let message = failed(&result, FailureKind::Status);
    assert!(message.contains("ftp"), "{message}");
}

#[tokio::test]
async fn a_relative_location_resolves_against_the_current_url() {
    let target = Target::http().await;
    let result = open_probe()
        .check(&spec(&target.url("/to?url=../ok")))
        .await;
    up(&result);
    assert_eq!(target.requests("/ok"), 1);
}
