-- The scopes each role grants (api.md "Roles"), what a role keeps of a scope, and the scope rule.
SELECT lintel_role_scopes('user');
SELECT lintel_role_scopes('admin');
SELECT quote(lintel_role_scopes('guest')), quote(lintel_role_scopes(NULL));
SELECT lintel_scope_within('numbers:read users:admin numbers:read', 'user');
SELECT lintel_scope_within('users:admin  numbers:read', 'admin');
SELECT quote(lintel_scope_within('users:admin', 'user')), quote(lintel_scope_within('', 'user'));
SELECT quote(lintel_scope_within(NULL, 'user')), quote(lintel_scope_within('profile', NULL));
SELECT quote(lintel_rule_scope('numbers:read profile')), quote(lintel_rule_scope(NULL)), quote(lintel_rule_scope('   '));
SELECT lintel_rule_scope('numbers:read bogus');
SELECT lintel_rule_scope('numbers:read users:admin', 'user');
SELECT quote(lintel_rule_scope('numbers:read users:admin', 'admin'));
SELECT lintel_rule_scope('bogus', 'user');
SELECT lintel_role_scopes(1);
SELECT lintel_scope_within('profile', x'00');
SELECT lintel_rule_scope('profile', 2);
