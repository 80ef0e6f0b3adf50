//! Prometheus' classic text format, made from the OpenMetrics text the registry writes.
//!
//! The two differ in what matters to `promtool check metrics` and older scrapers: OpenMetrics
//! names a counter family without its `_total` suffix in `# HELP`/`# TYPE` and ends with
//! `# EOF`; the classic format wants HELP and TYPE on the sample name and no `# EOF`. The
//! samples themselves are written alike, so the rest passes through unchanged.

use std::collections::HashSet;

/// `openmetrics` rewritten in the classic text format (`text/plain; version=0.0.4`).
pub(super) fn classic(openmetrics: &str) -> String {
    let counters: HashSet<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].into_iter().find_map(|tag| {
            let rest = line.strip_prefix(tag)?;
            let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            counters
                .contains(name)
                .then(|| format!("{tag}{name}_total {tail}"))
        });
        match renamed {
            Some(line) => text.push_str(line.trim_end()),
            None => text.push_str(line),
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_described_under_their_sample_name() {
        let openmetrics = "# HELP app_checks Checks.\n# TYPE app_checks counter\n\
            app_checks_total{outcome=\"ok\"} 1\n# HELP app_up Up.\n# TYPE app_up gauge\n\
            app_up 1\n# EOF\n";
        assert_eq!(
            classic(openmetrics),
            "# HELP app_checks_total Checks.\n# TYPE app_checks_total counter\n\
             app_checks_total{outcome=\"ok\"} 1\n# HELP app_up Up.\n# TYPE app_up gauge\n\
             app_up 1\n"
        );
    }
}
