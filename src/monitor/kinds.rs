//! What each kind of check (HTTP, TCP, DNS) accepts of a monitor's settings: conditions
//! on values it produces, and HTTP settings only for HTTP.

use super::conditions::{Conditions, Placeholder};
use super::fields::StatusRanges;
use super::{MonitorDraft, MonitorError, Target};
use crate::check::CheckKind;

/// Refuses a condition on a value this kind of check never produces, so it cannot fail
/// every check for a reason the monitor's owner would only find in the results.
pub(super) fn applicable(target: &Target, conditions: &Conditions) -> Result<(), MonitorError> {
    let kind = target.kind();
    for (i, condition) in conditions.iter().enumerate() {
        for placeholder in condition.placeholders() {
            let fits = match placeholder {
                Placeholder::Status => kind == CheckKind::Http,
                Placeholder::Body(_) => kind != CheckKind::Tcp,
                Placeholder::DnsRcode => kind == CheckKind::Dns,
                Placeholder::CertificateExpiration => target.uses_tls(),
                Placeholder::ResponseTime | Placeholder::Connected | Placeholder::Ip => true,
            };
            if !fits {
                let why = match placeholder {
                    Placeholder::CertificateExpiration => {
                        "needs a TLS check (an https or tls URL)".to_owned()
                    }
                    _ => format!("has no value in a {} check", kind.as_str()),
                };
                return Err(MonitorError::invalid(
                    "conditions",
                    format!(
                        "condition {} `{condition}`: {} {why}",
                        i + 1,
                        placeholder.name()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Refuses HTTP settings on a TCP or DNS monitor, where they would silently mean nothing;
/// the defaults (as a stored monitor reads back) are fine.
pub(super) fn http_only(draft: &MonitorDraft) -> Result<(), MonitorError> {
    let set = [
        (
            "method",
            draft
                .method
                .as_deref()
                .is_some_and(|m| !m.trim().eq_ignore_ascii_case("GET")),
        ),
        (
            "expected_status",
            draft
                .expected_status
                .as_deref()
                .is_some_and(|s| s.trim() != StatusRanges::DEFAULT),
        ),
        ("keyword", draft.keyword.is_some()),
        ("follow_redirects", draft.follow_redirects == Some(false)),
        (
            "headers",
            draft.headers.as_ref().is_some_and(|h| !h.is_empty()),
        ),
        ("body", draft.body.is_some()),
        ("tls_ca_pem", draft.tls_ca_pem.is_some()),
        ("tls_skip_verify", draft.tls_skip_verify == Some(true)),
    ];
    match set.into_iter().find(|(_, given)| *given) {
        Some((field, _)) => Err(MonitorError::invalid(
            field,
            "applies to http(s) monitors only; use conditions for tcp and dns checks",
        )),
        None => Ok(()),
    }
}
