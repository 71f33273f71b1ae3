#!/usr/bin/env python3
# Runs the "sqlite> " examples of docs/sql-functions.md in the sqlite3 shell with the extension
# and checks (or, with --write, rewrites) the outputs printed under them, as the shell prints them.
# Usage: tests/sql/docs_examples.py BUILD_DIR [--write]
import os, re, subprocess, sys

MARK = '@@MARK@@'
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
doc = os.path.join(root, 'docs', 'sql-functions.md')
ext = os.path.join(os.path.abspath(sys.argv[1]), 'ext', 'liblintel')
env = dict(os.environ)
nm = subprocess.run(['nm', '-D', ext + '.so'], capture_output=True, text=True).stdout
if '__asan_init' in nm:  # a sanitized build needs the runtimes preloaded into the shell
    env['LD_PRELOAD'] = ' '.join(
        subprocess.check_output(['gcc', '-print-file-name=' + lib]).decode().strip()
        for lib in ('libasan.so', 'libubsan.so'))
    env['ASAN_OPTIONS'] = 'detect_leaks=0:verify_asan_link_order=0'


def block(m):
    stmts = [line[8:] for line in m.group(1).split('\n') if line.startswith('sqlite> ')]
    if not stmts:
        return m.group(0)
    script = '.nullvalue NULL\n' + ''.join('.print %s\n%s\n' % (MARK, s) for s in stmts)
    p = subprocess.run(['sqlite3', '-batch', '-cmd', '.load ' + ext, ':memory:'], input=script,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    parts = p.stdout.split(MARK + '\n')[1:]
    if len(parts) != len(stmts):
        sys.exit('docs_examples: unexpected shell output:\n' + p.stdout)
    # the shell names the line of its input; interactively it does not
    out = ''.join('sqlite> %s\n%s' % (s, re.sub(r'^(Runtime|Parse) error near line \d+: ',
                                                  r'\1 error: ', o, flags=re.M))
                  for s, o in zip(stmts, parts))
    return '```console\n' + out + '```'


text = open(doc).read()
new = re.sub(r'```console\n(.*?)```', block, text, flags=re.S)
if '--write' in sys.argv[2:]:
    open(doc, 'w').write(new)
elif new != text:
    import difflib
    sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                               'docs/sql-functions.md', 'shell output'))
    sys.exit(1)
