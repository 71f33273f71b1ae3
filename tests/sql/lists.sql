-- The list helpers of the extension (ext/fts.c): lintel_fts_query() turns a user's words into an
-- FTS5 query that cannot be a syntax error, and finds what it should in a real FTS5 table.
.mode list
.nullvalue NULL
SELECT lintel_fts_query('buy milk'), lintel_fts_query(NULL), lintel_fts_query('');
SELECT lintel_fts_query('  spaced' || char(9, 10) || 'out  ');
SELECT lintel_fts_query('say "hi"'), lintel_fts_query('AND OR NOT NEAR'), lintel_fts_query('a*b (c) d:e ^f -g +h');
SELECT lintel_fts_query(42), lintel_fts_query('café');
CREATE VIRTUAL TABLE t USING fts5(title, description, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO t (rowid, title, description) VALUES (1, 'Buy milk', 'at the café'), (2, 'Call mom', NULL), (3, 'milkshake', 'AND OR NEAR'), (4, 'say "hi"', 'x:y');
SELECT group_concat(rowid) FROM t WHERE t MATCH lintel_fts_query('mil');
SELECT group_concat(rowid) FROM t WHERE t MATCH lintel_fts_query('cafe MILK');
SELECT group_concat(rowid) FROM t WHERE t MATCH lintel_fts_query('AND OR');
SELECT group_concat(rowid) FROM t WHERE t MATCH lintel_fts_query('"hi');
SELECT group_concat(rowid) FROM t WHERE t MATCH lintel_fts_query('title:milk');
SELECT group_concat(rowid) FROM t WHERE t MATCH lintel_fts_query('x:y NEAR(');
SELECT count(*) FROM t WHERE t MATCH lintel_fts_query('-');
SELECT count(*) FROM t WHERE t MATCH lintel_fts_query('   ');
-- lintel_time_bucket (ext/series.c): the bucket's start, aligned on the epoch, floor for negatives
SELECT lintel_time_bucket(1713798477, '1m'), lintel_time_bucket(1713798477, '1h'), lintel_time_bucket(1713798477, '1d');
SELECT lintel_time_bucket(1713794400, '1h'), lintel_time_bucket(1713797999, '1h'), lintel_time_bucket(0, '1d'), lintel_time_bucket(NULL, '1m');
SELECT lintel_time_bucket(-1, '1m'), lintel_time_bucket(-60, '1m'), lintel_time_bucket(-61, '1m'), lintel_time_bucket(7, 5);
SELECT lintel_time_bucket(-9223372036854775807 - 1, '1m');
SELECT lintel_time_bucket(-9223372036854775807 - 1, 1), lintel_time_bucket(9223372036854775807, '1d');
SELECT lintel_time_bucket(1, '1w');
SELECT lintel_time_bucket(1, 0);
SELECT lintel_time_bucket(1, NULL);
SELECT lintel_time_bucket(1.5, '1m');
SELECT lintel_time_bucket('1713798477', '1m');
-- per-bucket count, min, max and mean in SQL, as GET /api/datapoints/series computes them
CREATE TABLE p (ts INTEGER, value REAL, valid INTEGER);
INSERT INTO p VALUES (3600, 1.5, 1), (3659, 2.5, 1), (3660, -1.0, 1), (3661, 10.0, 0), (7200, 4.0, 1), (7201, NULL, 1);
SELECT b, count(*), min(value), max(value), avg(value) FROM (SELECT lintel_time_bucket(ts, '1m') AS b, value FROM p WHERE valid = 1 AND value IS NOT NULL) GROUP BY b ORDER BY b;
SELECT b, count(*), min(value), max(value), avg(value) FROM (SELECT lintel_time_bucket(ts, '1h') AS b, value FROM p WHERE valid = 1 AND value IS NOT NULL) GROUP BY b ORDER BY b;
