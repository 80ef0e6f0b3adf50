//! The words of a notice, shared by the human channels (email, chat, ntfy), so every one
//! says the same thing: a title and one line per event.

use super::Notice;
use crate::alerting::EventKind;

/// The label an event is announced with.
pub fn label(event: EventKind) -> &'static str {
    match event {
        EventKind::Down => "DOWN",
        EventKind::Up => "UP",
        EventKind::Degraded => "DEGRADED",
        EventKind::Reminder => "STILL FAILING",
        EventKind::CertificateExpiring => "CERTIFICATE EXPIRING",
        EventKind::Test => "TEST",
    }
}

/// One line about one notice: `DOWN api (https://api.example.com/): Connection refused.`
pub fn line(notice: &Notice) -> String {
    let label = label(notice.event);
    let Some(monitor) = &notice.monitor else {
        return format!("{label}: a test notification from tocsin; this channel works.");
    };
    let mut line = format!("{label} {} ({})", monitor.name, monitor.url);
    match (notice.event, &notice.incident, &notice.cause) {
        (EventKind::Up, Some(incident), _) => {
            let lasted = notice.at - incident.started_at;
            line.push_str(&format!(
                ": back after {}",
                humantime::format_duration(std::time::Duration::from_secs(
                    lasted.num_seconds().max(0) as u64
                ))
            ));
        }
        (_, _, Some(cause)) => {
            line.push_str(": ");
            line.push_str(&cause.message);
        }
        _ => {}
    }
    line
}

/// A title for the message: the one notice's line, or how many there are.
pub fn title(notices: &[Notice]) -> String {
    match notices {
        [one] => match &one.monitor {
            Some(m) => format!("[tocsin] {} {}", label(one.event), m.name),
            None => "[tocsin] test notification".to_owned(),
        },
        many => {
            let down = many
                .iter()
                .filter(|n| matches!(n.event, EventKind::Down | EventKind::Degraded))
                .count();
            let up = many.iter().filter(|n| n.event == EventKind::Up).count();
            format!(
                "[tocsin] {} alerts: {down} down or degraded, {up} up",
                many.len()
            )
        }
    }
}

/// Every notice's line, one per line, oldest first.
pub fn body(notices: &[Notice]) -> String {
    let mut lines: Vec<String> = notices
        .iter()
        .map(|n| format!("{} ({})", line(n), n.at.format("%Y-%m-%d %H:%M:%S UTC")))
        .collect();
    lines.push(String::new());
    lines.push("-- tocsin".to_owned());
    lines.join("\n")
}

/// A time as every JSON body has it: RFC 3339 UTC with milliseconds.
pub fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
