//! Text → [`Condition`]. Gatus's grammar: two operands around an operator written with a
//! space on each side (`[STATUS] == 200`), operands being placeholders, `len()`/`has()` of
//! one, `pat()`, `any()` or constants. On top of Gatus, each side is checked against the
//! other, so a condition that could never hold is refused here.

use super::number::number;
use super::{
    Condition, ConditionError, Function, JsonPath, Kind, Literal, Operand, Operator, Pattern,
    Placeholder, Value,
};

/// The DNS response codes a `[DNS_RCODE]` can be compared with, as DNS tools spell them.
pub(super) const RCODES: [&str; 11] = [
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",
];

/// The 1-based character column of byte `offset` in `text`.
pub(super) fn column(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(offset, |before| before.chars().count())
        + 1
}

impl Condition {
    /// Parses one condition; see the module docs for what is refused.
    pub fn parse(raw: &str) -> Result<Self, ConditionError> {
        let source = raw.trim();
        let at = |offset: usize, reason: String| ConditionError {
            column: column(source, offset),
            reason,
        };
        if source.is_empty() {
            return Err(at(0, "the condition is empty".into()));
        }
        if source.chars().count() > super::Conditions::MAX_CHARS {
            return Err(at(
                0,
                format!(
                    "a condition is at most {} characters",
                    super::Conditions::MAX_CHARS
                ),
            ));
        }
        if let Some(bad) = source.find(char::is_control) {
            return Err(at(bad, "control characters are not allowed".into()));
        }
        let (operator, split) = find_operator(source).map_err(|(offset, why)| at(offset, why))?;
        let spaced = operator.as_str().len() + 2;
        let (left_text, right_text) = (&source[..split], &source[split + spaced..]);
        if let Some(again) = right_text.find(&format!(" {} ", operator.as_str())) {
            return Err(at(
                split + spaced + again + 1,
                format!(
                    "`{}` appears twice; a condition compares two values",
                    operator.as_str()
                ),
            ));
        }
        if left_text.trim().is_empty() {
            return Err(at(0, format!("nothing before `{}`", operator.as_str())));
        }
        if right_text.trim().is_empty() {
            return Err(at(
                split + 1,
                format!("nothing after `{}`", operator.as_str()),
            ));
        }
        let left = operand(source, 0, left_text)?;
        let right = operand(source, split + spaced, right_text)?;
        check_sides(source, operator, &left, &right)?;
        Ok(Self {
            source: source.to_owned(),
            left: left.operand,
            operator,
            right: right.operand,
        })
    }
}

/// The operator and the byte offset of the space before it.
fn find_operator(source: &str) -> Result<(Operator, usize), (usize, String)> {
    for operator in Operator::SEARCH_ORDER {
        if let Some(at) = source.find(&format!(" {} ", operator.as_str())) {
            return Ok((operator, at));
        }
    }
    for operator in Operator::SEARCH_ORDER {
        let op = operator.as_str();
        if source.ends_with(&format!(" {op}")) {
            return Err((source.len() - op.len(), format!("nothing after `{op}`")));
        }
        if source.starts_with(&format!("{op} ")) {
            return Err((0, format!("nothing before `{op}`")));
        }
    }
    for operator in Operator::SEARCH_ORDER {
        if let Some(at) = source.find(operator.as_str()) {
            return Err((
                at,
                format!(
                    "put a space on each side of `{}` (as in `[STATUS] {} 200`)",
                    operator.as_str(),
                    operator.as_str()
                ),
            ));
        }
    }
    Err((
        0,
        "no comparison: expected two values around `==`, `!=`, `<`, `<=`, `>` or `>=`".into(),
    ))
}

/// An operand and where it starts (byte offset of its first non-space character).
struct Parsed {
    operand: Operand,
    offset: usize,
}

fn operand(source: &str, offset: usize, raw: &str) -> Result<Parsed, ConditionError> {
    let leading = raw.len() - raw.trim_start().len();
    let text = raw.trim();
    let offset = offset + leading;
    let at = |i: usize, reason: String| ConditionError {
        column: column(source, offset + i),
        reason,
    };
    let lower = text.to_ascii_lowercase();
    let call = ["len(", "has(", "pat(", "any("]
        .into_iter()
        .find(|prefix| lower.starts_with(prefix));
    let operand = match call {
        Some(prefix) => {
            if !text.ends_with(')') {
                return Err(at(0, format!("`{prefix}` is not closed with `)`")));
            }
            let inner = &text[4..text.len() - 1];
            match prefix {
                "pat(" => Operand::Pattern(Pattern::parse(inner, column(source, offset + 4))?),
                "any(" => Operand::AnyOf(choices(inner, |i, why| at(4 + i, why))?),
                _ => {
                    let function = if prefix == "len(" {
                        Function::Len
                    } else {
                        Function::Has
                    };
                    let skipped = inner.len() - inner.trim_start().len();
                    let inner = inner.trim();
                    let Some(placeholder) = placeholder(source, offset + 4 + skipped, inner)?
                    else {
                        return Err(at(
                            4,
                            format!("{prefix}) takes a placeholder such as [BODY].items"),
                        ));
                    };
                    if !matches!(placeholder, Placeholder::Body(_)) {
                        return Err(at(
                            4,
                            format!(
                                "{prefix}) applies to [BODY] and paths in it, not {}",
                                placeholder.name()
                            ),
                        ));
                    }
                    Operand::Value(Value {
                        function: Some(function),
                        placeholder,
                        text: text.to_owned(),
                    })
                }
            }
        }
        None => match placeholder(source, offset, text)? {
            Some(placeholder) => Operand::Value(Value {
                function: None,
                placeholder,
                text: text.to_owned(),
            }),
            None => Operand::Literal(literal(text)),
        },
    };
    Ok(Parsed { operand, offset })
}

/// The placeholder `text` names, `None` if it is no placeholder (a constant), or an error
/// for a bracketed name tocsin does not know.
fn placeholder(
    source: &str,
    offset: usize,
    text: &str,
) -> Result<Option<Placeholder>, ConditionError> {
    let Some(rest) = text.strip_prefix('[') else {
        return Ok(None);
    };
    let Some(close) = rest.find(']') else {
        return Ok(None);
    };
    let name = &rest[..close];
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_') {
        // `[1, 2]` and the like are constants, as in Gatus.
        return Ok(None);
    }
    let at = |i: usize, reason: String| ConditionError {
        column: column(source, offset + i),
        reason,
    };
    let after = &rest[close + 1..];
    let upper = name.to_ascii_uppercase();
    let found = match upper.as_str() {
        "STATUS" => Placeholder::Status,
        "RESPONSE_TIME" => Placeholder::ResponseTime,
        "CERTIFICATE_EXPIRATION" => Placeholder::CertificateExpiration,
        "CONNECTED" => Placeholder::Connected,
        "DNS_RCODE" => Placeholder::DnsRcode,
        "IP" => Placeholder::Ip,
        "BODY" => {
            return JsonPath::parse(after, source, offset + close + 2)
                .map(|path| Some(Placeholder::Body(path)));
        }
        "DOMAIN_EXPIRATION" => {
            return Err(at(
                0,
                "[DOMAIN_EXPIRATION] is not supported: tocsin does not query whois".into(),
            ));
        }
        "CONTEXT" => {
            return Err(at(0, "[CONTEXT] (Gatus suites) is not supported".into()));
        }
        _ => {
            return Err(at(
                0,
                format!(
                    "unknown placeholder [{name}]; use [STATUS], [RESPONSE_TIME], [BODY], \
                     [CERTIFICATE_EXPIRATION], [CONNECTED], [DNS_RCODE] or [IP]"
                ),
            ));
        }
    };
    if !after.is_empty() {
        return Err(at(
            close + 2,
            format!("nothing may follow [{upper}] (only [BODY] takes a path)"),
        ));
    }
    Ok(Some(found))
}

/// The comma-separated choices of `any(…)`.
fn choices(
    inner: &str,
    at: impl Fn(usize, String) -> ConditionError,
) -> Result<Vec<Literal>, ConditionError> {
    let mut offset = 0;
    let mut found = Vec::new();
    for part in inner.split(',') {
        if part.trim().is_empty() {
            return Err(at(offset, "any() has an empty choice".into()));
        }
        found.push(literal(part.trim()));
        offset += part.len() + 1;
    }
    Ok(found)
}

fn literal(text: &str) -> Literal {
    Literal {
        text: text.to_owned(),
        number: number(text),
    }
}

/// Refuses comparisons that can never hold, naming the side at fault.
fn check_sides(
    source: &str,
    operator: Operator,
    left: &Parsed,
    right: &Parsed,
) -> Result<(), ConditionError> {
    let (left_at, right_at) = (left.offset, right.offset);
    let at = |offset: usize, reason: String| ConditionError {
        column: column(source, offset),
        reason,
    };
    let op = operator.as_str();
    match (&left.operand, &right.operand) {
        (Operand::Value(a), Operand::Value(b)) => {
            for (value, offset) in [(a, left_at), (b, right_at)] {
                if operator.is_ordering() && !matches!(value.kind(), Kind::Number | Kind::Text) {
                    return Err(at(offset, not_ordered(value, op)));
                }
            }
            Ok(())
        }
        (Operand::Value(value), other) => {
            check_constant((value, left_at), operator, (other, right_at), &at)
        }
        (other, Operand::Value(value)) => {
            check_constant((value, right_at), operator, (other, left_at), &at)
        }
        _ => Err(at(
            left_at,
            "compares two constants: one side must be a placeholder such as [STATUS] or [BODY]"
                .into(),
        )),
    }
}

fn check_constant(
    (value, value_at): (&Value, usize),
    operator: Operator,
    (constant, constant_at): (&Operand, usize),
    at: &impl Fn(usize, String) -> ConditionError,
) -> Result<(), ConditionError> {
    let op = operator.as_str();
    let literals: &[Literal] = match constant {
        Operand::Literal(literal) => std::slice::from_ref(literal),
        Operand::AnyOf(choices) => choices,
        Operand::Pattern(_) | Operand::Value(_) => &[],
    };
    if operator.is_ordering() {
        if !matches!(constant, Operand::Literal(_)) {
            return Err(at(
                constant_at,
                format!("pat() and any() work with == and !=, not {op}"),
            ));
        }
        if !matches!(value.kind(), Kind::Number | Kind::Text) {
            return Err(at(value_at, not_ordered(value, op)));
        }
    }
    let needs_number = operator.is_ordering() || value.kind() == Kind::Number;
    for literal in literals {
        let text = &literal.text;
        let fits = match value.kind() {
            _ if needs_number => literal.number.is_some(),
            Kind::Bool => matches!(text.to_ascii_lowercase().as_str(), "true" | "false"),
            Kind::Rcode => RCODES.contains(&text.to_ascii_uppercase().as_str()),
            Kind::Number | Kind::Text => true,
        };
        if !fits {
            let expected = match value.kind() {
                _ if needs_number => "a number or a duration (such as 200, 1.5 or 48h)",
                Kind::Bool => "true or false",
                _ => "a DNS response code such as NOERROR, NXDOMAIN or SERVFAIL",
            };
            return Err(at(
                constant_at,
                format!(
                    "{} is compared with `{text}`, which is not {expected}",
                    value.text
                ),
            ));
        }
    }
    Ok(())
}

fn not_ordered(value: &Value, op: &str) -> String {
    let what = match value.kind() {
        Kind::Bool => "true or false",
        _ => "a DNS response code",
    };
    format!(
        "{} is {what}: compare it with == or !=, not {op}",
        value.text
    )
}

#[cfg(test)]
mod tests;
