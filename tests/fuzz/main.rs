//! A bounded fuzzer for the parsers clients and operators reach: monitor bodies (JSON into
//! `MonitorDraft`, `MonitorPatch`, then `MonitorSpec`), target URLs, emails and passwords,
//! setting values (networks, proxies, database and Redis URLs, status ranges, headers), and
//! monitor documents with the Gatus and Uptime Kuma imports.
//!
//! Inputs are mutations of a corpus of real inputs (characters inserted, removed, replaced,
//! spliced with tokens that parsers treat specially), plus random bytes. Besides "no
//! panic", it checks two properties: a parsed target reads back as itself, and a monitor
//! reads back from its stored form (what the store does on every read).
//!
//! `cargo test --test fuzz` runs it for 2 seconds; `.ci/run` gives it longer through
//! `TOCSIN_TEST_FUZZ_SECONDS`. A failure prints the seed and the input.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::SecretString;
use tocsin::auth::{Email, Password};
use tocsin::config::{DatabaseUrl, Networks, RedisUrl, TrustedProxies};
use tocsin::document::{Document, Format, import};
use tocsin::monitor::{
    Headers, MonitorDraft, MonitorPatch, MonitorSpec, Rules, StatusRanges, Target,
};

const CORPUS: &[&str] = &[
    r#"{"url": "https://example.com/health", "interval_seconds": 30}"#,
    r#"{"name": "api", "url": "http://93.184.216.34:8080/x?y=1", "method": "post", "timeout_ms": 5000, "expected_status": "200-299,301", "keyword": "ok", "follow_redirects": false, "headers": {"X-Token": "abc"}, "body": "{}"}"#,
    r#"{"url": "https://user:pa%3Ass@example.com/", "headers": {"Accept": "text/html"}}"#,
    r#"{"interval_seconds": null, "timeout_ms": null, "name": null, "headers": null}"#,
    "https://www.google.com",
    "http://[::ffff:127.0.0.1]:80/",
    "http://0x7f000001/",
    "http://xn--nxasmq6b.example/%F0%9F%98%80",
    "elahe.dstn@gmail.com",
    "10.0.5.0/24,fd12::/64",
    "127.0.0.1, 10.0.0.0/8",
    "postgres://tocsin:secret@db1:5432,db2:5432/tocsin?target_session_attrs=read-write",
    "sqlite:///var/lib/tocsin.db",
    "redis://:pw@127.0.0.1:6379/2",
    "200-399,404",
    "monitors:\n  api:\n    url: https://api.example.com/\n    interval_seconds: 30\n    conditions:\n      - \"[STATUS] == 200\"\n  'db port':\n    url: tcp://db.example.com:5432\n    paused: true\n",
    "endpoints:\n  - name: web\n    group: core\n    url: https://example.com/\n    interval: 5m\n    conditions: [\"[BODY].x == any(a, b)\"]\n    alerts:\n      - type: slack\n        failure-threshold: 3\n  - name: dns\n    url: 8.8.8.8\n    dns: {query-name: example.org, query-type: MX}\n",
    r#"{"version": "1.23.0", "monitorList": [{"name": "w", "type": "keyword", "url": "https://example.com/", "keyword": "ok", "interval": 60, "timeout": 48, "maxretries": 2, "accepted_statuscodes": ["200-299"], "headers": "{\"A\": \"b\"}", "active": 0}, {"name": "d", "type": "dns", "hostname": "example.com", "dns_resolve_server": "1.1.1.1", "dns_resolve_type": "TXT", "port": 5353}]}"#,
];

/// Tokens that parsers treat specially, spliced into inputs.
const TOKENS: &[&str] = &[
    "://",
    "@",
    ":",
    "/",
    "[",
    "]",
    "%",
    "%00",
    "%zz",
    "::ffff:",
    "0x",
    "..",
    "\\",
    "?",
    "#",
    "\"",
    "{",
    "}",
    ",",
    "-",
    "null",
    "1e999",
    "-1",
    "4294967296",
    "\u{0}",
    "\r\n",
    "é",
    "😀",
    "\u{202e}",
    "xn--",
    "localhost",
    "0",
    "65536",
    "true",
    "[]",
    "{}",
];

fn mutate(rng: &mut StdRng, input: &str) -> String {
    let mut chars: Vec<char> = input.chars().collect();
    for _ in 0..rng.random_range(1..6) {
        let at = rng.random_range(0..=chars.len());
        match rng.random_range(0..5) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                chars.splice(at..at, token.chars());
            }
            2 if at < chars.len() => {
                chars[at] = char::from_u32(rng.random_range(0..0x800)).unwrap_or('x');
            }
            3 => {
                let repeat = rng.random_range(1..600);
                let c = chars.get(at).copied().unwrap_or('a');
                chars.splice(at..at, std::iter::repeat_n(c, repeat));
            }
            _ => {
                let end = rng.random_range(at..=chars.len());
                let slice: Vec<char> = chars[at..end].to_vec();
                chars.splice(at..at, slice);
            }
        }
    }
    chars.into_iter().collect()
}

fn input(rng: &mut StdRng) -> String {
    if rng.random_bool(0.1) {
        let len = rng.random_range(0..64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let seed = CORPUS[rng.random_range(0..CORPUS.len())];
    mutate(rng, seed)
}

const OPEN: Rules = Rules {
    min_interval_secs: 1,
    allow_private_targets: true,
    private_networks: Networks::NONE,
};

fn exercise(raw: &str) {
    // Monitor bodies, as the API reads them.
    if let Ok(draft) = serde_json::from_str::<MonitorDraft>(raw) {
        for rules in [OPEN, Rules::STORED] {
            if let Ok(spec) = MonitorSpec::parse(draft.clone(), &rules) {
                let again = MonitorSpec::parse(spec.to_draft(), &Rules::STORED)
                    .unwrap_or_else(|e| panic!("a valid monitor does not read back: {e}"));
                assert_eq!(again, spec, "a monitor changes when read back");
            }
        }
    }
    if let Ok(patch) = serde_json::from_str::<MonitorPatch>(raw) {
        let base = MonitorDraft {
            url: "https://example.com/".into(),
            ..MonitorDraft::default()
        };
        if let Ok(draft) = patch.apply(base) {
            let _ = MonitorSpec::parse(draft, &OPEN);
        }
    }
    // Targets, as a monitor's URL.
    for allow in [false, true] {
        if let Ok(target) = Target::parse(raw, allow) {
            let (target, _) = target.split_credentials();
            let again = Target::parse(target.as_str(), true)
                .unwrap_or_else(|e| panic!("{target} does not parse again: {e}"));
            assert_eq!(again, target, "normalising is not idempotent");
        }
    }
    // Accounts.
    let _ = Email::parse(raw);
    let _ = Password::parse(SecretString::from(raw.to_owned()));
    // Setting values and monitor fields.
    let _ = Networks::try_from(raw.to_owned());
    let _ = TrustedProxies::try_from(raw.to_owned());
    let _ = DatabaseUrl::try_from(raw.to_owned()).map(|url| url.to_string());
    let _ = RedisUrl::try_from(raw.to_owned()).map(|url| url.to_string());
    let _ = tocsin::config::redact(raw);
    if let Ok(ranges) = raw.parse::<StatusRanges>() {
        assert_eq!(
            ranges.to_string().parse::<StatusRanges>().ok(),
            Some(ranges)
        );
    }
    // Documents (apply) and imports: a document that parses renders and reads back as
    // itself, and so does every converted configuration.
    let documents = [
        Document::from_yaml(raw).ok(),
        import::gatus(raw).ok().map(|i| i.document),
        import::uptime_kuma(raw).ok().map(|i| i.document),
    ];
    for document in documents.into_iter().flatten() {
        for format in [Format::Yaml, Format::Json] {
            let text = document
                .render(format)
                .unwrap_or_else(|e| panic!("a document does not render: {e}"));
            let again = Document::from_yaml(&text)
                .unwrap_or_else(|e| panic!("a rendered document does not read back: {e}\n{text}"));
            assert_eq!(
                again.monitors, document.monitors,
                "a document changes when read back"
            );
        }
    }
    let (name, value) = raw.split_once(':').unwrap_or((raw, raw));
    let _ = Headers::parse(BTreeMap::from([(name.to_owned(), value.to_owned())]));
}

#[test]
fn parsers_survive_arbitrary_input() {
    let seconds = std::env::var("TOCSIN_TEST_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let seed = std::env::var("TOCSIN_TEST_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    let mut rng = StdRng::seed_from_u64(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut runs = 0u64;
    // Quiet panics: a failing input is reported once, below, with its seed.
    std::panic::set_hook(Box::new(|_| {}));
    while Instant::now() < deadline {
        for _ in 0..100 {
            let raw = input(&mut rng);
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| exercise(&raw))) {
                let _ = std::panic::take_hook();
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                panic!("seed {seed}, after {runs} inputs: {why}\ninput: {raw:?}");
            }
            runs += 1;
        }
    }
    let _ = std::panic::take_hook();
    println!("fuzz: {runs} inputs in {seconds} s, seed {seed}, no failure");
}
