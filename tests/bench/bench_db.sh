#!/bin/sh
# Benchmarks app/db.c's statement cache (tests/bench/bench_db.c): a point lookup through db_row
# with the statement cached, against the same lookup prepared on every call (docs/storage.md).
# Usage: tests/bench/bench_db.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
cmake --build "$build" --target bench_db >/dev/null
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT INT TERM
"$build/tests/bench/bench_db" "$scratch/data"
