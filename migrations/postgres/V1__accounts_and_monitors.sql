-- Accounts, monitors and instance-wide settings (such as the generated JWT secret).
-- The same meaning as the SQLite schema, in PostgreSQL's own types.

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text        NOT NULL CONSTRAINT users_email_key UNIQUE,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL
);

-- An identity never hands an id out twice (not even after a rollback), so results keyed by
-- a deleted monitor's id are never mistaken for a newer monitor's.
CREATE TABLE monitors (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             text        NOT NULL,
    url              text        NOT NULL,
    method           text        NOT NULL,
    interval_seconds integer     NOT NULL,
    timeout_ms       integer,
    expected_status  text        NOT NULL,
    keyword          text,
    follow_redirects boolean     NOT NULL,
    headers          jsonb       NOT NULL DEFAULT '{}',
    body             text,
    paused           boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE INDEX monitors_by_user ON monitors (user_id, id);
