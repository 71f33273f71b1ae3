#!/bin/sh
# make soak: starts the sensor simulator and lintel (BUILD, default build/) on 127.0.0.1 with a
# new data directory, runs lintel-soak against them, stops both, and leaves the report in
# BUILD/soak-report.txt. Exit status 1 when a pass criterion fails.
#   SOAK_MINUTES      measured minutes (default 30)
#   SOAK_CONNECTIONS  concurrent connections (default 64)
#   SOAK_WARMUP       warm-up seconds before the measured phase (default 60)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
minutes=${SOAK_MINUTES:-30}
conns=${SOAK_CONNECTIONS:-64}
warmup=${SOAK_WARMUP:-60}
tmp=$(mktemp -d /tmp/lintel-soak-XXXXXX)
server_pid=""
sim_pid=""
password="soak-admin-password-$$"
metrics_token="soak-metrics-token-$$-0123456789abcdef"

cleanup() {
    [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" || true
    [ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null && wait "$sim_pid" || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$build/tools/sensor-sim/lintel-sensor-sim" --bind 127.0.0.1 --port 0 --mode random \
    >"$tmp/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do
    sim_port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sim.log" | head -1)
    [ -n "$sim_port" ] && break
    sleep 0.1
done
[ -n "${sim_port:-}" ] || { echo "soak: the simulator did not start" >&2; exit 1; }

# warning: no access lines (a 30-minute soak would write gigabytes of them)
LINTEL_PORT=0 LINTEL_BIND=127.0.0.1 LINTEL_DATA_DIR="$tmp/data" LINTEL_LOG_LEVEL=warning \
    LINTEL_ADMIN_PASSWORD="$password" LINTEL_METRICS_TOKEN="$metrics_token" LINTEL_PLUGIN_DIR="$build/plugins" \
    LINTEL_UPSTREAM_URL="http://127.0.0.1:$sim_port/sensor" \
    "$build/app/lintel" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
    url=$(sed -n 's/.*listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$tmp/server.log" |
        head -1)
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "${url:-}" ] || { echo "soak: lintel did not start:" >&2; cat "$tmp/server.log" >&2; exit 1; }

echo "soak: lintel $url (pid $server_pid), simulator :$sim_port; $(nproc) cores"
status=0
"$build/tests/soak/lintel-soak" --url "$url" --pid "$server_pid" --minutes "$minutes" \
    --connections "$conns" --warmup "$warmup" --admin-password "$password" --metrics-token "$metrics_token" |
    tee "$build/soak-report.txt" || status=1
grep -q "SOAK PASSED" "$build/soak-report.txt" || status=1
if kill -TERM "$server_pid" && wait "$server_pid"; then
    echo "soak: lintel stopped cleanly"
else
    echo "soak: lintel did not stop cleanly" >&2
    status=1
fi
server_pid=""
grep -E "ERROR|WARN" "$tmp/server.log" | head -20 || true
exit $status
