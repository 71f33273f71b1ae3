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
