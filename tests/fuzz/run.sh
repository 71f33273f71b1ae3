#!/bin/sh
# Builds the libFuzzer harnesses (clang, -fsanitize=fuzzer,address,undefined) and runs each.
# Usage: tests/fuzz/run.sh [TARGET ...]       (make fuzz; default: every target)
#   targets: route json multipart jwt config ws ext  (ext = every SQL function, one run each,
#            or ext:lintel_f32_decode/2 for one)
#   FUZZ_SECONDS  seconds per target (per SQL function for ext), default 60
#   FUZZ_JOBS     targets run at once, default 1 (the machine is shared; one core each)
#   FUZZ_MERGE=1  afterwards, minimize what was found into the corpus kept in the tree
# The tree's corpus (tests/fuzz/corpus/<target>) seeds each run and is only read; new inputs go
# to build-fuzz/corpus/<target>. Crashes, leaks and timeouts land in build-fuzz/artifacts/ and
# fail the run. Each line of the summary gives the real duration and the executions.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${LINTEL_FUZZ_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
all="route json multipart jwt config ws ext"
ext_funcs="lintel_version/0 lintel_f32_decode/1 lintel_f32_decode/2 lintel_datapoint_tags/3
    lintel_datapoint_tags/4 lintel_datapoint_valid/1 lintel_rule_username/1 lintel_rule_email/1
    lintel_rule_password/2 lintel_rule_number/1 lintel_rule_task_title/1
    lintel_rule_task_description/1 lintel_email_normalize/1 lintel_role_scopes/1
    lintel_scope_within/2 lintel_rule_scope/1 lintel_rule_scope/2 lintel_password_hash/2
    lintel_password_verify/2 lintel_password_needs_rehash/2 lintel_stats/1 lintel_median/1
    lintel_percentile/2 lintel_stddev/1 lintel_variance/1"

# Expand the targets: ext becomes one job per SQL function; a harness not built is skipped.
targets=""
for t in ${*:-$all}; do
    case $t in
    ext) for f in $ext_funcs; do targets="$targets ext:$f"; done ;;
    *) targets="$targets $t" ;;
    esac
done

mkdir -p "$out/artifacts" "$out/logs"
CC=${CC:-clang} cmake -S "$root" -B "$out" -DCMAKE_BUILD_TYPE=Debug -DLINTEL_FUZZ=ON \
    -DLINTEL_TESTS=OFF >/dev/null
built=""
for t in $targets; do
    h=fuzz_${t%%:*}
    if [ -f "$here/$h.c" ]; then
        case " $built " in *" $h "*) ;; *) built="$built $h" ;; esac
    fi
done
# shellcheck disable=SC2086
[ -n "$built" ] && cmake --build "$out" -j "$jobs" $(for h in $built; do printf ' --target %s' "$h"; done)

# A few seeds per SQL function, so the short runs start from meaningful inputs.
ext_seed() { # ext_seed DIR FUNC
    case ${2%/*} in
    lintel_f32_decode) printf '\000[157,42,76,190]\001be' >"$1/json"
        printf '\005\235*L\276\001le' >"$1/blob" ;;
    lintel_datapoint_tags)
        printf '\240["system","a\\u00e9"]\0011713798477\0011713802078\0013600' >"$1/tags" ;;
    lintel_datapoint_valid) printf '\000["ok","too old","\\ud83d\\ude00"]' >"$1/tags" ;;
    lintel_rule_* | lintel_email_normalize | lintel_role_scopes | lintel_scope_within)
        printf '\000First.Last@Example.ORG\0018' >"$1/text"
        printf '\002-5' >"$1/num" ;;
    lintel_password_*) printf '\000fuzz\001$' >"$1/pw" ;;
    lintel_stats | lintel_median | lintel_percentile | lintel_stddev | lintel_variance)
        printf '\0621\n2\n3.5\nn\n-7\nr\001\002\003\004\005\006\007\010\n9' >"$1/rows" ;;
    esac
}

# run_one TARGET: one libFuzzer run; prints its summary line, returns non-zero on a finding.
run_one() {
    t=$1
    name=$(echo "$t" | tr ':/' '__')
    h=fuzz_${t%%:*}
    bin="$out/fuzz/$h"
    log="$out/logs/$name.log"
    work="$out/corpus/$name"
    mkdir -p "$work"
    if [ ! -x "$bin" ]; then
        printf '%-40s skipped (no harness %s)\n' "$t" "$h"
        return 0
    fi
    seeds=""
    case $t in
    ext:*) ext_seed "$work" "${t#ext:}" ;;
    *) [ -d "$here/corpus/$t" ] && seeds="$here/corpus/$t" ;;
    esac
    start=$(date +%s)
    # shellcheck disable=SC2086
    if LINTEL_FUZZ_FUNC=${t#ext:} ASAN_OPTIONS=detect_leaks=1 "$bin" "$work" $seeds \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$out/artifacts/$name-" -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result="FAILED (see $log)"
    fi
    end=$(date +%s)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    corp=$(find "$work" -type f | wc -l)
    printf '%-40s %s: %ss, %s execs, %s, corpus %s\n' "$t" "$result" "$((end - start))" \
        "${runs:-0}" "${cov:-cov: ?}" "$corp"
    [ "$result" = ok ]
}

# Run the targets, at most $jobs at a time; each job's status goes to a file.
status=0
running=0
i=0
for t in $targets; do
    i=$((i + 1))
    (run_one "$t" >"$out/logs/summary.$i" 2>&1 && echo 0 >"$out/logs/status.$i" ||
        echo 1 >"$out/logs/status.$i") &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait
j=1
while [ "$j" -le "$i" ]; do
    cat "$out/logs/summary.$j"
    [ "$(cat "$out/logs/status.$j")" = 0 ] || status=1
    rm -f "$out/logs/summary.$j" "$out/logs/status.$j"
    j=$((j + 1))
done

# Keep what was learnt: minimize the work corpus plus the tree's into the tree's.
if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    for t in $targets; do
        case $t in ext:*) continue ;; esac
        bin="$out/fuzz/fuzz_$t"
        [ -x "$bin" ] || continue
        mkdir -p "$here/corpus/$t" "$out/merge/$t"
        rm -rf "$out/merge/$t" && mkdir -p "$out/merge/$t"
        "$bin" -merge=1 -max_len=65536 "$out/merge/$t" "$here/corpus/$t" "$out/corpus/$t" \
            >"$out/logs/merge-$t.log" 2>&1
        rm -f "$here/corpus/$t"/* && cp "$out/merge/$t"/* "$here/corpus/$t"/
        echo "corpus/$t: $(find "$here/corpus/$t" -type f | wc -l) inputs after merge"
    done
fi
exit $status
