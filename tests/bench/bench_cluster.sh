#!/bin/sh
# Cluster benchmark: single-node SQLite against a 3-node dqlite cluster on loopback in one run
# (writes/s, read p50/p99 through one node and spread over three), then the failover gap over
# BENCH_KILLS leader kills (median, max). Not part of make test (docs/cluster.md "Measured").
# Usage: tests/bench/bench_cluster.sh BUILD_DIR   (env: BENCH_DURATION, BENCH_CONNECTIONS, BENCH_KILLS;
# BENCH_ONLY=failover runs only the leader kills)
set -eu
build=$(cd "${1:-build}" && pwd)
command -v wrk >/dev/null || { echo "bench_cluster: wrk not found (make bench installs it)" >&2; exit 1; }
LINTEL_TEST_BIN=$build/app/lintel LINTEL_TEST_PLUGIN_DIR=$build/plugins \
    exec timeout 900 python3 "$(dirname "$0")/bench_cluster.py"
