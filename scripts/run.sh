#!/bin/sh
# make run: serves the built lintel on :8080 with its data under ./data.
# Usage: scripts/run.sh BUILD_DIR
set -eu
build=${1:-build}
export LINTEL_PORT="${LINTEL_PORT:-8080}"
export LINTEL_DATA_DIR="${LINTEL_DATA_DIR:-./data}"
shift || true
exec "$build/app/lintel" "$@"
