-- API keys: long-lived credentials for scripts and the command line, read-only or
-- read-write, stored as the SHA-256 of the key (a key is 256 random bits, so a plain hash
-- is as good as a slow one) and looked up on every request, so a revoked key stops working
-- at once on every instance.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    scope        TEXT    NOT NULL CHECK (scope IN ('read', 'write')),
    key_hash     TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER
) STRICT;
CREATE INDEX api_keys_by_user ON api_keys (user_id, id);

-- A monitor's name is unique in its account, since documents (apply, export) key monitors
-- by name. Older duplicates are renamed by age: the oldest keeps the name, the next becomes
-- "name (2)", then "name (3)"; names are cut so the result stays within 200 characters.
UPDATE monitors SET name = renamed.name
FROM (SELECT id,
             substr(name, 1, 190) || ' (' ||
                 row_number() OVER (PARTITION BY user_id, name ORDER BY id) || ')' AS name,
             row_number() OVER (PARTITION BY user_id, name ORDER BY id) AS rank
      FROM monitors) AS renamed
WHERE renamed.id = monitors.id AND renamed.rank > 1;

-- A renamed monitor may now clash with one that was already called "name (2)": the younger
-- of such a pair takes its id as well, which no other monitor has.
UPDATE monitors SET name = substr(name, 1, 178) || ' #' || id
WHERE EXISTS (SELECT 1 FROM monitors older
              WHERE older.user_id = monitors.user_id AND older.name = monitors.name
                AND older.id < monitors.id);

CREATE UNIQUE INDEX monitors_user_id_name_key ON monitors (user_id, name);
