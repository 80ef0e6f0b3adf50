-- The check engine: each monitor's next due time, raw results partitioned by day, the last
-- check of each monitor, hourly rollups that outlive the raw rows, and the roll-up mark.
-- Durations are microseconds (bigint); times are timestamptz at millisecond resolution.

ALTER TABLE monitors ADD COLUMN next_check_at timestamptz;
-- A monitor made before the check engine is due on its own grid; the scheduler skips the
-- missed points instead of running them all.
UPDATE monitors SET next_check_at = created_at;
ALTER TABLE monitors ALTER COLUMN next_check_at SET NOT NULL;

-- Only running monitors are ever looked up by due time; the id breaks ties in claim order.
CREATE INDEX monitors_due ON monitors (next_check_at, id) WHERE NOT paused;

-- One partition per UTC day (results_YYYYMMDD), created ahead by the store's upkeep and on
-- demand for an older day; a day is dropped whole once the roll-up mark has passed it,
-- instead of deleting its rows one by one.
--
-- (monitor_id, checked_at) is a result's identity, so a batch written twice is stored once;
-- it also serves a monitor's newest results and a monitor's window.
--
-- No foreign key to monitors: its check would cost every ingested row a lookup and a lock.
-- Writes join monitors (locked FOR KEY SHARE) instead, and deleting a monitor deletes its
-- results explicitly.
CREATE TABLE results (
    monitor_id      bigint      NOT NULL,
    checked_at      timestamptz NOT NULL,
    ok              boolean     NOT NULL,
    status_code     integer,
    latency_us      bigint      NOT NULL,
    dns_us          bigint,
    connect_us      bigint,
    tls_us          bigint,
    ttfb_us         bigint,
    error_kind      text,
    error_message   text,
    cert_expires_at timestamptz,
    PRIMARY KEY (monitor_id, checked_at)
) PARTITION BY RANGE (checked_at);

-- Retention walks results oldest first across all monitors, from the mark on.
CREATE INDEX results_by_time ON results (checked_at, monitor_id);

-- Kept beside the monitor so listing monitors never scans results.
CREATE TABLE monitor_status (
    monitor_id  bigint      PRIMARY KEY REFERENCES monitors (id) ON DELETE CASCADE,
    checked_at  timestamptz NOT NULL,
    ok          boolean     NOT NULL,
    status_code integer,
    latency_us  bigint      NOT NULL
);

-- One monitor's checks during one hour; `histogram` holds the latency bucket counts.
CREATE TABLE rollups (
    monitor_id     bigint      NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    hour_start     timestamptz NOT NULL,
    checks         bigint      NOT NULL,
    failures       bigint      NOT NULL,
    latency_count  bigint      NOT NULL,
    latency_sum_us bigint      NOT NULL,
    latency_min_us bigint      NOT NULL,
    latency_max_us bigint      NOT NULL,
    histogram      bigint[]    NOT NULL,
    PRIMARY KEY (monitor_id, hour_start)
);

-- Pruning walks rollups oldest first across all monitors.
CREATE INDEX rollups_by_hour ON rollups (hour_start, monitor_id);

-- The last raw result rolled up, in (checked_at, monitor_id) order: every raw row at or
-- below it is counted in the rollups and logically gone, whether or not its partition has
-- been dropped yet. One row, so concurrent roll-ups serialise on it.
CREATE TABLE rollup_mark (
    only_row   boolean     PRIMARY KEY DEFAULT true CHECK (only_row),
    checked_at timestamptz NOT NULL,
    monitor_id bigint      NOT NULL
);

INSERT INTO rollup_mark (checked_at, monitor_id) VALUES ('-infinity', 0);
