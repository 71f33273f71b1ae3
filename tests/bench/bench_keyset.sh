#!/bin/sh
# Keyset pages against offset pages, in one run: the first and the last 100-row page of a user's
# 10 000 numbers (another user holds 200 000), by offset and by the after cursor, in id order and
# sorted by value descending. A cursor page should cost the same at any depth.
# Usage: tests/bench/bench_keyset.sh BUILD_DIR   (env: BENCH_DURATION s, BENCH_CONNECTIONS,
# BENCH_ROWS, BENCH_OTHER_ROWS)
set -eu

build=$(cd "${1:-build}" && pwd)
bench_name=bench_keyset
. "$(dirname "$0")/lib.sh"
bench_need wrk curl sqlite3
rows=${BENCH_ROWS:-10000} others=${BENCH_OTHER_ROWS:-200000}
duration=${BENCH_DURATION:-5} conns=${BENCH_CONNECTIONS:-16}

echo "bench_keyset: $(nproc) cores, wrk -t2 -c$conns -d${duration}s, $rows numbers for the user,"
echo "  $others for another user; pages of 100; lintel log level warning"

bench_start LINTEL_ACCESS_TTL=3600 LINTEL_LOGIN_MAX_IP=1000000
set -- $(bench_register "keyset_$$" bench-password-123)
user_id=$1
auth="Authorization: Bearer $2"
set -- $(bench_register "keyset_other_$$" bench-password-123)
bench_fill_numbers "$user_id" "$rows"
bench_fill_numbers "$1" "$others"

# cursor QUERY: the next cursor of that page (the one before the last, so after= is the last).
cursor() {
    c=$(curl -sS -H "$auth" "$url/api/numbers?$1" | sed -n 's/.*"next":"\([^"]*\)".*/\1/p')
    [ -n "$c" ] || { echo "bench_keyset: no next cursor for $1" >&2; exit 1; }
    echo "$c"
}
deep=$((rows - 200))
last_id=$(cursor "limit=100&offset=$deep")
last_value=$(cursor "limit=100&offset=$deep&sort=-value")
# the last pages really are the last: 100 items and next null, by either route
for q in "offset=$((rows - 100))" "after=$last_id" "sort=-value&offset=$((rows - 100))" \
    "sort=-value&after=$last_value"; do
    body=$(curl -sS -H "$auth" "$url/api/numbers?limit=100&$q")
    case $body in *'"next":null'*) ;; *)
        echo "bench_keyset: $q is not the last page" >&2
        exit 1
        ;;
    esac
done

bench_wrk "first page (id)" "/api/numbers?limit=100" -H "$auth"
bench_wrk "last page by offset (id)" "/api/numbers?limit=100&offset=$((rows - 100))" -H "$auth"
bench_wrk "last page by after (id)" "/api/numbers?limit=100&after=$last_id" -H "$auth"
bench_wrk "first page (-value)" "/api/numbers?limit=100&sort=-value" -H "$auth"
bench_wrk "last page by offset (-value)" \
    "/api/numbers?limit=100&sort=-value&offset=$((rows - 100))" -H "$auth"
bench_wrk "last page by after (-value)" "/api/numbers?limit=100&sort=-value&after=$last_value" \
    -H "$auth"
bench_stop

awk -v f="$rps_first_page__id_" -v o="$rps_last_page_by_offset__id_" \
    -v a="$rps_last_page_by_after__id_" -v fv="$rps_first_page___value_" \
    -v ov="$rps_last_page_by_offset___value_" -v av="$rps_last_page_by_after___value_" 'BEGIN {
    printf "last page / first page, id order:     offset %.0f%%, after %.0f%% (target: after ~100%%)\n",
        100 * o / f, 100 * a / f
    printf "last page / first page, -value order: offset %.0f%%, after %.0f%%\n",
        100 * ov / fv, 100 * av / fv
}'
