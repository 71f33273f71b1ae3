-- The tasks migration in the shell: title and description rules as CHECK constraints (the
-- extension's lintel_rule_task_*), done limited to 0/1, and the indexes the plugin relies on.
PRAGMA foreign_keys = ON;
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL, deleted_at TEXT);
.read '|cat "$LINTEL_TEST_SOURCE_DIR/sql/tasks/0001_tasks.sql"'
.read '|cat "$LINTEL_TEST_SOURCE_DIR/sql/tasks/0002_tasks_user.sql"'
-- 0003 is a table rebuild: run it as the migration runner does (docs/storage.md).
PRAGMA foreign_keys = OFF;
PRAGMA legacy_alter_table = ON;
.echo off
.read '|cat "$LINTEL_TEST_SOURCE_DIR/sql/tasks/0003_tasks_typed_text.sql"'
.echo on
PRAGMA legacy_alter_table = OFF;
PRAGMA foreign_keys = ON;
INSERT INTO users (id, username) VALUES (1, 'ann'), (2, 'bob');
INSERT INTO tasks (user_id, title) VALUES (1, 'a');
INSERT INTO tasks (user_id, title, description, done) VALUES (1, printf('%.200c', 'x'), printf('%.10000c', 'y'), 1);
INSERT INTO tasks (user_id, title, description) VALUES (2, 'b', NULL);
SELECT id, user_id, length(title), length(description), done FROM tasks ORDER BY id;
-- Refused by the database, whoever writes:
INSERT INTO tasks (user_id, title) VALUES (1, '');
INSERT INTO tasks (user_id, title) VALUES (1, ' '||char(9,10)||' ');
INSERT INTO tasks (user_id, title) VALUES (1, 5);
INSERT INTO tasks (user_id, title) VALUES (1, printf('%.201c', 'x'));
INSERT INTO tasks (user_id, title) VALUES (1, NULL);
INSERT INTO tasks (user_id, title, description) VALUES (1, 'c', printf('%.10001c', 'y'));
INSERT INTO tasks (user_id, title, done) VALUES (1, 'c', 2);
INSERT INTO tasks (user_id, title, done) VALUES (1, 'c', 'yes');
INSERT INTO tasks (user_id, title) VALUES (3, 'c');
SELECT count(*) FROM tasks;
EXPLAIN QUERY PLAN SELECT id, title FROM tasks WHERE user_id = 1 ORDER BY id LIMIT 100 OFFSET 0;
EXPLAIN QUERY PLAN SELECT id, title FROM tasks WHERE user_id = 1 AND done = 1 ORDER BY id LIMIT 100 OFFSET 0;
-- updated_at follows a change even when the writer does not set it.
UPDATE tasks SET updated_at = '2000-01-01T00:00:00Z' WHERE id = 1;
UPDATE tasks SET done = 1 WHERE id = 1;
SELECT done, updated_at <> '2000-01-01T00:00:00Z' FROM tasks WHERE id = 1;
-- tasks_user keeps each user's total and done counts through every change.
SELECT user_id, total, done FROM tasks_user ORDER BY user_id;
UPDATE tasks SET done = 0 WHERE id = 2;
DELETE FROM tasks WHERE id = 3;
INSERT INTO tasks (user_id, title, done) VALUES (2, 'd', 1), (2, 'e', 0);
SELECT user_id, total, done FROM tasks_user ORDER BY user_id;
SELECT user_id, count(*), sum(done) FROM tasks GROUP BY user_id;
-- Soft-deleting a user removes that user's tasks only.
UPDATE users SET deleted_at = '2024-04-22T15:07:57Z' WHERE id = 1;
SELECT user_id, count(*) FROM tasks GROUP BY user_id;
SELECT user_id, total, done FROM tasks_user ORDER BY user_id;
