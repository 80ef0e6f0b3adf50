//! The monitors-as-code commands of the real binary: the README's session run verbatim, the
//! exit codes of `apply`, `export`, and `import` of real Gatus and Uptime Kuma files.

use std::path::Path;
use std::process::{Command, Output};

use crate::binary::{BINARY, Server};

/// The text of the README block that follows `marker`, between its fences.
fn readme_block(marker: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let after = readme
        .split_once(marker)
        .unwrap_or_else(|| panic!("README has no {marker}"))
        .1;
    let start = after.find("```").expect("a block after the marker");
    let body = &after[start..];
    let body = &body[body.find('\n').expect("fence line") + 1..];
    body[..body.find("```").expect("closing fence")].to_owned()
}

/// Runs `tocsin args…` in `dir` against `server` with `key`.
fn tocsin(dir: &Path, server: &Server, key: &str, args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .env("TOCSIN_SERVER", format!("http://{}", server.addr))
        .env("TOCSIN_API_KEY", key)
        .output()
        .expect("tocsin runs")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_readme_monitors_as_code_session_runs_verbatim() {
    let server = Server::start(&[]);
    let script = readme_block("<!-- as-code-script -->").replace("127.0.0.1:8080", &server.addr);
    let expected = readme_block("<!-- as-code-output -->");
    let work = tempfile::TempDir::new().expect("dir");
    let bin = Path::new(BINARY).parent().expect("binary folder");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("sh")
        // Then the sentence after it: applying the file again changes nothing.
        .args([
            "-c",
            &format!("set -e\nexec 2>&1\n{script}\ntocsin apply -f monitors.yaml"),
        ])
        .current_dir(work.path())
        .env("PATH", path)
        .env_remove("TOCSIN_SERVER")
        .env_remove("TOCSIN_API_KEY")
        .output()
        .expect("sh runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}");
    let again = "0 to create, 0 to update, 0 to delete, 3 unchanged (nothing to do)\n";
    assert_eq!(printed, format!("{expected}{again}"));
    server.terminate_quietly();
}

#[test]
fn apply_and_export_exit_codes_say_what_happened() {
    let server = Server::start(&[]);
    let dir = tempfile::TempDir::new().expect("dir");
    let token = server.token("codes@example.com");
    let key = server.api_key(&token, "write");
    let read_key = server.api_key(&token, "read");
    std::fs::write(
        dir.path().join("good.yaml"),
        "monitors:\n  web:\n    url: https://web.example.com/\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("bad.yaml"),
        "monitors:\n  web:\n    url: https://web.example.com/\n    interval_seconds: 1\n",
    )
    .expect("write");

    let applied = tocsin(dir.path(), &server, &key, &["apply", "-f", "good.yaml"]);
    assert_eq!(applied.status.code(), Some(0), "{applied:?}");
    assert!(String::from_utf8_lossy(&applied.stdout).starts_with("+ web\n"));
    let again = tocsin(dir.path(), &server, &key, &["apply", "-f", "good.yaml"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).contains("1 unchanged (nothing to do)"));

    let invalid = tocsin(dir.path(), &server, &key, &["apply", "-f", "bad.yaml"]);
    assert_eq!(invalid.status.code(), Some(2), "{invalid:?}");
    let stderr = String::from_utf8_lossy(&invalid.stderr);
    assert!(
        stderr.contains("monitor `web`, field `interval_seconds` (line 4)"),
        "{stderr}"
    );
    let missing = tocsin(dir.path(), &server, &key, &["apply", "-f", "nope.yaml"]);
    assert_eq!(missing.status.code(), Some(2));

    let read_only = tocsin(
        dir.path(),
        &server,
        &read_key,
        &["apply", "-f", "good.yaml"],
    );
    assert_eq!(read_only.status.code(), Some(1), "{read_only:?}");
    assert!(String::from_utf8_lossy(&read_only.stderr).contains("read_only_key"));
    let dry = tocsin(
        dir.path(),
        &server,
        &read_key,
        &["apply", "-f", "good.yaml", "--dry-run", "--prune"],
    );
    assert_eq!(dry.status.code(), Some(0), "a read key may plan");

    let exported = tocsin(dir.path(), &server, &read_key, &["export"]);
    assert_eq!(exported.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&exported.stdout),
        "monitors:\n  web:\n    url: https://web.example.com/\n"
    );
    let unknown = tocsin(dir.path(), &server, "tcn_unknown", &["export"]);
    assert_eq!(unknown.status.code(), Some(1));
    server.terminate_quietly();

    let gone = Command::new(BINARY)
        .args(["export", "--server", "http://127.0.0.1:9"])
        .env("TOCSIN_API_KEY", &key)
        .output()
        .expect("runs");
    assert_eq!(gone.status.code(), Some(1), "{gone:?}");
}

#[test]
fn imports_of_real_files_print_a_document_and_name_what_is_left_out() {
    for (from, file, monitor, note) in [
        (
            "gatus",
            "gatus.yaml",
            "front-end:",
            "not carried over: the `alerting` section",
        ),
        (
            "uptime-kuma",
            "uptime-kuma.json",
            "Postgres port:",
            "not carried over: monitor `Router`: type `ping`",
        ),
    ] {
        let output = Command::new(BINARY)
            .args(["import", "--from", from])
            .arg(root().join("tests/import").join(file))
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.starts_with("monitors:\n"), "{stdout}");
        assert!(stdout.contains(monitor), "{stdout}");
        assert!(String::from_utf8_lossy(&output.stderr).contains(note));
    }
    let wrong = Command::new(BINARY)
        .args(["import", "--from", "uptime-kuma"])
        .arg(root().join("tests/import/gatus.yaml"))
        .output()
        .expect("runs");
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("not JSON"));
}

#[test]
fn apply_takes_channel_secrets_from_its_environment() {
    let server = Server::start(&[]);
    let dir = tempfile::TempDir::new().expect("dir");
    let token = server.token("secrets@example.com");
    let key = server.api_key(&token, "write");
    std::fs::write(
        dir.path().join("channels.yaml"),
        readme_block("<!-- as-code-channels -->"),
    )
    .expect("write");
    let apply = |secret: Option<&str>| {
        let mut command = Command::new(BINARY);
        command
            .args(["apply", "-f", "channels.yaml"])
            .current_dir(dir.path())
            .env("TOCSIN_SERVER", format!("http://{}", server.addr))
            .env("TOCSIN_API_KEY", &key)
            .env_remove("OPS_WEBHOOK_SECRET");
        if let Some(secret) = secret {
            command.env("OPS_WEBHOOK_SECRET", secret);
        }
        command.output().expect("tocsin runs")
    };

    // Not set: nothing is sent, and the error names the variable and the channel.
    let missing = apply(None);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("`OPS_WEBHOOK_SECRET`"), "{stderr}");
    assert!(stderr.contains("channel `ops`"), "{stderr}");

    let applied = apply(Some("from-the-environment"));
    assert_eq!(applied.status.code(), Some(0), "{applied:?}");
    let stdout = String::from_utf8_lossy(&applied.stdout);
    assert!(stdout.starts_with("+ channel ops\n+ api\n"), "{stdout}");
    assert!(!stdout.contains("from-the-environment"), "{stdout}");
    // The same secret again: nothing to do.
    let again = apply(Some("from-the-environment"));
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains("channels: 0 to create, 0 to update, 0 to delete, 1 unchanged"),
        "{stdout}"
    );
    assert!(stdout.contains("(nothing to do)"), "{stdout}");
    // The export writes the secret as a reference.
    let export = tocsin(dir.path(), &server, &key, &["export"]);
    let exported = String::from_utf8_lossy(&export.stdout);
    assert!(exported.contains("${TOCSIN_OPS_SECRET}"), "{exported}");
    assert!(!exported.contains("from-the-environment"), "{exported}");
    server.terminate_quietly();
}
