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
-- Direct-only: verify's cost comes from the hash, so a hostile schema may not run it either.
CREATE VIEW vv AS SELECT lintel_password_verify('pw', '$2b$04$bHM2dx.WV4T4bt4BptD7DuTgqj7gqBvcEq3wuC8Rf4F6c/YwSg0xK') AS ok;
SELECT ok FROM vv;
CREATE TABLE t(pw TEXT, h TEXT, ok INTEGER);
CREATE TRIGGER tv AFTER INSERT ON t BEGIN UPDATE t SET ok = lintel_password_verify(new.pw, new.h); END;
INSERT INTO t(pw, h) VALUES ('pw', '$2b$04$bHM2dx.WV4T4bt4BptD7DuTgqj7gqBvcEq3wuC8Rf4F6c/YwSg0xK');
-- The cost a hash names is capped: bcrypt up to 14, SHA-crypt up to 1,000,000 rounds, yescrypt
-- only with the parameters of a cost 1..11; above, or another scheme, the answer is 0 unhashed.
SELECT lintel_password_verify('pw', '$2b$14$bHM2dx.WV4T4bt4BptD7Du3x.Q/P7oMdtczQEmStMnDCaHC9MuMCS'), lintel_password_verify('pw', '$2b$15$bHM2dx.WV4T4bt4BptD7DurLigz/t.tfdk0nR8tUIpBId1gb9eq66');
SELECT lintel_password_verify('pw', '$6$rounds=1000000$xM/hnB/EPPeZ4W.G$7KCcgpDcHjnHXlh16ED7Ht2mfvDDjoPHZCP7AwjZFvaOkC7Wy8AJMHBQwBHBqN6L8uY/NjfjM6ey.Qvc9VnFL/'), lintel_password_verify('pw', '$6$rounds=1000001$xM/hnB/EPPeZ4W.G$vEI8Zd0YdKg.HInKiqE2Sqj4JDKv4MrPT55w3UleF228IYr6ac.ZDutA8xnSfXkiYjhKUxrudVyERqzg4sZa/0');
SELECT lintel_password_verify('pw', '$y$j75$BamSq4rM48dV/JHvVZtb1.$n8QRTv71e7607qJ0ib9vwjUpvNO.pPao9xLfy4r3QS0'), lintel_password_verify('pw', '$y$jGT$BamSq4rM48dV/JHvVZtb1.$n8QRTv71e7607qJ0ib9vwjUpvNO.pPao9xLfy4r3QS0'), lintel_password_verify('pw', '$y$j9T5$BamSq4rM48dV/JHvVZtb1.$n8QRTv71e7607qJ0ib9vwjUpvNO.pPao9xLfy4r3QS0');
SELECT lintel_password_verify('pw', '$1$saltsalt$6SNdNaZLKst2LlSm7oPPL1'), lintel_password_verify('pw', '$7$CU..../....BamSq4rM48dV/JHvVZtb1.$ETOqv53bZ8I02JfDbV12Aq6uJ57DF4KAa.uwxGPDCn0');
-- Every password the rules accept hashes: 128 characters of 4 bytes are 512 bytes, past
-- libxcrypt's limit, and go through the pre-hash; 511 bytes still go in whole.
CREATE TABLE big AS SELECT printf('%.128c', '😀') AS pw, lintel_password_hash(printf('%.128c', '😀'), 1) AS hash;
SELECT lintel_rule_password(pw) IS NULL, length(pw), length(CAST(pw AS BLOB)), substr(hash, 1, 7), lintel_password_verify(pw, hash), lintel_password_verify(substr(pw, 1, 127), hash), lintel_password_verify(pw || 'x', hash) FROM big;
SELECT lintel_password_verify(printf('%.511c', 'a'), lintel_password_hash(printf('%.511c', 'a'), 1)), lintel_password_verify(printf('%.4000c', 'a'), lintel_password_hash(printf('%.4000c', 'a'), 1));
