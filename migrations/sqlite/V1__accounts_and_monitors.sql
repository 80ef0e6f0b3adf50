-- Accounts, monitors and instance-wide settings (such as the generated JWT secret).
-- Times are UTC milliseconds since the Unix epoch.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

-- AUTOINCREMENT so a deleted monitor's id is never handed out again: results keyed by it
-- must not be mistaken for a newer monitor's.
CREATE TABLE monitors (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    interval_seconds INTEGER NOT NULL,
    timeout_ms       INTEGER,
    expected_status  TEXT    NOT NULL,
    keyword          TEXT,
    follow_redirects INTEGER NOT NULL,
    headers          TEXT    NOT NULL DEFAULT '{}',
    body             TEXT,
    paused           INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX monitors_by_user ON monitors (user_id, id);
