//! `tocsin check URL` run as the real binary: output, JSON and exit status.

use std::process::Output;

use crate::target::Target;

/// Runs on a blocking thread, as the target server shares the test's single-threaded runtime.
async fn tocsin_check(args: &[&str]) -> Output {
    tocsin_check_with(args, &[("TOCSIN_ALLOW_PRIVATE_TARGETS", "true")]).await
}

/// `tocsin check` with exactly these `TOCSIN_*` variables.
async fn tocsin_check_with(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let envs: Vec<(String, String)> = envs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || run(&args, &envs))
        .await
        .expect("tocsin ran")
}

fn run(args: &[String], envs: &[(String, String)]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tocsin"));
    command.arg("check").args(args).current_dir(dir.path());
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("TOCSIN_")) {
        command.env_remove(name);
    }
    command.envs(envs.iter().map(|(k, v)| (k, v)));
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
    assert!(stderr.contains("tocsin: URL: "), "{stderr}");
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
async fn allow_private_lets_a_local_server_be_checked() {
    let target = Target::http().await;
    let url = target.url("/ok");
    let refused = tocsin_check_with(&[&url], &[]).await;
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--allow-private"), "{stderr}");
    let allowed = tocsin_check_with(&["--allow-private", &url], &[]).await;
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed.stderr));
    assert_eq!(target.requests("/ok"), 1);
}

#[tokio::test]
async fn errors_name_the_flag_and_exit_two() {
    let target = Target::http().await;
    let url = target.url("/ok");
    for (args, flag) in [
        (vec!["--timeout-ms", "5", url.as_str()], "--timeout-ms"),
        (
            vec!["--expected-status", "abc", url.as_str()],
            "--expected-status",
        ),
        (vec!["--method", "BREW", url.as_str()], "--method"),
        (vec!["-H", "no colon", url.as_str()], "--header"),
    ] {
        let output = tocsin_check(&args).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("interval") && !stderr.contains("timeout_ms"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(target.requests("/ok"), 0);
}

#[tokio::test]
async fn a_configuration_error_exits_two_and_unused_settings_are_not_read() {
    let target = Target::http().await;
    let url = target.url("/ok");
    let bad = tocsin_check_with(&[&url], &[("TOCSIN_ALLOW_PRIVATE_TARGETS", "perhaps")]).await;
    let stderr = text(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("TOCSIN_ALLOW_PRIVATE_TARGETS"), "{stderr}");
    // Settings only the server reads cannot stop a check.
    let unused = tocsin_check_with(
        &["--allow-private", &url],
        &[
            ("TOCSIN_JWT_SECRET", "short"),
            ("TOCSIN_DATABASE_URL", "mysql://nowhere"),
            ("TOCSIN_RETENTION", "forever"),
        ],
    )
    .await;
    assert_eq!(unused.status.code(), Some(0), "{}", text(&unused.stderr));
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
        stderr.contains("tocsin: --condition: condition 1"),
        "{stderr}"
    );
}
