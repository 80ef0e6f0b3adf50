-- Several instances on one database: each one's heartbeat, and leases that let a job run on
-- one instance at a time. Times are UTC milliseconds.

CREATE TABLE instances (
    id                 TEXT    PRIMARY KEY,
    address            TEXT    NOT NULL,
    started_at         INTEGER NOT NULL,
    seen_at            INTEGER NOT NULL,
    checks_last_minute INTEGER NOT NULL
) STRICT;

CREATE TABLE leases (
    job        TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
