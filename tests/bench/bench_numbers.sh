#!/bin/sh
# Benchmark of the numbers plugin in one run, against GET /health on the same server: stats and a
# 100-row page for a user holding 10 000 numbers, and POST writes/s with synchronous FULL and NORMAL.
# Usage: tests/bench/bench_numbers.sh BUILD_DIR   (env: BENCH_DURATION s, BENCH_CONNECTIONS)
set -eu

build=$(cd "${1:-build}" && pwd)
duration=${BENCH_DURATION:-5}
conns=${BENCH_CONNECTIONS:-16}
rows=${BENCH_ROWS:-10000}
others=${BENCH_OTHER_ROWS:-200000}
password=bench-password-123
bench_name=bench_numbers
. "$(dirname "$0")/lib.sh"
bench_need wrk curl sqlite3

# start_server SYNCHRONOUS: serves $tmp/data (the same data each time) with that setting.
start_server() {
    bench_start LINTEL_SYNCHRONOUS="$1" LINTEL_ACCESS_TTL=3600 LINTEL_LOGIN_MAX_IP=1000000
}

register() { bench_register "$1" "$password"; }
fill() { bench_fill_numbers "$@"; }
run() { bench_wrk "$@"; }

cat >"$tmp/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"value":12.5}'
wrk.headers["Content-Type"] = "application/json"
EOF

echo "bench_numbers: $(nproc) cores, wrk -t2 -c$conns -d${duration}s, $rows numbers for the user,"
echo "  $others for another user; lintel log level warning"

start_server FULL
set -- $(register "bench_$$")
user_id=$1
token=$2
set -- $(register "bench_other_$$")
fill "$user_id" "$rows"
fill "$1" "$others"
auth="Authorization: Bearer $token"

run "GET /health" /health
run "GET /api/numbers/stats (cached)" /api/numbers/stats -H "$auth"
run "GET /api/numbers?limit=100" "/api/numbers?limit=100" -H "$auth"
run "GET /api/numbers?limit=100&offset=9900" "/api/numbers?limit=100&offset=9900" -H "$auth"
run "POST /api/numbers (FULL)" /api/numbers -H "$auth" -s "$tmp/post.lua"
bench_stop

# The cache only skips the computation: time lintel_stats() itself over the user's 10 000 rows,
# 1000 times in one shell (the subquery is correlated so it runs each time).
t0=$(date +%s%N)
sqlite3 -batch "$tmp/data/lintel.db" -cmd ".load $build/ext/liblintel" \
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000)
     SELECT sum(length((SELECT lintel_stats(value) FROM numbers WHERE user_id = $user_id + c.i * 0)))
     FROM c;" >/dev/null
t1=$(date +%s%N)
compute_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 / 1000 }')
echo "lintel_stats over $rows rows (uncached): $compute_ms ms per call, one core"

start_server NORMAL
run "POST /api/numbers (NORMAL)" /api/numbers -H "$auth" -s "$tmp/post.lua"
bench_stop

# The disk's own floor: 4 KiB writes each followed by a data sync, as every commit needs one.
secs=$(dd if=/dev/zero of="$tmp/dsync" bs=4k count=500 oflag=dsync 2>&1 |
    sed -n 's/.*copied, \([0-9.]*\) s.*/\1/p')
fsyncs=$(awk -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", 500 / s; else print "?" }')
echo "disk: $fsyncs synced 4 KiB writes/s (dd oflag=dsync)"

awk -v h="$rps_GET__health" -v s="$rps_GET__api_numbers_stats__cached_" \
    -v l="$rps_GET__api_numbers_limit_100" -v f="$rps_POST__api_numbers__FULL_" \
    -v n="$rps_POST__api_numbers__NORMAL_" -v d="$fsyncs" 'BEGIN {
    printf "stats (cached) / health: %.0f%% (target >= 40%%)\n", 100 * s / h
    printf "list  / health: %.0f%%\n", 100 * l / h
    printf "writes FULL: %.0f/s, NORMAL: %.0f/s, disk synced writes: %s/s\n", f, n, d
}'
