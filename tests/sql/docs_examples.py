#!/usr/bin/env python3
# Runs the "sqlite> " examples of docs/sql-functions.md in the sqlite3 shell with the extension
# and checks (or, with --write, rewrites) the outputs printed under them, as the shell prints them.
# Then the numbers of the float32 and statistics examples are checked against values computed
# here independently (struct for float32, exact fractions for the statistics), so --write
# cannot lock a wrong result into the page.
# Usage: tests/sql/docs_examples.py BUILD_DIR [--write]
import decimal, fractions, json, math, os, re, struct, subprocess, sys

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


# ---- independent values ----

def f32(hexbytes, order='<'):
    return struct.unpack(order + 'f', bytes.fromhex(hexbytes))[0]


def f32_list(values, order='<'):
    return struct.unpack(order + 'f', bytes(values))[0]


def shell_real(x):
    """A REAL as the sqlite3 shell prints it: %!.15g (".0" kept on integral values)."""
    if math.isinf(x):
        return 'Inf' if x > 0 else '-Inf'
    text = '%.15g' % x
    if not re.search(r'[.en]', text):
        text += '.0'
    elif 'e' in text and '.' not in text.split('e')[0]:
        text = text.replace('e', '.0e')
    return text


def exact_sqrt(q):
    """The double nearest to the square root of the Fraction q."""
    decimal.getcontext().prec = 60
    return float(decimal.Decimal(q.numerator).sqrt() / decimal.Decimal(q.denominator).sqrt())


def stats(values):
    """count, sum, avg, min, max, stddev (sample), median of doubles, exactly then rounded."""
    xs = [fractions.Fraction(v) for v in values]
    n = len(xs)
    mean = sum(xs) / n
    var = sum((x - mean) ** 2 for x in xs) / (n - 1) if n > 1 else None
    srt = sorted(values)
    median = srt[n // 2] if n % 2 else (srt[n // 2 - 1] + srt[n // 2]) / 2
    return {'count': n, 'sum': float(sum(xs)), 'avg': float(mean), 'min': min(values),
            'max': max(values), 'stddev': exact_sqrt(var) if var is not None else None,
            'median': median, 'variance': float(var) if var is not None else None}


def output_of(statement):
    # the page as the shell prints it now (also what --write has just written)
    m = re.search(r'^sqlite> ' + re.escape(statement) + r'\n((?:(?!sqlite> |```).*\n)*)', new, re.M)
    if m is None:
        sys.exit('docs_examples: the example is gone: ' + statement)
    return m.group(1).rstrip('\n')


def check(statement, want):
    got = output_of(statement)
    if got != want:
        sys.exit('docs_examples: %s\n  the page says %s\n  independently %s' % (statement, got, want))


def check_json(statement, want):
    got = json.loads(output_of(statement))
    for key, value in want.items():
        if key in got and got[key] != value:
            sys.exit('docs_examples: %s: %s is %r, independently %r' % (statement, key, got[key], value))


d = f32('9d2a4cbe')
check("SELECT lintel_f32_decode(x'9d2a4cbe');", shell_real(d))
check("SELECT lintel_f32_decode('[157,42,76,190]');", shell_real(f32_list([157, 42, 76, 190])))
check("SELECT printf('%!.17g', lintel_f32_decode('[157, 42, 76, 190]'));", '%.17g' % d)
check("SELECT lintel_f32_decode(x'be4c2a9d', 'be'), lintel_f32_decode('[63,128,0,0]', 'be');",
      shell_real(f32('be4c2a9d', '>')) + '|' + shell_real(f32_list([63, 128, 0, 0], '>')))
check("SELECT lintel_f32_decode(x'0000807f'), lintel_f32_decode(x'000080ff'), lintel_f32_decode(x'0000c07f');",
      '|'.join(shell_real(f32(h)) if not math.isnan(f32(h)) else 'NULL'
               for h in ('0000807f', '000080ff', '0000c07f')))
check("SELECT printf('%!.17g', lintel_f32_decode(x'ffff7f7f')), printf('%!.17g', lintel_f32_decode(x'01000000'));",
      '%.17g|%.17g' % (f32('ffff7f7f'), f32('01000000')))

s4 = stats([1.0, 2.0, 3.0, 4.0])
check_json("SELECT lintel_stats(v) FROM n;",
           {'count': 4, 'sum': 10, 'avg': s4['avg'], 'min': 1, 'max': 4, 'stddev': s4['stddev'],
            'median': s4['median']})
srt = [1.0, 2.0, 3.0, 4.0]
check("SELECT lintel_median(v), lintel_percentile(v, 25), lintel_stddev(v), lintel_variance(v) FROM n;",
      '|'.join(shell_real(x) for x in (s4['median'], srt[0] + (srt[1] - srt[0]) * 0.75,
                                        s4['stddev'], s4['variance'])))
s2 = stats([0.1, 0.2])
check_json("SELECT lintel_stats(x) FROM (SELECT 0.1 AS x UNION ALL SELECT 0.2);",
           {k: s2[k] for k in ('count', 'sum', 'avg', 'min', 'max', 'stddev', 'median')})
pairs = [[1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [4.0]]
check("SELECT id, lintel_median(v) OVER w, lintel_stddev(v) OVER w FROM n WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW);",
      '\n'.join('%d|%s|%s' % (i + 1, shell_real(stats(p)['median']),
                              shell_real(stats(p)['stddev']) if len(p) > 1 else 'NULL')
                for i, p in enumerate(pairs)))
