#!/bin/sh
# Issue 14's side-by-side run: lintel's authenticated reads against the bare libmicrohttpd hello
# (bench_hello) and against the naive C peer (../shared/peers/cpeer.c, built here), each holding
# the same 100 numbers. Targets alternate within each round (ROUNDS rounds of DURATION each),
# ratios are taken within a round and the median of the rounds is printed beside the target.
# Usage: tests/bench/bench_peer.sh BUILD_DIR
#        (env: DURATION=4s CONNECTIONS=64 ROUNDS=3 PEER_SRC=path/to/cpeer.c)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
duration=${DURATION:-4s}
conns=${CONNECTIONS:-64}
rounds=${ROUNDS:-3}
peer_src=${PEER_SRC:-$here/../../../shared/peers/cpeer.c}
password=bench-password-123
pool=$(( $(nproc) * 2 )); [ "$pool" -lt 4 ] && pool=4
bench_name=bench_peer
. "$here/lib.sh"
bench_need wrk curl sqlite3 gcc pkg-config
cmake --build "$build" --target bench_hello lintel >/dev/null

others=
peer_cleanup() {
    for p in $others; do kill "$p" 2>/dev/null || true; done
    bench_cleanup
}
trap peer_cleanup EXIT INT TERM

# free_port: a loopback port nothing listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_up URL [curl args]: until URL answers at all (any status), at most 10 s.
wait_up() {
    u=$1
    shift
    i=0
    until curl -s -o /dev/null "$@" "$u" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -le 100 ] || { echo "bench_peer: $u does not answer" >&2; exit 1; }
        sleep 0.1
    done
}

# The bare hello, in lintel's thread-pool mode.
hello_port=$(free_port)
"$build/tests/bench/bench_hello" "$hello_port" "$pool" mhd 2>"$tmp/hello.log" &
others="$others $!"
hello_url="http://127.0.0.1:$hello_port/"
wait_up "$hello_url"

# lintel with one user holding the numbers 1..100 (inserted directly, as bench_numbers does).
bench_start LINTEL_ACCESS_TTL=3600 LINTEL_LOGIN_MAX_IP=1000000
reply=$(curl -sS -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"bench_$$\",\"password\":\"$password\"}" "$url/api/auth/register")
user_id=$(printf '%s' "$reply" | sed -n 's/.*"user":{[^}]*"id":\([0-9][0-9]*\).*/\1/p')
token=$(printf '%s' "$reply" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$user_id" ] && [ -n "$token" ] || { echo "bench_peer: cannot register: $reply" >&2; exit 1; }
sqlite3 -batch "$tmp/data/lintel.db" -cmd ".load $build/ext/liblintel" -cmd ".timeout 10000" \
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100)
     INSERT INTO numbers (user_id, value) SELECT $user_id, i FROM c;" >/dev/null
auth="Authorization: Bearer $token"

# The naive peer, built from source in this run, with admin holding the same 100 numbers.
peer_url=
if [ -f "$peer_src" ]; then
    # shellcheck disable=SC2046
    gcc -O2 -o "$tmp/cpeer" "$peer_src" $(pkg-config --cflags --libs libulfius jansson \
        libmicrohttpd liborcania libyder librhonabwy gnutls sqlite3)
    peer_port=$(free_port)
    JWT_SECRET=bench-peer-secret "$tmp/cpeer" "$peer_port" "$tmp/peer.db" pool "$pool" \
        >"$tmp/peer.log" 2>&1 &
    others="$others $!"
    peer_url="http://127.0.0.1:$peer_port"
    wait_up "$peer_url/stats"
    sqlite3 -batch "$tmp/peer.db" -cmd ".timeout 10000" \
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100)
         INSERT INTO numbers (username, value, created_at)
         SELECT 'admin', i, strftime('%Y-%m-%dT%H:%M:%f', 'now', '+' || i || ' seconds') || 'Z'
         FROM c;"
    peer_token=$(curl -sS -X POST -H 'Content-Type: application/json' \
        -d '{"username":"admin","password":"1234"}' "$peer_url/login" |
        sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
    [ -n "$peer_token" ] || { echo "bench_peer: the peer gave no token" >&2; exit 1; }
    peer_auth="Authorization: Bearer $peer_token"
else
    echo "bench_peer: $peer_src not found: the peer's columns are skipped" >&2
fi

# Both sides must really answer with 100 numbers before anything is timed.
n=$(curl -sS --fail -H "$auth" "$url/api/numbers?limit=100" | grep -o '"value":' | wc -l)
[ "$n" -eq 100 ] || { echo "bench_peer: lintel lists $n numbers, not 100" >&2; exit 1; }
if [ -n "$peer_url" ]; then
    n=$(curl -sS --fail -H "$peer_auth" "$peer_url/numbers" | grep -o '"value": *[0-9]' | wc -l)
    [ "$n" -eq 100 ] || { echo "bench_peer: the peer lists $n numbers, not 100" >&2; exit 1; }
fi

# run NAME URL [wrk args...]: one wrk run; appends req/s to $tmp/NAME.rps and p99 (us) to
# $tmp/NAME.p99; refuses error replies.
run() {
    name=$1
    target=$2
    shift 2
    wrk -t2 -c"$conns" -d"$duration" --latency "$@" "$target" >"$tmp/wrk.out" 2>&1 || {
        cat "$tmp/wrk.out" >&2
        exit 1
    }
    if grep -q 'Non-2xx' "$tmp/wrk.out"; then
        echo "bench_peer: $name got error replies:" >&2
        cat "$tmp/wrk.out" >&2
        exit 1
    fi
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
    printf '  %-30s %12s req/s   p99 %s\n' "$name" "$rps" "$p99"
    echo "$rps" >>"$tmp/$name.rps"
    echo "$p99" | awk '{ v = $1 + 0; u = $1; sub(/^[0-9.]+/, "", u)
        if (u == "ms") v *= 1000; else if (u == "s") v *= 1000000; print v }' >>"$tmp/$name.p99"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# ratio A B [rps|p99] -> median over the rounds of A/B
ratio() {
    kind=${3:-rps}
    [ -s "$tmp/$1.$kind" ] && [ -s "$tmp/$2.$kind" ] || { echo "n/a"; return; }
    paste "$tmp/$1.$kind" "$tmp/$2.$kind" | awk '{ printf "%.3f\n", $1 / $2 }' | median
}
# verdict NAME VALUE OP TARGET UNIT: one line "NAME VALUE (target OP TARGET) met|NOT met"
verdict() {
    awk -v name="$1" -v v="$2" -v op="$3" -v t="$4" -v unit="$5" 'BEGIN {
        if (v == "n/a") { printf "  %-44s %8s   (target %s %s%s)\n", name, v, op, t, unit; exit }
        x = (unit == "%") ? 100 * v : v
        ok = (op == ">=") ? x >= t : x <= t
        printf "  %-44s %7.*f%s   (target %s %s%s)  %s\n", name, (unit == "%") ? 0 : 2, x, unit,
            op, t, unit, ok ? "met" : "NOT met" }'
}

echo "bench_peer: wrk -t2 -c$conns -d$duration --latency, $rounds rounds alternating targets;"
echo "  $(nproc) cores, hello and peer pools $pool threads, 100 numbers each side"
# A one-second unrecorded warm-up of each server first (threads, caches, prepared statements).
for t in "$hello_url" "$url/health"; do wrk -t2 -c"$conns" -d1s "$t" >/dev/null 2>&1; done
wrk -t2 -c"$conns" -d1s -H "$auth" "$url/api/numbers?limit=100" >/dev/null 2>&1
[ -z "$peer_url" ] || wrk -t2 -c"$conns" -d1s -H "$peer_auth" "$peer_url/numbers" >/dev/null 2>&1
r=1
while [ "$r" -le "$rounds" ]; do
    echo "round $r"
    run hello "$hello_url"
    run health "$url/health"
    run users_me "$url/api/users/me" -H "$auth"
    run stats "$url/api/numbers/stats" -H "$auth"
    run list "$url/api/numbers?limit=100" -H "$auth"
    if [ -n "$peer_url" ]; then
        run peer_stats "$peer_url/stats" -H "$peer_auth"
        run peer_numbers "$peer_url/numbers" -H "$peer_auth"
    fi
    r=$((r + 1))
done

echo "median req/s (median p99 us):"
for t in hello health users_me stats list peer_stats peer_numbers; do
    [ -s "$tmp/$t.rps" ] || continue
    printf '  %-14s %10s  (%s)\n' "$t" "$(median <"$tmp/$t.rps")" "$(median <"$tmp/$t.p99")"
done
echo "ratios (median of the per-round ratios):"
verdict "GET /health / hello" "$(ratio health hello)" ">=" 70 "%"
verdict "GET /api/users/me / hello" "$(ratio users_me hello)" ">=" 60 "%"
verdict "GET /api/numbers/stats / hello" "$(ratio stats hello)" ">=" 60 "%"
verdict "GET /api/numbers?limit=100 / peer /numbers" "$(ratio list peer_numbers)" ">=" 2 "x"
verdict "GET /api/numbers/stats / peer /stats" "$(ratio stats peer_stats)" ">=" 3 "x"
verdict "p99 GET /api/users/me / hello p99" "$(ratio users_me hello p99)" "<=" 2 "x"
verdict "p99 GET /api/numbers/stats / hello p99" "$(ratio stats hello p99)" "<=" 2 "x"
verdict "p99 GET /api/numbers?limit=100 / hello p99" "$(ratio list hello p99)" "<=" 2 "x"
