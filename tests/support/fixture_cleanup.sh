#!/bin/sh
# Checks lt_fixture's own cleanup: after start and stop, the fixture directory (url, pid and
# data_dir files) is gone, and a start over stale files replaces them. Usage: SCRIPT LT_FIXTURE
set -u
fixture=$1
dir=$(mktemp -d)/shared
mkdir "$dir" && echo 999999 >"$dir/pid" && echo http://127.0.0.1:1 >"$dir/url"
"$fixture" start "$dir" >/dev/null || { echo "start failed"; exit 1; }
grep -qv '^999999$' "$dir/pid" || { echo "stale pid kept"; exit 1; }
"$fixture" stop "$dir" || { echo "stop failed"; exit 1; }
if [ -e "$dir" ]; then
    echo "left behind: $(ls -A "$dir")"
    exit 1
fi
rmdir "$(dirname "$dir")"
