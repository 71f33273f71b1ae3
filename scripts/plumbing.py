#!/usr/bin/env python3
# Counts how much of a plugin's C source is plumbing: lines that only move values between
# JSON, SQL and the host (packing parameters, reference counting, cleanup labels, NULL checks
# of allocations, registration, the table pointer) instead of saying what the plugin does.
# Usage: scripts/plumbing.py FILE.c... ; prints code lines, plumbing lines and the share.
import re, sys

PLUMBING = [
    r'json_decref\(', r'json_pack\(\s*"\[', r'j_params', r'goto cleanup', r'^\s*cleanup:',
    r'LINTEL_ENOMEM', r'->api\b', r'\bapi->', r'const struct lintel_api \*api;',
    r'route_add\(', r'routes\[i\]', r'LINTEL_API_HAS', r'_unload\(', r'calloc\(', r'free\(',
    r'json_incref\(', r'\(void\)state;', r'struct \w+ \*\w+ = state;', r'LINTEL_KIT_INIT',
    r'sizeof\(routes\)', r'_not_found\(', r'_publish\(', r'json_array_remove',
]
CODE = re.compile(r'^\s*(//|/\*|\*|\*/|$)')


def count(path):
    text = open(path).read()
    code = [l for l in text.split('\n') if not CODE.match(l) and l.strip() not in ('{', '}')]
    plumbing = [l for l in code if any(re.search(p, l) for p in PLUMBING)]
    return len(code), len(plumbing)


total_code = total_pl = 0
for path in sys.argv[1:]:
    c, p = count(path)
    total_code += c
    total_pl += p
    print('%-40s %4d code lines, %4d plumbing (%2.0f%%)' % (path, c, p, 100.0 * p / max(c, 1)))
if len(sys.argv) > 2:
    print('%-40s %4d code lines, %4d plumbing (%2.0f%%)' %
          ('total', total_code, total_pl, 100.0 * total_pl / max(total_code, 1)))
