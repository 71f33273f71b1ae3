#!/bin/sh
# What the /metrics counters cost per request: callgrind over REQUESTS keep-alive GET /health
# (after as many to warm up), instructions of the whole process and of metrics_request (the
# one call the dispatcher makes per reply), per request. Build without sanitizers.
# Usage: tests/bench/bench_metrics_cost.sh BUILD_DIR   (env: REQUESTS=2000)
set -eu
build=$(cd "${1:-build}" && pwd)
requests=${REQUESTS:-2000}
for tool in valgrind callgrind_control callgrind_annotate curl python3; do
    command -v "$tool" >/dev/null || { echo "bench_metrics_cost: $tool is missing" >&2; exit 1; }
done
cmake --build "$build" --target lintel >/dev/null
tmp=$(mktemp -d /tmp/lintel-metrics-cost-XXXXXX)
pid=
cleanup() {
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port/health"
i=0
while [ "$i" -lt "$requests" ]; do
    printf 'url = "%s"\noutput = /dev/null\n' "$url" >>"$tmp/urls"
    i=$((i + 1))
done
mkdir "$tmp/data"
LINTEL_PORT=$port LINTEL_DATA_DIR=$tmp/data LINTEL_LOG_LEVEL=warning \
    LINTEL_PLUGIN_DIR=$build/plugins LINTEL_ADMIN_PASSWORD=bench-password-123 \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/out" \
    "$build/app/lintel" >"$tmp/log" 2>&1 &
pid=$!
i=0
until curl -s -o /dev/null "$url"; do
    i=$((i + 1))
    [ "$i" -le 600 ] && kill -0 "$pid" 2>/dev/null || { cat "$tmp/log" >&2; exit 1; }
    sleep 0.1
done
curl -sS -K "$tmp/urls"
callgrind_control -i on "$pid" >/dev/null 2>&1
curl -sS -K "$tmp/urls"
callgrind_control -i off "$pid" >/dev/null 2>&1
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
callgrind_annotate --inclusive=yes --threshold=100 "$tmp/out" 2>/dev/null >"$tmp/annotate"
total=$(sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' "$tmp/annotate" | tr -d ,)
metrics=$(sed -n 's/^ *\([0-9,]*\) .*:metrics_request .*/\1/p' "$tmp/annotate" | head -1 | tr -d ,)
awk -v t="$total" -v m="${metrics:-0}" -v n="$requests" 'BEGIN {
    printf "GET /health: %.1fk instructions per request, metrics_request %.0f (%.2f%%)\n",
           t / n / 1000, m / n, 100 * m / t }'
