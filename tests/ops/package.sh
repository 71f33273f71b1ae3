#!/bin/sh
# The Debian package, container-free: builds it as `make deb` does (Release, prefix /usr,
# package files on), reads it with dpkg-deb (files, control, conffiles, scripts), asks apt
# whether it would install here (simulation, nothing changes), then extracts it into a scratch
# root and runs that tree: no LINTEL_PLUGIN_DIR or web_dir, the installed layout must be enough.
# Usage: package.sh SOURCE_DIR WORK_DIR
set -eu
src=$1 work=$2
fail() { echo "package: FAIL: $*" >&2; exit 1; }
rm -rf "$work/root" "$work/data"
mkdir -p "$work"
build=$work/build
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DLINTEL_TESTS=OFF -DLINTEL_PACKAGE_FILES=ON >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; fail "configure"; }
cmake --build "$build" -j2 >"$work/build.log" 2>&1 || { tail -50 "$work/build.log"; fail "build"; }
rm -f "$build"/lintel_*.deb
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$build"/lintel_*.deb)
echo "package: built $deb ($(du -k "$deb" | cut -f1) KiB)"

# What is in it.
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/files"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for f in /usr/bin/lintel /usr/lib/$multiarch/lintel/liblintel.so \
    /usr/lib/$multiarch/lintel/plugins/auth.so /usr/lib/$multiarch/lintel/plugins/users.so \
    /usr/share/lintel/web/swagger-ui-bundle.js /usr/share/lintel/web/uPlot.iife.min.js \
    /usr/share/lintel/web/admin.html /usr/lib/systemd/system/lintel.service \
    /etc/lintel/lintel.json /usr/include/lintel/plugin.h \
    /usr/lib/$multiarch/pkgconfig/lintel.pc /usr/share/doc/lintel/operations.md; do
    grep -qx "$f" "$work/files" || fail "$f is not in the package"
done
# Nothing of the build or test trees.
if grep -E 'node_modules|playwright|/tests?/|CMakeFiles' "$work/files"; then
    fail "build or test files in the package"
fi
dpkg-deb -f "$deb" Depends | grep -q 'libmicrohttpd12' || fail "Depends lacks the libraries"
dpkg-deb -f "$deb" Depends | grep -q 'adduser' || fail "Depends lacks adduser"
mkdir -p "$work/control"
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/lintel/lintel.json "$work/control/conffiles" || fail "lintel.json is no conffile"
grep -q 'adduser --system' "$work/control/postinst" || fail "postinst creates no system user"
for s in postinst prerm postrm; do sh -n "$work/control/$s" || fail "$s does not parse"; done
echo "package: contents, Depends, conffiles and maintainer scripts as expected"

# Would apt install it on this Debian 12 (dependencies resolvable)? A simulation only.
if command -v apt-get >/dev/null && ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
    apt-get install -s "$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get -s"; }
    grep -q '^Inst lintel' "$work/apt.log" || { cat "$work/apt.log"; fail "apt would not install it"; }
    echo "package: apt-get install -s accepts it"
fi

# The unit: systemd's own check, against the extracted tree (the binary must exist there).
dpkg-deb -x "$deb" "$work/root"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify "$work/root/usr/lib/systemd/system/lintel.service" \
        >"$work/verify.log" 2>&1 || true
    if grep -v -e 'Command /usr/bin/lintel is not executable' -e '^$' "$work/verify.log" |
        grep -q .; then
        cat "$work/verify.log"
        fail "systemd-analyze verify"
    fi
fi
for k in Type=notify ProtectSystem=strict NoNewPrivileges=yes StateDirectory=lintel User=lintel; do
    grep -qx "$k" "$work/root/usr/lib/systemd/system/lintel.service" || fail "unit lacks $k"
done

# Run the extracted tree with the packaged configuration; only the port and data dir differ.
mkdir -p "$work/data"
LINTEL_DATA_DIR=$work/data LINTEL_PORT=0 LINTEL_ADMIN_PASSWORD=package-test-password \
    "$work/root/usr/bin/lintel" --config "$work/root/etc/lintel/lintel.json" \
    >"$work/server.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 300); do
    url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/server.log" | head -1)
    [ -n "$url" ] && break
    kill -0 $pid 2>/dev/null || { cat "$work/server.log"; fail "the installed lintel exited"; }
    sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log"; fail "the installed lintel did not listen"; }
python3 - "$url" <<'PY' || fail "the installed tree does not serve"
import json, sys, urllib.request
url = sys.argv[1]
health = json.load(urllib.request.urlopen(url + "/health", timeout=30))
assert health["status"] == "ok", health
names = {p["name"] for p in health["plugins"]}
assert {"auth", "users", "numbers", "datapoints"} <= names, names
for asset in ("swagger-ui-bundle.js", "uPlot.iife.min.js", "admin.js"):
    assert urllib.request.urlopen(url + "/assets/" + asset, timeout=30).status == 200, asset
print("package: the installed tree serves /health with plugins", sorted(names), "and its assets")
PY
port=${url##*:}
LINTEL_PORT=$port "$work/root/usr/bin/lintel" --config "$work/root/etc/lintel/lintel.json" \
    healthcheck || fail "lintel healthcheck"
LINTEL_DATA_DIR=$work/data "$work/root/usr/bin/lintel" shell \
    "SELECT 'shell ' || lintel_version() || ' ' || (SELECT count(*) FROM users);" |
    grep -q '^shell ' || fail "lintel shell with the installed extension"
kill -TERM $pid
wait $pid || fail "the installed lintel did not stop cleanly"
trap - EXIT
echo "package: healthcheck and shell work from the installed tree; clean stop"
