//! `tocsin check URL` run as the real binary: output, JSON and exit status.

use std::process::Output;

use crate::target::Target;

/// Runs on a blocking thread, as the target server shares the test's single-threaded runtime.
async fn tocsin_check(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || run(&args))
        .await
        .expect("tocsin ran")
}

fn run(args: &[String]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("tocsin.db").display());
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tocsin"));
    command
        .arg("check")
        .args(args)
        .env("TOCSIN_ALLOW_PRIVATE_TARGETS", "true")
        .env("TOCSIN_DATABASE_URL", database)
        .env_remove("TOCSIN_LISTEN");
    command.output().expect("run tocsin")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn check_prints_the_phases_and_exits_zero_when_up() {
    let target = Target::http().await;
    let url = target.url("/ok");
    let output = tocsin_check(&[&url]).await;
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    for line in [
        "url: http://127.0.0.1",
        "dns: -",
        "connect: ",
        "tls: -",
        "ttfb: ",
        "total: ",
        "status: 200",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from:\n{stdout}");
    }
    assert!(stdout.contains(" ms\n"), "{stdout}");
    assert!(stdout.contains("result: up"), "{stdout}");
    assert!(!stdout.contains("cert expires"), "{stdout}");
    assert_eq!(target.requests("/ok"), 1);
}

#[tokio::test]
async fn check_json_reports_a_failure_and_exits_one() {
    let target = Target::http().await;
    let url = target.url("/status/500");
    let output = tocsin_check(&["--json", &url]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(json["ok"], false);
    assert_eq!(json["status_code"], 500);
    assert_eq!(json["error"]["kind"], "status");
    assert!(
        json["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("500"))
    );
    assert!(json["latency_ms"].as_f64().is_some());
    assert!(json["connect_ms"].as_f64().is_some());
    assert!(json["dns_ms"].is_null() && json["tls_ms"].is_null());
    assert!(json["cert_expires_at"].is_null());
    let checked_at = json["checked_at"].as_str().expect("checked_at");
    assert!(
        chrono::DateTime::parse_from_rfc3339(checked_at).is_ok(),
        "{checked_at}"
    );
}

#[tokio::test]
async fn check_passes_method_headers_and_keyword() {
    let target = Target::http().await;
    let url = target.url("/echo");
    let output = tocsin_check(&[
        "--method",
        "delete",
        "-H",
        "X-Probe: from cli",
        "--keyword",
        "DELETE x-probe=from cli",
        "--timeout-ms",
        "2000",
        &url,
    ])
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let output = tocsin_check(&["--keyword", "absent", &url]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).contains("result: down (keyword: "),
        "{}",
        text(&output.stdout)
    );
}

#[tokio::test]
async fn check_refuses_a_bad_url_with_exit_two() {
    let output = tocsin_check(&["ftp://x"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("tocsin: url: "), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn check_over_https_shows_the_certificate_line() {
    let (target, _identity) = Target::https().await;
    let url = target.https_url("/ok");
    let output = tocsin_check(&[&url]).await;
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("cert expires: -"), "{stdout}");
    assert!(stdout.contains("result: down (tls: "), "{stdout}");
}

#[tokio::test]
async fn check_takes_tcp_and_dns_urls_and_conditions() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let url = format!("tcp://127.0.0.1:{port}");
    let output = tocsin_check(&[&url]).await;
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("url: tcp://127.0.0.1:"), "{stdout}");
    assert!(
        stdout.contains("status: -") && stdout.contains("result: up"),
        "{stdout}"
    );

    let server = crate::dns::DnsServer::start().await;
    let url = server.url("example.test", "A");
    let output = tocsin_check(&["-c", "[BODY] == pat(*192.0.2.11*)", &url]).await;
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("rcode: NOERROR"), "{stdout}");
    assert!(
        stdout.contains("answer: 192.0.2.10, 192.0.2.11"),
        "{stdout}"
    );

    let output = tocsin_check(&["--json", "-c", "[DNS_RCODE] == NXDOMAIN", &url]).await;
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(json["check_kind"], "dns");
    assert_eq!(json["dns_rcode"], "NOERROR");
    assert_eq!(json["dns_answer"][1], "192.0.2.11");
    assert_eq!(json["error"]["kind"], "condition");

    let output = tocsin_check(&["-c", "[STATUS] = 200", &url]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("tocsin: conditions: condition 1"),
        "{stderr}"
    );
}
