#!/bin/sh
# What the conditional requests cost: a GET answered in full (its ETag hashed from the reply)
# against the same GET answered 304 (If-None-Match), for one task and for a 100-number page,
# and a POST that creates against the same POST replayed from its Idempotency-Key.
# Usage: tests/bench/bench_retries.sh BUILD_DIR   (env: BENCH_DURATION s, BENCH_CONNECTIONS)
set -eu

build=$(cd "${1:-build}" && pwd)
bench_name=bench_retries
. "$(dirname "$0")/lib.sh"
bench_need wrk curl sqlite3
duration=${BENCH_DURATION:-5} conns=${BENCH_CONNECTIONS:-16}

echo "bench_retries: $(nproc) cores, wrk -t2 -c$conns -d${duration}s; lintel log level warning"

bench_start LINTEL_ACCESS_TTL=3600 LINTEL_LOGIN_MAX_IP=1000000
set -- $(bench_register "retries_$$" bench-password-123)
auth="Authorization: Bearer $2"
bench_fill_numbers "$1" 1000
task=$(curl -sS -H "$auth" -H 'Content-Type: application/json' -d '{"title":"bench"}' \
    "$url/api/tasks" | sed -n 's/.*"id":\([0-9][0-9]*\).*/\1/p')
# etag PATH: the ETag of a GET of PATH.
etag() {
    curl -sS -D - -o /dev/null -H "$auth" "$url$1" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p'
}
task_tag=$(etag "/api/tasks/$task")
page_tag=$(etag "/api/numbers?limit=100")
[ -n "$task_tag" ] && [ -n "$page_tag" ] || { echo "$bench_name: no ETag" >&2; exit 1; }
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "$auth" -H "If-None-Match: $page_tag" \
    "$url/api/numbers?limit=100")
[ "$status" = 304 ] || { echo "$bench_name: If-None-Match answered $status" >&2; exit 1; }

bench_wrk "GET task (200 + ETag)" "/api/tasks/$task" -H "$auth"
bench_wrk "GET task, If-None-Match (304)" "/api/tasks/$task" -H "$auth" \
    -H "If-None-Match: $task_tag"
bench_wrk "GET 100 numbers (200 + ETag)" "/api/numbers?limit=100" -H "$auth"
bench_wrk "GET 100 numbers, If-None-Match (304)" "/api/numbers?limit=100" -H "$auth" \
    -H "If-None-Match: $page_tag"
cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"value": 42}'
wrk.headers["Content-Type"] = "application/json"
LUA
bench_wrk "POST number (creates)" /api/numbers -H "$auth" -s "$tmp/post.lua"
bench_wrk "POST number, replayed Idempotency-Key" /api/numbers -H "$auth" \
    -H "Idempotency-Key: bench-$$" -s "$tmp/post.lua"
bench_stop
