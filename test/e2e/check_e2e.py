#!/usr/bin/env python3
"""The whole flow on the bundled example, as a user meets it: scripts/demo (rewrite, build,
run, load, report), then export, and `scopeprof diff` as a CI gate: runs of the same code pass,
a build with a deliberately slowed function fails and names it first.

usage: check_e2e.py ROOT BUILD_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT, BUILD = sys.argv[1:3]


def fail(message):
    print(f'FAIL [e2e]: {message}', file=sys.stderr)
    sys.exit(1)


def run(*args, expect_rc=0, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if expect_rc is not None and p.returncode != expect_rc:
        fail(f'{" ".join(map(str, args))} exited {p.returncode}, expected {expect_rc}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}')
    return p


def main(tmp):
    demo = os.path.join(tmp, 'demo')
    p = run(os.path.join(ROOT, 'scripts', 'demo'),
            env=dict(os.environ, DEMO_DIR=demo, SCOPEPROF_BUILD_DIR=BUILD, COLUMNS='200'))
    out = p.stdout
    lines = out.splitlines()
    header = next(i for i, l in enumerate(lines) if l.startswith('function '))
    top = [l.split()[0] for l in lines[header + 1:header + 4]]
    # With the CPU columns the table is wider: a long name may be shortened from the left.
    if '::normalizePath(' not in top[0]:
        fail(f'the hot spot (a std::regex built per call) is not at the top of the report:\n{out}')
    for expected in ('logstats::ParseError', 'checksum', 'The database is', 'SELECT'):
        if expected not in out:
            fail(f'demo output lacks {expected!r}:\n{out}')
    scopeprof = os.path.join(demo, 'scopeprof', 'bin', 'scopeprof')
    db = os.path.join(demo, 'logstats.db')
    # The run: two processes (the forked worker), the main thread and two pool threads.
    q = run(scopeprof, 'query', '--format', 'json', db,
            "SELECT (SELECT count(*) FROM processes) AS processes, "
            "(SELECT count(*) FROM threads WHERE name LIKE 'pool-%') AS pool, "
            "(SELECT count(*) FROM calls WHERE broken) AS broken").stdout
    counts = json.loads(q)[0]
    if counts != {'processes': 2, 'pool': 2, 'broken': counts['broken']} or counts['broken'] == 0:
        fail(f'run shape {counts}')
    trace = os.path.join(tmp, 'trace.json')
    run(scopeprof, 'export', '--format', 'chrome', '-o', trace, db)
    events = json.load(open(trace))['traceEvents']
    if not any(e.get('name', '').startswith('logstats::Report::checksum') for e in events):
        fail('the forked worker\'s checksum is not in the trace')

    # The CI gate: three runs a side, interleaved so that the machine's mood hits both alike.
    binary = os.path.join(demo, 'logstats-build', 'logstats')
    def record(database):
        logs = os.path.join(tmp, 'logs-' + os.path.basename(database))
        run(binary, env=dict(os.environ, SCOPEPROF_OUT=logs))
        run(scopeprof, 'load', '--quiet', '--db', database, logs)
        shutil.rmtree(logs)
    base, same, slow = (os.path.join(tmp, n) for n in ('base.db', 'same.db', 'slow.db'))
    for _ in range(3):
        record(base)
        record(same)
    p = run(scopeprof, 'diff', base, same, expect_rc=None)
    if p.returncode != 0:
        fail(f'two builds of the same code differ:\n{p.stdout}{p.stderr}')
    run('cmake', os.path.join(demo, 'logstats-build'), '-DLOGSTATS_REGRESSION=ON')
    run('cmake', '--build', os.path.join(demo, 'logstats-build'))
    for _ in range(3):
        record(slow)
    p = run(scopeprof, 'diff', '--format', 'markdown', base, slow, expect_rc=1)
    md = p.stdout.splitlines()
    if not md[0].startswith('**scopeprof diff: ') or 'regression' not in md[0]:
        fail(f'markdown summary line:\n{p.stdout}')
    first = md[md.index('### Regressions') + 4]
    if not first.startswith('| `logstats::Report::add(const Record &)` |'):
        fail(f'the slowed function is not the first regression:\n{p.stdout}')
    j = json.loads(run(scopeprof, 'diff', '--format', 'json', base, slow, expect_rc=1).stdout)
    if j['regressions'] < 1 or j['base_runs'] != 3:
        fail(f'json diff {j}')
    # Runs inside one database, and bad input.
    run(scopeprof, 'diff', f'{base}:1', f'{base}:2,3', expect_rc=None)
    for args in ([base, os.path.join(tmp, 'absent.db')], [base, f'{base}:run-nope'], [base]):
        p = run(scopeprof, 'diff', *args, expect_rc=2)
        if 'scopeprof: error:' not in p.stderr:
            fail(f'diff {args}: {p.stderr}')


if __name__ == '__main__':
    tmp = tempfile.mkdtemp(prefix='scopeprof-e2e-')
    try:
        main(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('ok [e2e]')
