//! `MonitorSpec`: what to check and how, built only from a validated draft.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use super::address::Networks;
use super::fields::{Headers, Method, StatusRanges};
use super::{MonitorError, Target};
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

/// A monitor as a client describes it: every field raw, most optional.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorDraft {
    /// A label; defaults to the URL's host.
    pub name: Option<String>,
    /// The http(s) URL to check.
    #[schema(format = "uri", min_length = 1, max_length = 2048)]
    pub url: String,
    /// HTTP method, default `GET`.
    pub method: Option<String>,
    /// Seconds between checks: from `TOCSIN_MIN_INTERVAL` (10 by default) to 86400; default 60.
    pub interval_seconds: Option<u32>,
    /// Give up after this many milliseconds (100..=60000, below the interval); default
    /// 10000 or four fifths of the interval, whichever is less.
    pub timeout_ms: Option<u32>,
    /// Status codes that count as up, e.g. `200-299,301`; default `200-399`.
    pub expected_status: Option<String>,
    /// Text the response body must contain.
    pub keyword: Option<String>,
    /// Whether to follow redirects (at most 5 hops); default true.
    pub follow_redirects: Option<bool>,
    /// Extra request headers.
    pub headers: Option<BTreeMap<String, String>>,
    /// Request body, sent as is.
    pub body: Option<String>,
    /// Certificate authorities (PEM) to trust for this monitor besides the web's, e.g. a
    /// private CA.
    pub tls_ca_pem: Option<String>,
    /// Accept any certificate (its expiry is still recorded); default false.
    pub tls_skip_verify: Option<bool>,
}

/// A partial update: absent fields stay, `null` resets an optional field to its default.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorPatch {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    method: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    interval_seconds: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    timeout_ms: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    expected_status: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    keyword: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    follow_redirects: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    headers: Option<Option<BTreeMap<String, String>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    body: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    tls_ca_pem: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    tls_skip_verify: Option<Option<bool>>,
}

/// Tells a present `null` (`Some(None)`) from an absent field (`None`, via `default`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl MonitorPatch {
    /// Applies the patch to `draft`; `url` and `interval_seconds` cannot be reset.
    pub fn apply(self, mut draft: MonitorDraft) -> Result<MonitorDraft, MonitorError> {
        fn set<T>(slot: &mut Option<T>, patch: Option<Option<T>>) {
            if let Some(value) = patch {
                *slot = value;
            }
        }
        match self.url {
            Some(Some(url)) => draft.url = url,
            Some(None) => return Err(MonitorError::invalid("url", "cannot be null")),
            None => {}
        }
        if let Some(None) = self.interval_seconds {
            return Err(MonitorError::invalid("interval_seconds", "cannot be null"));
        }
        set(&mut draft.interval_seconds, self.interval_seconds);
        set(&mut draft.name, self.name);
        set(&mut draft.method, self.method);
        set(&mut draft.timeout_ms, self.timeout_ms);
        set(&mut draft.expected_status, self.expected_status);
        set(&mut draft.keyword, self.keyword);
        set(&mut draft.follow_redirects, self.follow_redirects);
        set(&mut draft.headers, self.headers);
        set(&mut draft.body, self.body);
        set(&mut draft.tls_ca_pem, self.tls_ca_pem);
        set(&mut draft.tls_skip_verify, self.tls_skip_verify);
        Ok(draft)
    }
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
}

const MAX_NAME_CHARS: usize = 200;
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
            None => target.host().chars().take(MAX_NAME_CHARS).collect(),
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
            target,
        })
    }

    /// The draft this spec was made from, with defaults that depend on other fields left unset
    /// (so a changed interval also moves a default timeout).
    pub fn to_draft(&self) -> MonitorDraft {
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
        }
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
    /// Authorities (PEM) trusted for this monitor besides the web's.
    pub fn tls_ca_pem(&self) -> Option<&str> {
        self.tls_ca_pem.as_deref()
    }
    /// Whether any certificate is accepted.
    pub fn tls_skip_verify(&self) -> bool {
        self.tls_skip_verify
    }
}

/// A PEM bundle of at least one certificate, each a well-formed X.509 certificate.
fn ca_pem(pem: String) -> Result<String, MonitorError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let invalid = |why: String| MonitorError::invalid("tls_ca_pem", why);
    if pem.len() > MAX_BODY_BYTES {
        return Err(invalid(format!("must be at most {MAX_BODY_BYTES} bytes")));
    }
    let mut count = 0;
    for (i, cert) in CertificateDer::pem_slice_iter(pem.as_bytes()).enumerate() {
        let cert = cert.map_err(|e| invalid(format!("certificate #{}: {e}", i + 1)))?;
        x509_parser::parse_x509_certificate(cert.as_ref())
            .map_err(|e| invalid(format!("certificate #{} is not X.509: {e}", i + 1)))?;
        count += 1;
    }
    if count == 0 {
        return Err(invalid(
            "holds no certificate: paste -----BEGIN CERTIFICATE----- blocks".into(),
        ));
    }
    Ok(pem)
}

/// `headers` with the URL's credentials as their `Authorization`, unless they set one too.
fn with_basic(
    mut headers: BTreeMap<String, String>,
    basic: Option<String>,
) -> Result<BTreeMap<String, String>, MonitorError> {
    let Some(basic) = basic else {
        return Ok(headers);
    };
    if headers
        .keys()
        .any(|name| name.trim().eq_ignore_ascii_case("authorization"))
    {
        return Err(MonitorError::invalid(
            "url",
            "has a user name or password and `headers` has an Authorization: give one of them",
        ));
    }
    headers.insert("authorization".to_owned(), basic);
    Ok(headers)
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
