#!/bin/sh
# What bulk ingest's ingest key costs (docs/datapoints.md "Re-sent batches"): the datapoints
# plugin's own INSERT statements (plugins/datapoints/ingest_sql.h, printed by a small program
# built here), 20 batches of 10 000 distinct points each in its own transaction, in the sqlite3
# shell with the extension (WAL, synchronous FULL): without the key (populate's statement), with
# it (bulk ingest's), and the same batches sent again (all duplicates, nothing stored).
# Usage: tests/bench/bench_ingest_key.sh [BUILD_DIR]   (env: BENCH_ROUNDS, default 3)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bench_name=bench_ingest_key
. "$here/lib.sh"
bench_need cc sqlite3
rounds=${BENCH_ROUNDS:-3}

cat >"$tmp/print.c" <<'C'
#include <stdio.h>
#include "ingest_sql.h"
int main(int argc, char **argv)
{
    (void)argv;
    puts(argc > 1 ? DP_INSERT_KEYED : DP_INSERT);
    return 0;
}
C
cc -I"$root/plugins/datapoints" "$tmp/print.c" -o "$tmp/print"
"$tmp/print" >"$tmp/plain.sql"
"$tmp/print" keyed >"$tmp/keyed.sql"

# fill DB: the datapoints schema and 20 batches of 10 000 points (distinct times and bytes).
fill() {
    {
        echo "PRAGMA journal_mode=WAL;"
        cat "$root"/sql/datapoints/*.sql
        echo "CREATE TABLE batches (b INTEGER PRIMARY KEY, j TEXT);"
        echo "INSERT INTO batches WITH RECURSIVE bb(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM bb"
        echo " WHERE b < 19), c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 9999)"
        echo " SELECT b, (SELECT json_group_array(json_object('time', unixepoch() - 86400 +"
        echo " (b * 10000 + i) % 80000, 'value', json_array(i % 256, (i / 256) % 256, b, 62),"
        echo " 'tags', json('[]'))) FROM c) FROM bb;"
    } | sqlite3 -batch -cmd ".load $build/ext/liblintel" "$1" >/dev/null
}

# insert DB KIND: the 20 inserts of KIND's statement; prints the seconds they took, summed.
insert() {
    {
        echo "PRAGMA synchronous=FULL;"
        for b in $(seq 0 19); do
            echo ".timer on"
            sed "s/?1/(SELECT j FROM batches WHERE b = $b)/; s/\$/;/" "$tmp/$2.sql"
            echo ".timer off"
        done
    } | sqlite3 -batch -cmd ".load $build/ext/liblintel" "$1" |
        awk '/^Run Time/ { s += $4 } END { printf "%.3f", s }'
}

echo "bench_ingest_key: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg);"
echo "  200 000 points per run in 20 statements of 10 000, $rounds rounds"
for round in $(seq 1 "$rounds"); do
    rm -f "$tmp"/*.db*
    fill "$tmp/plain.db"
    fill "$tmp/keyed.db"
    plain=$(insert "$tmp/plain.db" plain)
    keyed=$(insert "$tmp/keyed.db" keyed)
    again=$(insert "$tmp/keyed.db" keyed)
    stored=$(sqlite3 -batch "$tmp/keyed.db" "SELECT count(*) FROM datapoints;")
    [ "$stored" = 200000 ] || { echo "$bench_name: $stored points stored, not 200000" >&2; exit 1; }
    awk -v p="$plain" -v k="$keyed" -v a="$again" -v r="$round" 'BEGIN {
        printf "round %d: without key %7.0f points/s   with key %7.0f points/s   re-sent %7.0f points/s (none stored)\n",
            r, 200000 / p, 200000 / k, 200000 / a
    }'
done
