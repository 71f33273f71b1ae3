#!/bin/sh
# lintel's overhead against two baselines in the same thread-pool mode: bare libmicrohttpd and
# bare ulfius (bench_hello), then lintel's GET /health and GET /api/example/ping. The four are
# measured in turn, ROUNDS times, so a machine shared with other work disturbs them alike; each
# ratio is taken within a round and the median of the rounds is reported.
# Usage: tests/bench/bench_host.sh BUILD_DIR
#        (env: DURATION=4s CONNECTIONS=32 THREADS=2 ROUNDS=3)
set -eu
build=$1
duration=${DURATION:-4s}
conns=${CONNECTIONS:-32}
wrk_threads=${THREADS:-2}
rounds=${ROUNDS:-3}
pool=$(( $(nproc) * 2 )); [ "$pool" -lt 4 ] && pool=4
command -v wrk >/dev/null || { echo "bench_host: wrk is missing (scripts/bench-packages.txt)"; exit 1; }
cmake --build "$build" --target bench_hello lintel plugin_example >/dev/null  # example.so lands in $build/examples

tmp=$(mktemp -d /tmp/lintel-bench-XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mhd_port=$(( 20000 + $$ % 20000 ))
ulfius_port=$(( mhd_port + 1 ))
"$build/tests/bench/bench_hello" "$mhd_port" "$pool" mhd 2>"$tmp/mhd.log" &
pids="$pids $!"
"$build/tests/bench/bench_hello" "$ulfius_port" "$pool" ulfius 2>"$tmp/ulfius.log" &
pids="$pids $!"

LINTEL_PORT=0 LINTEL_DATA_DIR="$tmp/data" LINTEL_PLUGINS=example \
LINTEL_PLUGIN_DIR="$build/examples" LINTEL_ADMIN_PASSWORD=bench-password-123 \
LINTEL_LOG_LEVEL="${LINTEL_LOG_LEVEL:-info}" "$build/app/lintel" 2>"$tmp/lintel.log" &
pids="$pids $!"
i=0
until grep -q "listening on" "$tmp/lintel.log" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 200 ] && { cat "$tmp/lintel.log"; exit 1; }
    sleep 0.05
done
lintel_port=$(grep -o 'listening on http://[^ ]*' "$tmp/lintel.log" | sed 's/.*://')
sleep 0.2

# run NAME URL -> prints "NAME req/s p99", appends req/s to $tmp/NAME.rps
run() {
    wrk -t"$wrk_threads" -c"$conns" -d"$duration" --latency "$2" >"$tmp/wrk.out" 2>&1
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
    errs=$(awk '/Non-2xx|Socket errors/ {print}' "$tmp/wrk.out" | tr '\n' ' ')
    printf '  %-22s %12s req/s   p99 %-9s %s\n' "$1" "$rps" "$p99" "$errs"
    echo "$rps" >>"$tmp/$1.rps"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "wrk -t$wrk_threads -c$conns -d$duration, $rounds rounds; server pools: $pool threads; $(nproc) cores"
r=1
while [ "$r" -le "$rounds" ]; do
    echo "round $r"
    run bare_mhd_hello "http://127.0.0.1:$mhd_port/"
    run bare_ulfius_hello "http://127.0.0.1:$ulfius_port/"
    run lintel_health "http://127.0.0.1:$lintel_port/health"
    run lintel_example_ping "http://127.0.0.1:$lintel_port/api/example/ping"
    r=$((r + 1))
done
# ratio A B -> median over the rounds of A/B in percent
ratio() { paste "$tmp/$1.rps" "$tmp/$2.rps" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' | median; }
printf 'median req/s: bare_mhd %s, bare_ulfius %s, /health %s, /api/example/ping %s\n' \
    "$(median <"$tmp/bare_mhd_hello.rps")" "$(median <"$tmp/bare_ulfius_hello.rps")" \
    "$(median <"$tmp/lintel_health.rps")" "$(median <"$tmp/lintel_example_ping.rps")"
echo "median ratio to bare libmicrohttpd: /health $(ratio lintel_health bare_mhd_hello)%," \
     "/api/example/ping $(ratio lintel_example_ping bare_mhd_hello)%," \
     "bare ulfius $(ratio bare_ulfius_hello bare_mhd_hello)% (target /health >= 70%)"
echo "median ratio to bare ulfius: /health $(ratio lintel_health bare_ulfius_hello)%," \
     "/api/example/ping $(ratio lintel_example_ping bare_ulfius_hello)%"
