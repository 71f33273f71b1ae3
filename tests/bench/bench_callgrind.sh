#!/bin/sh
# Instructions per request (valgrind --tool=callgrind), stable on a shared machine where req/s
# move with the load: the bare libmicrohttpd baseline (bench_hello), lintel's GET /health and
# the authenticated reads of issue 14 (GET /api/users/me, /api/numbers/stats and
# /api/numbers?limit=100 for a user holding 100 numbers), each counted over REQUESTS keep-alive
# GETs (REQUESTS/4 for the list) after a warm-up of the same size.
# Usage: tests/bench/bench_callgrind.sh BUILD_DIR   (env: REQUESTS=2000; KEEP=DIR keeps the
# callgrind.SLUG.out profiles there for callgrind_annotate)
set -eu
build=$(cd "${1:-build}" && pwd)
requests=${REQUESTS:-2000}
for tool in valgrind callgrind_control callgrind_annotate curl python3 sqlite3; do
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

# gets URL N: N GETs of URL on one keep-alive connection (curl reuses it for repeated URLs),
# with the header $hdr when it is set.
hdr=
gets() {
    i=0
    : >"$tmp/urls"
    [ -z "$hdr" ] || echo "header = \"$hdr\"" >>"$tmp/urls"
    while [ "$i" -lt "$2" ]; do
        echo "url = \"$1\"" >>"$tmp/urls"
        echo "output = /dev/null" >>"$tmp/urls"
        i=$((i + 1))
    done
    curl -sS --fail -K "$tmp/urls"
}

# count NAME SLUG URL CMD...: ($each: the number of GETs counted, default REQUESTS) starts CMD under callgrind with instrumentation off, warms up,
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
    n=${each:-$requests}
    gets "$url" "$n"
    callgrind_control -i on "$pid" >/dev/null 2>&1
    gets "$url" "$n"
    callgrind_control -i off "$pid" >/dev/null 2>&1
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    [ -z "${KEEP:-}" ] || { mkdir -p "$KEEP" && cp "$tmp/$slug.out" "$KEEP/callgrind.$slug.out"; }
    total=$(callgrind_annotate "$tmp/$slug.out" 2>/dev/null |
        sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
    awk -v t="$total" -v n="$n" -v name="$name" \
        'BEGIN { printf "  %-36s %8.1fk instructions per request\n", name, t / n / 1000 }'
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
LINTEL_PORT=$port LINTEL_DATA_DIR="$tmp/data" LINTEL_LOG_LEVEL=warning LINTEL_ACCESS_TTL=3600 \
    LINTEL_PLUGIN_DIR="$build/plugins" LINTEL_ADMIN_PASSWORD=bench-password-123
export LINTEL_ACCESS_TTL LINTEL_PORT LINTEL_DATA_DIR LINTEL_LOG_LEVEL LINTEL_PLUGIN_DIR LINTEL_ADMIN_PASSWORD
count "lintel GET /health" lintel "http://127.0.0.1:$port/health" "$build/app/lintel"

# A user holding the numbers 1..100, made on a plain (not instrumented) run of the same data dir.
"$build/app/lintel" >"$tmp/setup.log" 2>&1 &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; do
    i=$((i + 1))
    kill -0 "$pid" 2>/dev/null && [ "$i" -le 300 ] || { echo "bench_callgrind: lintel did not start" >&2; cat "$tmp/setup.log" >&2; exit 1; }
    sleep 0.1
done
reply=$(curl -sS -X POST -H 'Content-Type: application/json' \
    -d '{"username":"bench_reader","password":"bench-password-123"}' \
    "http://127.0.0.1:$port/api/auth/register")
user_id=$(printf '%s' "$reply" | sed -n 's/.*"user":{[^}]*"id":\([0-9][0-9]*\).*/\1/p')
token=$(printf '%s' "$reply" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$user_id" ] && [ -n "$token" ] || { echo "bench_callgrind: cannot register: $reply" >&2; exit 1; }
sqlite3 -batch "$LINTEL_DATA_DIR/lintel.db" -cmd ".load $build/ext/liblintel" -cmd ".timeout 10000" \
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100)
     INSERT INTO numbers (user_id, value) SELECT $user_id, i FROM c;" >/dev/null
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
hdr="Authorization: Bearer $token"
count "lintel GET /api/users/me" me "http://127.0.0.1:$port/api/users/me" "$build/app/lintel"
count "lintel GET /api/numbers/stats" stats "http://127.0.0.1:$port/api/numbers/stats" \
    "$build/app/lintel"
each=$((requests / 4))
count "lintel GET /api/numbers?limit=100" list \
    "http://127.0.0.1:$port/api/numbers?limit=100" "$build/app/lintel"
