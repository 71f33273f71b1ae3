-- The numbers migration in the shell: the database itself refuses a bad value (CHECK through
-- lintel_rule_number), keeps integers and reals apart, and uses its indexes.
PRAGMA foreign_keys = ON;
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL, deleted_at TEXT);
.read '|cat "$LINTEL_TEST_SOURCE_DIR/sql/numbers/0001_numbers.sql"'
.read '|cat "$LINTEL_TEST_SOURCE_DIR/sql/numbers/0002_numbers_user.sql"'
INSERT INTO users (id, username) VALUES (1, 'ann'), (2, 'bob');
INSERT INTO numbers (user_id, value) VALUES (1, 5), (1, 5.0), (1, 0.1), (2, 7), (1, 2.5);
SELECT id, user_id, value, typeof(value) FROM numbers ORDER BY id;
-- Refused by the database, whoever writes:
INSERT INTO numbers (user_id, value) VALUES (1, 0);
INSERT INTO numbers (user_id, value) VALUES (1, -1);
INSERT INTO numbers (user_id, value) VALUES (1, -0.5);
INSERT INTO numbers (user_id, value) VALUES (1, NULL);
INSERT INTO numbers (user_id, value) VALUES (1, '5');
INSERT INTO numbers (user_id, value) VALUES (1, x'05');
INSERT INTO numbers (user_id, value) VALUES (1, 1e999);
INSERT INTO numbers (user_id, value) VALUES (3, 1);
UPDATE numbers SET value = 0 WHERE id = 1;
SELECT count(*) FROM numbers;
-- Stats of one user from the covering index; the list in id order from (user_id, id).
EXPLAIN QUERY PLAN SELECT lintel_stats(value) FROM numbers WHERE user_id = 1;
EXPLAIN QUERY PLAN SELECT id, value, created_at, updated_at FROM numbers WHERE user_id = 1 ORDER BY id LIMIT 100 OFFSET 0;
EXPLAIN QUERY PLAN SELECT count(*) FROM numbers WHERE user_id = 1;
SELECT lintel_stats(value) FROM numbers WHERE user_id = 1;
-- updated_at follows a change of value even when the writer does not set it.
UPDATE numbers SET updated_at = '2000-01-01T00:00:00Z' WHERE id = 1;
UPDATE numbers SET value = 6 WHERE id = 1;
SELECT value, updated_at <> '2000-01-01T00:00:00Z' FROM numbers WHERE id = 1;
-- Soft-deleting a user removes that user's numbers only.
UPDATE users SET deleted_at = '2024-04-22T15:07:57Z' WHERE id = 1;
SELECT user_id, count(*) FROM numbers GROUP BY user_id;
-- Ids are never reused (AUTOINCREMENT): 5 was the highest ever given, though deleted.
INSERT INTO numbers (user_id, value) VALUES (2, 1) RETURNING id;
-- Every change bumps the owner's version (the plugin's stats cache key), refused ones do not;
-- total is the owner's count of numbers.
SELECT user_id, version, total FROM numbers_user ORDER BY user_id;
UPDATE numbers SET value = 8 WHERE id = 4;
UPDATE numbers SET value = 0 WHERE id = 4;
DELETE FROM numbers WHERE id = 6;
SELECT user_id, version, total FROM numbers_user ORDER BY user_id;
SELECT user_id, count(*) FROM numbers GROUP BY user_id;
