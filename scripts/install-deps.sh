#!/bin/sh
# Installs whichever Debian packages of scripts/debian-packages.txt (or of the lists named as
# arguments) are missing; does nothing, and needs no network, when all are present. A line
# "package|command" is satisfied by the command being on PATH, whatever package brought it.
set -eu
here=$(dirname "$0")
lists=${*:-$here/debian-packages.txt}
missing=""
for pkg in $(grep -hv '^#' $lists); do
    case $pkg in
    *'|'*)
        command -v "${pkg#*|}" >/dev/null 2>&1 && continue
        pkg=${pkg%%|*}
        ;;
    esac
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
