-- A per-user change counter of numbers: the plugin keeps each user's computed statistics in
-- memory and checks with one indexed read that they are still current. The triggers count
-- every writer's change (the plugin, the account-deletion trigger, an operator's shell).
-- Rows are never deleted, so a version never repeats for a user.
CREATE TABLE numbers_version (
    user_id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
) STRICT;

INSERT INTO numbers_version (user_id, version) SELECT DISTINCT user_id, 1 FROM numbers;

CREATE TRIGGER numbers_version_insert AFTER INSERT ON numbers
BEGIN
    INSERT INTO numbers_version (user_id, version) VALUES (NEW.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER numbers_version_update AFTER UPDATE OF user_id, value ON numbers
BEGIN
    INSERT INTO numbers_version (user_id, version) VALUES (NEW.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    INSERT INTO numbers_version (user_id, version) SELECT OLD.user_id, 1
    WHERE OLD.user_id IS NOT NEW.user_id
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER numbers_version_delete AFTER DELETE ON numbers
BEGIN
    INSERT INTO numbers_version (user_id, version) VALUES (OLD.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
