-- Title and description are refused unless they are text, whoever writes them: a STRICT TEXT
-- column converts 5 to '5' before its CHECK runs, so the columns become ANY (stored exactly as
-- bound) and the CHECK looks at the type the writer sent.
-- lintel: rebuild tasks
CREATE TABLE tasks_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title       ANY NOT NULL CONSTRAINT title
                CHECK (typeof(title) = 'text' AND lintel_rule_task_title(title) IS NULL),
    description ANY CONSTRAINT description
                CHECK (description IS NULL OR (typeof(description) = 'text'
                       AND lintel_rule_task_description(description) IS NULL)),
    done        INTEGER NOT NULL DEFAULT 0 CONSTRAINT done CHECK (done IN (0, 1)),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

INSERT INTO tasks_new (id, user_id, title, description, done, created_at, updated_at)
SELECT id, user_id, title, description, done, created_at, updated_at FROM tasks;

-- Ids are never reused: the counter survives the copy (the DROP removes the old table's row
-- from sqlite_sequence; the rename carries the new one's).
INSERT INTO sqlite_sequence (name, seq)
SELECT 'tasks_new', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'tasks_new');
UPDATE sqlite_sequence
SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0))
WHERE name = 'tasks_new';

DROP TABLE tasks;
ALTER TABLE tasks_new RENAME TO tasks;

-- What the drop took with it, as 0001 and 0002 made it (the runner would recreate these too;
-- written out so that the file also works in a plain shell).
CREATE INDEX tasks_user_id ON tasks (user_id, id);
CREATE INDEX tasks_user_done ON tasks (user_id, done, id);

CREATE TRIGGER tasks_touch AFTER UPDATE OF title, description, done ON tasks
WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE tasks SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = NEW.id;
END;

CREATE TRIGGER tasks_user_insert AFTER INSERT ON tasks
BEGIN
    INSERT INTO tasks_user (user_id, total, done) VALUES (NEW.user_id, 1, NEW.done)
    ON CONFLICT (user_id) DO UPDATE SET total = total + 1, done = done + NEW.done;
END;

CREATE TRIGGER tasks_user_update AFTER UPDATE OF user_id, done ON tasks
BEGIN
    UPDATE tasks_user SET total = total - 1, done = done - OLD.done WHERE user_id = OLD.user_id;
    INSERT INTO tasks_user (user_id, total, done) VALUES (NEW.user_id, 1, NEW.done)
    ON CONFLICT (user_id) DO UPDATE SET total = total + 1, done = done + NEW.done;
END;

CREATE TRIGGER tasks_user_delete AFTER DELETE ON tasks
BEGIN
    UPDATE tasks_user SET total = total - 1, done = done - OLD.done WHERE user_id = OLD.user_id;
END;
