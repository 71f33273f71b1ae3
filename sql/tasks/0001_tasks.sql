-- Per-user tasks. Title and description rules are the extension's lintel_rule_task_title() and
-- lintel_rule_task_description() (a shell must `.load build/ext/liblintel` to write here).

-- AUTOINCREMENT: ids are never reused, and id order is creation order ("oldest first").
CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title       TEXT NOT NULL CONSTRAINT title CHECK (lintel_rule_task_title(title) IS NULL),
    description TEXT CONSTRAINT description CHECK (lintel_rule_task_description(description) IS NULL),
    done        INTEGER NOT NULL DEFAULT 0 CONSTRAINT done CHECK (done IN (0, 1)),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

-- List, get, update, delete and count: WHERE user_id = ? [AND id = ?] ORDER BY id.
CREATE INDEX tasks_user_id ON tasks (user_id, id);

-- List and count with ?done=true|false, still in id order.
CREATE INDEX tasks_user_done ON tasks (user_id, done, id);

-- updated_at for writers that do not set it (the plugin sets it in its UPDATE so RETURNING
-- sees it; this covers an operator's UPDATE from the shell).
CREATE TRIGGER tasks_touch AFTER UPDATE OF title, description, done ON tasks
WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE tasks SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = NEW.id;
END;

-- Accounts are soft-deleted: their tasks go with them.
CREATE TRIGGER tasks_user_deleted AFTER UPDATE OF deleted_at ON users
WHEN NEW.deleted_at IS NOT NULL
BEGIN
    DELETE FROM tasks WHERE user_id = NEW.id;
END;
