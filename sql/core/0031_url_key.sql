-- The server's key for signed URLs (issue 18: an avatar an <img> loads without an Authorization
-- header, docs/live.md): one random 256-bit HMAC key, made at the first start by
-- app/signed_url.c. In the database, so every node of a cluster and every restored copy
-- verifies the URLs the others signed; rows other than id 1 cannot exist.
CREATE TABLE url_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL CHECK (length(secret) = 64 AND secret NOT GLOB '*[^0-9a-f]*'),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
