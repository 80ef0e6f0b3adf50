//! Constants read as numbers, as Gatus reads them: integers, fractions and Go durations.

/// A number as Gatus reads one: an integer (decimal or `0x` hex), a decimal fraction, or a
/// Go duration (`48h`, `1h30m`, `500ms`), which counts as milliseconds.
pub(super) fn number(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Some(n as f64);
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        && let Ok(n) = i64::from_str_radix(hex, 16)
    {
        return Some(if negative { -n } else { n } as f64);
    }
    // Rust would read `inf` and `nan`; neither is a number a check produces.
    if text.bytes().any(|b| b.is_ascii_digit())
        && let Ok(n) = text.parse::<f64>()
        && n.is_finite()
    {
        return Some(n);
    }
    go_duration_ms(digits).map(|ms| if negative { -ms } else { ms })
}

/// A Go duration without its sign (`1h30m`, `1.5s`, `300ms`), in milliseconds.
fn go_duration_ms(text: &str) -> Option<f64> {
    const UNITS: [(&str, f64); 8] = [
        ("ns", 1e-6),
        ("us", 1e-3),
        ("µs", 1e-3),
        ("μs", 1e-3),
        ("ms", 1.0),
        ("s", 1e3),
        ("m", 60e3),
        ("h", 3_600e3),
    ];
    let mut rest = text;
    let mut total = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, scale) = UNITS
            .iter()
            .filter(|(unit, _)| rest.starts_with(unit))
            // `ms` before `m`: the longest unit that fits.
            .max_by_key(|(unit, _)| unit.len())?;
        total += value * scale;
        rest = &rest[unit.len()..];
    }
    total.is_finite().then_some(total)
}
