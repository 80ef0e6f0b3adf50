-- Public status pages (issue 13): a slug anyone may open, showing some of its owner's
-- monitors. The monitor ids are a JSON array in the owner's order; a deleted monitor's id
-- may linger there, and public reads only show monitors the page's owner still has.
CREATE TABLE status_pages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Unique across the server: it is the page's public address.
    slug        TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    monitor_ids TEXT    NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX status_pages_by_user ON status_pages (user_id, id);
