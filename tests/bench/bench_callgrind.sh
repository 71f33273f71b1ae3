#!/bin/sh
# Instructions per request (valgrind --tool=callgrind), stable on a shared machine where req/s
# move with the load: the bare libmicrohttpd baseline (bench_hello) and lintel's GET /health,
# each counted over REQUESTS keep-alive GETs after a warm-up of the same size.
# Usage: tests/bench/bench_callgrind.sh BUILD_DIR   (env: REQUESTS=2000)
set -eu
build=$(cd "${1:-build}" && pwd)
requests=${REQUESTS:-2000}
for tool in valgrind callgrind_control callgrind_annotate curl python3; do
    command -v "$tool" >/dev/null || { echo "bench_callgrind: $tool is missing" >&2; exit 1; }
done
cmake --build "$build" --target bench_hello lintel >/dev/null

tmp=$(mktemp -d /tmp/lintel-callgrind-XXXXXX)
pid=
cleanup() {
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# gets URL N: N GETs of URL on one keep-alive connection (curl reuses it for repeated URLs).
gets() {
    i=0
    : >"$tmp/urls"
    while [ "$i" -lt "$2" ]; do
        echo "url = \"$1\"" >>"$tmp/urls"
        echo "output = /dev/null" >>"$tmp/urls"
        i=$((i + 1))
    done
    curl -sS --fail -K "$tmp/urls"
}

# count NAME SLUG URL CMD...: starts CMD under callgrind with instrumentation off, warms up,
# counts REQUESTS GETs of URL, prints instructions per request.
count() {
    name=$1 slug=$2 url=$3
    log=$tmp/$slug.log
    shift 3
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/$slug.out" \
        "$@" >"$log" 2>&1 &
    pid=$!
    i=0
    until curl -s -o /dev/null "$url" 2>/dev/null; do
        i=$((i + 1))
        kill -0 "$pid" 2>/dev/null && [ "$i" -le 600 ] || { echo "bench_callgrind: $name did not answer" >&2; cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    gets "$url" "$requests"
    callgrind_control -i on "$pid" >/dev/null 2>&1
    gets "$url" "$requests"
    callgrind_control -i off "$pid" >/dev/null 2>&1
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    total=$(callgrind_annotate "$tmp/$slug.out" 2>/dev/null |
        sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
    awk -v t="$total" -v n="$requests" -v name="$name" \
        'BEGIN { printf "  %-26s %8.1fk instructions per request\n", name, t / n / 1000 }'
}

# free_port: a loopback port nothing listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
echo "bench_callgrind: $requests keep-alive GETs per server after as many to warm up"
port=$(free_port)
count "bare libmicrohttpd" mhd "http://127.0.0.1:$port/" \
    "$build/tests/bench/bench_hello" "$port" 4 mhd
port=$(free_port)
LINTEL_PORT=$port LINTEL_DATA_DIR="$tmp/data" LINTEL_LOG_LEVEL=warning \
    LINTEL_PLUGIN_DIR="$build/plugins" LINTEL_ADMIN_PASSWORD=bench-password-123
export LINTEL_PORT LINTEL_DATA_DIR LINTEL_LOG_LEVEL LINTEL_PLUGIN_DIR LINTEL_ADMIN_PASSWORD
count "lintel GET /health" lintel "http://127.0.0.1:$port/health" "$build/app/lintel"
