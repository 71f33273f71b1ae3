#!/bin/sh
# Installs the build into a temporary prefix and uses it as an outside author would: builds
# plugins/example with only `pkg-config --cflags lintel` and the installed headers, builds the
# guide's bookmarks plugin with find_package(lintel), and runs the installed server (its default
# plugin directory, plus both through LINTEL_PLUGIN_EXTRA) with real requests to their routes.
# Usage: out_of_tree.sh BUILD_DIR SOURCE_DIR
set -eu
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
tmp=$(mktemp -d /tmp/lintel-install-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "out_of_tree: $*" >&2; [ -f "$tmp/server.log" ] && tail -20 "$tmp/server.log" >&2; exit 1; }

prefix=$tmp/prefix
timeout 120 cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name lintel.pc | head -1)
[ -n "$pc" ] || fail "no lintel.pc installed"
export PKG_CONFIG_PATH=$(dirname "$pc")
plugindir=$(realpath "$(pkg-config --variable=plugindir lintel)")
for f in "$prefix/bin/lintel" "$plugindir/auth.so" "$plugindir/users.so" \
         "$prefix/include/lintel/kit.h" "$prefix/include/lintel/plugin.h"; do
    [ -e "$f" ] || fail "$f is not installed"
done
[ ! -e "$plugindir/example.so" ] || fail "the example plugin is installed among the plugins"
[ "$(realpath "$(pkg-config --variable=includedir lintel)")" = "$prefix/include" ] ||
    fail "lintel.pc does not follow the install prefix"
find "$prefix" -name lintelConfig.cmake | grep -q . || fail "no CMake package installed"

# 1. plugins/example with pkg-config alone; its migrations embedded by the installed helper.
ex=$tmp/example
mkdir -p "$ex"
embed=$(find "$prefix" -name embed_sql.cmake | head -1)
cmake -DOUT="$ex/migrations.c" -DSYMBOL=example_migrations \
      "-DFILES=$(ls "$src"/sql/example/*.sql | paste -sd ';')" -P "$embed"
cc -std=c11 -Wall -Wextra -Werror -fPIC -shared $(pkg-config --cflags lintel) \
   "$src/plugins/example/example.c" "$ex/migrations.c" -o "$ex/example.so" \
   $(pkg-config --libs jansson) -Wl,-z,defs
# 2. the guide's bookmarks plugin with find_package(lintel).
timeout 120 cmake -S "$src/docs/examples/bookmarks" -B "$tmp/bookmarks" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >/dev/null
timeout 120 cmake --build "$tmp/bookmarks" >/dev/null

# 3. the installed server, from its default plugin directory plus the two.
mkdir -p "$tmp/data"
LINTEL_DATA_DIR=$tmp/data LINTEL_PORT=0 LINTEL_BIND=127.0.0.1 LINTEL_ADMIN_PASSWORD=install-test-pw \
LINTEL_PLUGIN_EXTRA="$ex/example.so,$tmp/bookmarks/bookmarks.so" \
    "$prefix/bin/lintel" >"$tmp/server.log" 2>&1 &
pid=$!
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/server.log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || fail "the installed server did not start"
    sleep 0.1
done
[ -n "$port" ] || fail "the installed server did not listen"
loaded=$(sed -n 's/.*plugin auth .* loaded from \(.*\)$/\1/p' "$tmp/server.log" | head -1)
[ -n "$loaded" ] && [ "$(realpath "$loaded")" = "$plugindir/auth.so" ] ||
    fail "auth was not loaded from the installed plugin directory $plugindir"
url=http://127.0.0.1:$port

# req METHOD PATH [TOKEN] [BODY] -> "STATUS BODY" on stdout
req() {
    set -- "$1" "$2" "${3:-}" "${4:-}"
    curl -s -m 10 -o "$tmp/body" -w '%{http_code}' -X "$1" ${3:+-H "Authorization: Bearer $3"} \
        ${4:+-H 'Content-Type: application/json' --data "$4"} "$url$2"
}
json() { python3 -c "import json,sys; print(json.load(open('$tmp/body'))$1)"; }

[ "$(req GET /api/example/ping)" = 200 ] || fail "example ping"
[ "$(json "['pong']")" = True ] || fail "example ping body"
[ "$(req POST /api/auth/register '' '{"username":"oot_user","password":"correct horse"}')" = 201 ] ||
    fail "register: $(cat "$tmp/body")"
[ "$(req POST /api/auth/login '' '{"username":"oot_user","password":"correct horse"}')" = 200 ] ||
    fail "login: $(cat "$tmp/body")"
token=$(json "['access_token']")
[ "$(req POST /api/bookmarks "$token" '{"url":"https://sqlite.org","title":"SQLite"}')" = 201 ] ||
    fail "bookmark create: $(cat "$tmp/body")"
id=$(json "['id']")
[ "$(req POST /api/bookmarks "$token" '{"url":"ftp://x","title":"x"}')" = 422 ] || fail "bad url"
[ "$(json "['errors'][0]['field']")" = url ] || fail "the 422 does not name url: $(cat "$tmp/body")"
[ "$(req GET '/api/bookmarks?limit=5' "$token")" = 200 ] || fail "bookmark list"
[ "$(json "['total']")" = 1 ] || fail "bookmark total: $(cat "$tmp/body")"
[ "$(req GET '/api/bookmarks?limit=5000' "$token")" = 422 ] || fail "declared limit not checked"
[ "$(req DELETE "/api/bookmarks/$id" "$token")" = 204 ] || fail "bookmark delete"
[ "$(req DELETE "/api/bookmarks/$id" "$token")" = 404 ] || fail "bookmark delete twice"
echo "out_of_tree: installed to $prefix, example and bookmarks built outside and served"
