//! One check of a monitor, with timing phases and the address guard: an HTTP(S) request, a
//! TCP connection (with a TLS handshake for `tls://`) or a DNS query, then the monitor's
//! conditions over what it saw.
//!
//! A check opens a fresh connection per hop (`Connection: close`) so every result measures
//! DNS, connect and TLS as a first-time visitor would see them; the whole check, resolution
//! included, runs under the monitor's timeout, which measures the target, not this process
//! ([`deadline`]).

mod connect;
mod deadline;
mod dns;
mod exchange;
mod names;
pub mod redirect;
mod tcp;
mod tls;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rustls::pki_types::CertificateDer;

use crate::check::{CheckResult, DnsAnswer, Failure, FailureKind, Phases};
use crate::monitor::conditions::Observation;
use crate::monitor::{Method, MonitorSpec, Networks, Target};
use url::Url;

use deadline::Timed;
use exchange::{Exchange, Outgoing};
use names::Names;
use redirect::{UserHeaders, next_url};

/// Redirects followed before a check gives up, as the monitor docs promise.
const MAX_REDIRECTS: usize = 5;

/// How the probe behaves, from the settings.
#[derive(Debug, Clone, Default)]
pub struct ProbeOptions {
    /// Whether loopback, private and link-local addresses may be reached.
    pub allow_private: bool,
    /// Private networks that may be reached even when `allow_private` is false
    /// (loopback, link-local and metadata addresses stay refused).
    pub private_networks: Networks,
    /// Certificate authorities trusted besides the built-in web roots (tests use this).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Addresses an operator allows even when private targets are refused, e.g. one internal
    /// service worth monitoring; every other internal address stays blocked.
    pub exempt: Vec<IpAddr>,
}

/// Runs checks; cheap to clone and share between tasks.
#[derive(Debug, Clone)]
pub struct Probe {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    options: ProbeOptions,
    // A bad extra root must not stop the service, so it surfaces as a `tls` failure per check.
    tls: tls::Config,
    /// For monitors with `tls_skip_verify`.
    tls_unverified: tls::Config,
    /// The same without ALPN, for `tls://` checks.
    tls_plain: tls::Config,
    /// Resolves the names checks connect to.
    names: Names,
}

/// One check as the scheduler sees it.
#[derive(Debug)]
pub struct Attempt {
    /// What the check saw.
    pub result: CheckResult,
    /// This process served the check far later than its timers asked (overload), so the
    /// result, a timeout or a latency, may be this process's rather than the target's.
    pub starved: bool,
}

/// What a check has learnt so far; kept outside the timed future so a timeout keeps it.
#[derive(Debug, Default)]
struct Progress {
    phases: Phases,
    status_code: Option<u16>,
    cert_expires_at: Option<DateTime<Utc>>,
    /// Whether a connection was made (for DNS, whether an answer came).
    connected: bool,
    /// The address last reached.
    ip: Option<IpAddr>,
    /// The body as read, kept only when a condition reads it.
    body: Vec<u8>,
    /// A DNS check's answer.
    dns: Option<DnsAnswer>,
}

impl Probe {
    /// A probe with these options.
    pub fn new(options: ProbeOptions) -> Self {
        let tls = tls::client_config(&options.extra_roots, None, false);
        let tls_unverified = tls::client_config(&options.extra_roots, None, true);
        let tls_plain = tls::without_alpn(&tls);
        Self {
            inner: Arc::new(Inner {
                options,
                tls,
                tls_unverified,
                tls_plain,
                names: Names::system(),
            }),
        }
    }

    /// Checks `spec` once, within its timeout; never fails: every failure is in the result.
    pub async fn check(&self, spec: &MonitorSpec) -> CheckResult {
        self.attempt(spec).await.result
    }

    /// Checks `spec` once, as [`Probe::check`], and also says whether this process served
    /// the check too late for its result to speak for the target (see [`deadline`]).
    pub async fn attempt(&self, spec: &MonitorSpec) -> Attempt {
        // Milliseconds, the store's resolution: `(monitor, checked_at)` identifies a result,
        // so it must read the same before and after it is stored.
        let now = Utc::now();
        let checked_at = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        let started = Instant::now();
        let timeout_ms = spec.timeout_ms();
        let mut progress = Progress::default();
        let outcome = deadline::run(
            Duration::from_millis(u64::from(timeout_ms)),
            self.dispatch(spec, &mut progress),
        )
        .await;
        let (outcome, starved) = match outcome {
            Timed::Finished(outcome) => (Some(outcome), false),
            Timed::FinishedLate(outcome) => (Some(outcome), true),
            Timed::Slow => (None, false),
            Timed::Starved => (None, true),
        };
        let failure = match outcome {
            Some(Ok(())) => judge(spec, &progress, started.elapsed()),
            Some(Err(failure)) => Some(failure),
            None => Some(Failure::new(
                FailureKind::Timeout,
                format!(
                    "No complete answer from {} within the {timeout_ms} ms timeout.",
                    spec.target()
                ),
            )),
        };
        let result = CheckResult {
            checked_at,
            kind: spec.target().kind(),
            dns: progress.dns,
            status_code: progress.status_code,
            latency: started.elapsed(),
            phases: progress.phases,
            cert_expires_at: progress.cert_expires_at,
            failure,
        };
        Attempt { result, starved }
    }

    /// Runs the check its target calls for.
    async fn dispatch(&self, spec: &MonitorSpec, progress: &mut Progress) -> Result<(), Failure> {
        let inner = &*self.inner;
        match spec.target() {
            Target::Http(http) => self.run(spec, http.url(), progress).await,
            Target::Tcp(target) => {
                tcp::check(
                    target,
                    &inner.options,
                    &inner.names,
                    &inner.tls_plain,
                    progress,
                )
                .await
            }
            Target::Dns(target) => {
                // Without conditions, a DNS check is up when the name resolves; with them,
                // they alone judge the answer (`[DNS_RCODE] == NXDOMAIN` is a fair check).
                let judge_answer = spec.conditions().is_empty();
                dns::check(target, &inner.options, &inner.names, judge_answer, progress).await
            }
        }
    }

    /// An HTTP(S) check of `target`, following redirects.
    async fn run(
        &self,
        spec: &MonitorSpec,
        target: &Url,
        progress: &mut Progress,
    ) -> Result<(), Failure> {
        let mut url = target.clone();
        let mut method = spec.method();
        let mut body = spec.body();
        let mut user_headers = UserHeaders::for_url(target);
        let mut redirects = 0;
        // A monitor's own trust (its authorities, or none checked) is built once per check,
        // and like its headers, holds on its own origin only.
        let own_tls = match (spec.tls_skip_verify(), spec.tls_ca_pem()) {
            (true, _) => None,
            (false, Some(pem)) => Some(tls::client_config(
                &self.inner.options.extra_roots,
                Some(pem),
                false,
            )),
            (false, None) => None,
        };
        loop {
            let tls = match (user_headers.allowed(), spec.tls_skip_verify(), &own_tls) {
                (true, true, _) => &self.inner.tls_unverified,
                (true, false, Some(own)) => own,
                _ => &self.inner.tls,
            };
            let headers = if user_headers.allowed() {
                spec.headers()
                    .as_map()
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str()))
                    .collect()
            } else {
                Vec::new()
            };
            let outgoing = Outgoing {
                method: http_method(method),
                url: &url,
                headers,
                body,
            };
            let mut exchange = self.hop(&outgoing, tls, progress).await?;
            let status = exchange.response.status();
            progress.status_code = Some(status.as_u16());

            let location = redirect_location(spec, &exchange);
            if let Some(location) = location {
                if redirects == MAX_REDIRECTS {
                    return Err(Failure::new(
                        FailureKind::Status,
                        format!(
                            "More than {MAX_REDIRECTS} redirects: {url} redirects again \
                             with status {}.",
                            status.as_u16()
                        ),
                    ));
                }
                let next = next_url(&url, &location)?;
                if matches!(status.as_u16(), 301..=303) {
                    if method != Method::Head {
                        method = Method::Get;
                    }
                    body = None;
                }
                user_headers.follow(&next);
                url = next;
                redirects += 1;
                continue;
            }

            let code = status.as_u16();
            if !spec.expected_status().contains(code) {
                return Err(Failure::new(
                    FailureKind::Status,
                    format!(
                        "Status {code} from {url} is not one of the expected {}.",
                        spec.expected_status()
                    ),
                ));
            }
            // Read even without a keyword: a server that dies mid-body is not up.
            let read = if method == Method::Head {
                Vec::new()
            } else {
                exchange::read_body(&mut exchange).await?
            };
            if let Some(keyword) = spec.keyword()
                && memchr::memmem::find(&read, keyword.as_bytes()).is_none()
            {
                return Err(Failure::new(
                    FailureKind::Keyword,
                    format!(
                        "The keyword \"{keyword}\" is not in the first {} bytes of the body \
                         from {url}.",
                        read.len()
                    ),
                ));
            }
            if spec.conditions().read_body() {
                progress.body = read;
            }
            return Ok(());
        }
    }

    /// Connects (guarded), secures the connection for https, and exchanges one request.
    async fn hop(
        &self,
        outgoing: &Outgoing<'_>,
        tls: &tls::Config,
        progress: &mut Progress,
    ) -> Result<Exchange, Failure> {
        progress.cert_expires_at = None;
        let phases = &mut progress.phases;
        let (options, names) = (&self.inner.options, &self.inner.names);
        let tcp = connect::connect(outgoing.url, options, names, phases).await?;
        progress.connected = true;
        progress.ip = tcp.peer_addr().ok().map(|peer| peer.ip());
        if outgoing.url.scheme() == "https" {
            let secured = tls::handshake(tls, outgoing.url, tcp, phases).await?;
            progress.cert_expires_at = secured.cert_expires_at;
            exchange::send(secured.stream, outgoing, &mut progress.phases).await
        } else {
            exchange::send(tcp, outgoing, phases).await
        }
    }
}

/// Judges a check that went through against the monitor's conditions.
fn judge(spec: &MonitorSpec, progress: &Progress, elapsed: Duration) -> Option<Failure> {
    let conditions = spec.conditions();
    if conditions.is_empty() {
        return None;
    }
    // A DNS check's body is its answer, one record per line, as conditions read it.
    let answer = progress.dns.as_ref().map(|dns| dns.records.join("\n"));
    let seen = Observation {
        status: progress.status_code,
        response_time: elapsed,
        body: answer.as_deref().map_or(&progress.body, str::as_bytes),
        cert_expires_at: progress.cert_expires_at,
        now: Utc::now(),
        connected: progress.connected,
        dns_rcode: progress.dns.as_ref().map(|dns| dns.rcode.as_str()),
        ip: progress.ip,
    };
    conditions
        .evaluate(&seen)
        .err()
        .map(|why| Failure::new(FailureKind::Condition, why))
}

/// The Location of a redirect the check should follow, if this response is one.
fn redirect_location(spec: &MonitorSpec, exchange: &Exchange) -> Option<String> {
    let response = &exchange.response;
    if !spec.follow_redirects()
        || !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308)
    {
        return None;
    }
    let location = response.headers().get(http::header::LOCATION)?;
    Some(String::from_utf8_lossy(location.as_bytes()).into_owned())
}

fn http_method(method: Method) -> http::Method {
    match method {
        Method::Get => http::Method::GET,
        Method::Head => http::Method::HEAD,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Patch => http::Method::PATCH,
        Method::Delete => http::Method::DELETE,
        Method::Options => http::Method::OPTIONS,
    }
}

/// Adds `elapsed` to a phase, which starts at `None` until it first happens.
fn add(slot: &mut Option<Duration>, elapsed: Duration) {
    *slot = Some(slot.unwrap_or_default() + elapsed);
}
