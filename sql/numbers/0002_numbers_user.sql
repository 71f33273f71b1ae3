-- Per-user bookkeeping of numbers, kept by triggers so every writer (the plugin, the
-- account-deletion trigger, an operator's shell) counts: `total` answers a list's total without
-- counting 100 000 index entries, and `version` (bumped on every change, never reset: rows are
-- never deleted) tells the plugin whether the statistics it keeps in memory are still current.
CREATE TABLE numbers_user (
    user_id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    total   INTEGER NOT NULL CHECK (total >= 0)
) STRICT;

INSERT INTO numbers_user (user_id, version, total)
SELECT user_id, 1, count(*) FROM numbers GROUP BY user_id;

CREATE TRIGGER numbers_user_insert AFTER INSERT ON numbers
BEGIN
    INSERT INTO numbers_user (user_id, version, total) VALUES (NEW.user_id, 1, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1, total = total + 1;
END;

CREATE TRIGGER numbers_user_update AFTER UPDATE OF user_id, value ON numbers
BEGIN
    INSERT INTO numbers_user (user_id, version, total)
    VALUES (NEW.user_id, 1, 1)
    ON CONFLICT (user_id) DO UPDATE
    SET version = version + 1, total = total + (OLD.user_id IS NOT NEW.user_id);
    UPDATE numbers_user SET version = version + 1, total = total - 1
    WHERE user_id = OLD.user_id AND OLD.user_id IS NOT NEW.user_id;
END;

CREATE TRIGGER numbers_user_delete AFTER DELETE ON numbers
BEGIN
    UPDATE numbers_user SET version = version + 1, total = total - 1
    WHERE user_id = OLD.user_id;
END;
