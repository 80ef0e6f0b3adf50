//! Conditions on what a check saw, in Gatus's syntax so that its configurations carry over
//! unchanged: `[STATUS] == 200`, `[BODY].data[0].id == 1`, `len([BODY].items) > 0`,
//! `[BODY] == pat(*healthy*)`, `[CERTIFICATE_EXPIRATION] > 48h`…
//!
//! A condition is parsed once, when its monitor is saved, into a typed tree: a malformed
//! one, or one that can never hold (a number compared with a word, `[CONNECTED] < 3`), is
//! refused then with the column where it broke, rather than failing every check later. The
//! probe then evaluates the tree against each check's [`Observation`].

mod eval;
mod number;
mod parse;
mod path;
mod pattern;

use std::fmt;

pub use eval::Observation;
pub use path::JsonPath;
pub use pattern::Pattern;

/// Why a condition was refused: where it broke (1-based, in characters) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {reason}")]
pub struct ConditionError {
    /// The character where the problem starts, counting from 1.
    pub column: usize,
    /// What is wrong there.
    pub reason: String,
}

/// A comparison between two operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Operator {
    /// In the order Gatus looks for them, so a condition splits where it would in Gatus.
    pub(super) const SEARCH_ORDER: [Operator; 6] =
        [Self::Eq, Self::Ne, Self::Le, Self::Ge, Self::Gt, Self::Lt];

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    /// Whether the operator orders numbers (`<`, `<=`, `>`, `>=`) rather than testing equality.
    pub fn is_ordering(self) -> bool {
        !matches!(self, Self::Eq | Self::Ne)
    }
}

/// A value a check produces, named in brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder {
    /// `[STATUS]`: the HTTP status code.
    Status,
    /// `[RESPONSE_TIME]`: the check's duration in whole milliseconds.
    ResponseTime,
    /// `[BODY]`, optionally followed by a JSON path: the response body (HTTP) or the answer
    /// records (DNS).
    Body(JsonPath),
    /// `[CERTIFICATE_EXPIRATION]`: milliseconds until the peer certificate expires.
    CertificateExpiration,
    /// `[CONNECTED]`: whether a connection (or a DNS answer) was had.
    Connected,
    /// `[DNS_RCODE]`: the DNS answer's response code (`NOERROR`, `NXDOMAIN`…).
    DnsRcode,
    /// `[IP]`: the address the check reached.
    Ip,
}

impl Placeholder {
    /// The placeholder's bracketed name, without any path.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Status => "[STATUS]",
            Self::ResponseTime => "[RESPONSE_TIME]",
            Self::Body(_) => "[BODY]",
            Self::CertificateExpiration => "[CERTIFICATE_EXPIRATION]",
            Self::Connected => "[CONNECTED]",
            Self::DnsRcode => "[DNS_RCODE]",
            Self::Ip => "[IP]",
        }
    }
}

/// `len(…)` or `has(…)` around a placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `len(x)`: the number of elements of an array, keys of an object, or characters.
    Len,
    /// `has(x)`: whether the value is there (and not `null`).
    Has,
}

/// What a value is compared as, decided when the condition is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Compared as a number (durations count as milliseconds).
    Number,
    /// `true` or `false`.
    Bool,
    /// One of the DNS response codes.
    Rcode,
    /// Text, or a number when both sides read as one (body values).
    Text,
}

/// A placeholder, possibly inside `len()` or `has()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The function around it, if any.
    pub function: Option<Function>,
    /// The placeholder.
    pub placeholder: Placeholder,
    /// As written, for messages.
    text: String,
}

impl Value {
    pub(super) fn kind(&self) -> Kind {
        match (self.function, &self.placeholder) {
            (Some(Function::Len), _) => Kind::Number,
            (Some(Function::Has), _) | (None, Placeholder::Connected) => Kind::Bool,
            (None, Placeholder::Status | Placeholder::ResponseTime) => Kind::Number,
            (None, Placeholder::CertificateExpiration) => Kind::Number,
            (None, Placeholder::DnsRcode) => Kind::Rcode,
            (None, Placeholder::Body(_) | Placeholder::Ip) => Kind::Text,
        }
    }
}

/// A constant as written, with its numeric reading (a number, or a duration in ms) if it
/// has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    text: String,
    number: Option<f64>,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A placeholder, possibly inside `len()` or `has()`.
    Value(Value),
    /// A constant.
    Literal(Literal),
    /// `pat(…)`: a glob pattern the other side must match.
    Pattern(Pattern),
    /// `any(a, b, …)`: the other side must equal one of these.
    AnyOf(Vec<Literal>),
}

/// One parsed condition; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    source: String,
    left: Operand,
    operator: Operator,
    right: Operand,
}

impl Condition {
    /// The condition as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The placeholders the condition reads.
    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        [&self.left, &self.right]
            .into_iter()
            .filter_map(|operand| match operand {
                Operand::Value(value) => Some(&value.placeholder),
                _ => None,
            })
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A monitor's conditions, in the order given; every one must hold for a check to be up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions(Vec<Condition>);

// The parsed trees hold `f64`s (never NaN: only finite numbers are read), so equality is total.
impl Eq for Conditions {}

impl Conditions {
    /// The most conditions one monitor may have.
    pub const MAX_COUNT: usize = 32;
    /// The longest condition accepted, in characters.
    pub const MAX_CHARS: usize = 1024;

    /// Parses every condition; the error names the condition (by number and text) and where
    /// it broke.
    pub fn parse(raw: &[String]) -> Result<Self, String> {
        if raw.len() > Self::MAX_COUNT {
            return Err(format!("at most {} conditions", Self::MAX_COUNT));
        }
        raw.iter()
            .enumerate()
            .map(|(i, text)| {
                Condition::parse(text).map_err(|e| format!("condition {} `{}` {e}", i + 1, text))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The conditions in order.
    pub fn iter(&self) -> impl Iterator<Item = &Condition> {
        self.0.iter()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The conditions as written.
    pub fn sources(&self) -> Vec<String> {
        self.0.iter().map(|c| c.source.clone()).collect()
    }

    /// Whether any condition reads the body, so the probe knows to keep it.
    pub fn read_body(&self) -> bool {
        self.iter()
            .flat_map(Condition::placeholders)
            .any(|p| matches!(p, Placeholder::Body(_)))
    }
}
