#!/bin/sh
# Benchmarks the extension (tests/bench/bench_ext.c): float32 decoding against the scan floor
# and lintel_stats against count/sum/avg/min/max. Usage: bench_ext.sh [BUILD_DIR]
# Uses BUILD_DIR/tests/bench/bench_ext when CMake built it, else compiles it here with -O2.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
bin=$build/tests/bench/bench_ext
if [ ! -x "$bin" ]; then
    bin=$build/bench_ext_standalone
    mkdir -p "$build/bench_ext_include/lintel"
    version=$(sed -n 's/^project(lintel VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
    sed "s/@PROJECT_VERSION@/$version/g; s/@[A-Za-z_]*@/0/g" \
        "$root/include/lintel/version.h.in" >"$build/bench_ext_include/lintel/version.h"
    cc -std=c11 -D_GNU_SOURCE -DSQLITE_CORE -O2 -I"$root/ext" -I"$root/include" \
        -I"$build/bench_ext_include" "$here/bench_ext.c" "$root"/ext/*.c -o "$bin" \
        $(pkg-config --cflags --libs sqlite3 libxcrypt) -lm
fi
"$bin"
