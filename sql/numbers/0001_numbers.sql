-- Per-user positive numbers. The value rule is the extension's lintel_rule_number(), so the
-- database refuses a bad value whoever writes it (a shell must `.load build/ext/liblintel`).

-- STRICT with `value ANY`: stored exactly as bound, so 5 stays an integer and 5.0 a real.
-- AUTOINCREMENT: ids are never reused, and id order is creation order ("oldest first").
CREATE TABLE numbers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    value      ANY NOT NULL CONSTRAINT value CHECK (lintel_rule_number(value) IS NULL),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

-- List, get, update, delete and count: WHERE user_id = ? [AND id = ?] ORDER BY id.
CREATE INDEX numbers_user_id ON numbers (user_id, id);

-- Stats: lintel_stats(value) over one user's rows is read from this index alone.
CREATE INDEX numbers_user_value ON numbers (user_id, value);

-- updated_at for writers that do not set it (the plugin sets it in the statement itself, so
-- that RETURNING sees it; this covers an operator's UPDATE from the shell).
CREATE TRIGGER numbers_touch AFTER UPDATE OF value ON numbers
WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE numbers SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = NEW.id;
END;

-- Accounts are soft-deleted: their numbers go with them.
CREATE TRIGGER numbers_user_deleted AFTER UPDATE OF deleted_at ON users
WHEN NEW.deleted_at IS NOT NULL
BEGIN
    DELETE FROM numbers WHERE user_id = NEW.id;
END;
