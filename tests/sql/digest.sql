-- lintel_sha256_hex (ext/digest.c D1..D3): the SHA-256 of TEXT or BLOB bytes as lowercase hex,
-- checked against the FIPS 180-2 test vectors, and the index lookup the account plugins rely on.
.mode list
.nullvalue NULL
-- D1 the empty string, "abc" (FIPS 180-2 B.1) as TEXT and as BLOB, and a UTF-8 text
SELECT lintel_sha256_hex('');
SELECT lintel_sha256_hex('abc');
SELECT lintel_sha256_hex(x'616263');
SELECT lintel_sha256_hex(x'');
SELECT lintel_sha256_hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq');
SELECT lintel_sha256_hex('é') = lintel_sha256_hex(x'c3a9') AS utf8_bytes, length(lintel_sha256_hex('é')) AS len;
-- D2 NULL in, NULL out
SELECT lintel_sha256_hex(NULL);
-- D3 numbers are not hashed as their text
SELECT lintel_sha256_hex(42);
SELECT lintel_sha256_hex(4.2);
-- a code stored as its hash is found by the hash of what is presented, through the index
CREATE TABLE account_tokens (hash TEXT PRIMARY KEY, kind TEXT NOT NULL);
INSERT INTO account_tokens VALUES (lintel_sha256_hex('the-code'), 'invite');
SELECT kind FROM account_tokens WHERE hash = lintel_sha256_hex('the-code');
SELECT count(*) FROM account_tokens WHERE hash = lintel_sha256_hex('The-code');
EXPLAIN QUERY PLAN SELECT kind FROM account_tokens WHERE hash = lintel_sha256_hex('the-code');
