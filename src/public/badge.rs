//! Badges: small two-part SVG images (a grey label, a coloured message) in the style
//! READMEs are used to, drawn here with text widths estimated per character.

use super::feed::escape;

/// Green: up, or uptime of at least 99.9 %.
pub const GREEN: &str = "#44cc11";
/// Yellow-green: uptime of at least 99 %.
pub const LIGHT_GREEN: &str = "#97ca00";
/// Yellow: degraded, or uptime of at least 95 %.
pub const YELLOW: &str = "#dfb317";
/// Red: down, or lower uptime.
pub const RED: &str = "#e05d44";
/// Grey: paused, pending, no data.
pub const GREY: &str = "#9f9f9f";
/// Blue: a neutral figure (latency).
pub const BLUE: &str = "#007ec6";

/// The colour of a monitor state.
pub fn state_colour(state: &str) -> &'static str {
    match state {
        "up" => GREEN,
        "degraded" => YELLOW,
        "down" => RED,
        _ => GREY,
    }
}

/// The colour of an uptime ratio (`None`: no checks).
pub fn uptime_colour(ratio: Option<f64>) -> &'static str {
    match ratio {
        None => GREY,
        Some(r) if r >= 0.999 => GREEN,
        Some(r) if r >= 0.99 => LIGHT_GREEN,
        Some(r) if r >= 0.95 => YELLOW,
        Some(_) => RED,
    }
}

/// Roughly how wide `text` is at 11 px in a sans-serif face, in pixels.
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 3.5,
            'f' | 't' | 'r' | 'I' | '(' | ')' | '[' | ']' | '-' => 4.5,
            'm' | 'w' | 'M' | 'W' | '%' | '@' => 10.0,
            c if c.is_ascii_uppercase() => 7.8,
            c if c.is_ascii() => 6.6,
            // Wide scripts and symbols.
            _ => 11.0,
        })
        .sum()
}

/// Labels longer than this are cut, so a long monitor name keeps the badge usable.
const MAX_LABEL_CHARS: usize = 40;

/// A badge reading `label | message`, the message on `colour`.
pub fn render(label: &str, message: &str, colour: &str) -> String {
    let label: String = if label.chars().count() > MAX_LABEL_CHARS {
        label
            .chars()
            .take(MAX_LABEL_CHARS - 1)
            .chain(['…'])
            .collect()
    } else {
        label.to_owned()
    };
    let left = (text_width(&label) + 12.0).round();
    let right = (text_width(message) + 12.0).round();
    let width = left + right;
    let (label_x, message_x) = (left / 2.0, left + right / 2.0);
    let title = escape(&format!("{label}: {message}"));
    let (label, message) = (escape(&label), escape(message));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"20\" role=\"img\" \
         aria-label=\"{title}\"><title>{title}</title>\
         <linearGradient id=\"g\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" \
         stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\
         <clipPath id=\"c\"><rect width=\"{width}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\
         <g clip-path=\"url(#c)\"><rect width=\"{left}\" height=\"20\" fill=\"#555\"/>\
         <rect x=\"{left}\" width=\"{right}\" height=\"20\" fill=\"{colour}\"/>\
         <rect width=\"{width}\" height=\"20\" fill=\"url(#g)\"/></g>\
         <g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" \
         font-size=\"11\"><text x=\"{label_x}\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">{label}</text>\
         <text x=\"{label_x}\" y=\"14\">{label}</text>\
         <text x=\"{message_x}\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">{message}</text>\
         <text x=\"{message_x}\" y=\"14\">{message}</text></g></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_labels_are_cut() {
        let svg = render(&"<b>".repeat(30), "up", GREEN);
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;"));
        assert!(svg.contains('…'));
    }

    #[test]
    fn colours_follow_the_figures() {
        assert_eq!(state_colour("down"), RED);
        assert_eq!(uptime_colour(Some(0.9995)), GREEN);
        assert_eq!(uptime_colour(Some(0.5)), RED);
        assert_eq!(uptime_colour(None), GREY);
    }
}
