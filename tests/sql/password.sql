-- Password hashing: yescrypt hashes, bcrypt imports verify, rehash detection, errors.
.mode list
.nullvalue NULL
-- A bcrypt hash made elsewhere (passlib) verifies; a wrong password does not.
SELECT lintel_password_verify('admin', '$2b$12$a/pMatsPyWuHa5KdqatsFOLZgPYjPZU4If4//jeretXqZ.ujoYFJG');
SELECT lintel_password_verify('Admin', '$2b$12$a/pMatsPyWuHa5KdqatsFOLZgPYjPZU4If4//jeretXqZ.ujoYFJG');
-- New hashes are yescrypt with a random salt: two hashes of one password differ, both verify.
CREATE TABLE h AS SELECT lintel_password_hash('correct horse', 3) AS a, lintel_password_hash('correct horse', 3) AS b;
SELECT substr(a, 1, 7), length(a), a <> b FROM h;
SELECT lintel_password_verify('correct horse', a), lintel_password_verify('correct horse', b), lintel_password_verify('correct horsf', a) FROM h;
-- The default cost is 5 ($y$j9T$).
SELECT substr(lintel_password_hash('pw'), 1, 7);
-- Never truncated: a long password differs from its 72-byte prefix (bcrypt would not care).
CREATE TABLE long AS SELECT printf('%.100c', 'x') AS pw, lintel_password_hash(printf('%.100c', 'x'), 1) AS hash;
SELECT lintel_password_verify(pw, hash), lintel_password_verify(substr(pw, 1, 72), hash), lintel_password_verify(pw || 'y', hash) FROM long;
-- Unicode passwords are bytes of UTF-8; the empty password hashes too (the rule refuses it).
SELECT lintel_password_verify('pässwörd', lintel_password_hash('pässwörd', 1)), lintel_password_verify('', lintel_password_hash('', 1));
-- needs_rehash: 1 unless yescrypt with the wanted cost.
SELECT lintel_password_needs_rehash(a), lintel_password_needs_rehash(a, 3), lintel_password_needs_rehash(a, 4) FROM h;
SELECT lintel_password_needs_rehash(lintel_password_hash('pw')), lintel_password_needs_rehash('$2b$12$a/pMatsPyWuHa5KdqatsFOLZgPYjPZU4If4//jeretXqZ.ujoYFJG');
SELECT lintel_password_needs_rehash(''), lintel_password_needs_rehash('$y$'), lintel_password_needs_rehash('$y$j9T$'), lintel_password_needs_rehash('$y$j9T');
-- Malformed or unknown hashes never verify, and are not errors.
SELECT lintel_password_verify('admin', ''), lintel_password_verify('admin', '*0'), lintel_password_verify('admin', 'garbage'), lintel_password_verify('admin', '$y$'), lintel_password_verify('admin', '$2b$12$short');
-- A NUL byte can not pass through crypt(3): verify says 0, hash refuses.
SELECT lintel_password_verify('adm' || char(0) || 'in', '$2b$12$a/pMatsPyWuHa5KdqatsFOLZgPYjPZU4If4//jeretXqZ.ujoYFJG');
SELECT lintel_password_verify('admin', '$2b$12$a/pMatsPyWuHa5KdqatsFOLZgPYjPZU4If4//jeretXqZ.ujoYFJG' || char(0) || 'x');
SELECT lintel_password_hash('a' || char(0) || 'b');
-- NULL in, NULL out.
SELECT lintel_password_hash(NULL), lintel_password_hash('pw', NULL), lintel_password_verify(NULL, 'x'), lintel_password_verify('x', NULL), lintel_password_needs_rehash(NULL), lintel_password_needs_rehash('x', NULL);
-- Errors.
SELECT lintel_password_hash(1234);
SELECT lintel_password_hash('pw', 0);
SELECT lintel_password_hash('pw', 12);
SELECT lintel_password_hash('pw', '5');
SELECT lintel_password_needs_rehash('$y$j9T$', 99);
-- Direct-only: the random salt may not be used from a schema (view, trigger, CHECK, default).
CREATE VIEW v AS SELECT lintel_password_hash('pw', 1) AS h;
SELECT count(*) FROM v;
