#!/usr/bin/env python3
"""The whole flow on the bundled example, as a user meets it: scripts/demo (build through the
launcher, run, load, report), then export, and `scopeprof diff` as a CI gate on a loaded machine
(a busy loop beside every run): runs of the same code pass however they are split into base and
head, a build with a deliberately slowed function fails and names it first.

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
    # The databases stay for a look: a gate that failed on a loaded machine is worth one.
    print(f'FAIL [e2e]: {message}\n(kept: {TMP})', file=sys.stderr)
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
    # analyze() hands the work to the pool and waits for it: its own time is waiting, not
    # working (a wall-time profile would make it the second hottest function).
    q = run(scopeprof, 'query', '--format', 'json', db,
            "SELECT st.self_cpu_ns AS cpu, st.self_wait_ns AS wait FROM site_stats st "
            "JOIN sites s ON s.id = st.site_id WHERE s.signature LIKE '%::analyze(%'").stdout
    analyze = json.loads(q)
    if len(analyze) != 1 or analyze[0]['cpu'] is None or not analyze[0]['wait'] > 10 * analyze[0]['cpu']:
        fail(f'analyze() is not shown as waiting: {analyze}')
    trace = os.path.join(tmp, 'trace.json')
    run(scopeprof, 'export', '--format', 'chrome', '-o', trace, db)
    events = json.load(open(trace))['traceEvents']
    if not any(e.get('name', '').startswith('logstats::Report::checksum') for e in events):
        fail('the forked worker\'s checksum is not in the trace')

    # The CI gate, three runs a side, on a loaded machine: a busy loop beside every run, so
    # that threads are preempted mid-call as on a shared CI runner.
    binary = os.path.join(demo, 'logstats-build', 'logstats')
    def record(database):
        logs = os.path.join(tmp, 'logs-' + os.path.basename(database))
        busy = subprocess.Popen([sys.executable, '-c', 'import time\nend = time.time() + 60\n'
                                 'while time.time() < end: pass'])
        try:
            run(binary, env=dict(os.environ, SCOPEPROF_OUT=logs))
        finally:
            busy.kill()
            busy.wait()
        run(scopeprof, 'load', '--quiet', '--db', database, logs)
        shutil.rmtree(logs)
    same, slow = os.path.join(tmp, 'same.db'), os.path.join(tmp, 'slow.db')
    for _ in range(6):
        record(same)
    # Identical binaries: whichever three runs are the base, no regression.
    rotations = [(1, 2, 3), (4, 5, 6), (1, 3, 5), (2, 4, 6), (1, 2, 6)]
    def sides(base_runs):
        head_runs = [r for r in range(1, 7) if r not in base_runs]
        return f'{same}:{",".join(map(str, base_runs))}', f'{same}:{",".join(map(str, head_runs))}'
    for base_runs in rotations:
        p = run(scopeprof, 'diff', *sides(base_runs), expect_rc=None)
        if p.returncode != 0:
            fail(f'runs {base_runs} against the others of the same build differ:\n{p.stdout}{p.stderr}')
    run('cmake', os.path.join(demo, 'logstats-build'), '-DLOGSTATS_REGRESSION=ON')
    run('cmake', '--build', os.path.join(demo, 'logstats-build'))
    for _ in range(3):
        record(slow)
    # A slower Report::add: a regression, named first, against every choice of base runs.
    for base_runs in rotations:
        base = sides(base_runs)[0]
        p = run(scopeprof, 'diff', '--format', 'markdown', base, slow, expect_rc=1)
        md = p.stdout.splitlines()
        if not md[0].startswith('**scopeprof diff: ') or 'regression' not in md[0]:
            fail(f'markdown summary line:\n{p.stdout}')
        first = md[md.index('### Regressions') + 4]
        if not first.startswith('| `logstats::Report::add(const Record &)` |'):
            fail(f'base runs {base_runs}: the slowed function is not the first regression:\n{p.stdout}')
    j = json.loads(run(scopeprof, 'diff', '--format', 'json', base, slow, expect_rc=1).stdout)
    # CPU time (on by default) is judged too, and the identical builds above passed with it.
    if j['regressions'] < 1 or j['base_runs'] != 3 or not j['cpu_compared']:
        fail(f'json diff {j}')
    # Bad input.
    for args in ([same, os.path.join(tmp, 'absent.db')], [same, f'{same}:run-nope'], [same]):
        p = run(scopeprof, 'diff', *args, expect_rc=2)
        if 'scopeprof: error:' not in p.stderr:
            fail(f'diff {args}: {p.stderr}')


if __name__ == '__main__':
    TMP = tempfile.mkdtemp(prefix='scopeprof-e2e-')
    main(TMP)
    shutil.rmtree(TMP, ignore_errors=True)
    print('ok [e2e]')
