#!/bin/sh
# make run: serves the built lintel on :8080 with its data under ./data. Unless
# LINTEL_UPSTREAM_URL is set, it also runs the sensor simulator on 127.0.0.1:8090
# (LINTEL_SIM_PORT) as the upstream of POST /api/datapoints/populate, and stops it afterwards.
# Usage: scripts/run.sh BUILD_DIR
set -eu
build=${1:-build}
export LINTEL_PORT="${LINTEL_PORT:-8080}"
export LINTEL_DATA_DIR="${LINTEL_DATA_DIR:-./data}"
shift || true

# LINTEL_SIM_* configure the simulator, not lintel, which refuses an unknown LINTEL_* variable:
# lintel runs without them.
unset_sim=""
for v in $(env | sed -n 's/^\(LINTEL_SIM_[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset_sim="$unset_sim -u $v"
done

sim="$build/tools/sensor-sim/lintel-sensor-sim"
if [ -n "${LINTEL_UPSTREAM_URL:-}" ] || [ ! -x "$sim" ]; then
    # shellcheck disable=SC2086
    exec env $unset_sim "$build/app/lintel" "$@"
fi

sim_port=${LINTEL_SIM_PORT:-8090}
"$sim" --bind 127.0.0.1 --port "$sim_port" &
sim_pid=$!
export LINTEL_UPSTREAM_URL="http://127.0.0.1:$sim_port/"
echo "run.sh: sensor simulator (pid $sim_pid) is the upstream: LINTEL_UPSTREAM_URL=$LINTEL_UPSTREAM_URL"

# A non-interactive shell starts background jobs with SIGINT ignored, so Ctrl-C reaches the
# server as the SIGTERM this trap sends: it then stops gracefully, and the simulator after it.
# shellcheck disable=SC2086
env $unset_sim "$build/app/lintel" "$@" &
lintel_pid=$!
trap 'kill -TERM "$lintel_pid" 2>/dev/null || true' INT TERM
rc=0
wait "$lintel_pid" || rc=$?
while kill -0 "$lintel_pid" 2>/dev/null; do
    rc=0
    wait "$lintel_pid" || rc=$?
done
kill -TERM "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true
exit "$rc"
