//! `MonitorSpec`: what to check and how, built only from a validated draft.

use super::address::Networks;
use super::alerts::{AlertFields, AlertPolicy};
use super::conditions::Conditions;
use super::credentials::{ca_pem, with_basic};
use super::fields::{Headers, Method, StatusRanges};
use super::kinds::{applicable, http_only};
use super::{MonitorDraft, MonitorError, Target};
use crate::check::CheckKind;
use crate::config::MAX_INTERVAL;

/// The limits a draft is checked against, taken from the settings.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The shortest interval allowed, in seconds.
    pub min_interval_secs: u32,
    /// Whether literal internal addresses are allowed as targets.
    pub allow_private_targets: bool,
    /// Private networks allowed as targets even when internal addresses are not.
    pub private_networks: Networks,
}

impl Rules {
    /// The rules for rows already in the store: they were checked when written, and settings
    /// tightened since must not make existing monitors unreadable.
    pub const STORED: Rules = Rules {
        min_interval_secs: 1,
        allow_private_targets: true,
        private_networks: Networks::NONE,
    };
}

/// A valid description of one monitor's checks; only [`MonitorSpec::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorSpec {
    name: String,
    target: Target,
    method: Method,
    interval_secs: u32,
    timeout_ms: Option<u32>,
    expected_status: StatusRanges,
    keyword: Option<String>,
    follow_redirects: bool,
    headers: Headers,
    body: Option<String>,
    tls_ca_pem: Option<String>,
    tls_skip_verify: bool,
    conditions: Conditions,
    alerts: AlertPolicy,
}

/// The longest monitor name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
const MAX_KEYWORD_CHARS: usize = 1024;
const MAX_BODY_BYTES: usize = 64 * 1024;
const MIN_TIMEOUT_MS: u32 = 100;
const MAX_TIMEOUT_MS: u32 = 60_000;
const DEFAULT_TIMEOUT_MS: u32 = 10_000;
const DEFAULT_INTERVAL_SECS: u32 = 60;

impl MonitorSpec {
    /// Validates every field of `draft` against `rules`, naming the first bad field.
    pub fn parse(draft: MonitorDraft, rules: &Rules) -> Result<Self, MonitorError> {
        let target = Target::parse_within(
            &draft.url,
            rules.allow_private_targets,
            &rules.private_networks,
        )?;
        let (target, basic) = target.split_credentials();
        let conditions = Conditions::parse(draft.conditions.as_deref().unwrap_or_default())
            .map_err(|why| MonitorError::invalid("conditions", why))?;
        applicable(&target, &conditions)?;
        if target.kind() != CheckKind::Http {
            http_only(&draft)?;
        }
        let max_interval = MAX_INTERVAL.as_secs() as u32;
        let interval_secs = draft
            .interval_seconds
            .unwrap_or(DEFAULT_INTERVAL_SECS.max(rules.min_interval_secs));
        if !(rules.min_interval_secs..=max_interval).contains(&interval_secs) {
            return Err(MonitorError::invalid(
                "interval_seconds",
                format!(
                    "must be between {} and {max_interval} (got {interval_secs})",
                    rules.min_interval_secs
                ),
            ));
        }
        if let Some(timeout) = draft.timeout_ms {
            let below_interval = interval_secs.saturating_mul(1000) - 1;
            let ceiling = MAX_TIMEOUT_MS.min(below_interval);
            if !(MIN_TIMEOUT_MS..=ceiling).contains(&timeout) {
                // The interval is named only when it is what bounds the timeout.
                let why = if below_interval < MAX_TIMEOUT_MS {
                    ", below the interval"
                } else {
                    ""
                };
                return Err(MonitorError::invalid(
                    "timeout_ms",
                    format!("must be between {MIN_TIMEOUT_MS} and {ceiling}{why} (got {timeout})"),
                ));
            }
        }
        let name = match draft.name {
            Some(name) => bounded_text("name", name.trim(), MAX_NAME_CHARS)?,
            // A host name can be longer than a name may be (253 against 200).
            None => target.default_name().chars().take(MAX_NAME_CHARS).collect(),
        };
        let keyword = draft
            .keyword
            .map(|k| bounded_text("keyword", &k, MAX_KEYWORD_CHARS))
            .transpose()?;
        if let Some(body) = &draft.body
            && body.len() > MAX_BODY_BYTES
        {
            return Err(MonitorError::invalid(
                "body",
                format!("must be at most {MAX_BODY_BYTES} bytes"),
            ));
        }
        Ok(Self {
            name,
            conditions,
            method: draft
                .method
                .as_deref()
                .map(str::parse)
                .transpose()?
                .unwrap_or_default(),
            interval_secs,
            timeout_ms: draft.timeout_ms,
            expected_status: draft
                .expected_status
                .as_deref()
                .map(str::parse)
                .transpose()?
                .unwrap_or_default(),
            keyword,
            follow_redirects: draft.follow_redirects.unwrap_or(true),
            headers: Headers::parse(with_basic(draft.headers.unwrap_or_default(), basic)?)?,
            body: draft.body,
            tls_ca_pem: draft.tls_ca_pem.map(ca_pem).transpose()?,
            tls_skip_verify: draft.tls_skip_verify.unwrap_or(false),
            alerts: AlertPolicy::parse(AlertFields {
                failure_threshold: draft.failure_threshold,
                success_threshold: draft.success_threshold,
                latency_threshold_ms: draft.latency_threshold_ms,
                channel_ids: draft.channel_ids,
                reminder_interval_seconds: draft.reminder_interval_seconds,
                cert_expiry_days: draft.cert_expiry_days,
            })?,
            target,
        })
    }

    /// The draft this spec was made from, with defaults that depend on other fields left unset
    /// (so a changed interval also moves a default timeout).
    pub fn to_draft(&self) -> MonitorDraft {
        let alerts = self.alerts.to_fields();
        MonitorDraft {
            name: Some(self.name.clone()),
            url: self.target.as_str().to_owned(),
            method: Some(self.method.as_str().to_owned()),
            interval_seconds: Some(self.interval_secs),
            timeout_ms: self.timeout_ms,
            expected_status: Some(self.expected_status.to_string()),
            keyword: self.keyword.clone(),
            follow_redirects: Some(self.follow_redirects),
            headers: Some(self.headers.as_map().clone()),
            body: self.body.clone(),
            tls_ca_pem: self.tls_ca_pem.clone(),
            tls_skip_verify: Some(self.tls_skip_verify),
            conditions: (!self.conditions.is_empty()).then(|| self.conditions.sources()),
            failure_threshold: alerts.failure_threshold,
            success_threshold: alerts.success_threshold,
            latency_threshold_ms: alerts.latency_threshold_ms,
            channel_ids: alerts.channel_ids,
            reminder_interval_seconds: alerts.reminder_interval_seconds,
            cert_expiry_days: alerts.cert_expiry_days,
        }
    }

    /// The conditions every check must meet.
    pub fn conditions(&self) -> &Conditions {
        &self.conditions
    }
    /// The label shown for the monitor.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The URL checked.
    pub fn target(&self) -> &Target {
        &self.target
    }
    /// The HTTP method used.
    pub fn method(&self) -> Method {
        self.method
    }
    /// Seconds between checks.
    pub fn interval_secs(&self) -> u32 {
        self.interval_secs
    }
    /// The timeout the client set, if any (`None`: the default applies).
    pub fn explicit_timeout_ms(&self) -> Option<u32> {
        self.timeout_ms
    }
    /// The timeout in force: the explicit one, else 10 s or 4/5 of the interval if shorter.
    pub fn timeout_ms(&self) -> u32 {
        self.timeout_ms
            .unwrap_or_else(|| DEFAULT_TIMEOUT_MS.min(self.interval_secs.saturating_mul(800)))
    }
    /// Status codes that count as up.
    pub fn expected_status(&self) -> &StatusRanges {
        &self.expected_status
    }
    /// Text the body must contain.
    pub fn keyword(&self) -> Option<&str> {
        self.keyword.as_deref()
    }
    /// Whether redirects are followed.
    pub fn follow_redirects(&self) -> bool {
        self.follow_redirects
    }
    /// Extra request headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }
    /// The request body.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }
    /// When the monitor counts as down, degraded or up, and who hears of it.
    pub fn alerts(&self) -> &AlertPolicy {
        &self.alerts
    }
    /// Authorities (PEM) trusted for this monitor besides the web's.
    pub fn tls_ca_pem(&self) -> Option<&str> {
        self.tls_ca_pem.as_deref()
    }
    /// Whether any certificate is accepted.
    pub fn tls_skip_verify(&self) -> bool {
        self.tls_skip_verify
    }
}

fn bounded_text(field: &'static str, text: &str, max_chars: usize) -> Result<String, MonitorError> {
    let chars = text.chars().count();
    if chars == 0 || chars > max_chars {
        return Err(MonitorError::invalid(
            field,
            format!("must be 1 to {max_chars} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(MonitorError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(text.to_owned())
}
