#!/bin/sh
# make bench: runs every tests/bench/bench_*.sh against the build dir given (default build).
# Usage: tests/bench/run.sh [BUILD_DIR]   (env: BENCHES="peer host" runs only those scripts;
# DURATION, ROUNDS and the scripts' own knobs shorten a run)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
status=0
for script in "$here"/bench_*.sh; do
    [ -e "$script" ] || continue
    if [ -n "${BENCHES:-}" ]; then
        short=$(basename "$script" .sh)
        case " $BENCHES " in *" ${short#bench_} "*) ;; *) continue ;; esac
    fi
    echo "== $(basename "$script")"
    sh "$script" "$build" || status=1
done
exit $status
