//! Evaluating parsed conditions against what one check saw.
//!
//! As in Gatus, a value that is missing (no such JSON key, no certificate) is unequal to
//! everything: `!=` holds and every other comparison fails. Unlike Gatus, an ordering
//! (`<`, `>`…) of a value that is not a number fails and says so, rather than reading it as 0.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::number::number;
use super::{Condition, Conditions, Function, Literal, Operand, Operator, Placeholder, Value};

/// What one check saw, as conditions read it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The HTTP status code, if a response came.
    pub status: Option<u16>,
    /// How long the check took.
    pub response_time: Duration,
    /// The response body as read (at most 1 MiB), or a DNS answer's records, one per line.
    pub body: &'a [u8],
    /// When the peer's certificate expires, if a TLS handshake happened.
    pub cert_expires_at: Option<DateTime<Utc>>,
    /// The time the check is judged at, for the certificate's remaining lifetime.
    pub now: DateTime<Utc>,
    /// Whether a connection was made (for DNS: whether an answer came).
    pub connected: bool,
    /// The DNS answer's response code.
    pub dns_rcode: Option<&'a str>,
    /// The address the check reached.
    pub ip: Option<IpAddr>,
}

/// A value as resolved for one check.
#[derive(Debug, Clone, PartialEq)]
enum Seen<'a> {
    Number(f64),
    Bool(bool),
    Text(Cow<'a, str>),
    /// Not there, and why.
    Missing(String),
}

/// The longest value quoted in a failure message, in characters.
const QUOTE_CHARS: usize = 120;

impl Conditions {
    /// `Ok` when every condition holds; otherwise a sentence naming the first condition that
    /// does not and the value seen (and how many more failed).
    pub fn evaluate(&self, seen: &Observation<'_>) -> Result<(), String> {
        let json = OnceCell::new();
        let mut failures = self
            .iter()
            .filter_map(|condition| condition.evaluate(seen, &json).err());
        let Some(first) = failures.next() else {
            return Ok(());
        };
        match failures.count() {
            0 => Err(first),
            1 => Err(format!("{first} (1 more condition failed)")),
            more => Err(format!("{first} ({more} more conditions failed)")),
        }
    }
}

impl Condition {
    fn evaluate<'a>(
        &self,
        seen: &Observation<'a>,
        json: &OnceCell<Result<Json, String>>,
    ) -> Result<(), String> {
        let resolve = |operand: &Operand| match operand {
            Operand::Value(value) => Some(resolve(value, seen, json)),
            _ => None,
        };
        let (left, right) = (resolve(&self.left), resolve(&self.right));
        let holds = match self.operator {
            Operator::Eq | Operator::Ne => {
                let equal = equal(&self.left, left.as_ref(), &self.right, right.as_ref());
                (self.operator == Operator::Eq) == equal
            }
            ordering => {
                let a = as_number(&self.left, left.as_ref());
                let b = as_number(&self.right, right.as_ref());
                match (a, b) {
                    (Some(a), Some(b)) => match ordering {
                        Operator::Lt => a < b,
                        Operator::Le => a <= b,
                        Operator::Gt => a > b,
                        _ => a >= b,
                    },
                    _ => false,
                }
            }
        };
        if holds {
            return Ok(());
        }
        let mut saw = Vec::new();
        for (operand, value) in [(&self.left, &left), (&self.right, &right)] {
            if let (Operand::Value(v), Some(resolved)) = (operand, value) {
                saw.push(describe(v, resolved, self.operator.is_ordering()));
            }
        }
        Err(format!(
            "The condition `{}` is not met: {}.",
            self.source,
            saw.join(" and ")
        ))
    }
}

fn resolve<'a>(
    value: &Value,
    seen: &Observation<'a>,
    json: &OnceCell<Result<Json, String>>,
) -> Seen<'a> {
    let missing = |why: &str| Seen::Missing(why.to_owned());
    match (&value.placeholder, value.function) {
        (Placeholder::Status, _) => seen.status.map_or_else(
            || missing("no response came"),
            |code| Seen::Number(f64::from(code)),
        ),
        (Placeholder::ResponseTime, _) => Seen::Number(seen.response_time.as_millis() as f64),
        (Placeholder::CertificateExpiration, _) => match seen.cert_expires_at {
            Some(at) => Seen::Number((at - seen.now).num_milliseconds() as f64),
            None => missing("no certificate was seen"),
        },
        (Placeholder::Connected, _) => Seen::Bool(seen.connected),
        (Placeholder::DnsRcode, _) => seen
            .dns_rcode
            .map_or_else(|| missing("no DNS answer came"), |r| Seen::Text(r.into())),
        (Placeholder::Ip, _) => seen.ip.map_or_else(
            || missing("no address was reached"),
            |ip| Seen::Text(ip.to_string().into()),
        ),
        (Placeholder::Body(path), function) if path.is_root() => {
            let body = String::from_utf8_lossy(seen.body);
            let trimmed = body.trim();
            match function {
                None => Seen::Text(Cow::Owned(trimmed.to_owned())),
                Some(Function::Has) => Seen::Bool(!trimmed.is_empty()),
                Some(Function::Len) => match parse_json(seen.body, json) {
                    Ok(Json::Array(items)) => Seen::Number(items.len() as f64),
                    _ => Seen::Number(trimmed.chars().count() as f64),
                },
            }
        }
        (Placeholder::Body(path), function) => {
            let found =
                parse_json(seen.body, json).and_then(|document| match path.find(document)? {
                    Json::Null => Err("it is null".to_owned()),
                    found => Ok(found),
                });
            match (function, found) {
                (Some(Function::Has), found) => Seen::Bool(found.is_ok()),
                (_, Err(why)) => Seen::Missing(why),
                (Some(Function::Len), Ok(found)) => Seen::Number(match found {
                    Json::Array(items) => items.len(),
                    Json::Object(members) => members.len(),
                    Json::String(text) => text.chars().count(),
                    other => other.to_string().chars().count(),
                } as f64),
                (None, Ok(found)) => match found {
                    Json::String(text) => Seen::Text(Cow::Owned(text.clone())),
                    Json::Bool(flag) => Seen::Bool(*flag),
                    Json::Number(n) => n
                        .as_f64()
                        .map_or_else(|| Seen::Text(n.to_string().into()), Seen::Number),
                    other => Seen::Text(other.to_string().into()),
                },
            }
        }
    }
}

/// The body as JSON, parsed at most once per check whatever the number of conditions.
fn parse_json<'j>(
    body: &[u8],
    json: &'j OnceCell<Result<Json, String>>,
) -> Result<&'j Json, String> {
    json.get_or_init(|| {
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON ({e})"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// The text a resolved value compares as.
fn text_of<'s>(seen: &'s Seen<'_>) -> Option<Cow<'s, str>> {
    match seen {
        Seen::Number(n) => Some(Cow::Owned(number_text(*n))),
        Seen::Bool(flag) => Some(Cow::Borrowed(if *flag { "true" } else { "false" })),
        Seen::Text(text) => Some(Cow::Borrowed(text.as_ref())),
        Seen::Missing(_) => None,
    }
}

/// Integers without a fraction, as Gatus writes them.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Whether two texts are equal: as numbers when both read as numbers, else case-blind for
/// words tocsin writes itself (`true`, `NOERROR`), else exactly.
fn same(a: &str, b: &str) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b || (is_keyword(a) && a.eq_ignore_ascii_case(b)),
    }
}

fn is_keyword(text: &str) -> bool {
    text.eq_ignore_ascii_case("true")
        || text.eq_ignore_ascii_case("false")
        || super::parse::RCODES
            .iter()
            .any(|code| code.eq_ignore_ascii_case(text))
}

fn equal(left: &Operand, a: Option<&Seen<'_>>, right: &Operand, b: Option<&Seen<'_>>) -> bool {
    let text = |operand: &Operand, seen: Option<&Seen<'_>>| -> Option<String> {
        match (operand, seen) {
            (_, Some(seen)) => text_of(seen).map(Cow::into_owned),
            (Operand::Literal(Literal { text, .. }), None) => Some(text.clone()),
            _ => None,
        }
    };
    match (left, right) {
        (Operand::Pattern(pattern), other) | (other, Operand::Pattern(pattern)) => {
            let seen = if matches!(left, Operand::Pattern(_)) {
                b
            } else {
                a
            };
            text(other, seen).is_some_and(|t| pattern.matches(&t))
        }
        (Operand::AnyOf(choices), other) | (other, Operand::AnyOf(choices)) => {
            let seen = if matches!(left, Operand::AnyOf(_)) {
                b
            } else {
                a
            };
            text(other, seen).is_some_and(|t| choices.iter().any(|c| same(&t, &c.text)))
        }
        _ => match (text(left, a), text(right, b)) {
            (Some(x), Some(y)) => same(&x, &y),
            _ => false,
        },
    }
}

fn as_number(operand: &Operand, seen: Option<&Seen<'_>>) -> Option<f64> {
    match (operand, seen) {
        (_, Some(Seen::Number(n))) => Some(*n),
        (_, Some(Seen::Text(text))) => number(text),
        (Operand::Literal(literal), None) => literal.number,
        _ => None,
    }
}

/// "[BODY].status is `DOWN`", "[STATUS] is missing: no response came"…
fn describe(value: &Value, seen: &Seen<'_>, ordering: bool) -> String {
    let name = &value.text;
    match seen {
        Seen::Missing(why) => format!("{name} is missing: {why}"),
        Seen::Number(ms) => match (&value.placeholder, value.function) {
            (Placeholder::ResponseTime, None) => format!("{name} is {} ms", number_text(*ms)),
            (Placeholder::CertificateExpiration, None) => format!(
                "{name} is {} ms ({})",
                number_text(*ms),
                if *ms < 0.0 {
                    format!("expired {} ago", human(-ms))
                } else {
                    format!("expires in {}", human(*ms))
                }
            ),
            _ => format!("{name} is {}", number_text(*ms)),
        },
        Seen::Text(text) if ordering && number(text).is_none() => {
            format!("{name} is `{}`, which is not a number", quote(text))
        }
        other => format!(
            "{name} is `{}`",
            quote(&text_of(other).unwrap_or(Cow::Borrowed("")))
        ),
    }
}

fn human(ms: f64) -> String {
    humantime::format_duration(Duration::from_secs((ms / 1000.0) as u64)).to_string()
}

fn quote(text: &str) -> String {
    if text.chars().count() <= QUOTE_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(QUOTE_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests;
