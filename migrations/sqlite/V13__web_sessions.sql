-- Sessions of the web pages: the browser holds a random id in a signed cookie; only its
-- SHA-256 is kept here, so a copy of the database opens no session. A session counts while
-- its account's token generation is the one it was made under (a password change ends
-- every session at once) and until it expires.
CREATE TABLE web_sessions (
    id_hash          TEXT PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_generation INTEGER NOT NULL,
    csrf             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
