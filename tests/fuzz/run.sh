#!/bin/sh
# Builds the libFuzzer harness for the extension with clang and runs it once per SQL function.
# Usage: tests/fuzz/run.sh [SECONDS_PER_FUNCTION (default 60)] [FUNCTION/NARGS ...]
# One function at a time on one core (the machine is shared). Corpora persist under
# build-fuzz/corpus/; crashes, leaks and timeouts are left in build-fuzz/artifacts/ and fail the run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${LINTEL_FUZZ_DIR:-$root/build-fuzz}
seconds=${1:-60}
[ $# -gt 0 ] && shift
funcs=${*:-"lintel_version/0 lintel_f32_decode/1 lintel_f32_decode/2 lintel_datapoint_tags/3
    lintel_datapoint_tags/4 lintel_datapoint_valid/1 lintel_rule_username/1 lintel_rule_email/1
    lintel_rule_password/2 lintel_rule_number/1 lintel_rule_task_title/1
    lintel_rule_task_description/1 lintel_email_normalize/1 lintel_role_scopes/1
    lintel_scope_within/2 lintel_rule_scope/1 lintel_rule_scope/2 lintel_password_hash/2
    lintel_password_verify/2 lintel_password_needs_rehash/2 lintel_stats/1 lintel_median/1
    lintel_percentile/2 lintel_stddev/1 lintel_variance/1"}

mkdir -p "$out/include/lintel" "$out/artifacts"
# The extension includes <lintel/version.h>, which CMake generates; make the same here.
version=$(sed -n 's/^project(lintel VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
sed "s/@PROJECT_VERSION@/$version/g; s/@[A-Za-z_]*@/0/g" "$root/include/lintel/version.h.in" \
    >"$out/include/lintel/version.h"
clang -std=c11 -D_GNU_SOURCE -DSQLITE_CORE -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/ext" -I"$root/include" -I"$out/include" \
    "$here/fuzz_ext.c" "$root"/ext/*.c -o "$out/fuzz_ext" \
    $(pkg-config --cflags --libs sqlite3 libxcrypt) -lm

# A few seeds per area, so the short runs start from meaningful inputs.
seed() { # seed DIR NAME PRINTF-FORMAT
    mkdir -p "$1"
    # shellcheck disable=SC2059
    printf "$3" >"$1/$2"
}

status=0
for f in $funcs; do
    name=${f%/*}
    corpus="$out/corpus/$(echo "$f" | tr / _)"
    mkdir -p "$corpus"
    case $name in
    lintel_f32_decode) seed "$corpus" json '\000[157,42,76,190]\001be'
        seed "$corpus" blob '\005\235*L\276\001le' ;;
    lintel_datapoint_tags) seed "$corpus" tags '\240["system","a\\u00e9"]\0011713798477\0011713802078\0013600' ;;
    lintel_datapoint_valid) seed "$corpus" tags '\000["ok","too old","\\ud83d\\ude00"]' ;;
    lintel_rule_*|lintel_email_normalize) seed "$corpus" text '\000First.Last@Example.ORG\0018'
        seed "$corpus" num '\002-5' ;;
    lintel_password_*) seed "$corpus" pw '\000fuzz\001$' ;;
    lintel_stats|lintel_median|lintel_percentile|lintel_stddev|lintel_variance)
        seed "$corpus" rows '\0621\n2\n3.5\nn\n-7\nr\001\002\003\004\005\006\007\010\n9' ;;
    esac
    log="$out/$(echo "$f" | tr / _).log"
    printf '%-36s ' "$f"
    if LINTEL_FUZZ_FUNC=$f ASAN_OPTIONS=detect_leaks=1 "$out/fuzz_ext" "$corpus" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -artifact_prefix="$out/artifacts/$(echo "$f" | tr / _)-" -print_final_stats=1 \
        >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "ok: $runs runs, $cov"
    else
        echo "FAILED (see $log)"
        status=1
    fi
done
exit $status
