use chrono::{DateTime, Utc};

use super::*;
use crate::alerting::health::OpenIncident;

fn at(second: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + second, 0).expect("in range")
}

fn cause() -> Cause {
    Cause {
        kind: "timeout".into(),
        message: "no answer within 1000 ms".into(),
        status_code: None,
    }
}

fn state(from: MonitorState, to: MonitorState) -> Decision {
    let cause = matches!(to, MonitorState::Down | MonitorState::Degraded).then(cause);
    Decision::State {
        from,
        to,
        since: at(0),
        cause,
    }
}

fn open_incident(id: i64, muted: bool) -> Health {
    Health {
        incident: Some(OpenIncident {
            id: IncidentId(id),
            muted,
        }),
        ..Health::default()
    }
}

fn events(ops: &[Op]) -> Vec<(EventKind, IncidentRef)> {
    ops.iter()
        .filter_map(|op| match op {
            Op::Notify {
                event, incident, ..
            } => Some((*event, *incident)),
            _ => None,
        })
        .collect()
}

use MonitorState::*;

#[test]
fn going_down_opens_an_incident_and_announces_it() {
    let mut h = Health::default();
    let ops = plan(&mut h, &state(Up, Down), at(5), false);
    assert!(matches!(
        &ops[0],
        Op::Open { slot: Slot::Verdict, kind: IncidentKind::Down, started_at, muted: false, .. }
            if *started_at == at(0)
    ));
    assert_eq!(events(&ops), vec![(EventKind::Down, IncidentRef::Opened)]);
}

#[test]
fn coming_back_up_resolves_and_announces_the_open_incident() {
    let mut h = open_incident(7, false);
    let ops = plan(&mut h, &state(Down, Up), at(9), false);
    assert_eq!(
        ops[0],
        Op::Resolve {
            incident: IncidentId(7),
            at: at(9)
        }
    );
    assert_eq!(
        events(&ops),
        vec![(EventKind::Up, IncidentRef::Existing(IncidentId(7)))]
    );
    assert_eq!(h.incident, None);
}

#[test]
fn the_first_verdict_up_notifies_nobody() {
    let mut h = Health::default();
    assert_eq!(plan(&mut h, &state(Pending, Up), at(1), false), vec![]);
}

#[test]
fn degraded_to_down_closes_one_incident_and_opens_the_other_with_one_event() {
    let mut h = open_incident(3, false);
    let ops = plan(&mut h, &state(Degraded, Down), at(4), false);
    assert!(matches!(
        ops[0],
        Op::Resolve {
            incident: IncidentId(3),
            ..
        }
    ));
    assert!(matches!(
        ops[1],
        Op::Open {
            kind: IncidentKind::Down,
            ..
        }
    ));
    assert_eq!(events(&ops), vec![(EventKind::Down, IncidentRef::Opened)]);
}

#[test]
fn maintenance_mutes_openings_and_their_whole_incident() {
    let mut h = Health::default();
    let ops = plan(&mut h, &state(Up, Down), at(1), true);
    assert!(matches!(ops[0], Op::Open { muted: true, .. }));
    assert_eq!(events(&ops), vec![]);
    // Opened muted, resolved after the window: still nothing.
    let mut h = open_incident(5, true);
    assert_eq!(
        events(&plan(&mut h, &state(Down, Up), at(2), false)),
        vec![]
    );
    // Opened loud, resolved inside a window: nothing sent either.
    let mut h = open_incident(6, false);
    assert_eq!(events(&plan(&mut h, &state(Down, Up), at(3), true)), vec![]);
}

#[test]
fn certificates_announce_their_opening_only() {
    let mut h = Health::default();
    let expiring = Decision::CertificateExpiring {
        expires_at: at(86_400),
    };
    let ops = plan(&mut h, &expiring, at(1), false);
    assert!(matches!(
        &ops[0],
        Op::Open {
            slot: Slot::Certificate,
            kind: IncidentKind::Certificate,
            cert_expires_at: Some(_),
            ..
        }
    ));
    assert_eq!(
        events(&ops),
        vec![(EventKind::CertificateExpiring, IncidentRef::Opened)]
    );
    h.cert_incident = Some(IncidentId(9));
    let renewed = Decision::CertificateRenewed {
        expires_at: at(9_000_000),
    };
    assert_eq!(
        plan(&mut h, &renewed, at(2), false),
        vec![Op::Resolve {
            incident: IncidentId(9),
            at: at(2)
        }]
    );
    assert_eq!(h.cert_incident, None);
}
