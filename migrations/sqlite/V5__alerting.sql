-- Alerting (issue 12): a monitor's thresholds and channels, its state decided by them, and
-- the incidents, events and notifications (the outbox) those decisions write in the same
-- transaction as the results that caused them.

ALTER TABLE monitors ADD COLUMN failure_threshold INTEGER NOT NULL DEFAULT 3;
ALTER TABLE monitors ADD COLUMN success_threshold INTEGER NOT NULL DEFAULT 1;
ALTER TABLE monitors ADD COLUMN latency_threshold_ms INTEGER;
-- A JSON array of channel ids, owned by the monitor's owner (checked when saved); a deleted
-- channel is removed from every array by the same transaction.
ALTER TABLE monitors ADD COLUMN channel_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE monitors ADD COLUMN reminder_interval_seconds INTEGER;
ALTER TABLE monitors ADD COLUMN cert_expiry_days INTEGER NOT NULL DEFAULT 14;

CREATE TABLE channels (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    -- JSON: the kind's settings, secrets included (never answered by the API).
    config     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
) STRICT;

CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    monitor_id        INTEGER NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    kind              TEXT    NOT NULL,
    started_at        INTEGER NOT NULL,
    resolved_at       INTEGER,
    cause_kind        TEXT    NOT NULL,
    cause_message     TEXT    NOT NULL,
    cause_status_code INTEGER,
    cert_expires_at   INTEGER,
    muted             INTEGER NOT NULL DEFAULT 0 CHECK (muted IN (0, 1)),
    -- When the last notification about it (opening or reminder) was queued.
    notified_at       INTEGER
) STRICT;

CREATE INDEX incidents_by_monitor ON incidents (monitor_id, id);
CREATE INDEX incidents_open ON incidents (id) WHERE resolved_at IS NULL;

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    at          INTEGER NOT NULL
) STRICT;

CREATE INDEX events_by_incident ON events (incident_id);

-- The outbox: one row per event and channel, claimed and delivered by any instance.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    channel_id      INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    last_error      TEXT,
    delivered_at    INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE (event_id, channel_id)
) STRICT;

CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_by_channel ON notifications (channel_id);

CREATE TABLE maintenance_windows (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    -- A JSON array of monitor ids; NULL covers every monitor of the account.
    monitor_ids TEXT,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX maintenance_by_user ON maintenance_windows (user_id, ends_at);

-- monitor_status now exists from a monitor's creation (its state starts `pending`), so the
-- last check's columns become nullable: SQLite rebuilds the table for that.
CREATE TABLE monitor_status_v5 (
    monitor_id       INTEGER PRIMARY KEY REFERENCES monitors (id) ON DELETE CASCADE,
    checked_at       INTEGER,
    ok               INTEGER CHECK (ok IN (0, 1)),
    status_code      INTEGER,
    latency_us       INTEGER,
    error_kind       TEXT,
    error_message    TEXT,
    state            TEXT    NOT NULL DEFAULT 'pending',
    failures         INTEGER NOT NULL DEFAULT 0,
    slow             INTEGER NOT NULL DEFAULT 0,
    good             INTEGER NOT NULL DEFAULT 0,
    passing          INTEGER NOT NULL DEFAULT 0,
    failing_since    INTEGER,
    slow_since       INTEGER,
    incident_id      INTEGER REFERENCES incidents (id) ON DELETE SET NULL,
    incident_muted   INTEGER NOT NULL DEFAULT 0 CHECK (incident_muted IN (0, 1)),
    cert_incident_id INTEGER REFERENCES incidents (id) ON DELETE SET NULL
) STRICT;

INSERT INTO monitor_status_v5 (monitor_id, checked_at, ok, status_code, latency_us)
    SELECT monitor_id, checked_at, ok, status_code, latency_us FROM monitor_status;
INSERT INTO monitor_status_v5 (monitor_id)
    SELECT id FROM monitors WHERE id NOT IN (SELECT monitor_id FROM monitor_status);
DROP TABLE monitor_status;
ALTER TABLE monitor_status_v5 RENAME TO monitor_status;
