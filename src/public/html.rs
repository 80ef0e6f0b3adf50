//! The status page as HTML: server-rendered by maud (which escapes every interpolated
//! string), its style sheet embedded and allowed by hash, no script at all; it reloads
//! itself with a meta refresh.

use std::sync::LazyLock;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use maud::{DOCTYPE, Markup, html};
use sha2::{Digest, Sha256};

use super::view::{DAYS, Day, PublicIncidentView, PublicMonitor, PublicPage};

/// The page's style sheet, compiled into the binary.
const CSS: &str = include_str!("status.css");

/// Seconds between the page's reloads.
pub const REFRESH_SECONDS: u32 = 60;

/// The `Content-Security-Policy` of the page: nothing but its own embedded style sheet
/// (allowed by its hash) and images from this server; no script of any kind.
pub static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self'; base-uri 'none'; \
         form-action 'none'"
    )
});

/// The whole page.
pub fn render(page: &PublicPage) -> String {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content=(REFRESH_SECONDS);
                meta name="color-scheme" content="light dark";
                title { (page.title) " status" }
                link rel="alternate" type="application/atom+xml" title="Incidents"
                    href={ "/status/" (page.slug) "/feed.atom" };
                style { (maud::PreEscaped(CSS)) }
            }
            body {
                main {
                    h1 { (page.title) }
                    @if !page.description.is_empty() {
                        p { (page.description) }
                    }
                    div class={ "banner " (page.overall.as_str()) } role="status" {
                        (page.overall.headline())
                    }
                    h2 { "Monitors" }
                    @if page.monitors.is_empty() {
                        p.muted { "No monitors are listed on this page yet." }
                    }
                    ul.monitors {
                        @for monitor in &page.monitors {
                            (monitor_item(page, monitor))
                        }
                    }
                    @if !page.monitors.is_empty() {
                        p.muted {
                            "Each bar is a UTC day: green at 99.9 % uptime or more, yellow at \
                             95 % or more, red below, grey without checks."
                        }
                    }
                    h2 { "Incidents in the last 14 days" }
                    @if page.incidents.is_empty() {
                        p.muted { "No incidents." }
                    } @else {
                        ul.incidents {
                            @for incident in &page.incidents {
                                (incident_item(incident))
                            }
                        }
                    }
                    footer.muted {
                        "Updated " (minute(page.generated_at)) " · refreshes every minute · "
                        a href={ "/status/" (page.slug) ".json" } { "JSON" } " · "
                        a href={ "/status/" (page.slug) "/feed.atom" } { "Atom feed" }
                    }
                }
            }
        }
    };
    markup.into_string()
}

/// The page a person gets for an address with no status page behind it.
pub fn not_found() -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { "No such status page" }
                style { (maud::PreEscaped(CSS)) }
            }
            body {
                main {
                    h1 { "No such status page" }
                    p { "Check the address: no status page has it, or it was taken down." }
                }
            }
        }
    }
    .into_string()
}

fn monitor_item(page: &PublicPage, monitor: &PublicMonitor) -> Markup {
    let uptime = monitor.uptime.map_or_else(
        || "no data".to_owned(),
        |u| format!("{} uptime", percent(u)),
    );
    html! {
        li {
            div.row {
                span.name { (monitor.name) }
                span class={ "state " (monitor.state) } { (monitor.state) }
            }
            (bar(page, monitor, &uptime))
            div.ends.muted {
                span { (DAYS) " days ago" }
                span { (uptime) }
                span { "today" }
            }
        }
    }
}

/// The daily uptime bar: one rectangle per day, its colour by uptime and its exact figure
/// in a tooltip (so colour is never the only sign).
fn bar(page: &PublicPage, monitor: &PublicMonitor, uptime: &str) -> Markup {
    let label = format!("{}: {uptime} over {DAYS} days", monitor.name);
    html! {
        svg.bar viewBox={ "0 0 " (DAYS * 6) " 28" } preserveAspectRatio="none" role="img"
            aria-label=(label) {
            @for (i, day) in monitor.days.iter().enumerate() {
                // Days without checks are grey and untitled: a tooltip each would make a
                // new page's bars most of its weight.
                @if day.checks == 0 {
                    rect x=(i * 6) width="4.5" height="28" class="n" {}
                } @else {
                    rect x=(i * 6) width="4.5" height="28" class=(day_class(*day)) {
                        title { (day_title(page, i, *day)) }
                    }
                }
            }
        }
    }
}

fn day_class(day: Day) -> &'static str {
    match day.uptime() {
        None => "n",
        Some(u) if u >= 0.999 => "u",
        Some(u) if u >= 0.95 => "w",
        Some(_) => "d",
    }
}

fn day_title(page: &PublicPage, index: usize, day: Day) -> String {
    let date = page.first_day + Duration::days(index as i64);
    match day.uptime() {
        None => format!("{date}: no data"),
        Some(u) => format!("{date}: {} of {} checks", percent(u), day.checks),
    }
}

fn incident_item(incident: &PublicIncidentView) -> Markup {
    html! {
        li {
            div.row {
                span.name { (incident.title()) }
                span.muted { "cause: " (incident.cause) }
            }
            div.muted {
                "From " (minute(incident.started_at))
                @if let Some(end) = incident.resolved_at {
                    " to " (minute(end))
                } @else {
                    " · still open"
                }
            }
        }
    }
}

/// A ratio as people read it: two decimals, never rounded up to a false 100 %.
pub fn percent(ratio: f64) -> String {
    let hundredths = (ratio * 10_000.0).floor() / 100.0;
    format!("{hundredths:.2} %")
}

fn minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_never_round_up_to_a_full_hundred() {
        assert_eq!(percent(1.0), "100.00 %");
        assert_eq!(percent(0.99999), "99.99 %");
        assert_eq!(percent(0.5), "50.00 %");
    }

    #[test]
    fn the_policy_allows_no_script() {
        assert!(CSP.contains("default-src 'none'"));
        assert!(!CSP.contains("script-src"));
        assert!(!CSP.contains("unsafe-inline"));
    }
}
