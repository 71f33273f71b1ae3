#!/bin/sh
# What the request rate limit costs (docs/auth.md "Request rate limit"): GET /health (counted per
# client address) and GET /api/users/me (per user) with rate_limit off and on (a limit never
# reached, so every reply is a 200 carrying the RateLimit fields), ROUNDS times in turn.
# Usage: tests/bench/bench_ratelimit.sh BUILD_DIR   (env: DURATION=3 seconds, ROUNDS=3, CONNECTIONS=16)
set -eu

build=$(cd "${1:-build}" && pwd)
duration=${DURATION:-3}
rounds=${ROUNDS:-3}
conns=${CONNECTIONS:-16}
bench_name=bench_ratelimit
. "$(dirname "$0")/lib.sh"
bench_need curl wrk

bench_start
set -- $(bench_register ratebench bench-password-123)
token=$2
bench_stop

i=0
while [ "$i" -lt "$rounds" ]; do
    i=$((i + 1))
    for mode in off on; do
        if [ "$mode" = on ]; then
            bench_start LINTEL_RATE_LIMIT=1000000000 LINTEL_RATE_LIMIT_WINDOW=60
        else
            bench_start
        fi
        bench_wrk "round $i $mode GET /health" /health
        eval "health_${mode}_$i=$bench_rps"
        bench_wrk "round $i $mode GET /api/users/me" /api/users/me -H "Authorization: Bearer $token"
        eval "me_${mode}_$i=$bench_rps"
        bench_stop
    done
done

# The median over the rounds of on/off, per route.
for what in health me; do
    j=0
    ratios=
    while [ "$j" -lt "$rounds" ]; do
        j=$((j + 1))
        eval "on=\$${what}_on_$j off=\$${what}_off_$j"
        ratios="$ratios $(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')"
    done
    echo "$ratios" | tr ' ' '\n' | grep . | sort -n | awk -v w="$what" '
        { r[NR] = $1 } END { printf "%s: with the limit on, %.1f%% of the throughput off (median of %d rounds)\n",
                             w == "me" ? "GET /api/users/me" : "GET /health", 100 * r[int((NR + 1) / 2)], NR }'
done
