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
