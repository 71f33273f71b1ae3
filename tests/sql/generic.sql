-- The generic rules (ext/generic.c G1..G6): URL, trimmed length in characters, enumeration, and
-- lintel_check() turning a message into a failed statement that names the field.
.mode list
.nullvalue NULL
-- G2 url: http or https, a host, no whitespace, at most 2048 bytes
SELECT lintel_rule_url('https://lintel.example/a?b#c'), lintel_rule_url('HTTP://x'), lintel_rule_url(NULL);
SELECT lintel_rule_url('ftp://x');
SELECT lintel_rule_url('https://');
SELECT lintel_rule_url('https:///path');
SELECT lintel_rule_url('https://a b');
SELECT lintel_rule_url('https://x' || char(10));
SELECT lintel_rule_url('https://' || printf('%.2040c', 'x')) AS len_2048;
SELECT lintel_rule_url('https://' || printf('%.2041c', 'x')) AS len_2049;
SELECT lintel_rule_url(42);
-- G3 length in characters after trimming whitespace
SELECT lintel_rule_length('  ab  ', 1, 2), lintel_rule_length('ééé', 3, 3), lintel_rule_length('', 0, 5), lintel_rule_length(NULL, 1, 2);
SELECT lintel_rule_length('   ', 1, 10);
SELECT lintel_rule_length('a', 2, 10);
SELECT lintel_rule_length('ééé', 1, 2);
SELECT lintel_rule_length(7, 1, 2);
SELECT lintel_rule_length('a', 3, 2);
SELECT lintel_rule_length('a', -1, 2);
SELECT lintel_rule_length('a', '1', 2);
-- G4 enumeration: exact words of a space-separated list
SELECT lintel_rule_enum('b', 'a b c'), lintel_rule_enum(NULL, 'a b');
SELECT lintel_rule_enum('B', 'a b c');
SELECT lintel_rule_enum('a b', 'a b c');
SELECT lintel_rule_enum('', 'a  b');
SELECT lintel_rule_enum('a', NULL);
-- G5 lintel_check in a CHECK constraint
CREATE TABLE links (url TEXT NOT NULL CHECK (lintel_check('url', lintel_rule_url(url))), kind TEXT CHECK (lintel_check('kind', lintel_rule_enum(kind, 'read watch'))));
INSERT INTO links VALUES ('https://lintel.example', 'read');
INSERT INTO links VALUES ('mailto:x@y', 'read');
INSERT INTO links VALUES ('https://lintel.example', 'eat');
SELECT count(*) FROM links;
SELECT lintel_check('url', NULL);
SELECT lintel_check('not a name', 'x');
SELECT lintel_check(NULL, 'x');
