-- The check engine: each monitor's next due time, raw results, the last check of each
-- monitor, and hourly rollups that outlive the raw rows. Times are UTC milliseconds,
-- durations microseconds.

-- NOT NULL needs a default to be added; every existing row gets a real value just below.
ALTER TABLE monitors ADD COLUMN next_check_at INTEGER NOT NULL DEFAULT 0;
-- A monitor made before the check engine is due on its own grid; the scheduler skips the
-- missed points instead of running them all.
UPDATE monitors SET next_check_at = created_at;

-- Only running monitors are ever looked up by due time.
CREATE INDEX monitors_due ON monitors (next_check_at) WHERE paused = 0;

-- (monitor_id, checked_at) is a result's identity, so a batch written twice is stored once.
CREATE TABLE results (
    monitor_id      INTEGER NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    checked_at      INTEGER NOT NULL,
    ok              INTEGER NOT NULL CHECK (ok IN (0, 1)),
    status_code     INTEGER,
    latency_us      INTEGER NOT NULL,
    dns_us          INTEGER,
    connect_us      INTEGER,
    tls_us          INTEGER,
    ttfb_us         INTEGER,
    error_kind      TEXT,
    error_message   TEXT,
    cert_expires_at INTEGER,
    PRIMARY KEY (monitor_id, checked_at)
) STRICT, WITHOUT ROWID;

-- Retention walks results oldest first across all monitors.
CREATE INDEX results_by_time ON results (checked_at);

-- Kept beside the monitor so listing monitors never scans results.
CREATE TABLE monitor_status (
    monitor_id  INTEGER PRIMARY KEY REFERENCES monitors (id) ON DELETE CASCADE,
    checked_at  INTEGER NOT NULL,
    ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
    status_code INTEGER,
    latency_us  INTEGER NOT NULL
) STRICT;

-- One monitor's checks during one hour; `histogram` holds the bucket counts, comma-separated.
CREATE TABLE rollups (
    monitor_id     INTEGER NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    hour_start     INTEGER NOT NULL,
    checks         INTEGER NOT NULL,
    failures       INTEGER NOT NULL,
    latency_count  INTEGER NOT NULL,
    latency_sum_us INTEGER NOT NULL,
    latency_min_us INTEGER NOT NULL,
    latency_max_us INTEGER NOT NULL,
    histogram      TEXT    NOT NULL,
    PRIMARY KEY (monitor_id, hour_start)
) STRICT, WITHOUT ROWID;

-- Pruning walks rollups oldest first across all monitors.
CREATE INDEX rollups_by_hour ON rollups (hour_start);
