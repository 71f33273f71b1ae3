#!/bin/sh
# Builds the libFuzzer harness for client WebSocket frames (fuzz_ws.c: app/ws_conn.c with
# libwslay) with clang and runs it. Usage: tests/fuzz/ws.sh [SECONDS (default 60)]
# The corpus kept in the tree (tests/fuzz/corpus/ws) seeds a working copy under build-fuzz/;
# crashes, leaks and timeouts are left in build-fuzz/artifacts/ and fail the run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${LINTEL_FUZZ_DIR:-$root/build-fuzz}
seconds=${1:-60}

mkdir -p "$out/artifacts" "$out/corpus/ws"
clang -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/app" -I"$root/include" \
    "$here/fuzz_ws.c" "$root/app/ws_conn.c" "$root/app/log.c" -o "$out/fuzz_ws" \
    $(pkg-config --cflags --libs libyder) -lwslay -lpthread
cp -n "$here"/corpus/ws/* "$out/corpus/ws/" 2>/dev/null || true

log="$out/ws.log"
printf '%-36s ' "websocket frames"
if ASAN_OPTIONS=detect_leaks=1 "$out/fuzz_ws" "$out/corpus/ws" "$here/corpus/ws" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -artifact_prefix="$out/artifacts/ws-" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "ok: $runs runs, $cov"
else
    echo "FAILED (see $log)"
    exit 1
fi
