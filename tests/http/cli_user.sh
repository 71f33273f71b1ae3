#!/bin/sh
# `lintel user`: add and passwd with the password on stdin, options before or after the name
# (getopt_long), usage errors (exit 2) that change nothing, and the server's own options.
# Usage: cli_user.sh LINTEL_BIN
set -u
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
LINTEL_DATA_DIR=$dir/data
export LINTEL_DATA_DIR
fail() {
    echo "cli_user: $*" >&2
    exit 1
}
# run EXPECTED_STATUS PASSWORD ARGS...: the command with the password on stdin.
run() {
    want=$1 pw=$2
    shift 2
    printf '%s\n' "$pw" | "$bin" "$@" >"$dir/out" 2>&1
    got=$?
    [ "$got" -eq "$want" ] || fail "lintel $*: exit $got, expected $want: $(cat "$dir/out")"
}
"$bin" migrate >"$dir/out" 2>&1 || fail "migrate: $(cat "$dir/out")"
run 0 long-password-1 user add alice --role=admin
grep -q "user 'alice' added (id [0-9]*, role admin)" "$dir/out" || fail "$(cat "$dir/out")"
run 0 long-password-1 user add -r admin bob
run 0 long-password-1 user add --role user carol
run 0 long-password-1 user add dave
run 0 long-password-2 user passwd alice
grep -q "password of 'alice'" "$dir/out" || fail "$(cat "$dir/out")"
# usage errors: exit 2, nothing written
run 2 long-password-1 user add erin --role root
run 2 long-password-1 user add frank --bogus
run 2 long-password-1 user add
run 2 long-password-1 user add gina extra
run 2 long-password-1 user passwd alice --role admin
run 2 long-password-1 user remove alice
# the host's account creation: its rules (every bad field named) and a taken name (exit 1)
run 1 short user add hank
grep -q "password must be at least" "$dir/out" || fail "short: $(cat "$dir/out")"
run 1 short user add "h nk"
grep -q "username must contain only" "$dir/out" && grep -q "password must be at least" "$dir/out" ||
    fail "two bad fields: $(cat "$dir/out")"
run 1 long-password-1 user add BOB
grep -q "Username 'BOB' is taken" "$dir/out" || fail "taken: $(cat "$dir/out")"
run 1 short user passwd alice
grep -q "password must be at least" "$dir/out" || fail "passwd short: $(cat "$dir/out")"
run 1 long-password-1 user passwd nobody
grep -q "no user 'nobody'" "$dir/out" || fail "passwd nobody: $(cat "$dir/out")"
roles=$(sqlite3 "$LINTEL_DATA_DIR/lintel.db" \
    "SELECT group_concat(username || ':' || role, ' ') FROM (SELECT * FROM users ORDER BY id)")
[ "$roles" = "alice:admin bob:admin carol:user dave:user" ] || fail "users: $roles"
# the server's own options through getopt_long: attached, abbreviated, missing argument
echo '{}' >"$dir/empty.json"
"$bin" "-c$dir/empty.json" version >"$dir/out" 2>&1 || fail "-cFILE: $(cat "$dir/out")"
"$bin" "--conf=$dir/empty.json" --version >"$dir/out" 2>&1 || fail "--conf=: $(cat "$dir/out")"
"$bin" --config >"$dir/out" 2>&1
[ $? -eq 2 ] && grep -q "needs a file name" "$dir/out" || fail "--config alone: $(cat "$dir/out")"
"$bin" --status >"$dir/out" 2>&1
[ $? -eq 2 ] || fail "--status without migrate was accepted"
exit 0
