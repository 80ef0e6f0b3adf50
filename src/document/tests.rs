use super::*;

const GOOD: &str = "\
# the team's monitors
monitors:
  api:
    url: https://api.example.com/health
    interval_seconds: 30
    conditions:
      - \"[STATUS] == 200\"
      - \"[BODY].status == UP\"
  \"db port\":
    url: tcp://db.example.com:5432
    paused: true
";

#[test]
fn a_yaml_document_reads_with_the_lines_of_its_monitors_and_fields() {
    let document = Document::from_yaml(GOOD).expect("parses");
    assert_eq!(document.monitors.len(), 2);
    let api = &document.monitors["api"];
    assert_eq!(api.interval_seconds, Some(30));
    assert_eq!(api.conditions.as_ref().map(Vec::len), Some(2));
    assert_eq!(document.monitors["db port"].paused, Some(true));
    assert_eq!(document.locate("api", None), Some(3));
    assert_eq!(document.locate("api", Some("interval_seconds")), Some(5));
    assert_eq!(document.locate("api", Some("conditions")), Some(6));
    assert_eq!(document.locate("db port", Some("paused")), Some(11));
    // A field not written points at its monitor.
    assert_eq!(document.locate("api", Some("timeout_ms")), Some(3));
}

#[test]
fn errors_name_the_monitor_the_field_and_the_line() {
    let wrong_type = GOOD.replace("interval_seconds: 30", "interval_seconds: soon");
    let error = Document::from_yaml(&wrong_type).expect_err("refused");
    let text = error.to_string();
    assert!(
        text.starts_with("monitor `api`, field `interval_seconds` (line 5): "),
        "{text}"
    );
    let unknown = GOOD.replace("interval_seconds: 30", "intervall: 30");
    let text = Document::from_yaml(&unknown)
        .expect_err("refused")
        .to_string();
    assert!(text.contains("monitor `api`, field `intervall`"), "{text}");
    assert!(text.contains("line 5"), "{text}");
    let missing = "monitors:\n  api:\n    interval_seconds: 30\n";
    let text = Document::from_yaml(missing)
        .expect_err("refused")
        .to_string();
    assert!(
        text.contains("monitor `api`") && text.contains("url"),
        "{text}"
    );
    assert!(!text.contains("monitors.api"), "{text}");
    let broken = "monitors:\n  api:\n    url: \"unterminated\n";
    let text = Document::from_yaml(broken)
        .expect_err("refused")
        .to_string();
    assert!(
        text.contains("monitor `api`, field `url` (line 4)"),
        "{text}"
    );
    let error = Document::from_yaml("monitors: [1, 2]\n").expect_err("refused");
    assert!(
        matches!(error, DocumentError::Syntax { line: Some(1), .. }),
        "{error}"
    );
    let top = "monitor:\n  api: {}\n";
    let text = Document::from_yaml(top).expect_err("refused").to_string();
    assert!(text.contains("monitor"), "{text}");
}

#[test]
fn json_reads_too_and_documents_round_trip() {
    let json = serde_json::json!({"monitors": {"api": {"url": "https://a.example/"}}});
    let document = Document::from_json(json).expect("parses");
    assert_eq!(document.monitors["api"].url, "https://a.example/");
    let text = Document::from_json(serde_json::json!({"monitors": {"api": {"url": 5}}}))
        .expect_err("refused")
        .to_string();
    assert!(text.starts_with("monitor `api`, field `url`: "), "{text}");
    let text = Document::from_yaml("{\"monitors\": {\"api\": {\"url\": 5}}}")
        .expect_err("refused")
        .to_string();
    assert!(
        text.starts_with("monitor `api`, field `url` (line 1): "),
        "{text}"
    );
    assert!(!text.contains("column"), "{text}");
    let trailing = Document::from_yaml("{\"monitors\": {}} x").expect_err("refused");
    assert!(
        matches!(trailing, DocumentError::Syntax { line: Some(1), .. }),
        "{trailing}"
    );
    let parsed = Document::from_yaml(GOOD).expect("parses");
    for format in [Format::Yaml, Format::Json] {
        let text = parsed.render(format).expect("renders");
        let again = Document::from_yaml(&text).expect("reads back");
        assert_eq!(again.monitors, parsed.monitors, "{text}");
    }
}

const WITH_CHANNELS: &str = "\
channels:
  ops:
    kind: webhook
    url: https://hooks.example.com/in
    secret: ${OPS_SECRET}
monitors:
  api:
    url: https://api.example.com/health
    channels: [ops]
";

#[test]
fn channels_read_with_their_kind_and_settings() {
    let document = Document::from_yaml(WITH_CHANNELS).expect("parses");
    let channels = document.channels.as_ref().expect("a channels section");
    let ops = &channels["ops"];
    assert_eq!(ops.kind, "webhook");
    assert_eq!(ops.settings["url"], "https://hooks.example.com/in");
    assert_eq!(ops.settings["secret"], "${OPS_SECRET}");
    // A document without the section leaves the account's channels alone.
    assert_eq!(Document::from_yaml(GOOD).expect("parses").channels, None);
}

#[test]
fn bad_channel_entries_are_refused_naming_the_channel_and_field() {
    let cases = [
        (
            WITH_CHANNELS.replace("kind: webhook", "kind: pigeon"),
            "channel `ops`, field `kind`",
        ),
        (
            WITH_CHANNELS.replace("    kind: webhook\n", ""),
            "channel `ops`: missing field `kind`",
        ),
        (
            WITH_CHANNELS.replace("  ops:", "  \" ops\":"),
            "channel ` ops`",
        ),
        (
            WITH_CHANNELS.replace("kind: webhook", "kind: webhook\n    name: other"),
            "channel `ops`, field `name`",
        ),
        (
            WITH_CHANNELS.replace("kind: webhook", "kind: [1]"),
            "channel `ops`",
        ),
    ];
    for (text, expected) in cases {
        let error = Document::from_yaml(&text).expect_err("refused").to_string();
        assert!(error.starts_with(expected), "{expected}: {error}");
    }
}
