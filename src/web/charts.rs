//! Charts drawn on the server as inline SVG: a bar of the last checks, a latency sparkline,
//! and latency by phase over a window. Numbers only go into attributes, and every chart has
//! a text alternative.

use std::fmt::Write;

use maud::{Markup, PreEscaped, html};

/// Ticks in the dashboard's bar of last checks.
pub const TICKS: usize = 30;

/// A bar of the last checks, oldest at the left: green passed, red failed, grey none yet.
/// `oks` is newest first, as results are listed.
pub fn ticks(oks: &[bool]) -> Markup {
    let passed = oks.iter().filter(|ok| **ok).count();
    let label = format!(
        "last {} checks: {passed} passed, {} failed",
        oks.len(),
        oks.len() - passed
    );
    let (w, gap, h) = (6, 2, 20);
    let width = TICKS * (w + gap);
    let mut rects = String::new();
    let missing = TICKS.saturating_sub(oks.len());
    for slot in 0..TICKS {
        let class = if slot < missing {
            "none"
        } else {
            // Oldest at the left: the last slot is the newest result.
            match oks.get(TICKS - 1 - slot) {
                Some(true) => "ok",
                Some(false) => "fail",
                None => "none",
            }
        };
        let _ = write!(
            rects,
            r#"<rect class="{class}" x="{}" y="0" width="{w}" height="{h}" rx="1"/>"#,
            slot * (w + gap)
        );
    }
    svg(width, h, &label, rects)
}

/// A line of latencies in milliseconds, oldest at the left; `latencies` is newest first.
pub fn sparkline(latencies: &[f64]) -> Markup {
    let (width, height) = (120usize, 24usize);
    let label = match latencies.first() {
        Some(last) => format!("latency, last {last:.0} ms"),
        None => "no latency yet".to_owned(),
    };
    let max = latencies.iter().copied().fold(0.0_f64, f64::max).max(1.0);
    let n = latencies.len();
    let mut points = String::new();
    for (i, ms) in latencies.iter().rev().enumerate() {
        let x = if n > 1 {
            i as f64 * width as f64 / (n - 1) as f64
        } else {
            width as f64 / 2.0
        };
        let y = height as f64 - 2.0 - (ms / max) * (height as f64 - 4.0);
        let _ = write!(points, "{x:.1},{y:.1} ");
    }
    let inner = if n > 0 {
        format!(r#"<polyline class="line" points="{}"/>"#, points.trim_end())
    } else {
        String::new()
    };
    svg(width, height, &label, inner)
}

/// One column of the phase chart: the average of each phase in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct PhaseBin {
    /// Resolving the name.
    pub dns: f64,
    /// Connecting.
    pub connect: f64,
    /// The TLS handshake.
    pub tls: f64,
    /// Time to the first byte.
    pub ttfb: f64,
    /// How many checks the averages are over (0: an empty column).
    pub checks: u32,
    /// Where the raw results are gone: the average latency from the hourly rollups, which
    /// keep no phases.
    pub rolled: f64,
}

/// The phases in stacking order, with their CSS class.
const PHASES: [&str; 4] = ["dns", "connect", "tls", "ttfb"];

/// Stacked columns of latency by phase, oldest at the left, with the axis in milliseconds.
pub fn phases(bins: &[PhaseBin], summary: &str) -> Markup {
    let (width, height, left, bottom) = (720usize, 200usize, 44usize, 16usize);
    let plot_h = (height - bottom - 4) as f64;
    let max = bins
        .iter()
        .map(|b| (b.dns + b.connect + b.tls + b.ttfb).max(b.rolled))
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let column = (width - left) as f64 / bins.len().max(1) as f64;
    let mut inner = String::new();
    let _ = write!(
        inner,
        r#"<line class="axis" x1="{left}" y1="{0}" x2="{width}" y2="{0}"/><text x="0" y="12">{max:.0} ms</text><text x="0" y="{0}">0</text>"#,
        height - bottom
    );
    let any_rolled = bins.iter().any(|b| b.checks == 0 && b.rolled > 0.0);
    for (i, bin) in bins.iter().enumerate() {
        let x = left as f64 + i as f64 * column;
        if bin.checks == 0 {
            if bin.rolled > 0.0 {
                let h = bin.rolled / max * plot_h;
                let _ = write!(
                    inner,
                    r#"<rect class="rolled" x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}"/>"#,
                    (height - bottom) as f64 - h,
                    (column - 1.0).max(1.0)
                );
            }
            continue;
        }
        let mut y = (height - bottom) as f64;
        for (class, value) in PHASES.iter().zip([bin.dns, bin.connect, bin.tls, bin.ttfb]) {
            let h = value / max * plot_h;
            if h <= 0.0 {
                continue;
            }
            y -= h;
            let _ = write!(
                inner,
                r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}"/>"#,
                (column - 1.0).max(1.0)
            );
        }
    }
    html! {
        (svg(width, height, summary, inner))
        ul.legend aria-hidden="true" {
            @for phase in PHASES {
                li { span class={"swatch " (phase)} {} (phase) }
            }
            @if any_rolled {
                li { span class="swatch rolled" {} "total, from hourly rollups" }
            }
        }
    }
}

/// An `<svg>` of the given size whose content `inner` was built above from numbers and
/// fixed class names only; `label` (text) is escaped.
fn svg(width: usize, height: usize, label: &str, inner: String) -> Markup {
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (width) " " (height)}
            width=(width) height=(height) role="img" aria-label=(label) {
            title { (label) }
            // Numbers and constant class names only: nothing a user typed.
            (PreEscaped(inner))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_put_the_newest_at_the_right() {
        let svg = ticks(&[false, true]).into_string();
        let fail = svg.rfind("fail").expect("a failed tick");
        let ok = svg.rfind("\"ok\"").expect("a passed tick");
        assert!(fail > ok, "{svg}");
        assert!(svg.contains("last 2 checks: 1 passed, 1 failed"));
    }

    #[test]
    fn charts_with_no_data_still_draw() {
        assert!(sparkline(&[]).into_string().contains("no latency yet"));
        assert!(phases(&[], "none").into_string().contains("<svg"));
        let old = PhaseBin {
            rolled: 12.0,
            ..PhaseBin::default()
        };
        let chart = phases(&[old, PhaseBin::default()], "old").into_string();
        assert!(chart.contains(r#"class="rolled""#) && chart.contains("hourly rollups"));
    }
}
