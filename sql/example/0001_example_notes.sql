-- The example plugin's one table: short public notes, to show a plugin carrying migrations.
CREATE TABLE example_notes (
    id         INTEGER PRIMARY KEY,
    text       TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 1000),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
