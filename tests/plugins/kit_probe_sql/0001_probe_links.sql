-- The kit probe's table: a URL rule in the CHECK, reported as a 422 on "url".
CREATE TABLE probe_links (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    url     TEXT NOT NULL CHECK (lintel_check('url', lintel_rule_url(url)))
) STRICT;
