-- The business rules: NULL when valid, else the API's 422 message; each limit at its edge.
.mode list
.nullvalue NULL
-- username: 3..64 of [A-Za-z0-9._@+-]
SELECT lintel_rule_username('abc'), lintel_rule_username('a.b_c@d+e-F9'), lintel_rule_username(printf('%.64c', 'x'));
SELECT lintel_rule_username('ab');
SELECT lintel_rule_username('');
SELECT lintel_rule_username(printf('%.65c', 'x'));
SELECT lintel_rule_username('has space');
SELECT lintel_rule_username('ünïcode');
SELECT lintel_rule_username('semi;colon');
SELECT lintel_rule_username('nul' || char(0) || 'x');
SELECT lintel_rule_username(123), lintel_rule_username(x'616263'), lintel_rule_username(NULL);
-- email: optional (NULL passes), pragmatic syntax, at most 254 characters
SELECT lintel_rule_email('a@b.co'), lintel_rule_email('First.Last+tag@Mail.Example.ORG'), lintel_rule_email(NULL);
SELECT lintel_rule_email(printf('%.64c@%.185c.com', 'a', 'b')) AS len_254;
SELECT lintel_rule_email(printf('%.64c@%.186c.com', 'a', 'b')) AS len_255;
SELECT lintel_rule_email('');
SELECT lintel_rule_email('plain');
SELECT lintel_rule_email('@example.com');
SELECT lintel_rule_email('a@');
SELECT lintel_rule_email('a@localhost');
SELECT lintel_rule_email('a@@b.co');
SELECT lintel_rule_email('a@b@c.co');
SELECT lintel_rule_email('a b@c.co');
SELECT lintel_rule_email('a@b.co' || char(10));
SELECT lintel_rule_email('a@.b.co');
SELECT lintel_rule_email('a@b.co.');
SELECT lintel_rule_email('a@b..co');
SELECT lintel_rule_email(42);
-- email_normalize: only the domain is lower-cased
SELECT lintel_email_normalize('First.Last@Mail.Example.ORG'), lintel_email_normalize('no-at-sign'), lintel_email_normalize(NULL);
SELECT lintel_email_normalize('Ä@ÄB.CO');
SELECT lintel_email_normalize(1);
-- password: 8..128 characters (not bytes), minimum lowered by the 2nd argument
SELECT lintel_rule_password('12345678'), lintel_rule_password(printf('%.128c', 'p')), lintel_rule_password(NULL);
SELECT lintel_rule_password('1234567');
SELECT lintel_rule_password(printf('%.129c', 'p'));
SELECT lintel_rule_password('éééééééé') AS eight_chars_16_bytes;
SELECT lintel_rule_password('ééé');
SELECT lintel_rule_password(replace(printf('%.128c', 'p'), 'p', 'é')) AS chars_128;
SELECT lintel_rule_password('abc', 3), lintel_rule_password('abc', 4), lintel_rule_password('abc', NULL);
SELECT lintel_rule_password(12345678);
SELECT lintel_rule_password('abc', 0);
SELECT lintel_rule_password('abc', 129);
SELECT lintel_rule_password('abc', '3');
-- number: INTEGER or finite REAL, strictly > 0
SELECT lintel_rule_number(1), lintel_rule_number(0.5), lintel_rule_number(1e-300), lintel_rule_number(1.7976931348623157e308), lintel_rule_number(9223372036854775807), lintel_rule_number(NULL);
SELECT lintel_rule_number(0);
SELECT lintel_rule_number(0.0);
SELECT lintel_rule_number(-0.0);
SELECT lintel_rule_number(-1);
SELECT lintel_rule_number(-9223372036854775808);
SELECT lintel_rule_number(1e400);
SELECT lintel_rule_number(-1e400);
SELECT lintel_rule_number('5');
SELECT lintel_rule_number(x'05');
-- task title: 1..200 characters after trimming whitespace
SELECT lintel_rule_task_title('x'), lintel_rule_task_title('  padded  '), lintel_rule_task_title(printf('%.200c', 'é')), lintel_rule_task_title(NULL);
SELECT lintel_rule_task_title('   ' || printf('%.200c', 't') || char(9, 10));
SELECT lintel_rule_task_title('');
SELECT lintel_rule_task_title(' ' || char(9, 10, 13) || ' ');
SELECT lintel_rule_task_title(printf('%.201c', 't'));
SELECT lintel_rule_task_title(7);
-- task description: at most 10000 characters, NULL allowed
SELECT lintel_rule_task_description(NULL), lintel_rule_task_description(''), lintel_rule_task_description(printf('%.10000c', 'd'));
SELECT lintel_rule_task_description(printf('%.10001c', 'd'));
SELECT lintel_rule_task_description(1.5);
-- In a CHECK constraint: the database itself refuses what the API refuses.
CREATE TABLE numbers(id INTEGER PRIMARY KEY, value NOT NULL CHECK (lintel_rule_number(value) IS NULL));
INSERT INTO numbers(value) VALUES (1), (2.5);
INSERT INTO numbers(value) VALUES (0);
INSERT INTO numbers(value) VALUES ('5');
INSERT INTO numbers(value) VALUES (NULL);
SELECT id, value FROM numbers;
