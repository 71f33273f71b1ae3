#!/bin/sh
# Benchmark of the datapoints plugin in one run, against GET /health on the same server: bulk
# ingest through POST /api/datapoints in batches of 1 000 points (points/s), then one-hour range
# queries over 1 000 000 points (latency p50/p99), as an admin (all points) and as a user
# (valid points only).
# Usage: tests/bench/bench_datapoints.sh BUILD_DIR   (env: BENCH_DURATION s, BENCH_POINTS)
set -eu

build=$(cd "${1:-build}" && pwd)
duration=${BENCH_DURATION:-5}
points=${BENCH_POINTS:-1000000}
bench_name=bench_datapoints
. "$(dirname "$0")/lib.sh"
bench_need wrk curl sqlite3

bench_start LINTEL_ACCESS_TTL=3600 LINTEL_LOGIN_MAX_IP=1000000

# token JSON_BODY PATH: the access_token of a login or register reply.
token() {
    reply=$(curl -sS -X POST -H 'Content-Type: application/json' -d "$1" "$url$2")
    t=$(printf '%s' "$reply" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [ -n "$t" ] || { echo "bench_datapoints: no token from $2: $reply" >&2; exit 1; }
    echo "$t"
}
admin=$(token '{"username":"admin","password":"bench-admin-password"}' /api/auth/login)
user=$(token "{\"username\":\"bench_$$\",\"password\":\"bench-password-123\"}" /api/auth/register)

# Points are spread one per second over the $points seconds before now, so the last hour is
# valid (not "too old") and a one-hour window anywhere holds about 3 600 points.
now=$(date +%s)
base=$((now - points))

cat >"$tmp/ingest.lua" <<'EOF'
-- 1 000 raw points per request, every tenth tagged "suspect", times cycling through the window.
local base = tonumber(os.getenv("BENCH_BASE"))
local span = tonumber(os.getenv("BENCH_POINTS"))
local threads = 0
function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end
function init(args)
    n = 0
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
function request()
    local parts = {}
    local k = n * 2 + tid
    n = n + 1
    for i = 1, 1000 do
        local t = base + (k * 1000 + i) % span
        parts[i] = string.format('{"time":%d,"value":[%d,%d,%d,%d],"tags":[%s]}', t, i % 256,
            (k + i) % 256, (i * 7) % 256, 62 + i % 4, (i % 10 == 0) and '"suspect"' or '')
    end
    return wrk.format(nil, nil, nil, "[" .. table.concat(parts, ",") .. "]")
end
EOF

cat >"$tmp/range.lua" <<'EOF'
-- GET one random one-hour window (inclusive bounds, Unix seconds), up to 1 000 points back.
local base = tonumber(os.getenv("BENCH_BASE"))
local span = tonumber(os.getenv("BENCH_POINTS"))
local last = os.getenv("BENCH_LAST_HOUR") == "1"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
function request()
    local s = last and (base + span - 3600) or (base + math.random(0, span - 3600))
    return wrk.format("GET", string.format("/api/datapoints?start=%d&end=%d&limit=1000", s, s + 3599))
end
EOF

# run NAME PATH CONNECTIONS [wrk args...]: one wrk run; refuses non-2xx; sets rps and p50/p99.
run() {
    name=$1
    path=$2
    conns=$3
    shift 3
    wrk -t2 -c"$conns" -d"${duration}s" --latency "$@" "$url$path" >"$tmp/wrk.out" 2>&1 || {
        cat "$tmp/wrk.out" >&2
        exit 1
    }
    if grep -q 'Non-2xx' "$tmp/wrk.out"; then
        echo "bench_datapoints: $name got error replies:" >&2
        cat "$tmp/wrk.out" >&2
        tail -5 "$tmp/server.log" >&2
        exit 1
    fi
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$tmp/wrk.out")
    p50=$(sed -n 's/^ *50% *\([^ ]*\).*/\1/p' "$tmp/wrk.out")
    p99=$(sed -n 's/^ *99% *\([^ ]*\).*/\1/p' "$tmp/wrk.out")
    printf '%-40s %10s req/s   p50 %-9s p99 %s\n' "$name" "$rps" "$p50" "$p99"
}

count() {
    sqlite3 -batch "$tmp/data/lintel.db" -cmd ".timeout 10000" "SELECT count(*) FROM datapoints;"
}

echo "bench_datapoints: $(nproc) cores, wrk -t2 -d${duration}s, $points points one second apart;"
echo "  lintel log level warning, synchronous FULL; load average $(cut -d" " -f1-3 /proc/loadavg)"
run "GET /health" /health 16
health_rps=$rps

# CPU seconds the server has used so far (utime + stime): on a shared machine, points per
# server CPU second says more about capacity than wall-clock throughput does.
cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$pid/stat"
}

export BENCH_BASE=$base BENCH_POINTS=$points BENCH_TOKEN=$admin
cpu0=$(cpu)
run "POST /api/datapoints (1 000 points)" /api/datapoints 2 -s "$tmp/ingest.lua"
ingest_rps=$rps
cpu1=$(cpu)
ingested=$(count)
awk -v n="$ingested" -v c0="$cpu0" -v c1="$cpu1" 'BEGIN {
    printf "  ingested %d points over HTTP; server CPU %.2f s: %.0f points per CPU second\n",
        n, c1 - c0, (c1 > c0) ? n / (c1 - c0) : 0
}'

# Top up to $points with the same SQL functions, straight into the file (faster than HTTP).
if [ "$ingested" -lt "$points" ]; then
    sqlite3 -batch "$tmp/data/lintel.db" -cmd ".load $build/ext/liblintel" -cmd ".timeout 10000" \
        "WITH RECURSIVE c(i) AS (SELECT $ingested UNION ALL SELECT i + 1 FROM c WHERE i < $points - 1)
         INSERT INTO datapoints (ts, value, tags, valid)
         SELECT ts, v, tg, lintel_datapoint_valid(tg) FROM (
           SELECT $base + i AS ts,
                  lintel_f32_decode(json_array(i % 256, i / 256 % 256, i * 7 % 256, 62 + i % 4)) AS v,
                  lintel_datapoint_tags(CASE WHEN i % 10 = 0 THEN '[\"suspect\"]' ELSE '[]' END,
                                        $base + i, unixepoch()) AS tg
           FROM c);" >/dev/null
fi
echo "  $(count) points in the table"

run "GET one hour, admin (all points)" /api/datapoints 4 -s "$tmp/range.lua"
range_p99=$p99
BENCH_TOKEN=$user BENCH_LAST_HOUR=1 run "GET last hour, user (valid only)" /api/datapoints 4 \
    -s "$tmp/range.lua"
run "GET /health (again)" /health 16

awk -v h="$health_rps" -v r="$ingest_rps" -v p="$range_p99" 'BEGIN {
    printf "ingest: %.0f points/s (target >= 100000); one-hour range p99 %s; health %.0f req/s\n",
        r * 1000, p, h
}'
