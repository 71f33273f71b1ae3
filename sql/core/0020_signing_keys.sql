-- The key ring: every asymmetric signing key, in the database so that a backup of lintel.db (or
-- every node sharing it) holds them. One key per algorithm is current (retired_at NULL) and
-- signs; a retired key still verifies until the last token it signed has expired (access_ttl
-- after retired_at). `lintel keys rotate` adds a key and retires the current one.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL CHECK (alg IN ('EdDSA', 'ES256', 'RS256')),
    private_pem TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    retired_at INTEGER
);
CREATE UNIQUE INDEX signing_keys_current ON signing_keys (alg) WHERE retired_at IS NULL;
