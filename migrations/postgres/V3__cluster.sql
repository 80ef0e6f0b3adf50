-- Several instances on one database: each one's heartbeat, and leases that let a job
-- (retention, roll-ups, partition upkeep) run on one instance at a time. A lease row rather
-- than a session advisory lock: pooled connections come and go, and a lease held by an
-- instance that died simply runs out.

CREATE TABLE instances (
    id                 text        PRIMARY KEY,
    address            text        NOT NULL,
    started_at         timestamptz NOT NULL,
    seen_at            timestamptz NOT NULL,
    checks_last_minute bigint      NOT NULL
);

CREATE TABLE leases (
    job        text        PRIMARY KEY,
    holder     text        NOT NULL,
    expires_at timestamptz NOT NULL
);
