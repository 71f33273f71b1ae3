-- Versions for ETags: one per task (GET /api/tasks/{id}, and If-Match on it) and one per user
-- (GET /api/tasks, every page and filter of it), bumped by triggers on every change whoever
-- writes, as numbers_user.version is for numbers. A tasks_user row is never deleted, so its
-- version never goes back.
ALTER TABLE tasks ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tasks_user ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- Any UPDATE of the row that did not set version itself bumps it.
CREATE TRIGGER tasks_version AFTER UPDATE ON tasks
WHEN NEW.version IS OLD.version
BEGIN
    UPDATE tasks SET version = OLD.version + 1 WHERE id = NEW.id;
END;

-- The user's list changes on every insert, update and delete. INSERT ... ON CONFLICT: whether
-- tasks_user_insert has made the row yet or not (trigger order is not promised), the counts
-- stay tasks_user_insert's and the version moves.
CREATE TRIGGER tasks_user_version_insert AFTER INSERT ON tasks
BEGIN
    INSERT INTO tasks_user (user_id, total, done, version) VALUES (NEW.user_id, 0, 0, 2)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER tasks_user_version_update AFTER UPDATE ON tasks
BEGIN
    UPDATE tasks_user SET version = version + 1 WHERE user_id IN (OLD.user_id, NEW.user_id);
END;

CREATE TRIGGER tasks_user_version_delete AFTER DELETE ON tasks
BEGIN
    UPDATE tasks_user SET version = version + 1 WHERE user_id = OLD.user_id;
END;
