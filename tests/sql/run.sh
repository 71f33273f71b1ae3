#!/bin/sh
# Runs one tests/sql/<area>.sql in the sqlite3 shell with liblintel loaded and diffs the output
# (error lines included) against <area>.expected. Usage: run.sh SQLITE3 EXT FILE.sql EXPECTED
# [--write]. The output is a transcript: each statement echoed (-echo) above what it printed,
# with the shell's "near line N" dropped, so adding a statement shifts nothing else. --write
# rewrites EXPECTED from the output: review the diff before committing it.
set -u
shell=$1 ext=$2 sql=$3 expected=$4 mode=${5:-}
# A sanitized liblintel needs the ASan runtime loaded first into the (unsanitized) shell.
if nm -D "$ext.so" 2>/dev/null | grep -q __asan_init; then
    LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
    ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0"
    export LD_PRELOAD ASAN_OPTIONS
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Unbuffered, so that an error (stderr) lands right under its statement (stdout).
stdbuf -o0 -e0 "$shell" -batch -echo -cmd ".load $ext" :memory: <"$sql" 2>&1 |
    sed -E 's/^(Runtime|Parse) error near line [0-9]+:/\1 error:/' >"$out"
if [ "$mode" = --write ]; then
    cp "$out" "$expected"
    exit 0
fi
diff -u "$expected" "$out"
