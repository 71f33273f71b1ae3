-- Seed 001's identifier (nickname, e-mail or phone: free text) of a lintel user, stored once for
-- the chililabs profile. The user is users(id); the username is the identifier when it passes
-- lintel_rule_username, else a generated one. Like the username, an identifier stays reserved
-- after the account is soft-deleted (the seed refuses to register it again); a purge of the user
-- row takes it along (ON DELETE CASCADE).
CREATE TABLE compat_chililabs_identifiers (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    identifier TEXT NOT NULL UNIQUE CHECK (length(CAST(identifier AS BLOB)) <= 255)
);
