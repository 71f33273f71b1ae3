#!/bin/sh
# Benchmark of authentication in one run: GET /api/users/me with a valid token against GET /health
# for EdDSA and HS256 (target: >= 50%), logins/s at the default password cost, and /health
# latency while a burst of logins runs. Usage: tests/bench/bench_auth.sh BUILD_DIR
# (env: BENCH_DURATION seconds, BENCH_CONNECTIONS)
set -eu

build=$(cd "${1:-build}" && pwd)
duration=${BENCH_DURATION:-5}
conns=${BENCH_CONNECTIONS:-16}
password=bench-password-123
bench_name=bench_auth
. "$(dirname "$0")/lib.sh"
bench_need wrk curl

# start_server ALG: a fresh data dir with default password cost, signing with ALG.
start_server() {
    rm -rf "$tmp/data"
    secret=
    [ "$1" != HS256 ] || secret="bench-Hs256-secret-9f8e7d6c5b4a3210zyx"
    bench_start LINTEL_JWT_ALG="$1" ${secret:+LINTEL_JWT_SECRET=$secret} \
        LINTEL_LOGIN_MAX_IP=100000000 LINTEL_LOGIN_MAX_USER=100000000
}

# register NAME: prints the access token.
register() {
    reply=$(curl -sS -X POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$password\"}" "$url/api/auth/register")
    token=$(printf '%s' "$reply" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [ -n "$token" ] || { echo "bench_auth: cannot register $1: $reply" >&2; exit 1; }
    echo "$token"
}

# run NAME PATH CONNS [wrk args...]: one wrk run; prints requests/s (2xx only) and latency.
run() {
    name=$1
    path=$2
    c=$3
    shift 3
    wrk -t2 -c"$c" -d"${duration}s" --latency "$@" "$url$path" >"$tmp/wrk.out" 2>&1 || {
        cat "$tmp/wrk.out" >&2
        exit 1
    }
    total=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$tmp/wrk.out")
    bad=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$tmp/wrk.out")
    bad=${bad:-0}
    rps=$(awk -v t="$total" -v b="$bad" -v d="$duration" 'BEGIN { printf "%.1f", (t - b) / d }')
    lat=$(sed -n 's/^ *Latency  *\([0-9][^ ]*\).*/\1/p' "$tmp/wrk.out")
    p99=$(sed -n 's/^ *99% *\([^ ]*\).*/\1/p' "$tmp/wrk.out")
    printf '%-40s %10s ok/s  avg %-9s p99 %-9s non-2xx %s\n' "$name" "$rps" "$lat" "$p99" "$bad"
    eval "rps_$(echo "$name" | tr -c 'a-zA-Z0-9\n' '_')=$rps"
}

cat >"$tmp/login.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"username":"bench_login","password":"$password"}'
wrk.headers["Content-Type"] = "application/json"
EOF

echo "bench_auth: $(nproc) cores, wrk -t2 -c$conns -d${duration}s, log level warning"
for alg in EdDSA HS256; do
    start_server "$alg"
    token=$(register "bench_$alg")
    run "GET /health ($alg server)" /health "$conns"
    run "GET /api/users/me ($alg)" /api/users/me "$conns" -H "Authorization: Bearer $token"
    [ "$alg" = HS256 ] || { register bench_login >/dev/null; }
    [ "$alg" = HS256 ] || run "POST /api/auth/login (cost 5, c4)" /api/auth/login 4 -s "$tmp/login.lua"
    if [ "$alg" = EdDSA ]; then
        run "GET /health idle (c4)" /health 4
        # /health while 16 clients hammer the login: logins may slow, /health must not starve
        wrk -t1 -c16 -d"$((duration + 2))s" -s "$tmp/login.lua" "$url/api/auth/login" \
            >"$tmp/burst.out" 2>&1 &
        bench_bg=$!
        sleep 1
        run "GET /health during login burst (c4)" /health 4
        run "GET /api/users/me during login burst" /api/users/me 4 -H "Authorization: Bearer $token"
        wait "$bench_bg" || true
        bench_bg=
        burst_all=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$tmp/burst.out")
        burst_503=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$tmp/burst.out")
        echo "  login burst (c16): $((burst_all - ${burst_503:-0})) logins ok, ${burst_503:-0} answered 503 (hashing gate)"
    fi
    bench_stop
done

awk -v he="$rps_GET__health__EdDSA_server_" -v me="$rps_GET__api_users_me__EdDSA_" \
    -v hh="$rps_GET__health__HS256_server_" -v mh="$rps_GET__api_users_me__HS256_" 'BEGIN {
    printf "users/me / health: EdDSA %.0f%%, HS256 %.0f%% (target >= 50%%)\n", 100 * me / he, 100 * mh / hh
}'
