-- Public status pages (issue 13): a slug anyone may open, showing some of its owner's
-- monitors, in the owner's order. A deleted monitor's id may linger in `monitor_ids`;
-- public reads only show monitors the page's owner still has.
CREATE TABLE status_pages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Unique across the server: it is the page's public address.
    slug        text        NOT NULL UNIQUE,
    title       text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    monitor_ids bigint[]    NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE INDEX status_pages_by_user ON status_pages (user_id, id);
