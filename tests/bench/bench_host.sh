#!/bin/sh
# lintel's overhead against a bare libmicrohttpd server in the same thread-pool mode: wrk
# against bench_hello, lintel's GET /health and GET /api/example/ping, in one run.
# Usage: tests/bench/bench_host.sh BUILD_DIR   (env: DURATION=5s CONNECTIONS=32 THREADS=2)
set -eu
build=$1
duration=${DURATION:-5s}
conns=${CONNECTIONS:-32}
wrk_threads=${THREADS:-2}
pool=$(( $(nproc) * 2 )); [ "$pool" -lt 4 ] && pool=4
command -v wrk >/dev/null || { echo "bench_host: wrk is missing (scripts/bench-packages.txt)"; exit 1; }
cmake --build "$build" --target bench_hello lintel plugin_example >/dev/null

tmp=$(mktemp -d /tmp/lintel-bench-XXXXXX)
hello_pid=""; lintel_pid=""
cleanup() {
    [ -n "$hello_pid" ] && kill "$hello_pid" 2>/dev/null || true
    [ -n "$lintel_pid" ] && kill "$lintel_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

hello_port=$(( 20000 + $$ % 20000 ))
"$build/tests/bench/bench_hello" "$hello_port" "$pool" 2>"$tmp/hello.log" &
hello_pid=$!

LINTEL_PORT=0 LINTEL_DATA_DIR="$tmp/data" LINTEL_PLUGINS=example \
LINTEL_PLUGIN_DIR="$build/plugins" LINTEL_ADMIN_PASSWORD=bench-password-123 \
LINTEL_LOG_LEVEL="${LINTEL_LOG_LEVEL:-info}" "$build/app/lintel" 2>"$tmp/lintel.log" &
lintel_pid=$!
i=0
until grep -q "listening on" "$tmp/lintel.log" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 200 ] && { cat "$tmp/lintel.log"; exit 1; }
    sleep 0.05
done
lintel_port=$(grep -o 'listening on http://[^ ]*' "$tmp/lintel.log" | sed 's/.*://')

# run NAME URL -> "NAME req/s p99"
run() {
    wrk -t"$wrk_threads" -c"$conns" -d"$duration" --latency "$2" >"$tmp/wrk.out" 2>&1
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
    errs=$(awk '/Non-2xx|Socket errors/ {print}' "$tmp/wrk.out" | tr '\n' ' ')
    printf '%-22s %12s req/s   p99 %-9s %s\n' "$1" "$rps" "$p99" "$errs"
    echo "$rps" >"$tmp/$1.rps"
}
echo "wrk -t$wrk_threads -c$conns -d$duration; server pools: $pool threads; $(nproc) cores"
run bare_mhd_hello "http://127.0.0.1:$hello_port/"
run lintel_health "http://127.0.0.1:$lintel_port/health"
run lintel_example_ping "http://127.0.0.1:$lintel_port/api/example/ping"
awk -v b="$(cat "$tmp/bare_mhd_hello.rps")" -v h="$(cat "$tmp/lintel_health.rps")" \
    -v p="$(cat "$tmp/lintel_example_ping.rps")" 'BEGIN {
    printf "ratio to bare: /health %.0f%%, /api/example/ping %.0f%% (target /health >= 70%%)\n",
           100 * h / b, 100 * p / b }'
