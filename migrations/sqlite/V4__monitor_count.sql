-- Each account's number of monitors, kept by the store in the same transaction as every
-- creation and deletion, so the per-account limit is checked in O(1) instead of counting
-- the account's monitors on each creation.

ALTER TABLE users ADD COLUMN monitor_count INTEGER NOT NULL DEFAULT 0;

UPDATE users SET monitor_count = (SELECT count(*) FROM monitors WHERE monitors.user_id = users.id);
