#!/bin/sh
# Runs one tests/sql/<area>.sql in the sqlite3 shell with liblintel loaded and diffs the output
# (error lines included) against <area>.expected. Usage: run.sh SQLITE3 EXT FILE.sql EXPECTED
set -u
shell=$1 ext=$2 sql=$3 expected=$4
# A sanitized liblintel needs the ASan runtime loaded first into the (unsanitized) shell.
if nm -D "$ext.so" 2>/dev/null | grep -q __asan_init; then
    LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
    ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0"
    export LD_PRELOAD ASAN_OPTIONS
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$shell" -batch -cmd ".load $ext" :memory: <"$sql" >"$out" 2>&1
diff -u "$expected" "$out"
