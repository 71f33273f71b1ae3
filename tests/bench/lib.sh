# Shared by the bench_*.sh scripts (sourced after they set `build`): a scratch dir, a lintel
# on a free loopback port, and a cleanup that stops it whatever way the script ends.
# Sets: tmp, pid, url. The caller's `bench_name` prefixes messages.

tmp=$(mktemp -d)
pid=
bench_bg=

bench_cleanup() {
    [ -z "$bench_bg" ] || kill "$bench_bg" 2>/dev/null || true
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap bench_cleanup EXIT INT TERM

# bench_need TOOL...: stops with a message when one is missing.
bench_need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$bench_name: $tool not found" >&2; exit 1; }
    done
}

# bench_start [VAR=value...]: serves $tmp/data (kept across restarts) with the admin password
# bench-admin-password, log level warning and the extra environment given; sets pid and url.
bench_start() {
    : >"$tmp/server.log"
    env LINTEL_DATA_DIR="$tmp/data" LINTEL_PORT=0 LINTEL_ADMIN_PASSWORD=bench-admin-password \
        LINTEL_PLUGIN_DIR="$build/plugins" LINTEL_LOG_LEVEL=warning "$@" \
        "$build/app/lintel" >"$tmp/server.log" 2>&1 &
    pid=$!
    bench_i=0
    bench_port=
    while [ -z "$bench_port" ]; do
        bench_port=$(sed -n 's|.*listening on https\{0,1\}://[^ ]*:\([0-9][0-9]*\).*|\1|p' \
            "$tmp/server.log" | head -n 1)
        bench_i=$((bench_i + 1))
        if [ "$bench_i" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "$bench_name: the server did not start:" >&2
            cat "$tmp/server.log" >&2
            exit 1
        fi
        [ -n "$bench_port" ] || sleep 0.1
    done
    url="http://127.0.0.1:$bench_port"
}

# bench_stop: SIGTERM, and waits for the graceful stop.
bench_stop() {
    kill "$pid"
    wait "$pid" || true
    pid=
}

# bench_register NAME PASSWORD: registers a user on $url; prints "<user id> <access token>".
bench_register() {
    bench_reply=$(curl -sS -X POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$2\"}" "$url/api/auth/register")
    bench_id=$(printf '%s' "$bench_reply" | sed -n 's/.*"user":{[^}]*"id":\([0-9][0-9]*\).*/\1/p')
    bench_token=$(printf '%s' "$bench_reply" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    if [ -z "$bench_id" ] || [ -z "$bench_token" ]; then
        echo "$bench_name: cannot register $1: $bench_reply" >&2
        exit 1
    fi
    echo "$bench_id $bench_token"
}

# bench_fill_numbers USER_ID COUNT: inserts COUNT positive numbers (integers and reals) directly.
bench_fill_numbers() {
    sqlite3 -batch "$tmp/data/lintel.db" -cmd ".load $build/ext/liblintel" -cmd ".timeout 10000" \
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $2)
         INSERT INTO numbers (user_id, value)
         SELECT $1, CASE WHEN i % 2 THEN i % 997 + 1 ELSE (i * 7919 % 100000) / 100.0 + 0.01 END
         FROM c;" >/dev/null
}

# bench_wrk NAME PATH [wrk args...]: one wrk run (-t2 -c$conns -d$duration) against $url; prints
# requests/s and latency, refuses error replies, and sets rps_<NAME with _ for other chars>.
bench_wrk() {
    bench_what=$1
    bench_path=$2
    shift 2
    wrk -t2 -c"$conns" -d"${duration}s" "$@" "$url$bench_path" >"$tmp/wrk.out" 2>&1 || {
        cat "$tmp/wrk.out" >&2
        exit 1
    }
    if grep -q 'Non-2xx' "$tmp/wrk.out"; then
        echo "$bench_name: $bench_what got error replies:" >&2
        cat "$tmp/wrk.out" >&2
        exit 1
    fi
    bench_rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$tmp/wrk.out")
    bench_lat=$(sed -n 's/^ *Latency *\([^ ]*\).*/\1/p' "$tmp/wrk.out")
    printf '%-44s %12s req/s   avg latency %s\n' "$bench_what" "$bench_rps" "$bench_lat"
    eval "rps_$(echo "$bench_what" | tr -c 'a-zA-Z0-9\n' '_')=$bench_rps"
}
