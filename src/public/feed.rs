//! The incidents of a status page as an Atom feed (RFC 4287), written by hand: a handful
//! of elements, every text escaped.

use std::fmt::Write;

use chrono::{DateTime, SecondsFormat, Utc};

use super::view::{PublicIncidentView, PublicPage};

/// The feed of `page`'s incidents, newest first.
pub fn render(page: &PublicPage) -> String {
    let updated = page
        .incidents
        .iter()
        .map(changed_at)
        .max()
        .unwrap_or(page.generated_at);
    let slug = &page.slug;
    let mut xml = String::with_capacity(1024 + 512 * page.incidents.len());
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    // Writing to a String cannot fail.
    let _ = writeln!(xml, "  <id>urn:tocsin:status:{slug}</id>");
    let _ = writeln!(xml, "  <title>{} incidents</title>", escape(&page.title));
    let _ = writeln!(xml, "  <updated>{}</updated>", rfc3339(updated));
    let _ = writeln!(
        xml,
        "  <author><name>{}</name></author>",
        escape(&page.title)
    );
    let _ = writeln!(
        xml,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"/status/{slug}\"/>"
    );
    let _ = writeln!(
        xml,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"/status/{slug}/feed.atom\"/>"
    );
    for incident in &page.incidents {
        entry(&mut xml, slug, incident);
    }
    xml.push_str("</feed>\n");
    xml
}

fn entry(xml: &mut String, slug: &str, incident: &PublicIncidentView) {
    let summary = match incident.resolved_at {
        Some(end) => format!(
            "{} from {} to {} (cause: {}).",
            incident.title(),
            rfc3339(incident.started_at),
            rfc3339(end),
            incident.cause
        ),
        None => format!(
            "{} since {} (cause: {}).",
            incident.title(),
            rfc3339(incident.started_at),
            incident.cause
        ),
    };
    let _ = writeln!(xml, "  <entry>");
    let _ = writeln!(xml, "    <id>urn:tocsin:incident:{}</id>", incident.id);
    let _ = writeln!(xml, "    <title>{}</title>", escape(&incident.title()));
    let _ = writeln!(
        xml,
        "    <updated>{}</updated>",
        rfc3339(changed_at(incident))
    );
    let _ = writeln!(
        xml,
        "    <published>{}</published>",
        rfc3339(incident.started_at)
    );
    let _ = writeln!(
        xml,
        "    <link rel=\"alternate\" type=\"text/html\" href=\"/status/{slug}\"/>"
    );
    let _ = writeln!(xml, "    <summary>{}</summary>", escape(&summary));
    let _ = writeln!(xml, "  </entry>");
}

/// When an incident last changed: its end, or its start while open.
fn changed_at(incident: &PublicIncidentView) -> DateTime<Utc> {
    incident.resolved_at.unwrap_or(incident.started_at)
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newlines are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'\u{1}</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}&lt;/a&gt;"
        );
    }
}
