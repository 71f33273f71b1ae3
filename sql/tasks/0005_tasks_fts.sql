-- The text search of GET /api/tasks?q=: an FTS5 index of title and description.
--
-- With trusted_schema=OFF (db.c) SQLite refuses a virtual table inside a trigger ("unsafe use
-- of virtual table"), so the triggers cannot write the index themselves. They record which
-- tasks changed in tasks_fts_pending instead, for every writer (the plugin, the compatibility
-- profiles, the account-deletion trigger, an operator's shell); the search brings the index up
-- to date from that table, in one write transaction, before it reads it (plugins/tasks).
-- The index keeps its own copy of the text (not external content): catching up only needs the
-- ids, not the old values.
-- unicode61 with diacritics removed: "cafe" finds "café".
CREATE VIRTUAL TABLE tasks_fts USING fts5(
    title, description, tokenize = 'unicode61 remove_diacritics 2'
);

-- The rows that exist now (a filled database upgrades with its tasks searchable).
INSERT INTO tasks_fts (rowid, title, description) SELECT id, title, description FROM tasks;

CREATE TABLE tasks_fts_pending (
    task_id INTEGER PRIMARY KEY
) STRICT;

CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks
BEGIN
    INSERT OR IGNORE INTO tasks_fts_pending (task_id) VALUES (NEW.id);
END;

CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, description ON tasks
BEGIN
    INSERT OR IGNORE INTO tasks_fts_pending (task_id) VALUES (NEW.id);
END;

CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks
BEGIN
    INSERT OR IGNORE INTO tasks_fts_pending (task_id) VALUES (OLD.id);
END;
