#!/usr/bin/env python3
"""The release number agrees everywhere: CMakeLists.txt, `lintel version`, include/lintel/plugin.h
(ABI) and the top section of CHANGELOG.md. Usage: check_version.py <source dir> <lintel binary>"""
import re
import subprocess
import sys


def fail(msg):
    print("check_version: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    src, binary = sys.argv[1], sys.argv[2]
    cmake = open(src + "/CMakeLists.txt", encoding="utf-8").read()
    m = re.search(r"project\(lintel VERSION (\d+\.\d+\.\d+)", cmake)
    if not m:
        fail("CMakeLists.txt: no project(lintel VERSION X.Y.Z)")
    version = m.group(1)

    plugin_h = open(src + "/include/lintel/plugin.h", encoding="utf-8").read()
    major = re.search(r"#define LINTEL_ABI_MAJOR\s+(\d+)", plugin_h)
    minor = re.search(r"#define LINTEL_ABI_MINOR\s+(\d+)", plugin_h)
    if not major or not minor:
        fail("include/lintel/plugin.h: LINTEL_ABI_MAJOR/MINOR not found")
    abi = major.group(1) + "." + minor.group(1)

    out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=30)
    want = "lintel %s (plugin ABI %s)" % (version, abi)
    if out.returncode != 0 or out.stdout.strip() != want:
        fail("`lintel version` printed %r (exit %d), expected %r"
             % (out.stdout.strip(), out.returncode, want))

    log = open(src + "/CHANGELOG.md", encoding="utf-8").read()
    sections = re.split(r"(?m)^## ", log)[1:]
    if not sections:
        fail("CHANGELOG.md has no '## [version]' section")
    top = sections[0]
    head = top.splitlines()[0]
    if not (head.startswith("[%s]" % version) or head.startswith("[Unreleased] (%s)" % version)):
        fail("CHANGELOG.md: the top section is %r; it must be '[%s] - date' or "
             "'[Unreleased] (%s)' (the version CMakeLists.txt builds)" % (head, version, version))
    if ("Plugin ABI: %s" % abi) not in top:
        fail("CHANGELOG.md: the top section must say 'Plugin ABI: %s' (include/lintel/plugin.h); "
             "say there what changed for plugin authors" % abi)
    print("version %s, plugin ABI %s: CMakeLists.txt, lintel version, plugin.h and CHANGELOG.md "
          "agree" % (version, abi))


if __name__ == "__main__":
    main()
