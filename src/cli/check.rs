//! `tocsin check URL`: one probe from the command line, printed like `curl -w` or as JSON.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::api::views::ResultView;
use crate::check::{CheckKind, CheckResult, millis};
use crate::config::CheckSettings;
use crate::monitor::{MonitorDraft, MonitorError, MonitorSpec, Rules};
use crate::probe::{Probe, ProbeOptions};

/// The arguments of `tocsin check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// What to check: an http(s) URL, `tcp://host:port`, `tls://host:port` or
    /// `dns://resolver/name?type=A`.
    url: String,
    /// Print one JSON object instead of aligned lines.
    #[arg(long)]
    json: bool,
    /// HTTP method (GET, HEAD, POST…).
    #[arg(long)]
    method: Option<String>,
    /// Give up after this many milliseconds (100 to 60000).
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u32>,
    /// Text the response body must contain.
    #[arg(long)]
    keyword: Option<String>,
    /// Status codes that count as up, e.g. `200-299,301`.
    #[arg(long, value_name = "RANGES")]
    expected_status: Option<String>,
    /// Judge the first response even when it is a redirect.
    #[arg(long)]
    no_follow_redirects: bool,
    /// An extra request header, `Name: value`; repeatable.
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    headers: Vec<String>,
    /// Allow loopback, private and link-local addresses, e.g. to check a local server
    /// (as TOCSIN_ALLOW_PRIVATE_TARGETS=true does).
    #[arg(long)]
    allow_private: bool,
    /// A condition in Gatus's syntax, e.g. `[BODY].status == UP`; repeatable.
    #[arg(short = 'c', long = "condition", value_name = "CONDITION")]
    conditions: Vec<String>,
}

/// Exit status of a bad URL, flag or setting, as clap uses for usage errors.
pub const USAGE: u8 = 2;

/// Runs one check: exit 0 when up, 1 when down, 2 when the URL or a flag is invalid.
pub async fn run(args: CheckArgs, settings: &CheckSettings) -> ExitCode {
    let allow_private = args.allow_private || settings.allow_private_targets;
    let spec = match spec(args.draft(), allow_private, settings) {
        Ok(spec) => spec,
        Err(error) => {
            eprintln!("tocsin: {}", as_flag(&error));
            return ExitCode::from(USAGE);
        }
    };
    let probe = Probe::new(ProbeOptions {
        allow_private,
        private_networks: settings.allowed_private_networks.clone(),
        ..Default::default()
    });
    let result = probe.check(&spec).await;
    if args.json {
        println!("{}", json(&spec, &result));
    } else {
        print!("{}", human(&spec, &result));
    }
    if result.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

impl CheckArgs {
    fn draft(&self) -> Result<MonitorDraft, MonitorError> {
        let mut headers = BTreeMap::new();
        for raw in &self.headers {
            let (name, value) = raw.split_once(':').ok_or_else(|| {
                MonitorError::invalid("headers", format!("`{raw}` is not `Name: value`"))
            })?;
            headers.insert(name.trim().to_owned(), value.trim().to_owned());
        }
        Ok(MonitorDraft {
            url: self.url.clone(),
            method: self.method.clone(),
            // The longest interval, so any timeout the probe accepts is below it.
            interval_seconds: Some(86_400),
            timeout_ms: self.timeout_ms,
            expected_status: self.expected_status.clone(),
            keyword: self.keyword.clone(),
            follow_redirects: Some(!self.no_follow_redirects),
            headers: (!headers.is_empty()).then_some(headers),
            conditions: (!self.conditions.is_empty()).then(|| self.conditions.clone()),
            ..Default::default()
        })
    }
}

fn spec(
    draft: Result<MonitorDraft, MonitorError>,
    allow_private: bool,
    settings: &CheckSettings,
) -> Result<MonitorSpec, MonitorError> {
    let rules = Rules {
        min_interval_secs: 1,
        allow_private_targets: allow_private,
        private_networks: settings.allowed_private_networks.clone(),
    };
    MonitorSpec::parse(draft?, &rules)
}

/// The error with the monitor field replaced by the flag or argument that gave it.
fn as_flag(error: &MonitorError) -> String {
    match error {
        MonitorError::Invalid { field, message } => {
            let flag = match *field {
                "url" => "URL",
                "method" => "--method",
                "timeout_ms" => "--timeout-ms",
                "keyword" => "--keyword",
                "expected_status" => "--expected-status",
                "headers" => "--header",
                "conditions" => "--condition",
                other => other,
            };
            format!("{flag}: {message}")
        }
        // The API's wording names the setting; here the flag is the way in.
        MonitorError::Blocked { message } => {
            let message = message.strip_prefix("url: ").unwrap_or(message);
            format!("URL: {message}; --allow-private checks it anyway")
        }
    }
}

fn human(spec: &MonitorSpec, result: &CheckResult) -> String {
    let ms = |phase: Option<Duration>| match phase {
        Some(d) => format!("{:.3} ms", millis(d)),
        None => "-".to_owned(),
    };
    let phases = &result.phases;
    let mut lines = vec![
        ("url", spec.target().to_string()),
        ("dns", ms(phases.dns)),
        ("connect", ms(phases.connect)),
        ("tls", ms(phases.tls)),
        ("ttfb", ms(phases.ttfb)),
        ("total", ms(Some(result.latency))),
        (
            "status",
            result
                .status_code
                .map_or_else(|| "-".to_owned(), |c| c.to_string()),
        ),
    ];
    if spec.target().uses_tls() {
        let expires = result.cert_expires_at.map_or_else(
            || "-".to_owned(),
            |at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
        lines.push(("cert expires", expires));
    }
    if spec.target().kind() == CheckKind::Dns {
        let (rcode, answer) = result.dns.as_ref().map_or_else(
            || ("-".to_owned(), "-".to_owned()),
            |dns| (dns.rcode.clone(), dns.records.join(", ")),
        );
        lines.push(("rcode", rcode));
        lines.push(("answer", answer));
    }
    let verdict = match &result.failure {
        None => "up".to_owned(),
        Some(failure) => format!("down ({}: {})", failure.kind, failure.message),
    };
    lines.push(("result", verdict));
    lines
        .into_iter()
        .map(|(label, value)| format!("{:>12}: {value}\n", label))
        .collect()
}

/// The result as the API's results endpoint shows it, with the URL checked in front.
fn json(spec: &MonitorSpec, result: &CheckResult) -> serde_json::Value {
    #[derive(serde::Serialize)]
    struct Checked<'a> {
        url: &'a str,
        #[serde(flatten)]
        result: ResultView,
    }
    serde_json::to_value(Checked {
        url: spec.target().as_str(),
        result: ResultView::from(result),
    })
    .unwrap_or_default()
}
