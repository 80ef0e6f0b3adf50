-- Alerting (issue 12): a monitor's thresholds and channels, its state decided by them, and
-- the incidents, events and notifications (the outbox) those decisions write in the same
-- transaction as the results that caused them.

ALTER TABLE monitors
    ADD COLUMN failure_threshold integer NOT NULL DEFAULT 3,
    ADD COLUMN success_threshold integer NOT NULL DEFAULT 1,
    ADD COLUMN latency_threshold_ms integer,
    -- Channel ids owned by the monitor's owner (checked when saved); a deleted channel is
    -- removed from every array by the same transaction.
    ADD COLUMN channel_ids bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN reminder_interval_seconds integer,
    ADD COLUMN cert_expiry_days integer NOT NULL DEFAULT 14;

CREATE TABLE channels (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text        NOT NULL,
    kind       text        NOT NULL,
    -- The kind's settings, secrets included (never answered by the API).
    config     jsonb       NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT channels_name_key UNIQUE (user_id, name)
);

CREATE TABLE incidents (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    monitor_id        bigint      NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    kind              text        NOT NULL,
    started_at        timestamptz NOT NULL,
    resolved_at       timestamptz,
    cause_kind        text        NOT NULL,
    cause_message     text        NOT NULL,
    cause_status_code integer,
    cert_expires_at   timestamptz,
    muted             boolean     NOT NULL DEFAULT false,
    -- When the last notification about it (opening or reminder) was queued.
    notified_at       timestamptz
);

CREATE INDEX incidents_by_monitor ON incidents (monitor_id, id);
CREATE INDEX incidents_open ON incidents (id) WHERE resolved_at IS NULL;

CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id bigint      NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind        text        NOT NULL,
    at          timestamptz NOT NULL
);

CREATE INDEX events_by_incident ON events (incident_id);

-- The outbox: one row per event and channel, claimed (FOR UPDATE SKIP LOCKED) and
-- delivered by any instance.
CREATE TABLE notifications (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    channel_id      bigint      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    state           text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    claimed_until   timestamptz,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL,
    CONSTRAINT notifications_once UNIQUE (event_id, channel_id)
);

CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_by_channel ON notifications (channel_id);

CREATE TABLE maintenance_windows (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    -- NULL covers every monitor of the account.
    monitor_ids bigint[],
    created_at  timestamptz NOT NULL
);

CREATE INDEX maintenance_by_user ON maintenance_windows (user_id, ends_at);

-- monitor_status now exists from a monitor's creation (its state starts `pending`), so the
-- last check's columns become nullable.
ALTER TABLE monitor_status
    ALTER COLUMN checked_at DROP NOT NULL,
    ALTER COLUMN ok DROP NOT NULL,
    ALTER COLUMN latency_us DROP NOT NULL,
    ADD COLUMN error_kind text,
    ADD COLUMN error_message text,
    ADD COLUMN state text NOT NULL DEFAULT 'pending',
    ADD COLUMN failures integer NOT NULL DEFAULT 0,
    ADD COLUMN slow integer NOT NULL DEFAULT 0,
    ADD COLUMN good integer NOT NULL DEFAULT 0,
    ADD COLUMN passing integer NOT NULL DEFAULT 0,
    ADD COLUMN failing_since timestamptz,
    ADD COLUMN slow_since timestamptz,
    ADD COLUMN incident_id bigint REFERENCES incidents (id) ON DELETE SET NULL,
    ADD COLUMN incident_muted boolean NOT NULL DEFAULT false,
    ADD COLUMN cert_incident_id bigint REFERENCES incidents (id) ON DELETE SET NULL;

INSERT INTO monitor_status (monitor_id)
    SELECT id FROM monitors WHERE id NOT IN (SELECT monitor_id FROM monitor_status);
