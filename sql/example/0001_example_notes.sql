-- The example plugin's one table: short notes, to show a plugin carrying migrations. The rule
-- lives in the table: lintel_check() makes a broken rule a 422 naming the field, whoever writes.
CREATE TABLE example_notes (
    id         INTEGER PRIMARY KEY,
    text       TEXT NOT NULL CHECK (lintel_check('text', lintel_rule_length(text, 1, 1000))),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
