#!/usr/bin/env python3
"""Loads logs of real instrumented runs into SQLite and checks the rows, the reports and the
exports against what the programs did (and against `scopeprof dump`, an independent reader).

usage: check_db.py SCOPEPROF WORKLOAD SCENARIO
"""
import collections
import csv
import io
import itertools
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time

SCOPEPROF, WORKLOAD, SCENARIO = sys.argv[1:4]


def fail(message):
    print(f'FAIL [{SCENARIO}]: {message}', file=sys.stderr)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


def record(tmp, *args, env=None):
    """Runs the workload with logs under tmp/out; returns the run directory. Every call is
    recorded unless \p env turns the auto-throttle on: these tests count calls exactly."""
    out = os.path.join(tmp, 'out')
    e = dict(os.environ, SCOPEPROF_OUT=out)
    e.update({'SCOPEPROF_THROTTLE': '0', **(env or {})})
    p = subprocess.run([WORKLOAD, *map(str, args)], env=e, capture_output=True, text=True, cwd=tmp)
    expect(p.returncode == 0, f'workload {args} failed: {p.stderr}')
    runs = sorted(os.listdir(out))
    return os.path.join(out, runs[-1])


def scopeprof(*args, expect_rc=0, stdin=None):
    p = subprocess.run([SCOPEPROF, *args], capture_output=True, text=True, input=stdin)
    if expect_rc is not None and p.returncode != expect_rc:
        fail(f'scopeprof {" ".join(args)} exited {p.returncode}, expected {expect_rc}:\n{p.stderr}')
    return p


def load(db, *dirs, expect_rc=0, strict=False):
    return scopeprof('load', '--db', db, *(['--strict'] if strict else []), *dirs, expect_rc=expect_rc)


def rows(db, sql, *params):
    with sqlite3.connect(db) as c:
        return c.execute(sql, params).fetchall()


def one(db, sql, *params):
    return rows(db, sql, *params)[0][0]


def dumped_calls(path):
    """Calls per (file, function) as `scopeprof dump` sees them."""
    out = scopeprof('dump', '--no-times', path).stdout
    return sum(1 for line in out.splitlines() if line.startswith('  call '))


def exact_run(tmp):
    run = record(tmp, 'exact', 3, 1000, 3)
    db = os.path.join(tmp, 'exact.db')
    load(db, run)
    return run, db


def scenario_exact_rows(tmp):
    run, db = exact_run(tmp)
    expect(one(db, 'SELECT count(*) FROM calls') == dumped_calls(run), 'calls = calls in the logs')
    counts = dict(rows(db, 'SELECT s.signature, count(*) FROM calls c JOIN sites s ON s.id = c.site_id GROUP BY 1'))
    for name, n in {'outer(int)': 3000, 'inner(int)': 3000, 'leaf(int)': 2 * 3000 + 4 * 1000,
                    'thrower(int)': 6, 'catcher(int, int)': 4, 'exact(int, int, int)': 1}.items():
        expect(counts.get(name) == n, f'{name}: {counts.get(name)} calls, expected {n}')
    # Processes: the parent, three forked children, the image one of them exec'd.
    procs = rows(db, 'SELECT pid, ppid, name, parent_name FROM processes ORDER BY start_ns')
    expect(len(procs) == 5, f'processes {procs}')
    parent = procs[0]
    for pid, ppid, name, parent_name in procs[1:]:
        expect(ppid == parent[0] and parent_name == parent[2], f'child {pid}: ppid {ppid} parent {parent_name}')
    expect(one(db, 'SELECT count(*) FROM threads') == 8, 'eight threads')
    names = sorted(r[0] for r in rows(db, "SELECT name FROM threads WHERE name LIKE 'renamed-%'"))
    expect(names == ['renamed-0', 'renamed-1', 'renamed-2'], f'thread names {names}')
    # The tree: every parent is one depth up, encloses its child, and self = duration - children.
    # Times are converted per batch; a parent and a child in different batches may disagree by
    # a few hundred ns (the loader allows 1 us), never more.
    bad = one(db, '''SELECT count(*) FROM calls c JOIN calls p ON p.id = c.parent_id
                     WHERE p.depth != c.depth - 1 OR c.start_ns < p.start_ns - 1000
                        OR c.end_ns > p.end_ns + 1000 OR p.thread_id != c.thread_id''')
    expect(bad == 0, f'{bad} calls with an inconsistent parent')
    # A forked child inherits the open calls of its parent process, which end there, not in
    # the child: only the children's outermost calls may name a parent that is not loaded.
    orphans = rows(db, '''SELECT DISTINCT c.pid FROM calls c WHERE c.depth > 0
                             AND c.parent_id NOT IN (SELECT id FROM calls)''')
    expect(parent[0] not in [o[0] for o in orphans], 'calls of the main process all have their parent')
    wrong_self = one(db, '''SELECT count(*) FROM calls p WHERE p.raw_self_ns != max(0, p.raw_duration_ns -
                           (SELECT coalesce(sum(c.end_ns - c.start_ns), 0) FROM calls c WHERE c.parent_id = p.id))''')
    expect(wrong_self == 0, f'{wrong_self} calls whose raw self time is not duration minus children')
    # Compensation: a call's measured times lose the process's scope cost: its own inner part,
    # and the outer cost of every recorded call under it (the direct children's, for self time).
    inner, outer = rows(db, 'SELECT scope_inner_ns, scope_outer_ns FROM processes LIMIT 1')[0]
    expect(0 < inner <= outer < 10000, f'measured scope cost: inner {inner} ns, outer {outer} ns')
    wrong_net = one(db, '''WITH RECURSIVE sub(root, id) AS (
                               SELECT id, id FROM calls UNION ALL
                               SELECT sub.root, c.id FROM sub JOIN calls c ON c.parent_id = sub.id),
                             counts AS (SELECT root, count(*) - 1 AS descendants FROM sub GROUP BY root)
                           SELECT count(*) FROM calls p JOIN counts ON counts.root = p.id
                             JOIN threads t ON t.id = p.thread_id JOIN processes pr ON pr.id = t.process_id
                           WHERE abs(p.duration_ns - max(0, p.raw_duration_ns - pr.scope_inner_ns
                                                         - counts.descendants * pr.scope_outer_ns)) > 1
                              OR abs(p.self_ns - max(0, p.raw_self_ns - pr.scope_inner_ns
                                     - (SELECT count(*) FROM calls c WHERE c.parent_id = p.id)
                                       * (pr.scope_outer_ns - pr.scope_inner_ns))) > 1''')
    expect(wrong_net == 0, f'{wrong_net} calls whose compensated times do not follow from the raw ones')
    parents = dict(rows(db, '''SELECT s.signature, group_concat(DISTINCT ps.signature) FROM calls c
                               JOIN sites s ON s.id = c.site_id JOIN calls p ON p.id = c.parent_id
                               JOIN sites ps ON ps.id = p.site_id GROUP BY 1'''))
    expect(parents['inner(int)'] == 'outer(int)', f'inner called from {parents["inner(int)"]}')
    # Exceptions: stored once each, with the whole traceback; every broken call points at its own.
    broken = rows(db, 'SELECT type, traceback, frames FROM exceptions ORDER BY id')
    expect([(t, tb.count('\n') + 1, n) for t, tb, n in broken] ==
           [('std::runtime_error', 4, 4), ('std::runtime_error', 2, 2), ('std::out_of_range', 1, 1)], f'broken {broken}')
    expect(rows(db, 'SELECT count(*) FROM calls c JOIN exceptions e ON e.id = c.exception_id GROUP BY e.id ORDER BY e.id') ==
           [(4,), (2,), (1,)], 'broken calls per exception')
    expect(one(db, 'SELECT count(*) FROM calls WHERE broken') == 7, 'seven broken calls')
    # Statistics agree with the calls.
    stats = rows(db, '''SELECT s.signature, st.calls, st.total_ns, st.min_ns, st.max_ns, st.p50_ns, st.broken_calls
                        FROM site_stats st JOIN sites s ON s.id = st.site_id''')
    for name, n, total, lo, hi, p50, broken_calls in stats:
        durations = sorted(r[0] for r in rows(db, '''SELECT duration_ns FROM calls c JOIN sites s ON s.id = c.site_id
                                                     WHERE s.signature = ?''', name))
        expect(n == len(durations) and total == sum(durations), f'{name}: stats {n}/{total}')
        expect(lo == durations[0] and hi == durations[-1], f'{name}: min/max')
        expect(p50 == durations[(len(durations) + 1) // 2 - 1], f'{name}: p50 {p50}')
    expect(one(db, 'SELECT count(*) FROM files') == len(os.listdir(run)), 'one files row per log file')


def scenario_known_times(tmp):
    run = record(tmp, 'timed', 5)
    db = os.path.join(tmp, 't.db')
    load(db, run)
    st = {r[0]: r[1:] for r in rows(db, '''SELECT s.signature, st.calls, st.total_ns, st.self_ns, st.mean_ns
                                           FROM site_stats st JOIN sites s ON s.id = st.site_id''')}
    calls, total, self_ns, mean = st['timedInner()']
    expect(calls == 5 and 30e6 <= mean < 60e6 and self_ns == total, f'timedInner {st["timedInner()"]}')
    calls, total, self_ns, mean = st['timedOuter()']
    expect(calls == 5 and 40e6 <= mean < 80e6, f'timedOuter {st["timedOuter()"]}')
    expect(10e6 * 5 <= self_ns < 25e6 * 5, f'timedOuter self {self_ns / 1e6} ms for five 10 ms sleeps')
    # Compensated times are rounded to whole ns per call: one ns per call either way.
    expect(abs(total - self_ns - st['timedInner()'][1]) <= 5, 'outer total - self = inner total')
    q = scopeprof('query', '--format', 'csv', db,
                  "SELECT s.signature, sum(c.self_ns) >= 5 * 10000000 FROM calls c JOIN sites s ON s.id = c.site_id "
                  "GROUP BY 1 ORDER BY 1").stdout
    expect(q == 'signature,sum(c.self_ns) >= 5 * 10000000\ntimedInner(),1\ntimedOuter(),1\n', f'query {q!r}')
    q = scopeprof('query', '--format', 'json', db, stdin='SELECT count(*) AS n FROM calls').stdout
    expect(json.loads(q) == [{'n': 10}], f'SQL from stdin: {q!r}')


def scenario_counted(tmp):
    # Calls under the threshold are counted: they appear in calls/total of the statistics.
    run = record(tmp, 'calls', 20000, env={'SCOPEPROF_MIN_DURATION': '10s'})
    db = os.path.join(tmp, 'c.db')
    load(db, run)
    expect(one(db, 'SELECT count(*) FROM calls') == 0, 'no call is 10 s long')
    st = dict(rows(db, 'SELECT s.signature, st.calls FROM site_stats st JOIN sites s ON s.id = st.site_id'))
    expect(st == {'outer(int)': 20000, 'inner(int)': 20000, 'leaf(int)': 40000}, f'counted {st}')
    out = scopeprof('report', '--format', 'json', db).stdout
    report = {r['function']: r for r in json.loads(out)}
    # Counted calls are shorter than the threshold: that is their percentile ("< 10 s").
    leaf = report['leaf(int)']
    expect(leaf['calls'] == 40000 and leaf['p95_ns'] == 10 * 10**9 and leaf['max_ns'] is None, f'report {report}')
    expect('< 10 s' in scopeprof('report', db).stdout, 'percentiles among counted calls shown as "< threshold"')


def scenario_idempotent(tmp):
    run, db = exact_run(tmp)
    before = rows(db, 'SELECT * FROM calls ORDER BY id')
    stats = rows(db, 'SELECT * FROM site_stats ORDER BY site_id')
    p = load(db, run)
    expect('8 files already loaded' in p.stderr, f'second load: {p.stderr}')
    expect(rows(db, 'SELECT * FROM calls ORDER BY id') == before, 'reload changed calls')
    expect(rows(db, 'SELECT * FROM site_stats ORDER BY site_id') == stats, 'reload changed statistics')
    # A second run goes next to the first one.
    run2 = record(tmp, 'timed', 1)
    load(db, os.path.dirname(run2))
    expect(one(db, 'SELECT count(*) FROM runs') == 2, 'two runs')
    expect(rows(db, 'SELECT * FROM calls WHERE run_id = 1 ORDER BY id') == before, 'first run unchanged')


def scenario_incremental(tmp):
    """A run still being written: loaded as it grows, it ends exactly as a one-shot load."""
    run = record(tmp, 'calls', 50000, env={'SCOPEPROF_BUFFER_SIZE': '16K'})
    logs = sorted(os.listdir(run))
    expect(len(logs) == 1, f'logs {logs}')
    data = open(os.path.join(run, logs[0]), 'rb').read()
    live = os.path.join(tmp, os.path.basename(run))
    os.makedirs(live)
    db = os.path.join(tmp, 'live.db')
    loaded = []
    for cut in (len(data) // 3, 2 * len(data) // 3 + 7, len(data)):
        with open(os.path.join(live, logs[0]), 'wb') as f:
            f.write(data[:cut])
        p = load(db, live, expect_rc=None)
        expect(p.returncode == (0 if cut == len(data) else 1), f'cut {cut}: rc {p.returncode} {p.stderr}')
        if cut < len(data):
            expect('torn last batch' in p.stderr, f'cut {cut}: {p.stderr}')
        loaded.append(one(db, 'SELECT count(*) FROM calls'))
    expect(0 < loaded[0] < loaded[1] < loaded[2] == 200000, f'calls after each load {loaded}')
    whole = os.path.join(tmp, 'whole.db')
    load(whole, run)
    cols = 'id, site_id, start_ns, end_ns, duration_ns, self_ns, depth, parent_id'
    expect(rows(db, f'SELECT {cols} FROM calls ORDER BY id') == rows(whole, f'SELECT {cols} FROM calls ORDER BY id'),
           'incremental load differs from a one-shot load')
    expect(rows(db, 'SELECT * FROM site_stats') == rows(whole, 'SELECT * FROM site_stats'), 'statistics differ')


def damaged_run(tmp):
    """A run of four files: a good one and three damaged in different ways."""
    run = record(tmp, 'exact', 3, 1000, 0)
    files = sorted(os.listdir(run))
    good, torn, corrupt, foreign = [os.path.join(run, f) for f in files[:4]]
    data = open(torn, 'rb').read()
    open(torn, 'wb').write(data[:-5])
    data = bytearray(open(corrupt, 'rb').read())
    data[-3] ^= 0xFF  # inside the last batch's payload: checksum mismatch
    open(corrupt, 'wb').write(bytes(data))
    open(foreign, 'wb').write(b'this is not a scopeprof log\n')
    return run, good, torn, corrupt, foreign


def scenario_bad_inputs(tmp):
    run, good, torn, corrupt, foreign = damaged_run(tmp)
    db = os.path.join(tmp, 'd.db')
    p = load(db, run, os.path.join(tmp, 'missing-run'), expect_rc=1)
    for path, what in ((torn, 'torn last batch'), (corrupt, 'checksum mismatch'), (foreign, 'not a scopeprof log'),
                       (os.path.join(tmp, 'missing-run'), 'No such file')):
        expect(any(path in line and what in line for line in p.stderr.splitlines()), f'no "{what}" for {path}:\n{p.stderr}')
    # Everything valid is loaded: the good file whole, the damaged ones up to the damage.
    per_file = dict(rows(db, 'SELECT name, calls FROM files'))
    expect(per_file[os.path.basename(good)] > 0 and per_file[os.path.basename(torn)] >= 0, f'files {per_file}')
    expect(os.path.basename(foreign) not in per_file, 'the foreign file is not recorded')
    problems = dict(rows(db, 'SELECT name, problems FROM files'))
    expect('torn' in problems[os.path.basename(torn)] and problems[os.path.basename(good)] is None, f'{problems}')
    # Unknown format version.
    data = bytearray(open(good, 'rb').read())
    data[8] = 99
    newer = os.path.join(tmp, 'newer', 'run-x')
    os.makedirs(newer)
    open(os.path.join(newer, '1-1.splog'), 'wb').write(bytes(data))
    p = load(os.path.join(tmp, 'n.db'), newer, expect_rc=1)
    expect('unsupported format version 99' in p.stderr and '1-1.splog' in p.stderr, p.stderr)
    # A directory without logs.
    empty = os.path.join(tmp, 'empty')
    os.makedirs(empty)
    p = load(os.path.join(tmp, 'e.db'), empty, expect_rc=1)
    expect(f"'{empty}'" in p.stderr and 'no scopeprof log files' in p.stderr, p.stderr)


def scenario_strict(tmp):
    run, *_ = damaged_run(tmp)
    db = os.path.join(tmp, 's.db')
    good_run = record(tmp, 'timed', 1)
    load(db, good_run)
    before = rows(db, 'SELECT * FROM calls ORDER BY id')
    p = load(db, run, strict=True, expect_rc=1)
    expect('--strict: 1 runs with problems were not loaded' in p.stderr, p.stderr)
    expect(one(db, 'SELECT count(*) FROM runs') == 1, 'the damaged run was not added')
    expect(rows(db, 'SELECT * FROM calls ORDER BY id') == before, 'the database is as it was')


def scenario_database_errors(tmp):
    run = record(tmp, 'timed', 1)
    text = os.path.join(tmp, 'notes.txt')
    open(text, 'w').write('my notes, not a database\n' * 100)
    p = load(text, run, expect_rc=2)
    expect(f"'{text}' is not a SQLite database" in p.stderr, p.stderr)
    expect(open(text).read() == 'my notes, not a database\n' * 100, 'the text file was changed')
    other = os.path.join(tmp, 'other.db')
    with sqlite3.connect(other) as c:
        c.execute('CREATE TABLE t(x)')
    p = load(other, run, expect_rc=2)
    expect(f"'{other}' is not a scopeprof database" in p.stderr, p.stderr)
    newer = os.path.join(tmp, 'newer.db')
    load(newer, run)
    with sqlite3.connect(newer) as c:
        c.execute('PRAGMA user_version = 99')
    for args in (['load', '--db', newer, run], ['report', newer], ['query', newer, 'SELECT 1']):
        p = scopeprof(*args, expect_rc=None)
        expect(p.returncode != 0 and 'schema version 99, newer than this scopeprof knows' in p.stderr,
               f'{args}: {p.stderr}')
    older = os.path.join(tmp, 'older.db')
    load(older, run)
    with sqlite3.connect(older) as c:
        c.execute('PRAGMA user_version = 0')
    p = load(older, run, expect_rc=2)
    expect('schema version 0, which this scopeprof cannot upgrade' in p.stderr, p.stderr)
    p = scopeprof('report', older, expect_rc=2)
    expect('schema version 0, older than this scopeprof reads' in p.stderr, p.stderr)
    p = scopeprof('report', os.path.join(tmp, 'absent.db'), expect_rc=2)
    expect('no database' in p.stderr and 'absent.db' in p.stderr, p.stderr)
    expect(not os.path.exists(os.path.join(tmp, 'absent.db')), 'report created a database')
    good = os.path.join(tmp, 'good.db')
    load(good, run)
    p = scopeprof('query', good, 'SELEKT nonsense', expect_rc=1)
    expect('syntax error' in p.stderr, p.stderr)
    p = scopeprof('report', '--run', 'run-nope', good, expect_rc=2)
    expect("no run 'run-nope'" in p.stderr, p.stderr)
    for args in (['load', run], ['load', '--db', good], ['report', '--by', 'size', good],
                 ['report', '--top', 'x', good], ['report', '--function', '[', good],
                 ['report', '--format', 'xml', good], ['export', '--format', 'svg', '-o', 'x', good],
                 ['export', '--format', 'csv', good], ['export', '--format', 'csv', '-o', 'x', '--from', '3 days', good]):
        p = scopeprof(*args, expect_rc=2)
        expect('scopeprof: error:' in p.stderr and 'usage:' in p.stderr, f'{args}: {p.stderr}')
    target = os.path.join(tmp, 'nodir', 'out.json')
    p = scopeprof('export', '--format', 'chrome', '-o', target, good, expect_rc=1)
    expect(f"cannot write '{target}'" in p.stderr, p.stderr)


def scenario_report(tmp):
    run, db = exact_run(tmp)
    # Ranked by self wall time (CPU times are checked by cpu-time).
    table = scopeprof('report', '--by', 'self', db).stdout
    lines = table.splitlines()
    expect(lines[0].startswith('run run-') and lines[2].split()[:3] == ['function', 'calls', 'total'], table)
    # Which function that is depends on the machine (exact() waits for its threads and children,
    # paused-region sleeps 20 ms): the database says.
    top = one(db, 'SELECT s.signature FROM site_stats t JOIN sites s ON s.id = t.site_id ORDER BY t.self_ns DESC LIMIT 1')
    expect(lines[3].startswith(top + ' '), f'most self time first ({top}):\n{table}')
    data = json.loads(scopeprof('report', '--format', 'json', '--by', 'self', '--top', '0', db).stdout)
    expect(len(data) == one(db, 'SELECT count(*) FROM site_stats'), 'every site with --top 0')
    expect(abs(sum(r['percent_time'] for r in data) - 100) < 1e-6, 'shares add up to 100%')
    expect([r['self_ns'] for r in data] == sorted((r['self_ns'] for r in data), reverse=True), 'sorted by self')
    by_calls = json.loads(scopeprof('report', '--format', 'json', '--by', 'calls', '--top', '2', db).stdout)
    expect([r['function'] for r in by_calls] == ['leaf(int)', 'inner(int)'] or
           [r['function'] for r in by_calls] == ['leaf(int)', 'outer(int)'], f'by calls {by_calls}')
    only = json.loads(scopeprof('report', '--format', 'json', '--function', '{inner,leaf}', db).stdout)
    expect(sorted(r['function'] for r in only) == ['inner(int)', 'leaf(int)'], f'--function {only}')
    expect(json.loads(scopeprof('report', '--format', 'json', '--file', 'nowhere/**', db).stdout) == [], '--file')
    rows_csv = list(csv.DictReader(io.StringIO(scopeprof('report', '--format', 'csv', '--top', '0', db).stdout)))
    expect({r['function']: int(r['calls']) for r in rows_csv} == {r['function']: r['calls'] for r in data}, 'csv = json')
    md = scopeprof('report', '--format', 'markdown', '--top', '3', db).stdout.splitlines()
    expect(md[0].startswith('| function |') and md[1].startswith('| --- |') and len(md) == 5, f'markdown {md}')
    # Per process: a forked child ran leaf 1000 times and nothing else of the parent's.
    child = one(db, "SELECT pid FROM processes WHERE command_line NOT LIKE '%exec-child%' ORDER BY start_ns DESC LIMIT 1")
    per = {r['function']: r['calls'] for r in
           json.loads(scopeprof('report', '--format', 'json', '--pid', str(child), db).stdout)}
    expect(per.get('leaf(int)') == 1000 and 'exact(int, int, int)' not in per, f'--pid {per}')
    tid = one(db, "SELECT tid FROM threads WHERE name = 'renamed-1'")
    per = {r['function']: r['calls'] for r in
           json.loads(scopeprof('report', '--format', 'json', '--tid', str(tid), db).stdout)}
    expect(per == {'outer(int)': 1000, 'inner(int)': 1000, 'leaf(int)': 2000}, f'--tid {per}')
    errors = json.loads(scopeprof('report', '--errors', '--format', 'json', db).stdout)
    expect(sorted((e['type'], e['traceback'].count('\n') + 1) for e in errors) ==
           [('std::out_of_range', 1), ('std::runtime_error', 2), ('std::runtime_error', 4)], f'errors {errors}')
    wide = subprocess.run([SCOPEPROF, 'report', db], capture_output=True, text=True, env=dict(os.environ, COLUMNS='300'))
    narrow = subprocess.run([SCOPEPROF, 'report', db], capture_output=True, text=True, env=dict(os.environ, COLUMNS='100'))
    width = lambda out: max(len(l) for l in out.splitlines()[2:])
    expect(width(narrow.stdout) < width(wide.stdout) and '...' in narrow.stdout,
           f'narrow terminal: function names shortened\n{narrow.stdout}')


def scenario_export(tmp):
    run, db = exact_run(tmp)
    out = lambda f: os.path.join(tmp, 'x.' + f)
    for f in ('chrome', 'folded', 'calltree', 'dot', 'csv'):
        scopeprof('export', '--format', f, '-o', out(f), db)
    n = one(db, 'SELECT count(*) FROM calls')
    trace = json.load(open(out('chrome')))['traceEvents']
    complete = [e for e in trace if e['ph'] == 'X']
    expect(len(complete) == n, f'{len(complete)} trace events for {n} calls')
    expect(sum(1 for e in complete if e['cat'] == 'broken') == 7, 'broken calls marked')
    thrown = [e for e in trace if e['ph'] == 'i']
    expect(sorted(e['args']['error'] for e in thrown) == sorted(
        f'{t}: {m}' for t, m in rows(db, 'SELECT type, message FROM exceptions')), f'an instant per exception {thrown}')
    tracks = {(e['pid'], e['tid']) for e in complete}
    named = {(e['pid'], e['tid']) for e in trace if e['ph'] == 'M' and e['name'] == 'thread_name'}
    threads = set(rows(db, 'SELECT pid, tid FROM threads'))
    expect(tracks <= named and named == threads, 'every thread has a named track')
    expect(all(e['ts'] >= 0 and e['dur'] >= 0 for e in complete), 'event fields')
    # speedscope tells functions apart by name and args: nothing per call in args.
    args = collections.defaultdict(set)
    for e in complete:
        args[e['name']].add(json.dumps(e['args'], sort_keys=True))
    expect(all(len(a) == 1 for a in args.values()), f'args vary between calls of a function: {args}')
    expect(all(list(e['args']) == ['file'] for e in complete), 'args: file:line only')
    # Track names: the viewers add the pid and tid; the process tree's order, main thread first.
    names = {e['pid']: e['args']['name'] for e in trace if e['ph'] == 'M' and e['name'] == 'process_name'}
    expect(set(names.values()) == {'runtime-workload'}, f'process names without the pid: {names}')
    main = one(db, "SELECT pid FROM processes WHERE ppid NOT IN (SELECT pid FROM processes)")
    rank = {e['pid']: e['args']['sort_index'] for e in trace if e['name'] == 'process_sort_index'}
    children = [p for p, in rows(db, 'SELECT pid FROM processes WHERE pid != ? GROUP BY pid ORDER BY min(start_ns)', main)]
    expect(sorted(rank, key=rank.get) == [main] + children, f'processes in tree order: {rank}')
    lanes = sorted(((e['pid'], e['tid']) for e in trace if e['name'] == 'thread_sort_index'),
                   key=lambda k: next(e['args']['sort_index'] for e in trace
                                      if e['name'] == 'thread_sort_index' and (e['pid'], e['tid']) == k))
    expect(lanes[0] == (main, main) and [l for l in lanes if l[0] == main][1:] == sorted(l for l in lanes if l[0] == main and l[1] != main),
           f'main thread first, then by tid: {lanes}')
    folded = [l.rsplit(' ', 1) for l in open(out('folded')).read().splitlines()]
    expect(sum(int(v) for _, v in folded) == one(db, 'SELECT sum(self_ns) FROM calls'), 'folded sums to self time')
    root = f'runtime-workload (pid {main});main-thread (tid {main})'
    expect(any(s == root + ';exact(int, int, int);catcher(int, int);thrower(int)' for s, _ in folded), 'stack paths')
    # Every stack under its process and thread; a forked child's under its own process.
    for pid, tid, thread in rows(db, 'SELECT pid, tid, name FROM threads'):
        expect(any(s.startswith(f'runtime-workload (pid {pid});{thread} (tid {tid});') for s, _ in folded),
               f'no stack under thread {tid} of {pid}: {[s for s, _ in folded]}')
    expect(all(s.split(';')[0].startswith('runtime-workload (pid ') and ' (tid ' in s.split(';')[1] for s, _ in folded),
           f'a stack without its process and thread: {folded}')
    bare = scopeprof('export', '--format', 'folded', '--thread-frames', 'no', '-o', '-', db).stdout
    expect(any(l.startswith('exact(int, int, int) ') for l in bare.splitlines()), '--thread-frames no')
    alone = scopeprof('export', '--format', 'folded', '--tid', str(main), '-o', '-', db).stdout
    expect(alone.startswith('exact(int, int, int)'), f'one thread: no thread frames by default\n{alone}')
    tree = json.load(open(out('calltree')))
    def total_calls(nodes):
        return sum(x['calls'] + total_calls(x['children']) for x in nodes)
    expect(sum(total_calls(t['calls']) for t in tree['threads']) == n, 'call tree holds every call')
    p = subprocess.run(['dot', '-Tsvg', out('dot')], capture_output=True, text=True)
    expect(p.returncode == 0 and '<svg' in p.stdout, f'dot: {p.stderr}')
    dot = open(out('dot')).read()
    expect('"1000 calls, ' in dot and '\n1 call, total' in dot and '1 calls' not in dot, f'call counts:\n{dot}')
    # Heat: the function with the most own time (exact(), which waits for its threads and
    # children, or paused-region, which sleeps: the machine decides) is red.
    hot, name = rows(db, 'SELECT s.id, s.signature FROM site_stats t JOIN sites s ON s.id = t.site_id '
                         'ORDER BY t.self_ns DESC LIMIT 1')[0]
    expect(f's{hot} [label="{name}' in dot and
           'fillcolor="0.000 1.000 1.000", color=red, penwidth=3' in dot.split(f'  s{hot} [', 1)[1].split('\n', 2)[1],
           f'hot node {name}:\n{dot}')
    # The path on known times: busy() 100 us calls half() 50 us, which calls tiny() 10 ns (under
    # 1% of busy()'s time: the path ends before it).
    run = os.path.join(tmp, 'hot-path')
    log_file(os.path.join(run, '1-1.splog'),
             batch(site_entry(0, 'busy()') + site_entry(1, 'half()') + site_entry(2, 'tiny()'),
                   calls_entry([(2, 2, 100, 110, False), (1, 1, 50, 50050, False), (0, 0, 0, 100000, False)])))
    hot_db = os.path.join(tmp, 'hot.db')
    load(hot_db, run)
    hot = scopeprof('export', '--format', 'dot', '-o', '-', hot_db).stdout
    def node(name):
        return next(l for l in hot.splitlines() if f'[label="{name}' in l) + hot.split(f'[label="{name}', 1)[1].split('\n', 2)[1]
    def edge(a, b):
        ids = {n: l.split()[0] for n in (a, b) for l in hot.splitlines() if f'[label="{n}' in l}
        return next(l for l in hot.splitlines() if l.strip().startswith(f'{ids[a]} -> {ids[b]} '))
    expect('color=red' in node('busy()') and 'color=red' in node('half()') and 'color=red' not in node('tiny()')
           and 'color=red' in edge('busy()', 'half()') and 'color=red' not in edge('half()', 'tiny()'),
           f'hot path on known times:\n{hot}')
    # A start whose callees all hold under 1% of its time is the hot path alone.
    run = os.path.join(tmp, 'own-time')
    log_file(os.path.join(run, '1-1.splog'), batch(site_entry(0, 'busy()') + site_entry(1, 'tiny()'),
                                                   calls_entry([(1, 1, 100, 110, False), (0, 0, 0, 100000, False)])))
    own_db = os.path.join(tmp, 'own.db')
    load(own_db, run)
    own = scopeprof('export', '--format', 'dot', '-o', '-', own_db).stdout
    expect('color=red, penwidth=3' in own.split('[label="busy()', 1)[1].split('\n', 2)[1], f'hot start alone:\n{own}')
    table = list(csv.DictReader(open(out('csv'), newline='')))
    expect(len(table) == n, f'{len(table)} csv rows')
    for col in ('id', 'start_ns', 'start_utc', 'duration_ns', 'self_ns', 'pid', 'ppid', 'process', 'parent_process',
                'broken', 'error_type', 'error_value', 'traceback'):
        expect(col in table[0], f'csv column {col}')
    expect(not any(k.endswith('_us') or k == 'time' for k in table[0]), 'times in ns, the unit in the header')
    by_id = {r[0]: r for r in rows(db, 'SELECT id, duration_ns, error_message, traceback, start_ns FROM call_details')}
    start = one(db, 'SELECT start_ns FROM runs')
    for r in table:
        d = by_id[int(r['id'])]
        expect(int(r['duration_ns']) == d[1] and (r['error_value'] or None) == d[2] and (r['traceback'] or None) == d[3]
               and int(r['start_ns']) == d[4] - start, f'csv row {r["id"]} round-trip')
    expect(all(r['start_utc'].endswith('Z') and len(r['start_utc'].split('.')[1]) == 10 for r in table), 'UTC, ns digits')
    # A forked child's outermost calls have no parent in any table: none is named.
    expect(all(r['parent_id'] == '' or int(r['parent_id']) in by_id for r in table), 'parent ids that exist')
    fork_roots = [r for r in table if r['function'] == 'childWork(int, int)']
    expect(len(fork_roots) == 2 and all(r['parent_id'] == '' for r in fork_roots), f'fork roots {fork_roots}')
    # Filters: a time window and a minimum duration, checked against SQL.
    scopeprof('export', '--format', 'csv', '-o', out('min'), '--min-duration', '100us', db)
    expect(len(list(csv.DictReader(open(out('min'), newline='')))) == one(db, 'SELECT count(*) FROM calls WHERE duration_ns >= 100000'),
           '--min-duration')
    p = scopeprof('export', '--format', 'folded', '-o', '-', db)
    expect(p.stdout == open(out('folded')).read(), '-o - writes to stdout')


def scenario_export_window(tmp):
    """--from/--to keep the calls overlapping the window, cut to it (so the calls enclosing
    it are there and no child becomes a root); --min-duration applies to every format."""
    run, db = exact_run(tmp)
    start = one(db, 'SELECT start_ns FROM runs')
    # Inside the threads' loops: exact() on the main thread and outer() on the workers
    # enclose the window's edges.
    t0, t1 = rows(db, "SELECT min(c.start_ns), max(c.end_ns) FROM calls c JOIN sites s ON s.id = c.site_id "
                      "WHERE s.signature = 'outer(int)'")[0]
    lo, hi = (t0 - start) + (t1 - t0) // 3, (t0 - start) + 2 * (t1 - t0) // 3
    window = ['--from', f'{lo}ns', '--to', f'{hi}ns']
    overlapping = one(db, 'SELECT count(*) FROM calls WHERE end_ns >= ? AND start_ns <= ?', start + lo, start + hi)
    export = lambda f, *a: scopeprof('export', '--format', f, *a, '-o', '-', db).stdout
    trace = json.loads(export('chrome', *window))['traceEvents']
    complete = [e for e in trace if e['ph'] == 'X']
    expect(len(complete) == overlapping, f'{len(complete)} events for {overlapping} calls overlapping the window')
    expect(all(lo / 1e3 - 1e-3 <= e['ts'] and e['ts'] + e['dur'] <= hi / 1e3 + 1e-3 for e in complete), 'cut to the window')
    encl = [e for e in complete if e['name'] == 'exact(int, int, int)']
    expect(len(encl) == 1 and abs(encl[0]['ts'] - lo / 1e3) < 1e-3 and abs(encl[0]['dur'] - (hi - lo) / 1e3) < 1e-3,
           f'the enclosing call, cut: {encl}')
    folded = [l.rsplit(' ', 1) for l in export('folded', *window).splitlines()]
    firsts = {s.split(';')[2] for s, _ in folded}
    expect(firsts <= {'exact(int, int, int)', 'outer(int)'}, f'children as roots: {firsts}')
    # Own times cut to the window add up to the threads' busy time in it (every thread is
    # inside an outermost call the whole window long, give or take the workers' gaps).
    total = sum(int(v) for _, v in folded)
    expect(total <= 4 * (hi - lo), f'{total} ns of own time in a {hi - lo} ns window on 4 threads')
    expect(export('folded', *window) != export('folded'), '--from/--to change folded stacks')
    tree = json.loads(export('calltree', *window))
    for t in tree['threads']:
        expect(len(t['calls']) == 1 and t['calls'][0]['function'] in ('exact(int, int, int)', 'outer(int)'),
               f'call tree roots {[c["function"] for c in t["calls"]]}')
    dot = export('dot', *window)
    calls = dict(rows(db, 'SELECT s.signature, count(*) FROM calls c JOIN sites s ON s.id = c.site_id '
                          'WHERE end_ns >= ? AND start_ns <= ? GROUP BY 1', start + lo, start + hi))
    for name, count in calls.items():
        expect(f'label="{name}\n{count} call{"" if count == 1 else "s"},' in dot, f'dot: {name} {count}\n{dot}')
    expect('childWork' not in dot and dot != export('dot'), '--from/--to change the call graph')
    # --min-duration: short calls are gone, their time is their caller's own time.
    full = sum(int(l.rsplit(' ', 1)[1]) for l in export('folded').splitlines())
    long = export('folded', '--min-duration', '100us')
    shown = {f for l in long.splitlines() for f in l.rsplit(' ', 1)[0].split(';')[2:]}
    long_enough = {s for s, in rows(db, 'SELECT DISTINCT s.signature FROM calls c JOIN sites s ON s.id = c.site_id '
                                        'WHERE c.duration_ns >= 100000')}
    expect('exact(int, int, int)' in shown and shown <= long_enough, f'short calls left: {shown - long_enough}')
    kept = sum(int(l.rsplit(' ', 1)[1]) for l in long.splitlines())
    # A short outermost call (a worker's outer(), a child's execChild()) is its thread's own.
    # A dropped call's time is its (compensated) duration; the full export sums its subtree's
    # self times, each at least zero: where the compensation took a self time below zero (a
    # loaded machine makes scopes cheaper or dearer than calibrated), the subtree sums to more
    # than the duration. That surplus, at most, may go with the dropped calls.
    surplus = one(db, '''SELECT total(c.self_ns - (c.duration_ns - coalesce(k.ns, 0))) FROM calls c
                         LEFT JOIN (SELECT parent_id, total(duration_ns) AS ns FROM calls GROUP BY 1) k
                         ON k.parent_id = c.id WHERE c.self_ns > c.duration_ns - coalesce(k.ns, 0)''')
    expect(full - max(0, surplus) - full / 1000 <= kept <= full + full / 1000,
           f'time kept: {kept} of {full} ns ({surplus} ns of self times clamped at zero)')
    dot = export('dot', '--min-duration', '100us')
    shown = {l.split('label="', 1)[1].split('\n')[0] for l in dot.splitlines() if ' [label="' in l and '->' not in l}
    expect('exact(int, int, int)' in shown and shown <= long_enough, f'--min-duration in dot: {shown - long_enough}')
    raw = lambda f, *a: subprocess.run([SCOPEPROF, 'export', '--format', f, *a, '-o', '-', db], capture_output=True).stdout
    for f in ('perfetto', 'speedscope'):
        expect(raw(f, *window) != raw(f), f'--from/--to in {f}')


def perfetto_packets(tmp, path):
    """The trace parsed with the protobuf library (Debian's python3 has it)."""
    work = tempfile.mkdtemp(dir=tmp)
    p = subprocess.run(['/usr/bin/python3', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'decode_perfetto.py'),
                        path, work], capture_output=True, text=True)
    expect(p.returncode == 0, f'not a Perfetto trace: {p.stderr}')
    return json.loads(p.stdout)


def scenario_export_perfetto(tmp):
    run, db = exact_run(tmp)
    path = os.path.join(tmp, 'x.pftrace')
    scopeprof('export', '--format', 'perfetto', '-o', path, db)
    packets = perfetto_packets(tmp, path)
    tracks = {}
    for p in packets:
        d = p.get('track_descriptor')
        if d:
            tracks[int(d['uuid'])] = d
    processes = {d['process']['pid']: d for d in tracks.values() if 'process' in d}
    threads = {(d['thread']['pid'], int(d['thread']['tid'])): d for d in tracks.values() if 'thread' in d}
    expect(set(processes) == {p for p, in rows(db, 'SELECT pid FROM processes')}, f'process tracks {processes}')
    expect(set(threads) == set(rows(db, 'SELECT pid, tid FROM threads')), f'thread tracks {threads}')
    expect(all(int(d['parent_uuid']) in tracks and tracks[int(d['parent_uuid'])]['process']['pid'] == d['thread']['pid']
               for d in threads.values()), 'thread tracks under their process')
    expect(all(d['process']['process_name'] == 'runtime-workload' for d in processes.values()), 'process names')
    main = one(db, "SELECT pid FROM processes WHERE ppid NOT IN (SELECT pid FROM processes)")
    order = sorted(processes, key=lambda p: processes[p]['process'].get('legacy_sort_index', 0))
    expect(order[0] == main, f'the first process first: {order}')
    lanes = sorted(threads, key=lambda k: threads[k]['thread'].get('legacy_sort_index', 0))
    expect(lanes[0] == (main, main), f'its main thread first: {lanes}')
    # Per sequence: names interned before use, times never going back, slices balanced;
    # per thread track: a slice per call, named after it, in start order.
    names, places, default, last, open_ = {}, {}, {}, {}, collections.defaultdict(list)
    slices = collections.defaultdict(list)
    where = dict(rows(db, "SELECT signature, file || ':' || line FROM sites"))
    for p in packets:
        e = p.get('track_event')
        if not e:
            continue
        seq, ts = p['trusted_packet_sequence_id'], int(p['timestamp'])
        if seq not in names:
            expect(p['sequence_flags'] == 1, 'a sequence starts by clearing its state')
            names[seq], places[seq] = {}, {}
            default[seq] = int(p['trace_packet_defaults']['track_event_defaults']['track_uuid'])
        else:
            expect(p['sequence_flags'] == 2, 'later packets need the state')
        interned = p.get('interned_data', {})
        names[seq].update({int(n['iid']): n['name'] for n in interned.get('event_names', [])})
        places[seq].update({int(n['iid']): f"{n['file_name']}:{n['line_number']}"
                            for n in interned.get('source_locations', [])})
        expect(ts >= last.get(seq, 0), f'time went back on sequence {seq}')
        last[seq] = ts
        track = int(e.get('track_uuid', default[seq]))
        if e['type'] == 'TYPE_SLICE_BEGIN':
            name = names[seq][int(e['name_iid'])]
            expect(places[seq][int(e['source_location_iid'])] == where[name], f'file:line of {name}')
            open_[track].append(name)
            slices[track].append((ts, name))
        else:
            expect(e['type'] == 'TYPE_SLICE_END' and open_[track], f'an end without a begin: {p}')
            open_[track].pop()
    expect(not any(open_.values()), 'every slice ends')
    uuid = {k: int(d['uuid']) for k, d in threads.items()}
    for pid, tid in threads:
        want = rows(db, 'SELECT c.start_ns, s.signature FROM calls c JOIN sites s ON s.id = c.site_id '
                        'WHERE c.pid = ? AND c.tid = ? ORDER BY c.start_ns, c.depth', pid, tid)
        expect(slices[uuid[(pid, tid)]] == want, f'thread {pid}/{tid}: {len(slices[uuid[(pid, tid)]])} slices, '
                                                 f'{len(want)} calls')
    errors = [a for p in packets for a in p.get('track_event', {}).get('debug_annotations', []) if 'name' in a]
    expect(sorted(a['string_value'] for a in errors) ==
           sorted(f'{t}: {m}' for t, m in rows(db, 'SELECT type, message FROM exceptions')), f'exceptions {errors}')


def scenario_export_counters(tmp):
    """The counters in the exports, on crafted calls with known figures: parent() (10 us, 100
    bytes of its own) calls child() (4 us, 1 us of it off the CPU; 2 allocations, 8192 bytes),
    then other() (1 us, 64 bytes). CSV columns, Chrome's thread duration and allocation counter,
    Perfetto's debug annotations; nothing of them for a run that measured none."""
    P, C, O = 0, 1, 2
    run = os.path.join(tmp, 'counted', 'run-counted')
    calls = [(C, 1, 3000, 7000, 2, 8192), (P, 0, 2000, 12000, 3, 8292), (O, 0, 20000, 21000, 1, 64)]
    log_file(os.path.join(run, '1-1.splog'),
             batch(site_entry(P, 'parent()') + site_entry(C, 'child()') + site_entry(O, 'other()'),
                   offcpu_entry([(4000, 5000, 0)]), memory_calls(calls)),
             run='run-counted', counts_memory=True, switches_since=1000)
    db = os.path.join(tmp, 'counted.db')
    load(db, run)
    want = {'child()': (3000, 3000, 2, 8192, 8192), 'parent()': (9000, 6000, 3, 8292, 100),
            'other()': (1000, 1000, 1, 64, 64)}
    table = list(csv.DictReader(io.StringIO(scopeprof('export', '--format', 'csv', '-o', '-', db).stdout)))
    got = {r['function']: tuple(int(r[k]) for k in ('cpu_ns', 'self_cpu_ns', 'allocs', 'alloc_bytes', 'self_alloc_bytes'))
           for r in table}
    expect(got == want, f'csv counters {got}, expected {want}')
    header = scopeprof('export', '--format', 'csv', '-o', '-', db).stdout.splitlines()[0]
    expect(header.endswith(',traceback,cpu_ns,self_cpu_ns,allocs,alloc_bytes,self_alloc_bytes'),
           f'the counters come last, so positions of the older columns hold: {header}')

    def chrome(*args):
        return json.loads(scopeprof('export', '--format', 'chrome', *args, '-o', '-', db).stdout)['traceEvents']
    events = chrome()
    tdur = {e['name']: e.get('tdur') for e in events if e['ph'] == 'X'}
    expect(tdur == {'child()': 3.0, 'parent()': 9.0, 'other()': 1.0}, f'thread durations (us) {tdur}')
    expect(all(list(e['args']) == ['file'] for e in events if e['ph'] == 'X'), 'args: file:line only')
    counter = [(e['ts'], e['args']['bytes']) for e in events if e['ph'] == 'C']
    expect({e['name'] for e in events if e['ph'] == 'C'} == {'allocated, tid 1'}, 'one counter track per thread')
    expect(counter == [(0, 0), (5, 8192), (10, 8292), (19, 8356)], f'allocated bytes over time {counter}')
    # child() not shown: its bytes count at its caller's end. other() is not shown either, and
    # nothing encloses it: the counter is of the calls exported.
    counter = [(e['ts'], e['args']['bytes']) for e in chrome('--min-duration', '5us') if e['ph'] == 'C']
    expect(counter == [(0, 0), (10, 8292)], f'--min-duration: {counter}')

    path = os.path.join(tmp, 'counted.pftrace')
    scopeprof('export', '--format', 'perfetto', '-o', path, db)
    names, got = {}, {}
    for p in perfetto_packets(tmp, path):
        names.update({int(n['iid']): n['name'] for n in p.get('interned_data', {}).get('debug_annotation_names', [])})
        for n in p.get('interned_data', {}).get('event_names', []):
            names[('event', int(n['iid']))] = n['name']
        e = p.get('track_event', {})
        if e.get('type') == 'TYPE_SLICE_BEGIN':
            got[names[('event', int(e['name_iid']))]] = {names[int(a['name_iid'])]: int(a['uint_value'])
                                                         for a in e.get('debug_annotations', [])}
    want_annotations = {f: dict(zip(('cpu_ns', 'allocs', 'alloc_bytes', 'self_alloc_bytes'), (v[0], *v[2:])))
                        for f, v in want.items()}
    expect(got == want_annotations, f'perfetto annotations {got}, expected {want_annotations}')

    # A run that measured nothing: empty CSV cells, no thread duration, no counter, no annotation.
    plain = os.path.join(tmp, 'plain', 'run-plain')
    log_file(os.path.join(plain, '1-1.splog'), batch(site_entry(0, 'f()'), calls_entry([(0, 0, 100, 200, False)])),
             run='run-plain')
    pdb = os.path.join(tmp, 'plain.db')
    load(pdb, plain)
    row, = csv.DictReader(io.StringIO(scopeprof('export', '--format', 'csv', '-o', '-', pdb).stdout))
    expect(all(row[k] == '' for k in ('cpu_ns', 'self_cpu_ns', 'allocs', 'alloc_bytes', 'self_alloc_bytes')), f'{row}')
    events = json.loads(scopeprof('export', '--format', 'chrome', '-o', '-', pdb).stdout)['traceEvents']
    expect(not any('tdur' in e or e['ph'] == 'C' for e in events), f'{events}')
    path = os.path.join(tmp, 'plain.pftrace')
    scopeprof('export', '--format', 'perfetto', '-o', path, pdb)
    expect(not any(p.get('track_event', {}).get('debug_annotations') for p in perfetto_packets(tmp, path)), 'no annotations')


def scenario_export_speedscope(tmp):
    """Checked against the rules of speedscope's file format schema
    (https://www.speedscope.app/file-format-schema.json) and against the database."""
    run, db = exact_run(tmp)
    doc = json.loads(scopeprof('export', '--format', 'speedscope', '-o', '-', db).stdout)
    expect(doc['$schema'] == 'https://www.speedscope.app/file-format-schema.json', 'schema')
    version = scopeprof('--version').stdout.split()[1]
    expect(doc['exporter'] == f'scopeprof {version}' and doc['name'] == one(db, 'SELECT name FROM runs')
           and doc['activeProfileIndex'] == 0, f'exporter, name: {doc["exporter"]}, {doc["name"]}')
    frames = doc['shared']['frames']
    expect(all(isinstance(f['name'], str) and isinstance(f.get('line', 0), int) for f in frames), 'frames')
    expect(sorted(f['name'] for f in frames) == sorted(s for s, in rows(
        db, 'SELECT signature FROM sites WHERE id IN (SELECT site_id FROM calls)')), 'a frame per function, shared')
    threads = rows(db, 'SELECT id, pid, tid FROM threads')
    expect(len(doc['profiles']) == len(threads), 'a profile per thread')
    main = one(db, "SELECT pid FROM processes WHERE ppid NOT IN (SELECT pid FROM processes)")
    expect(doc['profiles'][0]['name'] == f'runtime-workload (pid {main}) / main-thread (tid {main})',
           f'main thread first: {doc["profiles"][0]["name"]}')
    counted = collections.Counter()
    for prof in doc['profiles']:
        expect(prof['type'] == 'evented' and prof['unit'] == 'nanoseconds', f'profile type {prof["type"]}')
        stack, at = [], prof['startValue']
        for e in prof['events']:
            expect(e['type'] in ('O', 'C') and 0 <= e['frame'] < len(frames), f'event {e}')
            expect(e['at'] >= at, f'events out of order in {prof["name"]}')
            at = e['at']
            if e['type'] == 'O':
                stack.append(e['frame'])
                counted[(prof['name'], frames[e['frame']]['name'])] += 1
            else:
                expect(stack and stack.pop() == e['frame'], f'a close that does not match its open in {prof["name"]}')
        expect(not stack and at <= prof['endValue'], f'unbalanced {prof["name"]}')
    want = collections.Counter({(f'runtime-workload (pid {pid}) / {thread} (tid {tid})', s): n for pid, tid, thread, s, n in rows(
        db, 'SELECT c.pid, c.tid, t.name, s.signature, count(*) FROM calls c JOIN sites s ON s.id = c.site_id '
            'JOIN threads t ON t.id = c.thread_id GROUP BY c.thread_id, s.id')})
    expect(counted == want, 'a slice per call')


def scenario_export_gzip(tmp):
    """-o FILE.gz writes gzip, in every format; the content is the plain export's."""
    run, db = exact_run(tmp)
    import gzip
    for f in ('chrome', 'perfetto', 'speedscope', 'folded', 'calltree', 'dot', 'csv'):
        plain, packed = os.path.join(tmp, f'x.{f}'), os.path.join(tmp, f'x.{f}.gz')
        scopeprof('export', '--format', f, '-o', plain, db)
        scopeprof('export', '--format', f, '-o', packed, db)
        data = open(packed, 'rb').read()
        expect(data[:2] == b'\x1f\x8b', f'{f}: not gzip')
        expect(gzip.decompress(data) == open(plain, 'rb').read(), f'{f}: gzip holds another export')
        expect(len(data) < os.path.getsize(plain), f'{f}: not smaller')


def scenario_export_markdown(tmp):
    """C++ names survive GitHub's Markdown renderer (cmark-gfm with its extensions) in
    report, report --errors and diff tables."""
    names = ['std::vector<std::string> split(const std::string &)', 'TopCounter<Key>::top() const',
             'operator*(a_b, c_d)', 'pipe|name`tick`()']
    def side(name, ns):
        db = os.path.join(tmp, name + '.db')
        for r in range(3):  # runs are the unit of replication: a few on each side
            run = os.path.join(tmp, name, f'run-{name}-{r}')
            calls = [(i % len(names), 0, 2000 * i, 2000 * i + ns, False) for i in range(400)]
            log_file(os.path.join(run, '1-1.splog'),
                     batch(*[site_entry(i, n) for i, n in enumerate(names)], calls_entry(calls),
                           exception_entry('std::map<int, int>::out_of_range', 'key <42> & more'),
                           calls_entry([(0, 0, 10 ** 6, 10 ** 6 + 100, True)])),
                     run=f'run-{name}-{r}')
            load(db, run)
        return db
    base, head = side('base', 1000), side('head', 1500)
    html = lambda md: subprocess.run(['cmark-gfm', '-e', 'table', '-e', 'autolink', '-e', 'tagfilter'],
                                     input=md, capture_output=True, text=True, check=True).stdout
    import html as htmlmod
    outputs = {'report': scopeprof('report', '--format', 'markdown', base).stdout,
               'errors': scopeprof('report', '--errors', '--format', 'markdown', base).stdout,
               'diff': scopeprof('diff', '--format', 'markdown', '--absolute', '--min-time', '0', base, head,
                                 expect_rc=None).stdout}
    for what, md in outputs.items():
        text = htmlmod.unescape(html(md))
        expect('<a href' not in text, f'{what}: a name became a link:\n{md}')
        for n in [names[0] + ' (crafted.cpp:1)'] if what == 'errors' else names:
            expect(f'<code>{n}</code>' in text, f'{what}: {n!r} not rendered whole:\n{md}\n{text}')
    # query's cells are anything: escaped, not quoted.
    text = htmlmod.unescape(html(scopeprof('query', '--format', 'markdown', base, 'SELECT signature FROM sites').stdout))
    expect(all(f'<td>{n}</td>' in text for n in names), f'query:\n{text}')
    text = htmlmod.unescape(html(outputs['errors']))
    expect('<td>key <42> & more</td>' in text and '<code>std::map<int, int>::out_of_range</code>' in text,
           f'messages escaped, types quoted:\n{text}')


def scenario_export_errors(tmp):
    """Bad input: a message naming it, a non-zero exit, no file."""
    run, db = exact_run(tmp)
    target = os.path.join(tmp, 'x.json')
    for args, message in ((['--format', 'pprof'], "unknown export format 'pprof'"),
                          (['--format', 'chrome', '--from', 'soon'], "--from needs a duration like 250ms, not 'soon'"),
                          (['--format', 'chrome', '--from', '2s', '--to', '1s'], '--from 2s is after --to 1s'),
                          (['--format', 'folded', '--thread-frames', 'maybe'], "--thread-frames needs auto, yes or no, not 'maybe'"),
                          (['--format', 'dot', '--thread-frames', 'yes'], '--thread-frames is for --format folded'),
                          (['--format', 'csv', '--min-duration', '-1ms'], "--min-duration needs a duration like 100us, not '-1ms'")):
        p = scopeprof('export', *args, '-o', target, db, expect_rc=2)
        expect(f'scopeprof: error: {message}' in p.stderr, f'{args}: {p.stderr}')
    for f in ('perfetto', 'speedscope'):
        bad = os.path.join(tmp, 'no', 'such', 'dir', 'x.gz')
        p = scopeprof('export', '--format', f, '-o', bad, db, expect_rc=1)
        expect(f"scopeprof: error: cannot write '{bad}': No such file or directory" in p.stderr, p.stderr)
    expect(os.listdir(tmp) == [n for n in os.listdir(tmp) if not n.startswith('x.json')], 'a file left behind')


def scenario_fuzz_corpus(tmp):
    """Every input the loader fuzzer kept (test/fuzz/loader-corpus: damaged logs of every
    kind) loads or is reported, never crashes; twice, as the fuzzer does."""
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fuzz', 'loader-corpus')
    inputs = sorted(os.listdir(corpus))
    expect(len(inputs) > 100, f'{len(inputs)} corpus inputs')
    for i, name in enumerate(inputs):
        run = os.path.join(tmp, f'run-{i}')
        os.makedirs(run)
        shutil.copy(os.path.join(corpus, name), os.path.join(run, '1-1.splog'))
        db = os.path.join(tmp, f'{i}.db')
        for _ in range(2):
            p = scopeprof('load', '--quiet', '--db', db, run, expect_rc=None)
            expect(p.returncode in (0, 1) and 'Sanitizer' not in p.stderr, f'{name}: exit {p.returncode}\n{p.stderr}')
            expect(p.returncode == 0 or "'" + os.path.join(run, '1-1.splog') + "'" in p.stderr,
                   f'{name}: a problem that does not name the file:\n{p.stderr}')
        shutil.rmtree(run)
        os.remove(db)


def scenario_throttle(tmp):
    # tiny() is cut after 1000 calls: every call that started before the cut is recorded, the cut
    # is recorded, after it only samples (about one call in 64, each standing for 64; `sampled`,
    # the default without CPU samples); a rule naming it switches it back on.
    n, m = 20000, 300
    run = record(tmp, 'throttled', n, m, env={'SCOPEPROF_THROTTLE': '1000:1us:sampled'})
    db = os.path.join(tmp, 'throttle.db')
    load(db, run)
    cut = rows(db, 'SELECT s.signature, t.after_calls, t.at_ns FROM throttled t JOIN sites s ON s.id = t.site_id')
    expect(len(cut) == 1 and cut[0][0] == 'tiny()' and cut[0][1] >= 1000, f'throttled {cut}')
    at = cut[0][2]
    # Steps in order, each with whether its tiny() child was recorded.
    steps = rows(db, '''SELECT p.start_ns, count(c.id) FROM calls p JOIN sites s ON s.id = p.site_id
                        LEFT JOIN calls c ON c.parent_id = p.id WHERE s.signature = 'step()'
                        GROUP BY p.id ORDER BY p.start_ns''')
    expect(len(steps) == n + m, f'{len(steps)} steps recorded, expected {n + m} (never throttled)')
    flags = [k for _, k in steps[:n]]
    first_missing = flags.index(0) if 0 in flags else n
    tiny = rows(db, '''SELECT c.start_ns, c.weight FROM calls c JOIN sites s ON s.id = c.site_id
                       WHERE s.signature = 'tiny()' ORDER BY c.start_ns''')
    before = [w for t, w in tiny if t < at]
    expect(len(before) >= cut[0][1] and set(before) == {1} and set(flags[:len(before)]) == {1},
           f'{len(before)} tiny() calls before the cut, the first step without one at {first_missing}; weights {set(before)}')
    samples = sum(flags[len(before):])
    expected = (n - len(before)) / 64
    sampled = [w for t, w in tiny if at <= t and w != 1]
    expect(len(sampled) == samples and set(sampled) <= {64} and 0.6 * expected <= samples <= 1.4 * expected,
           f'{samples} samples of tiny() after the cut (weights {set(sampled)}), about {expected:.0f} expected')
    expect(all(k == 1 for _, k in steps[n:]) and len(tiny) == len(before) + samples + m,
           f'switched back on by a rule: {len(tiny) - len(before) - samples} of {m} recorded')
    calls = one(db, "SELECT st.calls FROM site_stats st JOIN sites s ON s.id = st.site_id WHERE s.signature = 'tiny()'")
    expect(calls == len(before) + 64 * samples + m, f'tiny() calls {calls}: each sample stands for 64')
    report = json.loads(scopeprof('report', '--format', 'json', db).stdout)
    note = {r['function']: r['note'] for r in report}
    expect(f'throttled after {cut[0][1]} calls, then sampled' in note['tiny()']
           and note['step()'] is None, f'notes {note}')
    expect(one(db, 'SELECT sampled FROM throttled') == 1, 'the cut says its calls were sampled')

    # With CPU samples (the default), a cut site records no call until a rule names it again;
    # its calls are a lower bound, and the report says so.
    run = record(tmp, 'throttled', n, m, env={'SCOPEPROF_THROTTLE': '1000:1us', 'SCOPEPROF_CPU_SAMPLES': '1ms'})
    dboff = os.path.join(tmp, 'throttle-off.db')
    load(dboff, run)
    (after, at, sampled), = rows(dboff, '''SELECT t.after_calls, t.at_ns, t.sampled FROM throttled t JOIN sites s
                                           ON s.id = t.site_id WHERE s.signature = 'tiny()' ''')
    tiny = rows(dboff, '''SELECT c.start_ns, c.weight FROM calls c JOIN sites s ON s.id = c.site_id
                          WHERE s.signature = 'tiny()' ORDER BY c.start_ns''')
    before = [w for t, w in tiny if t < at]
    expect(sampled == 0 and len(before) >= after and set(w for _, w in tiny) == {1} and len(tiny) == len(before) + m,
           f'cut after {after} calls: {len(before)} recorded before, {len(tiny) - len(before)} after (expected the rule\'s {m})')
    calls = one(dboff, "SELECT st.calls FROM site_stats st JOIN sites s ON s.id = st.site_id WHERE s.signature = 'tiny()'")
    expect(calls == len(before) + m, f'tiny() calls {calls}: only those recorded')
    note = {r['function']: r['note'] for r in json.loads(scopeprof('report', '--format', 'json', dboff).stdout)}
    expect(f'throttled after {after} calls, not counted since' in note['tiny()'], f'notes {note}')
    # SCOPEPROF_THROTTLE=0 records every call.
    run = record(tmp, 'throttled', 2000, 0, env={'SCOPEPROF_THROTTLE': '0'})
    db0 = os.path.join(tmp, 'off.db')
    load(db0, run)
    expect(one(db0, 'SELECT count(*) FROM throttled') == 0 and
           one(db0, "SELECT count(*) FROM calls c JOIN sites s ON s.id = c.site_id WHERE s.signature = 'tiny()'") == 2000,
           'SCOPEPROF_THROTTLE=0 keeps every call')


def scenario_throttle_fork(tmp):
    # tiny() is cut off in the parent before it forks: the child inherits the cut, records none
    # of its calls, and its log says so (cut before its first call), for its report to note.
    run = record(tmp, 'throttled-fork', 5000, env={'SCOPEPROF_THROTTLE': '1000:1us', 'SCOPEPROF_CPU_SAMPLES': '1ms'})
    db = os.path.join(tmp, 'fork.db')
    load(db, run)
    cuts = rows(db, """SELECT p.pid, t.after_calls, t.sampled FROM throttled t JOIN processes p ON p.id = t.process_id
                       JOIN sites s ON s.id = t.site_id WHERE s.signature = 'tiny()' ORDER BY p.start_ns""")
    expect(len(cuts) == 2 and cuts[0][1] >= 1000 and cuts[1][1:] == (0, 0), f'cuts {cuts}')
    child = cuts[1][0]
    recorded = one(db, """SELECT count(*) FROM calls c JOIN sites s ON s.id = c.site_id JOIN threads t
                          ON t.id = c.thread_id WHERE s.signature = 'tiny()' AND t.pid = ?""", child)
    steps = one(db, """SELECT count(*) FROM calls c JOIN sites s ON s.id = c.site_id JOIN threads t
                       ON t.id = c.thread_id WHERE s.signature = 'step()' AND t.pid = ?""", child)
    expect(recorded == 0 and steps == 5000, f'the child recorded {recorded} tiny() calls, {steps} steps')
    note = {r['function']: r['note'] for r in
            json.loads(scopeprof('report', '--format', 'json', '--pid', str(child), db).stdout)}
    expect('throttled before this process called it (inherited at fork), not counted since' in note.get('tiny()', ''),
           f'notes of the child {note}')
    note = {r['function']: r['note'] for r in json.loads(scopeprof('report', '--format', 'json', db).stdout)}
    expect(f'throttled after {cuts[0][1]} calls, not counted since' in note['tiny()'], f'notes of the run {note}')


def scenario_throttle_marked(tmp):
    # medium() (some 20 us a call) is cut and marked: its calls are not recorded, but the CPU
    # samples taken inside them are its own even where their addresses say nothing (here the
    # program changed after the run); outerStep(), its recorded caller, keeps the rest.
    # everyEighth() is cut too, not marked: its calls are long, but hardly any of it is its own.
    copy = os.path.join(tmp, 'workload-copy')
    shutil.copy2(WORKLOAD, copy)
    out = os.path.join(tmp, 'out')
    p = subprocess.run([copy, 'marked', '12000'], capture_output=True, text=True,
                       env=dict(os.environ, SCOPEPROF_OUT=out, SCOPEPROF_THROTTLE='1000:50us', SCOPEPROF_CPU_SAMPLES='1ms',
                                SCOPEPROF_VERBOSE='1'))
    expect(p.returncode == 0, f'marked workload failed: {p.stderr}')
    said = {m.group(1): m.group(2) for m in re.finditer(r'scopeprof: throttled (\S+) after \d+ calls \(mean \d+ ns, '
                                                        r'own \d+ ns\): (.*)', p.stderr)}
    expect(said == {'medium()': 'off, marked', 'everyEighth(int)': 'off'}, f'what verbose said of the cuts: {p.stderr}')
    with open(copy, 'ab') as f:
        f.write(b'rebuilt')
    db = os.path.join(tmp, 'marked.db')
    load(db, out)
    cut = rows(db, 'SELECT s.signature, t.at_ns, t.sampled FROM throttled t JOIN sites s ON s.id = t.site_id '
                   'ORDER BY s.signature')
    expect([(c[0], c[2]) for c in cut] == [('everyEighth(int)', 0), ('medium()', 0)], f'cut, nothing sampled: {cut}')
    cut = [c for c in cut if c[0] == 'medium()']
    calls = rows(db, "SELECT count(*), count(*) FILTER (WHERE c.start_ns >= ?) FROM calls c JOIN sites s "
                     "ON s.id = c.site_id WHERE s.signature = 'medium()'", cut[0][1])
    expect(calls[0][0] >= 1000 and calls[0][1] == 0, f'medium() calls recorded, in all and after the cut: {calls}')
    by = dict(rows(db, '''SELECT s.signature, total(c.weight) FROM cpu_samples c JOIN sites s ON s.id = c.site_id
                          WHERE NOT c.by_address GROUP BY 1'''))
    total = sum(by.values())
    # medium() is a sixth of each step; a mark-less cut would leave it nothing.
    expect(total > 100 and 0.06 * total <= by.get('medium()', 0) <= 0.4 * total,
           f'the marks give medium() its samples: {by}')


def scenario_compensation(tmp):
    # parent() does known work around 200 calls of a tiny child(); the workload measures their
    # true times with the scopes off, interleaved with recorded rounds. Compensated times must be
    # close to the truth where raw ones are not. A shared machine can upset one measurement
    # (its writer and the recorded rounds compete with other load): up to five attempts, and
    # one must come within 10% on every figure.
    for attempt in range(5):
        db, failures = measure_compensation(os.path.join(tmp, f'attempt-{attempt}'))
        if not failures:
            break
    expect(not failures, '; '.join(failures))
    raw = {r['function']: r for r in json.loads(scopeprof('report', '--raw', '--format', 'json', db).stdout)}
    report = {r['function']: r for r in json.loads(scopeprof('report', '--format', 'json', db).stdout)}
    expect(raw['child()']['note'] is None and raw['child()']['self_ns'] > report['child()']['self_ns'], '--raw')


def measure_compensation(tmp):
    """One run of the compensation workload: its database, and what was not close to the truth."""
    out = os.path.join(tmp, 'out')
    p = subprocess.run([WORKLOAD, 'compensation', '500'],
                       env=dict(os.environ, SCOPEPROF_OUT=out, SCOPEPROF_THROTTLE='0'),
                       capture_output=True, text=True)
    expect(p.returncode == 0, p.stderr)
    words = p.stdout.split()
    true_parent, true_children = float(words[3]), float(words[6])
    db = os.path.join(tmp, 'comp.db')
    load(db, os.path.join(out, os.listdir(out)[0]))

    def median(sql):
        values = sorted(r[0] for r in rows(db, sql))
        return values[len(values) // 2]
    parent = "FROM calls c JOIN sites s ON s.id = c.site_id WHERE s.signature = 'parent()'"
    child = "FROM calls c JOIN sites s ON s.id = c.site_id WHERE s.signature = 'child()'"
    true_self = true_parent - true_children
    net_self, raw_self = median(f'SELECT c.self_ns {parent}'), median(f'SELECT c.raw_self_ns {parent}')
    net_total, raw_total = median(f'SELECT c.duration_ns {parent}'), median(f'SELECT c.raw_duration_ns {parent}')
    # A child of a few ns on a clock of 10 ns ticks reads 0 or 10: the median is one of them,
    # the mean of many calls is not (where a call falls between ticks is random). Calls a
    # preemption stretched past 1 us are left out: one would move the mean by tens of ns.
    def short_mean(column):
        return one(db, f'SELECT avg(c.{column}) {child} AND c.raw_duration_ns < 1000')
    net_child, raw_child = short_mean('duration_ns'), short_mean('raw_duration_ns')
    true_child = true_children / 200
    summary = (f'parent total: true {true_parent:.0f} ns, compensated {net_total} ns, raw {raw_total} ns; '
               f'self: true {true_self:.0f} ns, compensated {net_self} ns, raw {raw_self} ns; '
               f'child: true {true_child:.1f} ns, compensated {net_child:.1f} ns, raw {raw_child:.1f} ns')
    print(summary)
    checks = [(abs(net_self - true_self) <= 0.10 * true_self, 'compensated parent self not within 10%'),
              (abs(net_total - true_parent) <= 0.10 * true_parent, 'parent total not within 10%'),
              # A clock of 10 ns ticks (some VMs) cannot tell 2 ns from 6: of a function that
              # short, within a tick of the truth, and never above the raw figure (whether it
              # is closer than raw depends on where the truth falls between two ticks).
              (abs(net_child - true_child) <= max(0.10 * true_child, 10) and net_child <= raw_child,
               'child')]
    # The report says what it cannot tell: child()'s self time is all scope cost (unless a
    # preemption stretched one of its calls: then the attempt is spoilt like the others).
    report = {r['function']: r for r in json.loads(scopeprof('report', '--format', 'json', db).stdout)}
    checks.append(((report['child()']['note'] or '').startswith('self within scope overhead'),
                   f'child() not reported as within scope overhead: {report["child()"]}'))
    return db, [f'{what}: {summary}' for ok, what in checks if not ok]


def scenario_sampled(tmp):
    # child() does real work and calls grandchild(), which does too; both are short enough to be
    # throttled early, and after the cut only samples are recorded, each call drawn on its own.
    # The estimates must give each function its true time: the calls, their own times, and
    # parent()'s self time without the unsampled calls' time in it.
    out = os.path.join(tmp, 'out')
    rounds, spin, grand_spin = 2000, 300, 200
    p = subprocess.run([WORKLOAD, 'compensation', str(rounds), str(spin), str(grand_spin)],
                       env=dict(os.environ, SCOPEPROF_OUT=out, SCOPEPROF_THROTTLE='2000:1us:sampled'),
                       capture_output=True, text=True)
    expect(p.returncode == 0, p.stderr)
    words = p.stdout.split()
    true_parent, true_children, true_grand = float(words[3]), float(words[6]), float(words[9])
    db = os.path.join(tmp, 'sampled.db')
    load(db, os.path.join(out, os.listdir(out)[0]))
    # CPU time where measured: a preempted round is not the functions' time.
    stats = {r[0]: r[1:] for r in rows(db, '''SELECT s.signature, st.calls, st.estimated_calls,
                                                    coalesce(st.self_cpu_ns, st.self_ns)
                                             FROM site_stats st JOIN sites s ON s.id = st.site_id''')}
    expect(one(db, "SELECT count(*) FROM throttled") == 2 and stats['child()'][1] and stats['grandchild()'][1],
           f'child() and grandchild() are sampled: {stats}')
    own = {name: stats[name][2] / stats[name][0] for name in stats}
    measured = one(db, "SELECT total(coalesce(self_cpu_ns, self_ns)) FROM calls c JOIN sites s ON s.id = c.site_id "
                       "WHERE s.signature = 'parent()'") / rounds
    truth = {'parent()': true_parent - true_children, 'child()': (true_children - true_grand) / 200,
             'grandchild()': true_grand / 200}
    summary = (f'calls: child() {stats["child()"][0]}, grandchild() {stats["grandchild()"][0]} (true {200 * rounds}); '
               + ', '.join(f'{name} {own[name]:.0f} ns a call (true {truth[name]:.0f})' for name in truth)
               + f'; parent() {measured:.0f} ns without the estimate')
    print(summary)
    for name in ('child()', 'grandchild()'):
        expect(abs(stats[name][0] - 200 * rounds) <= 0.1 * 200 * rounds, summary)
    # A timing test on a shared machine (the truth is medians of runs with the scopes off, the
    # estimates means of runs with them on): the exact arithmetic is checked on a crafted log
    # (sampled-crafted); here the estimate must remove most of the error it exists for: without
    # it parent()'s self time is about three times the truth.
    expect(abs(own['parent()'] - truth['parent()']) < 0.5 * (measured - truth['parent()']), summary)
    # child()'s samples held grandchild() calls that were not drawn: their time is not child()'s.
    sample_self = one(db, "SELECT avg(coalesce(self_cpu_ns, self_ns)) FROM calls c JOIN sites s ON s.id = c.site_id "
                          "WHERE s.signature = 'child()' AND c.weight = 64")
    expect(own['child()'] < sample_self, f'{summary}; child() samples: {sample_self:.0f} ns')
    # Each call is drawn on its own: the grandchild() of a drawn child() call (the next throttled
    # call of the thread) is drawn one time in 64, as any other. A countdown of fixed length
    # would never draw it; the thread's countdowns are of geometric length.
    drawn = one(db, "SELECT count(*) FROM calls c JOIN sites s ON s.id = c.site_id "
                    "WHERE s.signature = 'child()' AND c.weight = 64")
    nested = one(db, "SELECT count(*) FROM calls g JOIN calls c ON c.id = g.parent_id JOIN sites sg ON sg.id = g.site_id "
                     "JOIN sites sc ON sc.id = c.site_id WHERE sg.signature = 'grandchild()' "
                     "AND sc.signature = 'child()' AND c.weight = 64 AND g.weight = 64")
    expect(drawn > 2000 and 0.5 * drawn / 64 <= nested <= 1.6 * drawn / 64,
           f'{nested} of {drawn} drawn child() calls hold a drawn grandchild() (expected about {drawn / 64:.0f})')
    print(f'{nested} of {drawn} drawn child() calls hold a drawn grandchild()')


def scenario_sampled_crafted(tmp):
    # One parent() call (1000 ns of its own) under which child() (100 ns own) and grandchild()
    # (50 ns own) were throttled: two child() samples, each holding one grandchild() sample, and
    # three grandchild() samples directly under parent() (their child() was not drawn). Every
    # sample stands for 64 calls, so 63 more of each were made where it was and hid their own
    # time in the enclosing recorded call's self time. The estimate must take out exactly that.
    P, C, G = 0, 1, 2
    hidden = 2 * 63 * 100 + 3 * 63 * 50
    end = 1000 + 2 * 3300 + 3 * 50 + hidden
    calls = [(P, 0, 0, end, False),
             (C, 1, 100, 3400, False, True), (G, 2, 200, 250, False, True),
             (C, 1, 4000, 7300, False, True), (G, 2, 4100, 4150, False, True)]
    calls += [(G, 1, 8000 + 1000 * i, 8050 + 1000 * i, False, True) for i in range(3)]
    calls.sort(key=lambda c: c[3])  # a call is written when it ends
    run = os.path.join(tmp, 'run')
    log_file(os.path.join(run, '1-1.splog'),
             batch(site_entry(P, 'parent()') + site_entry(C, 'child()') + site_entry(G, 'grandchild()'),
                   calls_entry(calls)), sample_period=64)
    db = os.path.join(tmp, 'crafted.db')
    load(db, run)
    stats = {r[0]: r[1:] for r in rows(db, '''SELECT s.signature, st.calls, st.estimated_calls, st.self_ns
                                             FROM site_stats st JOIN sites s ON s.id = st.site_id''')}
    want = {'parent()': (1, None, 1000), 'child()': (128, 126, 128 * 100), 'grandchild()': (320, 315, 320 * 50)}
    expect(stats == want, f'estimated calls and own times: {stats}, expected {want}')
    weights = rows(db, 'SELECT s.signature, c.weight FROM calls c JOIN sites s ON s.id = c.site_id')
    expect(sorted(w for _, w in weights) == [1] + [64] * 7, f'a sample weighs the sample period: {weights}')


def scenario_cpu_samples_crafted(tmp):
    # One recorded parent() call of 10 000 ns, 400 of them in a drawn call of the throttled
    # child(), which stands for 64 (63 hidden in parent()'s self time); leaf() is throttled too
    # and never drawn. CPU samples every 100 us: inside parent()'s own time two found parent()
    # innermost, one child(), one leaf(); the one inside the drawn child() call found child();
    # three more found leaf() outside every recorded call. parent()'s 9600 ns are shared out
    # 2:1:1, but leaf() has no recorded call to show its share in: parent() keeps it. The drawn
    # call's 400 ns are child()'s. The calibrated cost of a throttled call (2 ns) is stored and
    # stays in the samples' figure.
    P, C, L = 0, 1, 2
    calls = [(C, 1, 1000, 1400, False, True), (P, 0, 0, 10000, False)]
    samples = [(P, P, 1, 100), (P, P, 1, 200), (C, P, 1, 300), (L, P, 1, 500), (C, C, 1, 1100),
               (L, None, 1, 20000), (L, None, 2, 30000)]
    run = os.path.join(tmp, 'run')
    entries = site_entry(P, 'parent()') + site_entry(C, 'child()') + site_entry(L, 'leaf()')
    log_file(os.path.join(run, '1-1.splog'), batch(entries, calls_entry(calls), cpu_samples_entry(samples)),
             sample_period=64, cpu_sample_ns=100000, throttled_call_ps=2000)
    db = os.path.join(tmp, 'crafted.db')
    load(db, run)
    stored = rows(db, '''SELECT s.signature, r.signature, c.weight, c.at_ns FROM cpu_samples c
                         JOIN sites s ON s.id = c.site_id LEFT JOIN sites r ON r.id = c.recorded_site_id
                         ORDER BY c.at_ns''')
    expect(stored == [('parent()', 'parent()', 1, 100), ('parent()', 'parent()', 1, 200),
                      ('child()', 'parent()', 1, 300), ('leaf()', 'parent()', 1, 500),
                      ('child()', 'child()', 1, 1100), ('leaf()', None, 1, 20000), ('leaf()', None, 2, 30000)],
           f'samples as stored: {stored}')
    expect(one(db, 'SELECT cpu_sample_ns FROM threads') == 100000, 'the sampling period')
    expect(one(db, 'SELECT throttled_call_ns FROM processes') == 2.0, 'the cost of a throttled call')
    report = {r['function']: r for r in json.loads(scopeprof('report', '--format', 'json', db).stdout)}
    got = {name: report[name]['self_ns'] for name in report}
    want = {'parent()': 4800 + 2400, 'child()': 2400 + 400}
    expect(got == want, f'self times split by the samples: {got}, expected {want} (leaf() has no recorded call)')
    expect(report['child()']['note'].endswith('self time from CPU samples') and report['parent()']['note'] is None,
           f'notes: {[(n, r["note"]) for n, r in report.items()]}')
    # --raw: as measured, no samples.
    raw = {r['function']: r['note'] for r in json.loads(scopeprof('report', '--raw', '--format', 'json', db).stdout)}
    expect('self time from CPU samples' not in (raw['child()'] or ''), f'--raw: {raw}')
    # A thread that was not sampled leaves the whole run to the recorded calls' estimates.
    log_file(os.path.join(run, '1-2.splog'), batch(site_entry(P, 'parent()'), calls_entry([(P, 0, 20000, 21000, False)])),
             tid=2, sample_period=64)
    db2 = os.path.join(tmp, 'mixed.db')
    load(db2, run)
    mixed = {r['function']: r['note'] for r in json.loads(scopeprof('report', '--format', 'json', db2).stdout)}
    expect('self time from CPU samples' not in (mixed['child()'] or ''), f'an unsampled thread: {mixed}')


def scenario_sampled_waits(tmp):
    # The figures of a sampled thread add up whatever chance drew: self = self CPU + self wait
    # and total >= self for every function, and no time below zero. child() is throttled; its
    # one drawn call (400 ns, standing for 64) was off the CPU for 200 ns: its 63 unrecorded
    # calls are not known to have waited, so its self wait is not 64 x 200. The drawn call's
    # mean also says 63 x 400 ns were hidden in parent()'s 2000 ns, more than parent()'s own
    # 1600: its raw self time is 0, not negative. tiny()'s drawn call is 10 ns (total 640), but
    # three samples in parent()'s own time found it: its self time, about 1200, is its total too.
    P, C, T = 0, 1, 2
    calls = [(C, 1, 2000, 2400, False, True), (T, 1, 2600, 2610, False, True), (P, 0, 1000, 3000, False)]
    samples = [(P, P, 1, 1100), (T, P, 1, 1500), (T, P, 1, 1600), (T, P, 1, 2700), (C, C, 1, 2050)]
    run = os.path.join(tmp, 'run')
    log_file(os.path.join(run, '1-1.splog'),
             batch(site_entry(P, 'parent()') + site_entry(C, 'child()') + site_entry(T, 'tiny()'),
                   offcpu_entry([(2100, 2300, 1)]), calls_entry(calls), cpu_samples_entry(samples)),
             sample_period=64, cpu_sample_ns=100000, switches_since=500)
    db = os.path.join(tmp, 'waits.db')
    load(db, run)
    stats = rows(db, """SELECT s.signature, st.self_ns, st.self_cpu_ns, st.self_wait_ns, st.raw_self_ns,
                               st.total_ns, st.cpu_ns FROM site_stats st JOIN sites s ON s.id = st.site_id
                        ORDER BY 1""")
    expect(len(stats) == 3 and all(cpu is not None and wait == self - cpu and raw >= 0 and self >= 0 and
                                   total >= self and cpu_total >= cpu
                                   for _, self, cpu, wait, raw, total, cpu_total in stats),
           f'figures that add up: {stats}')
    expect(dict((r[0], r[1]) for r in stats)['tiny()'] > 1000, f'tiny() by its samples: {stats}')
    expect(dict((r[0], r[4]) for r in stats)['parent()'] == 0, f'raw self time: {stats}')
    for r in json.loads(scopeprof('report', '--format', 'json', db).stdout):
        expect(r['self_wait_ns'] == r['self_ns'] - r['self_cpu_ns'], f'report row {r}')


def scenario_sampled_bytes(tmp):
    # sampled-crafted's calls with allocations: each call asks for as many bytes as it lasts ns
    # (parent() 1000 of its own, child() 100, grandchild() 50). The 63 calls each sample stands
    # for were made unrecorded inside the enclosing recorded call, whose counts therefore hold
    # their bytes: calls.self_alloc_bytes keeps them as counted, site_stats gives them to the
    # throttled functions, once.
    P, C, G = 0, 1, 2
    hidden = 2 * 63 * 100 + 3 * 63 * 50
    end = 1000 + 2 * 3300 + 3 * 50 + hidden
    calls = [(P, 0, 0, end), (C, 1, 100, 3400, True), (G, 2, 200, 250, True), (C, 1, 4000, 7300, True),
             (G, 2, 4100, 4150, True)]
    calls += [(G, 1, 8000 + 1000 * i, 8050 + 1000 * i, True) for i in range(3)]
    calls.sort(key=lambda c: c[3])
    run = os.path.join(tmp, 'run')
    log_file(os.path.join(run, '1-1.splog'),
             batch(site_entry(P, 'parent()') + site_entry(C, 'child()') + site_entry(G, 'grandchild()'),
                   memory_calls([(c[0], c[1], c[2], c[3], 1, c[3] - c[2], *c[4:]) for c in calls])),
             sample_period=64, counts_memory=True)
    db = os.path.join(tmp, 'bytes.db')
    load(db, run)
    parent_self = one(db, "SELECT c.self_alloc_bytes FROM calls c JOIN sites s ON s.id = c.site_id WHERE s.signature = 'parent()'")
    expect(parent_self == 1000 + hidden, f'the call as counted: {parent_self}')
    stats = dict(rows(db, 'SELECT s.signature, st.self_alloc_bytes FROM site_stats st JOIN sites s ON s.id = st.site_id'))
    want = {'parent()': 1000, 'child()': 128 * 100, 'grandchild()': 320 * 50}
    expect(stats == want, f'own bytes per function: {stats}, expected {want}')
    expect(sum(stats.values()) == end, 'every byte counted once')
    # A call not recorded because it was short (SCOPEPROF_MIN_DURATION) has no row: its bytes
    # stay in its caller's own bytes, in calls and in site_stats alike.
    # Here parent() asked for 100 bytes itself and its two child() calls, only counted, 100 each.
    short = os.path.join(tmp, 'short')
    log_file(os.path.join(short, '1-1.splog'),
             batch(site_entry(P, 'parent()') + site_entry(C, 'child()'), memory_calls([(P, 0, 0, 5000, 3, 300)]),
                   b'\x05' + struct.pack('<IQQ', C, 2, 400)), counts_memory=True)
    sdb = os.path.join(tmp, 'short.db')
    load(sdb, short)
    got = rows(sdb, 'SELECT s.signature, st.calls, st.alloc_bytes, st.self_alloc_bytes FROM site_stats st '
                    'JOIN sites s ON s.id = st.site_id ORDER BY 1')
    expect(rows(sdb, 'SELECT self_alloc_bytes FROM calls') == [(300,)] and
           got == [('child()', 2, None, None), ('parent()', 1, 300, 300)], f'counted children: {got}')


def scenario_unrecorded_parent(tmp):
    # f() (depth 0) was not recorded (counted: shorter than SCOPEPROF_MIN_DURATION); its child
    # g() (depth 1) was, and so was f()'s next sibling h(), starting 50 ns after g(). h() must
    # not adopt g(): it does not contain it. (Across batches 1 us of slack is allowed for the
    # clock conversion; in one batch times are exact.)
    calls = [(1, 1, 100, 150, False), (2, 0, 200, 300, False)]
    run = os.path.join(tmp, 'run')
    log_file(os.path.join(run, '1-1.splog'),
             batch(site_entry(0, 'f()') + site_entry(1, 'g()') + site_entry(2, 'h()'), calls_entry(calls)))
    db = os.path.join(tmp, 'orphan.db')
    load(db, run)
    got = rows(db, 'SELECT s.signature, c.self_ns, c.parent_id IN (SELECT id FROM calls) FROM calls c '
                   'JOIN sites s ON s.id = c.site_id ORDER BY c.start_ns')
    expect(got == [('g()', 50, 0), ('h()', 100, None)], f'g() under an unrecorded call, h() on its own: {got}')


def scenario_memory(tmp):
    # test/runtime/MemoryWorkload.cpp under SCOPEPROF_COUNTERS=memory,cpu: every figure is known.
    out = os.path.join(tmp, 'out')
    program = os.path.join(os.path.dirname(WORKLOAD), 'runtime-memory-workload')
    p = subprocess.run([program], env=dict(os.environ, SCOPEPROF_OUT=out, SCOPEPROF_COUNTERS='memory,cpu',
                                           SCOPEPROF_THROTTLE='0'), capture_output=True, text=True)
    expect(p.returncode == 0 and 'warning' not in p.stderr, p.stderr)
    db = os.path.join(tmp, 'memory.db')
    load(db, os.path.join(out, os.listdir(out)[0]))
    per_process = {(r[0], r[1]): r[2:] for r in rows(db, """
        SELECT c.pid = (SELECT min(pid) FROM processes), s.signature, count(*), sum(c.allocs),
               sum(c.alloc_bytes), sum(c.self_alloc_bytes)
        FROM calls c JOIN sites s ON s.id = c.site_id GROUP BY 1, 2""")}
    # parent(1000) and parent(100) on another thread in the first process; parent(10) in the fork.
    want = {(1, 'child()'): (1100, 2200, 1100 * 8192, 1100 * 8192),
            (1, 'parent(int)'): (2, 2200, 1100 * 8192, 0),
            (1, 'cFunctions()'): (1, 7, 100 + 200 + 10 + 1000 + 256 + 512 + 4096, 100 + 200 + 10 + 1000 + 256 + 512 + 4096),
            (1, 'allocateForOther()'): (1, 1, 4096, 4096),
            (0, 'child()'): (10, 20, 10 * 8192, 10 * 8192),
            (0, 'parent(int)'): (1, 20, 10 * 8192, 0)}
    for key, figures in want.items():
        expect(per_process.get(key) == figures, f'{key}: (calls, allocs, bytes, self bytes) {per_process.get(key)}, expected {figures}')
    # The exception: thrower() allocated 1000 bytes and the exception object (its size is the
    # C++ runtime's); catcher() holds them, and what catching allocated is its own.
    thrower, catcher = per_process[(1, 'thrower()')], per_process[(1, 'catcher()')]
    expect(thrower[1] >= 2 and thrower[2] > 1000 and catcher[2] >= thrower[2] and catcher[3] == catcher[2] - thrower[2],
           f'thrower {thrower}, catcher {catcher}')
    stats = dict(rows(db, 'SELECT s.signature, st.alloc_bytes FROM site_stats st JOIN sites s ON s.id = st.site_id'))
    expect(stats['child()'] == 1110 * 8192, f'site_stats {stats}')
    report = {r['function']: r for r in json.loads(scopeprof('report', '--format', 'json', '--by', 'alloc_bytes', db).stdout)}
    expect(report['child()']['allocs'] == 2220 and report['parent(int)']['self_alloc_bytes'] == 0, f'report {report}')
    table = scopeprof('report', '--by', 'allocs', db).stdout
    expect('alloc bytes' in table and '8.67 MiB' in table, table)


def scenario_memory_static(tmp):
    # The static runtime has no counting malloc: a warning, no allocation columns, and a clear
    # error for --by allocs.
    out = os.path.join(tmp, 'out')
    p = subprocess.run([WORKLOAD, 'calls', '10'], env=dict(os.environ, SCOPEPROF_OUT=out,
                                                        SCOPEPROF_COUNTERS='memory'),
                       capture_output=True, text=True)
    expect(p.returncode == 0 and 'SCOPEPROF_COUNTERS=memory' in p.stderr and 'not counted' in p.stderr, p.stderr)
    db = os.path.join(tmp, 'static.db')
    load(db, os.path.join(out, os.listdir(out)[0]))
    expect(one(db, 'SELECT count(*) FROM calls WHERE allocs IS NOT NULL') == 0, 'no allocation figures')
    p = scopeprof('report', '--by', 'allocs', db, expect_rc=2)
    expect('has no allocation counts' in p.stderr, p.stderr)
    expect('alloc' not in scopeprof('report', db).stdout, 'no allocation columns')


COUNTERS_WORKLOAD = os.path.join(os.path.dirname(WORKLOAD), 'runtime-counters-workload')


def counters_run(tmp, mode, env):
    """Runs test/runtime/CountersWorkload.cpp; returns its database and the usable sizes it printed."""
    out = os.path.join(tmp, 'out')
    p = subprocess.run([COUNTERS_WORKLOAD, mode], env=dict(os.environ, SCOPEPROF_OUT=out, SCOPEPROF_THROTTLE='0', **env),
                       capture_output=True, text=True)
    expect(p.returncode == 0 and 'warning' not in p.stderr, p.stderr)
    printed = {line.split()[0]: [int(x) for x in line.split()[1:]] for line in p.stdout.splitlines()}
    db = os.path.join(tmp, f'{mode}.db')
    load(db, os.path.join(out, os.listdir(out)[0]))
    return db, printed


def per_function(db):
    """signature -> (calls, allocs, alloc bytes, self alloc bytes, min peak, max peak, calls counted)"""
    return {r[0]: r[1:] for r in rows(db, """
        SELECT s.signature, count(*), sum(c.allocs), sum(c.alloc_bytes), sum(c.self_alloc_bytes),
               min(c.peak_bytes), max(c.peak_bytes), count(c.allocs)
        FROM calls c JOIN sites s ON s.id = c.site_id GROUP BY 1""")}


def scenario_memory_peak(tmp):
    # The peak of the thread's live bytes (usable sizes) during each call, above its start.
    db, printed = counters_run(tmp, 'peak', {'SCOPEPROF_COUNTERS': 'memory,cpu'})
    u1k, u3k, u5k, u4k = printed['usable']
    grow = printed['grow'][0]
    expect(u5k >= 5120 and grow >= u3k + 8192, f'usable sizes {printed}')
    got = per_function(db)
    want = {'leaf()': (12, 24, 12 * 8192, 12 * 8192, u5k, u5k, 12),
            # keeps 1 KiB while two leaf() calls each reach 5 KiB
            'holder()': (1, 5, 1024 + 2 * 8192, 1024, u1k + u5k, u1k + u5k, 1),
            'grow()': (1, 3, 3072 + 5120 + 8192, 3072 + 5120 + 8192, grow, grow, 1),
            # frees a block it did not allocate (on the main thread, and on another thread a
            # block the main thread allocated) before allocating 100 bytes: never above the start
            'freesFirst(char *)': (2, 2, 200, 200, 0, 0, 2),
            'allocateForOther()': (1, 1, 4096, 4096, u4k, u4k, 1)}
    for name, figures in want.items():
        expect(got.get(name) == figures, f'{name}: (calls, allocs, bytes, self, min peak, max peak, counted) '
                                         f'{got.get(name)}, expected {figures}')
    stats = {r[0]: r[1:] for r in rows(db, 'SELECT s.signature, st.peak_bytes, st.max_peak_bytes FROM site_stats st '
                                           'JOIN sites s ON s.id = st.site_id')}
    expect(stats['leaf()'] == (12 * u5k, u5k) and stats['holder()'] == (u1k + u5k, u1k + u5k), f'site_stats {stats}')
    view = one(db, "SELECT max(peak_bytes) FROM call_details WHERE function = 'holder()'")
    expect(view == u1k + u5k, f'call_details.peak_bytes {view}')
    report = {r['function']: r for r in json.loads(scopeprof('report', '--format', 'json', db).stdout)}
    expect(report['holder()']['max_peak_bytes'] == u1k + u5k, f'report {report["holder()"]}')
    expect('max peak' in scopeprof('report', '--by', 'allocs', db).stdout, 'the report has the column')


def scenario_counters_rules(tmp):
    # `counters memory function:counted*` in SCOPEPROF_RULES, no memory in SCOPEPROF_COUNTERS:
    # only countedParent() counts; what its uncounted child allocates is its own.
    rules = os.path.join(tmp, 'counters.rules')
    with open(rules, 'w') as f:
        f.write('counters memory function:counted*\n')
    check = scopeprof('rules', 'check', rules)
    db, printed = counters_run(tmp, 'rules', {'SCOPEPROF_COUNTERS': 'cpu', 'SCOPEPROF_RULES': rules})
    u5k = printed['usable'][2]
    got = per_function(db)
    expect(got['countedParent()'] == (10, 20, 10 * 8192, 10 * 8192, u5k, u5k, 10), f'countedParent() {got}')
    expect(got['uncountedChild()'] == (10, None, None, None, None, None, 0), f'uncountedChild() {got}')
    expect(got['leaf()'] == (1, None, None, None, None, None, 0), f'leaf() {got}')
    expect(one(db, 'SELECT count(*) FROM threads WHERE counts_memory = 1') == 1, 'the thread counted')
    # `counters cpu` is per thread: with SCOPEPROF_COUNTERS=none it turns the context-switch
    # tracking on for the process (every call then has its CPU time), and counts no memory.
    with open(rules, 'w') as f:
        f.write('counters cpu function:countedParent\n')
    cpu_tmp = os.path.join(tmp, 'cpu')
    os.makedirs(cpu_tmp)
    db, _ = counters_run(cpu_tmp, 'rules', {'SCOPEPROF_COUNTERS': 'none', 'SCOPEPROF_RULES': rules})
    tracked = one(db, 'SELECT count(*) FROM threads WHERE switches_since_ns IS NOT NULL')
    measured = rows(db, 'SELECT count(*), count(cpu_ns), count(allocs) FROM calls')[0]
    # (a call during which the kernel lost switch records has none: never more than one here)
    expect(tracked == 1 and measured[0] == 21 and measured[1] >= 20 and measured[2] == 0,
           f'tracked threads {tracked}; calls, with cpu_ns, with allocs: {measured}')
    # Malformed counters lines are refused with the place.
    with open(rules, 'w') as f:
        f.write('counters memory,disk function:x\n')
    p = scopeprof('rules', 'check', rules, expect_rc=1)
    expect("1:17: error: unknown counter 'disk' (expected memory, cpu or none)" in p.stderr, p.stderr)
    with open(rules, 'w') as f:
        f.write('counters memory trivial:x\n')
    p = scopeprof('rules', 'check', rules, expect_rc=1)
    expect('cannot use the trivial: selector' in p.stderr, p.stderr)


def scenario_counters_live(tmp):
    # Rules sent by `scopeprof ctl PID rules` switch counting on for work() in a running process:
    # its 10 calls before have no allocation figures, the 10 after exact ones.
    out = os.path.join(tmp, 'out')
    p = subprocess.Popen([COUNTERS_WORKLOAD, 'live'], env=dict(os.environ, SCOPEPROF_OUT=out, SCOPEPROF_THROTTLE='0',
                                                              SCOPEPROF_COUNTERS='cpu'),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        usable = [int(x) for x in p.stdout.readline().split()[1:]]
        expect(p.stdout.readline().strip() == 'ready', 'the workload is ready')
        before = json.loads(scopeprof('ctl', str(p.pid), 'status', '--format', 'json').stdout)
        expect(before['sites']['counting_memory'] == 0, f'status before: {before}')
        scopeprof('ctl', str(p.pid), 'rules', '-', stdin='counters memory function:work\n')
        after = json.loads(scopeprof('ctl', str(p.pid), 'status', '--format', 'json').stdout)
        expect(after['sites']['counting_memory'] == 1, f'status after: {after}')
        p.stdin.write('go\n')
        p.stdin.close()
        expect(p.wait(timeout=60) == 0, p.stderr.read())
    finally:
        if p.poll() is None:
            p.kill()
    db = os.path.join(tmp, 'live.db')
    load(db, os.path.join(out, os.listdir(out)[0]))
    u5k = usable[2]
    calls = rows(db, "SELECT c.allocs, c.alloc_bytes, c.self_alloc_bytes, c.peak_bytes FROM calls c "
                     "JOIN sites s ON s.id = c.site_id WHERE s.signature = 'work()' ORDER BY c.start_ns")
    want = [(None, None, None, None)] * 10 + [(2, 8192, 8192, u5k)] * 10
    expect(calls == want, f'work() calls: {calls}')
    expect(one(db, "SELECT count(c.allocs) FROM calls c JOIN sites s ON s.id = c.site_id "
                   "WHERE s.signature = 'leaf()'") == 0, 'leaf() not counted')
    expect(one(db, 'SELECT counts_memory FROM threads') == 1, 'the thread counted, though its log began before')


def scenario_diff_stalls(tmp):
    # The gate on a loaded machine: every head call 3% slower (a busier machine; the rank test
    # over thousands of calls calls that significant) and one call per head run stalled for
    # 5 ms (preempted). Not a regression: the stalls count as the function's own long calls
    # only up to a cap, and 3% is under the threshold. Every call 20% slower is one, named.
    def side(name, ns, stall_ns=0):
        db = os.path.join(tmp, name + '.db')
        for r in range(3):
            run = os.path.join(tmp, name, f'run-{name}-{r}')
            calls = [(0, 0, 2000 * i, 2000 * i + ns, False) for i in range(10000)]
            if stall_ns:
                calls.append((0, 0, 2000 * 10000, 2000 * 10000 + stall_ns, False))
            log_file(os.path.join(run, '1-1.splog'), batch(site_entry(0, 'f()'), calls_entry(calls)),
                     run=f'run-{name}-{r}')
            load(db, run)
        return db
    base = side('base', 1000)
    loaded = side('loaded', 1030, stall_ns=5_000_000)
    p = scopeprof('diff', base, loaded, expect_rc=None)
    expect(p.returncode == 0, f'stalls and a 3% shift are noise: {p.returncode}\n{p.stdout}{p.stderr}')
    expect('weak verdict' not in p.stdout, p.stdout)
    p = scopeprof('diff', f'{base}:1', f'{loaded}:1', expect_rc=None)
    expect('A weak verdict: with one run on a side' in p.stdout, f'one run a side is said to be weak:\n{p.stdout}')
    slower = side('slower', 1200)
    p = scopeprof('diff', base, slower, expect_rc=1)
    expect('f()' in p.stdout, p.stdout)


def load_calls(db, run, names, calls, **header):
    """One thread's log of these functions (site i is names[i]) and calls, in the run directory
    `run` (its name is the run's), loaded into db."""
    log_file(os.path.join(run, '1-1.splog'),
             batch(*[site_entry(i, n) for i, n in enumerate(names)], calls_entry(calls)),
             run=os.path.basename(run), **header)
    load(db, run)


def scenario_diff_deep_regression(tmp):
    # x() takes twice as long in head; its four callers (a, b, c, d) take as long as before on
    # their own, but their calls are longer by x's change: the machine factor must come from
    # the functions' own time, or the callers outvote the unrelated e() and the regression is
    # divided away as "the machine was slower".
    def side(name, x_ns):
        db = os.path.join(tmp, name + '.db')
        for r in range(3):
            run = os.path.join(tmp, name, f'run-{name}-{r}')
            calls, t = [], 0
            for _ in range(100):
                x_end = t + 6000 + x_ns
                calls.append((4, 4, t + 6000, x_end, False))
                for depth in (3, 2, 1, 0):
                    calls.append((depth, depth, t + 1500 * depth, x_end + 4 - depth, False))
                t = x_end + 100
                calls.append((5, 0, t, t + 2000, False))
                t += 2100
            load_calls(db, run, ['a()', 'b()', 'c()', 'd()', 'x()', 'e()'], calls)
        return db
    base, same, head = side('base', 20_000), side('same', 20_000), side('head', 40_000)
    p = scopeprof('diff', base, same, expect_rc=None)
    expect(p.returncode == 0, f'identical sides: {p.returncode}\n{p.stdout}{p.stderr}')
    p = scopeprof('diff', base, head, expect_rc=1)
    lines = p.stdout.splitlines()
    expect('machine factor, head 1.000 of base' in lines[0], p.stdout)
    first = lines[lines.index('Regressions:') + 2]
    expect(first.startswith('x() '), f'x() is the first regression:\n{p.stdout}')


def scenario_diff_voters(tmp):
    # Identical work except that three short functions called ten times a run take 15% less in
    # head (where code happens to sit moves such calls): they do not vote on the machine factor,
    # so work() is compared as measured and passes. And a regressed r() is ranked before work(),
    # whose head calls hold a few preemptions (its own time grew by stalls, capped).
    def side(name, short_ns, r_ns, stall_ns):
        db = os.path.join(tmp, name + '.db')
        for run_no in range(3):
            run = os.path.join(tmp, name, f'run-{name}-{run_no}')
            calls, t = [], 0
            for i in range(1000):
                length = 20_000 + (stall_ns if i % 250 == 0 else 0)
                calls.append((0, 0, t, t + length, False))
                t += length + 100
                calls.append((4, 0, t, t + r_ns, False))
                t += r_ns + 100
            for _ in range(10):
                for s in (1, 2, 3):
                    calls.append((s, 0, t, t + short_ns, False))
                    t += short_ns + 100
            load_calls(db, run, ['work()', 'short1()', 'short2()', 'short3()', 'r()'], calls)
        return db
    base = side('base', 200, 2000, 0)
    same = side('same', 170, 2000, 0)
    p = scopeprof('diff', base, same, expect_rc=None)
    expect(p.returncode == 0 and 'raw times' in p.stdout.splitlines()[0],
           f'short functions moved the machine factor:\n{p.stdout}{p.stderr}')
    head = side('head', 200, 4000, 4_000_000)
    p = scopeprof('diff', base, head, expect_rc=1)
    lines = p.stdout.splitlines()
    expect(lines[lines.index('Regressions:') + 2].startswith('r() '), p.stdout)


def scenario_diff_sampling_error(tmp):
    # x() is throttled: 1000 calls a run recorded, then 16 drawn ones standing for 64 each. In
    # head every call is 5% longer (the rank test sees that in 3000 calls) and one drawn call a
    # run met a 10 us interrupt; weighted 64, the interrupt makes the total 30% larger in every
    # run. That is within the sampling error of the drawn calls' mean: noise. Every call five
    # times as long is beyond it.
    def side(name, x_ns, interrupt_ns):
        db = os.path.join(tmp, name + '.db')
        for r in range(3):
            run = os.path.join(tmp, name, f'run-{name}-{r}')
            calls, t = [], 0
            for i in range(1016):
                length = x_ns + (interrupt_ns if i == 1015 else 0)
                calls.append((0, 0, t, t + length, False, i >= 1000))
                t += length + 1000
            log_file(os.path.join(run, '1-1.splog'),
                     batch(site_entry(0, 'x()'), calls_entry(calls)),
                     run=f'run-{name}-{r}', sample_period=64)
            load(db, run)
        return db
    base, head = side('base', 1000, 0), side('head', 1050, 9_000)
    p = scopeprof('diff', '--format', 'json', '--min-time', '100us', base, head, expect_rc=0)
    x = json.loads(p.stdout)['functions'][0]
    expect(x['p_value'] < 0.01 and x['change_pct'] > 20 and not x['beyond_noise'] and
           x['change_ns'] < 3 * x['sampling_error_ns'], p.stdout)
    scopeprof('diff', '--min-time', '100us', base, side('slow', 5000, 0), expect_rc=1)


def scenario_diff_sampled_regression(tmp):
    # x() is sampled (1 call in 64 recorded) and twice as long in head; its unrecorded calls are
    # in the own time of its four callers' calls, which therefore cannot vote on the machine
    # factor (nor can x, with six recorded calls a side): the unrelated e1..e3 decide it, and
    # the regression stays one.
    def side(name, x_ns):
        db = os.path.join(tmp, name + '.db')
        for r in range(3):
            run = os.path.join(tmp, name, f'run-{name}-{r}')
            calls, t = [], 0
            for i in range(128):
                for p in range(4):
                    if i % 64 == p:
                        calls.append((4, 1, t + 150, t + 150 + x_ns, False, True))
                    calls.append((p, 0, t, t + 151 + x_ns, False))
                    t += 300 + x_ns
                for e in range(5, 8):
                    calls.append((e, 0, t, t + 1000, False))
                    t += 1100
            load_calls(db, run, ['p1()', 'p2()', 'p3()', 'p4()', 'x()', 'e1()', 'e2()', 'e3()'], calls,
                       sample_period=64)
        return db
    base, head = side('base', 20_000), side('head', 40_000)
    p = scopeprof('diff', base, head, expect_rc=1)
    lines = p.stdout.splitlines()
    expect('machine factor, head 1.000 of base, from 3 functions' in lines[0], p.stdout)
    expect(lines[lines.index('Regressions:') + 2].startswith('x() '), p.stdout)


def splits_of_six(db):
    """Every way to take three of a database's six runs as base and the other three as head."""
    for base_runs in itertools.combinations(range(1, 7), 3):
        head_runs = [r for r in range(1, 7) if r not in base_runs]
        yield base_runs, f'{db}:{",".join(map(str, base_runs))}', f'{db}:{",".join(map(str, head_runs))}'


def scenario_diff_run_speed(tmp):
    # A shared machine changes speed from run to run, not only from side to side: beside a busy
    # loop, runs of one build of the example fell into two groups, every function's calls 1.8
    # times as long in one. Each run is judged at its own speed, so identical sides pass
    # however the six runs are split, and r() 1.6 times as long in head (its runs all fast) is
    # a regression against every choice of base runs, slow and fast mixed. But not every
    # function changes speed with the machine: u() takes as long in every run (one in 20 of its
    # calls stalled in run 5), and divided by the fast runs' factors it would look 1.8 times as
    # long in runs 4 and 6, and as slow as run 5's stalls made it there: a regression of runs
    # 4, 5, 6 against 1, 2, 3.
    import random
    def side(name, speeds, r_ns, stalled=None):
        db = os.path.join(tmp, name + '.db')
        rng = random.Random(name)
        for run_no, speed in enumerate(speeds):
            run = os.path.join(tmp, name, f'run-{name}-{run_no}')
            calls, t = [], 0
            for i in range(1000):
                for site, ns, follows in ((0, 5000, 1), (1, 2000, 1), (2, 800, 1), (3, r_ns, 1), (4, 1500, 0)):
                    length = int(ns * (speed if follows else 1) * rng.uniform(0.9, 1.1))
                    if site == 4 and stalled == run_no and i % 20 == 0:
                        length *= 15
                    calls.append((site, 0, t, t + length, False))
                    t += length + 100
            load_calls(db, run, ['w1()', 'w2()', 'w3()', 'r()', 'u()'], calls)
        return db
    same = side('same', [1.8, 1.8, 1.8, 1.0, 1.8, 1.0], 2000, stalled=4)
    slow = side('slow', [1.0, 1.0, 1.0], 3200)
    for base_runs, base, head in splits_of_six(same):
        p = scopeprof('diff', base, head, expect_rc=None)
        expect(p.returncode == 0, f'runs {base_runs} of one build against the others:\n{p.stdout}')
        p = scopeprof('diff', base, slow, expect_rc=None)
        lines = p.stdout.splitlines()
        expect(p.returncode == 1 and lines[lines.index('Regressions:') + 2].startswith('r() '),
               f'base runs {base_runs}: r() is not the regression:\n{p.stdout}')


def scenario_diff_sampled_counts(tmp):
    # r() is throttled: 1000 calls a run recorded, then drawn ones standing for 64 each, as many
    # as chance draws (±8% a run here, like the runtime's independent 1-in-64 draws), so its
    # call count and total are estimates; one base run's drawn call met a stall. Its runs are
    # compared by their mean time of a call: every call half as long again in head is a
    # regression against every choice of base runs, while the totals' spread (2.5 ms between
    # base runs, 4 ms between head runs) would hide the 5 ms change.
    def side(name, drawn_counts, r_ns, stall_run=None):
        db = os.path.join(tmp, name + '.db')
        for run_no, drawn in enumerate(drawn_counts):
            run = os.path.join(tmp, name, f'run-{name}-{run_no}')
            calls, t = [], 0
            for i in range(1000 + drawn):
                length = r_ns + (i * 37 % 101) + (15_000 if run_no == stall_run and i == 1500 else 0)
                calls.append((0, 0, t, t + length, False, i >= 1000))
                t += length + 1000
            load_calls(db, run, ['r()'], calls, sample_period=64)
        return db
    same = side('same', [140, 160, 180, 150, 170, 145], 1000, stall_run=2)
    slow = side('slow', [130, 175, 150], 1500)
    for base_runs, base, head in splits_of_six(same):
        p = scopeprof('diff', base, head, expect_rc=None)
        expect(p.returncode == 0, f'runs {base_runs} of one build against the others:\n{p.stdout}')
        scopeprof('diff', base, slow, expect_rc=1)


def scenario_diff_cut(tmp):
    # r() is cut off (CPU samples on): its calls recorded up to the cut, then its time is CPU
    # samples of 1 ms each. Runs of one build cut it at 1000 or 1500 calls, as the writer
    # happened to see it, and the samples after the cut were as many as chance made them: the
    # runs with more calls also have more time, and split by cut, the totals separate by 50%
    # and the counts by 50%, but a cut-off count is no change of how often r() is called, and
    # its calls took as long: no regression. Every call three times as long in head is one
    # against every choice of base runs, though a handful of samples spread its head totals
    # from 7 to 12 ms: the mean of the calls recorded before the cut separates the runs.
    def side(name, runs, r_ns):
        db = os.path.join(tmp, name + '.db')
        for run_no, (recorded, samples) in enumerate(runs):
            run = os.path.join(tmp, name, f'run-{name}-{run_no}')
            calls, t = [], 0
            for i in range(recorded):
                length = r_ns + (i * 37 % 101)
                calls.append((0, 0, t, t + length, False))
                t += length + 1000
            cut = b'\x08' + struct.pack('<IQQ', 0, recorded, t)
            sampled = cpu_samples_entry([(0, None, 1, t + 1_000_000 * (k + 1)) for k in range(samples)])
            log_file(os.path.join(run, '1-1.splog'), batch(site_entry(0, 'r()'), calls_entry(calls), cut, sampled),
                     run=f'run-{name}-{run_no}', cpu_sample_ns=1_000_000)
            load(db, run)
        return db
    same = side('same', [(1000, 2), (1500, 3)] * 3, 1000)
    expect(rows(same, 'SELECT DISTINCT sampled FROM throttled') == [(0,)], 'cut off, not sampled')
    slow = side('slow', [(1000, 6), (1000, 9), (1000, 4)], 3000)
    for base_runs, base, head in splits_of_six(same):
        p = scopeprof('diff', base, head, expect_rc=None)
        expect(p.returncode == 0, f'runs {base_runs} of one build against the others:\n{p.stdout}')
    for base_runs, base, _ in splits_of_six(same):
        p = scopeprof('diff', base, slow, expect_rc=None)
        expect(p.returncode == 1 and 'r() ' in p.stdout.split('Regressions:')[-1],
               f'base runs {base_runs}: r() is not a regression:\n{p.stdout}')
    # Calls 2% longer in every head run (the rank test sees that) and a few more samples after
    # the cut, within their chance: the total looks 60% larger, but neither the calls nor the
    # samples say it is.
    slightly = side('slightly', [(1000, 4), (1000, 3), (1000, 5)], 1020)
    p = scopeprof('diff', '--format', 'json', f'{same}:1,3,5', slightly, expect_rc=0)
    r = json.loads(p.stdout)['functions'][0]
    expect(r['p_value'] < 0.01 and r['change_pct'] > 50 and r['verdict'] == 'unchanged' and
           r['change_ns'] < 3 * r['sampling_error_ns'], f'a 2% slower r(): {r}')


def scenario_diff_disjoint(tmp):
    # Sides that share too little are refused (exit 2, saying why), never passed: disjoint
    # keys (the root moved, another program), and a match that holds a sliver of the time.
    def side(name, sites):
        db = os.path.join(tmp, name + '.db')
        run = os.path.join(tmp, name, 'run-' + name)
        entries = [site_entry(i, sig, key=key) for i, (sig, key, ns) in enumerate(sites)]
        calls = [(i, 0, 1_000_000 * i + 2000 * c, 1_000_000 * i + 2000 * c + ns, False)
                 for i, (sig, key, ns) in enumerate(sites) for c in range(100)]
        log_file(os.path.join(run, '1-1.splog'), batch(*entries, calls_entry(calls)), run='run-' + name)
        load(db, run)
        return db
    base = side('base', [('x.cc::f()', 0x1111, 1000)])
    moved = side('moved', [('src/x.cc::f()', 0x2222, 1000)])
    p = scopeprof('diff', base, moved, expect_rc=2)
    expect('share too little to compare: 0 function(s) in both' in p.stderr and 'root' in p.stderr,
           p.stderr)
    big = side('big', [('f()', 0x1111, 100), ('g()', 0x3333, 1500)])
    p = scopeprof('diff', big, base, expect_rc=2)
    expect('1 function(s) in both, holding 6% of the base' in p.stderr, p.stderr)
    p = scopeprof('diff', base, big, expect_rc=None)
    expect(p.returncode in (0, 1), f'all of base matched: compared\n{p.stdout}{p.stderr}')


def scenario_suggest(tmp):
    # Crafted costs (inner 5 ns, outer 20 ns a call): leaf() spends 20% of its own time on its
    # scope, mid() 2%, exact() 0.002%; the verdicts and reasons follow from those numbers alone
    # (a real run's would depend on the machine's load).
    run = os.path.join(tmp, 'suggest', 'run-suggest')
    sites = [('leaf(int)', 1000, 105), ('mid(int)', 100, 1005), ('exact(int, int, int)', 10, 1_000_005)]
    calls, t = [], 0
    for i, (sig, n, ns) in enumerate(sites):
        for _ in range(n):
            calls.append((i, 0, t, t + ns, False))
            t += ns + 100
    log_file(os.path.join(run, '1-1.splog'),
             batch(*[site_entry(i, sig) for i, (sig, n, ns) in enumerate(sites)], calls_entry(calls)),
             run='run-suggest', scope_ps=(5000, 20000))
    db = os.path.join(tmp, 'suggest.db')
    load(db, run)

    def suggested(budget):
        rules_file = os.path.join(tmp, f'suggested-{budget}.rules')
        p = scopeprof('rules', 'suggest', '--budget', budget, '-o', rules_file, db)
        text = open(rules_file).read()
        excluded = [l[len('exclude signature:'):] for l in text.splitlines() if l.startswith('exclude ')]
        for line in text.splitlines():
            expect(line.startswith('# ') or line.startswith('exclude signature:'), f'line {line!r}')
        expect(text.count('\n# ') == len(excluded) + 2, f'a reason per rule:\n{text}')
        expect(f'{len(excluded)} function(s) excluded, {3 - len(excluded)} kept' in p.stderr
               and '20.0 ns per recorded call' in p.stderr, p.stderr)
        return rules_file, text, excluded

    rules_file, text, excluded = suggested('5')
    expect(excluded == ['leaf(int)'], f'budget 5%:\n{text}')
    expect('# 1000 calls x 20 ns = ' in text and '(20%)' in text, f'the reason is the arithmetic:\n{text}')
    scopeprof('rules', 'check', rules_file)
    m = scopeprof('rules', 'match', rules_file, '--signature', 'leaf(int)').stdout
    expect(m.startswith('exclude'), m)
    m = scopeprof('rules', 'match', rules_file, '--signature', 'exact(int, int, int)').stdout
    expect(m.startswith('include'), m)
    _, text, excluded = suggested('1')
    expect(excluded == ['leaf(int)', 'mid(int)'], f'budget 1%, costliest first:\n{text}')
    _, text, excluded = suggested('25')
    expect(excluded == [], f'budget 25%:\n{text}')
    _, text, excluded = suggested('0.001')
    expect(excluded == ['leaf(int)', 'mid(int)', 'exact(int\\, int\\, int)'], f'budget 0.001%:\n{text}')

    p = scopeprof('rules', 'suggest', '--budget', 'x', db, expect_rc=2)
    expect("--budget needs a percentage above 0, not 'x'" in p.stderr, p.stderr)
    p = scopeprof('rules', 'suggest', os.path.join(tmp, 'missing.db'), expect_rc=2)
    expect('missing.db' in p.stderr, p.stderr)
    p = scopeprof('rules', 'suggest', '-o', os.path.join(tmp, 'no', 'dir', 'x.rules'), db, expect_rc=1)
    expect('no/dir/x.rules' in p.stderr and not os.path.exists(os.path.join(tmp, 'no')), p.stderr)
    # A log that carries no measured scope cost cannot be judged: said, nothing written.
    old = os.path.join(tmp, 'old', 'run-old')
    log_file(os.path.join(old, '1-1.splog'), batch(site_entry(0, 'f()'), calls_entry(leaf_calls(10))),
             run='run-old')
    old_db = os.path.join(tmp, 'old.db')
    load(old_db, old)
    out = os.path.join(tmp, 'old.rules')
    p = scopeprof('rules', 'suggest', '-o', out, old_db, expect_rc=None)
    expect(p.returncode != 0 and 'has no measured cost per call' in p.stderr and not os.path.exists(out),
           f'{p.returncode}: {p.stderr}')


# Crafted logs (docs/log-format.md): every byte known, for damage no real run leaves on demand.
_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def frame(kind, payload, crc=None):
    return struct.pack('<IIII', 0x52465053, kind, len(payload), crc32c(payload) if crc is None else crc) + payload


def header_payload(run='run-crafted', pid=1, tid=1, nonce=None, calibration_ns=1000, sample_period=None,
                   scope_ps=None, counts_memory=False, switches_since=None, cpu_sample_ns=None,
                   throttled_call_ps=None):
    def entry(key, value):
        if isinstance(value, int):
            value = struct.pack('<Q', value)
        elif isinstance(value, str):
            value = value.encode()
        return struct.pack('<HI', key, len(value)) + value
    out = (entry(1, pid) + entry(2, 0) + entry(3, tid) + entry(4, 'crafted') + entry(9, 'monotonic') +
           entry(10, calibration_ns) + entry(11, calibration_ns) + entry(12, 10**9) + entry(13, run) +
           entry(14, 1700000000 * 10**9))
    return (out + (entry(21, nonce) if nonce is not None else b'') +
            (entry(23, sample_period) if sample_period is not None else b'') +
            (entry(17, scope_ps[0]) + entry(18, scope_ps[1]) if scope_ps is not None else b'') +
            (entry(25, 1) if counts_memory else b'') +
            (entry(22, switches_since) if switches_since is not None else b'') +
            (entry(27, cpu_sample_ns) if cpu_sample_ns is not None else b'') +
            (entry(28, throttled_call_ps) if throttled_call_ps is not None else b''))


def text(s):
    s = s.encode() if isinstance(s, str) else s
    return struct.pack('<I', len(s)) + s


def site_entry(index, signature, line=1, key=None):
    key = 0x1000 + index if key is None else key
    return b'\x01' + struct.pack('<IQII', index, key, line, 1) + text(signature) + text('crafted.cpp')


def calls_entry(records):
    """records: (site index, depth, start ns, end ns, broken[, sampled])."""
    return b'\x02' + struct.pack('<I', len(records)) + b''.join(
        struct.pack('<QQQ', r[0] | r[1] << 32 | (1 << 48 if r[4] else 0) | (1 << 50 if r[5:] and r[5] else 0),
                    r[2], r[3])
        for r in records)


def memory_calls(calls):
    """calls: (site index, depth, start ns, end ns, allocs, bytes[, sampled]), in the order they
    ended: each call's counts (entry 10) right before its record, as the runtime writes them."""
    return b''.join(struct.pack('<BQQ', 10, c[4], c[5]) + calls_entry([(c[0], c[1], c[2], c[3], False, *c[6:])])
                    for c in calls)


def cpu_samples_entry(samples):
    """samples: (innermost site index, innermost recorded site index or None, weight, ns)."""
    return b'\x0d' + struct.pack('<I', len(samples)) + b''.join(
        struct.pack('<IIIQ', site, 0xffffffff if recorded is None else recorded, weight, at)
        for site, recorded, weight, at in samples)


def cpu_samples_at_entry(samples):
    """samples: (innermost site index, innermost recorded site index or None, weight, ns, address),
    with no stack."""
    return b'\x0f' + struct.pack('<I', len(samples)) + b''.join(
        struct.pack('<IIIQQQQI', site, 0xffffffff if recorded is None else recorded, weight, at, address, 0, 0, 0)
        for site, recorded, weight, at, address in samples)


def module_entry(start, end, path, offset=0, mtime_ns=0, size=0):
    return b'\x0e' + struct.pack('<QQQQQ', start, end, offset, mtime_ns, size) + text(path)


def exception_entry(kind, message):
    return b'\x03' + text(kind) + text(message)


def batch(*entries, anchor=0, anchor_ns=None):
    return frame(2, struct.pack('<QQ', anchor, anchor if anchor_ns is None else anchor_ns) + b''.join(entries))


def log_file(path, *batches, **header):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(b'SCOPEPRF' + struct.pack('<II', 1, 0) + frame(1, header_payload(**header)) + b''.join(batches))


def leaf_calls(n, start=0):
    """n sequential depth-0 calls of site 0, 10 ns each."""
    return [(0, 0, start + 20 * i, start + 20 * i + 10, False) for i in range(n)]


def frames_of(data):
    """(offset, length) of every frame of a log file's bytes."""
    out, offset = [], 16
    while offset + 16 <= len(data):
        size = struct.unpack_from('<I', data, offset + 8)[0]
        out.append((offset, 16 + size))
        offset += 16 + size
    return out


def rewrite_header(path, **values):
    """Sets header keys of a real log (run=NAME: key 13, nonce=N: key 21), fixing the checksum."""
    data = open(path, 'rb').read()
    (offset, length), *_ = frames_of(data)
    payload, pos, entries = data[offset + 16:offset + length], 0, []
    while pos < len(payload):
        key, size = struct.unpack_from('<HI', payload, pos)
        entries.append((key, payload[pos + 6:pos + 6 + size]))
        pos += 6 + size
    new = {13: values['run'].encode()} if 'run' in values else {}
    if 'nonce' in values:
        new[21] = struct.pack('<Q', values['nonce'])
    entries = [(k, v) for k, v in entries if k not in new] + list(new.items())
    payload = b''.join(struct.pack('<HI', k, len(v)) + v for k, v in entries)
    open(path, 'wb').write(data[:offset] + frame(1, payload) + data[offset + length:])


def scenario_deep_exception(tmp):
    """One exception unwinding 4000 scopes: stored once, with a bounded traceback, not once per
    broken call (that grew with the square of the depth: 590 MB from 108 KB of logs)."""
    depth = 4000
    run = os.path.join(tmp, 'run-deep')
    # Innermost first, as they end; each call encloses the one below it.
    records = [(0, d, d, 2 * depth - d, True) for d in reversed(range(depth))]
    log_file(os.path.join(run, '1-1.splog'),
             batch(site_entry(0, 'recurse(int)', 7), exception_entry('std::runtime_error', 'bottom'),
                   calls_entry(records)), run='run-deep')
    db = os.path.join(tmp, 'deep.db')
    load(db, run)
    size = os.path.getsize(db)
    expect(size < 3 * 2**20, f'{depth} broken calls made a {size}-byte database')
    exc = rows(db, 'SELECT id, type, message, traceback, frames FROM exceptions')
    expect(len(exc) == 1, f'{len(exc)} exceptions stored')
    eid, kind, message, tb, frames = exc[0]
    lines = tb.split('\n')
    expect(kind == 'std::runtime_error' and message == 'bottom' and frames == depth, f'{exc[0][1:3]} {frames}')
    expect(len(lines) == 101 and lines[50] == f'... {depth - 100} more frames ...' and
           lines[0] == lines[-1] == 'recurse(int) (crafted.cpp:7)', f'traceback of {len(lines)} lines: {lines[48:53]}')
    expect(one(db, 'SELECT count(*) FROM calls WHERE broken AND exception_id = ?', eid) == depth, 'calls point at it')
    expect(one(db, 'SELECT min(id) FROM calls WHERE broken') == eid, 'the id of its innermost call')
    errors = json.loads(scopeprof('report', '--errors', '--format', 'json', db).stdout)
    expect(len(errors) == 1 and errors[0]['traceback'] == tb and errors[0]['thrown_in'] == lines[0], f'{errors}')
    expect(f'{depth} scopes' in scopeprof('report', '--errors', db).stdout, 'the whole depth in the table')
    detail = rows(db, 'SELECT error_type, error_message, traceback FROM call_details WHERE broken LIMIT 1')
    expect(detail == [('std::runtime_error', 'bottom', tb)], f'call_details {detail}')
    # Loaded in two parts (a run still being written): still one exception, whole.
    half = os.path.join(tmp, 'half', 'run-deep')
    log_file(os.path.join(half, '1-1.splog'),
             batch(site_entry(0, 'recurse(int)', 7), exception_entry('std::runtime_error', 'bottom'),
                   calls_entry(records[:depth // 2])), run='run-deep')
    db2 = os.path.join(tmp, 'deep2.db')
    load(db2, half)
    with open(os.path.join(half, '1-1.splog'), 'ab') as f:
        f.write(batch(calls_entry(records[depth // 2:])))
    load(db2, half)
    got = rows(db2, 'SELECT traceback, frames FROM exceptions')
    expect(got == [(tb, depth)] and one(db2, 'SELECT count(DISTINCT exception_id) FROM calls WHERE broken') == 1,
           f'incremental: {[(t.count(chr(10)), f) for t, f in got]}')


def scenario_schema_migration(tmp):
    """A version 2 database (written by the scopeprof before exceptions were stored once) is
    migrated: report --errors says what it said."""
    inputs = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'Inputs')
    db = os.path.join(tmp, 'v2.db')
    shutil.copy(os.path.join(inputs, 'schema-v2.db'), db)
    p = scopeprof('report', db, expect_rc=2)
    expect('schema version 2, older than this scopeprof reads' in p.stderr, p.stderr)
    run = os.path.join(tmp, 'run-other')
    # A profile case from 15 to 40 ns: of the calls at 0, 20 and 40, the one at 20 is its.
    case = b'\x0b' + struct.pack('<QQII', 15, 40, 1, 0) + text('Suite::name')
    log_file(os.path.join(run, '1-1.splog'), batch(site_entry(0, 'f()'), calls_entry(leaf_calls(3)), case), run='run-other')
    load(db, run)
    expect(one(db, 'PRAGMA user_version') == 11, 'migrated to version 11')
    expect(one(db, "SELECT count(*) FROM pragma_table_info('throttled') WHERE name = 'sampled'") == 1,
           'throttled says how each cut went')
    expect(one(db, "SELECT count(*) FROM pragma_table_info('cpu_samples') WHERE name IN ('address', 'by_address', 'in_scopeprof')") == 3,
           'cpu_samples has the address columns')
    expect(rows(db, 'SELECT c.start_ns, k.name FROM calls c JOIN cases k ON k.id = c.case_id') == [(20, 'Suite::name')],
           f'a new run\'s case in a migrated database: {rows(db, "SELECT * FROM cases")}')
    expect(one(db, 'SELECT count(*) FROM calls WHERE case_id IS NOT NULL AND run_id = 1') == 0, 'calls of before: no case')
    expect(one(db, 'SELECT count(*) FROM calls WHERE cpu_ns IS NOT NULL') == 0, 'calls of before: no cpu time')
    expect(one(db, 'SELECT count(*) FROM calls WHERE allocs IS NOT NULL') == 0, 'calls of before: no allocations')
    expect(one(db, 'SELECT count(*) FROM threads WHERE cpu_sample_ns IS NOT NULL') == 0, 'threads of before: not sampled')
    before = json.load(open(os.path.join(inputs, 'schema-v2-errors.json')))
    after = json.loads(scopeprof('report', '--errors', '--run', '1', '--format', 'json', db).stdout)
    key = lambda e: (e['type'], e['traceback'])
    expect(sorted(after, key=key) == sorted(before, key=key), f'report --errors after migration:\n{after}\nbefore:\n{before}')
    expect(one(db, 'SELECT count(*) FROM calls WHERE broken AND exception_id IS NULL') == 0, 'every broken call linked')
    expect(rows(db, 'SELECT name, logged_name, nonce FROM runs ORDER BY id')[1] == ('run-other', 'run-other', None), 'runs')
    cols = [r[1] for r in rows(db, 'PRAGMA table_info(calls)')]
    expect('traceback' not in cols and 'exception_id' in cols and 'cpu_ns' in cols and 'weight' in cols,
           f'calls columns {cols}')
    expect(one(db, 'SELECT count(*) FROM calls WHERE weight != 1') == 0, 'calls of old runs stand for themselves')


def scenario_clock_mapping(tmp):
    """A time written a second later than the calls around it lands where they did. setUp's call
    at ticks P is in the batch written 50 ms later; its case, starting 100 ticks after P, is
    written a second later (cases are written when they end), with a call 200 ticks after P.
    Batches come every 100 ms, and the anchor of the one before the case's is 1 us off (the
    runtime reads an anchor's two clocks one after the other). Extrapolating back from each
    batch's own anchor, at the rate of its last 100 ms, multiplied that microsecond by ten: the
    case start landed 10 us early (before setUp's call, which was then tagged with the case)
    or late. Through the anchors, it is where its ticks say, whatever the error's sign."""
    P = 1_050_000_000
    case = b'\x0b' + struct.pack('<QQII', P + 100, P + 1000, 1, 0) + text('Suite::name')
    for error in (-1000, 1000):
        run = os.path.join(tmp, f'run-clock{error}')
        batches = [batch(site_entry(0, 'setUp()'), site_entry(1, 'inCase()'), anchor=1_000_000_000),
                   batch(calls_entry([(0, 0, P, P + 50, False)]), anchor=1_100_000_000)]
        batches += [batch(anchor=t * 100_000_000) for t in range(12, 20)]
        batches += [batch(anchor=2_000_000_000, anchor_ns=2_000_000_000 + error),
                    batch(calls_entry([(1, 0, P + 200, P + 300, False)]), case, anchor=2_100_000_000)]
        log_file(os.path.join(run, '1-1.splog'), *batches, run='run-clock')
        db = os.path.join(tmp, f'clock{error}.db')
        load(db, run)
        got = rows(db, 'SELECT s.signature, c.start_ns, c.end_ns, k.name FROM calls c JOIN sites s ON s.id = c.site_id '
                       'LEFT JOIN cases k ON k.id = c.case_id ORDER BY c.start_ns')
        start = one(db, 'SELECT start_ns FROM cases')
        expect([(name, case) for name, _, _, case in got] == [('setUp()', None), ('inCase()', 'Suite::name')],
               f'anchor {error} ns off: calls against the case starting at {start} ns: {got}')
        expect(all(abs(ns - want) <= 10 and end - ns == 50 + 50 * i
                   for i, ((_, ns, end, _), want) in enumerate(zip(got, (P, P + 200)))) and abs(start - P - 100) <= 10,
               f'anchor {error} ns off: times as their ticks say: {got}, case at {start}')


def scenario_run_nonce(tmp):
    """Two runs with one name (the same second, pid 1 in two containers) stay two runs."""
    a, b = os.path.join(tmp, 'a', 'run-same'), os.path.join(tmp, 'b', 'run-same')
    log_file(os.path.join(a, '1-1.splog'), batch(site_entry(0, 'f()'), calls_entry(leaf_calls(10))), run='run-same', nonce=111)
    log_file(os.path.join(b, '1-1.splog'), batch(site_entry(0, 'f()'), calls_entry(leaf_calls(20))), run='run-same', nonce=222)
    db = os.path.join(tmp, 'n.db')
    p = load(db, a, b)
    expect("stored as 'run-same~2'" in p.stderr and b in p.stderr, p.stderr)
    expect(rows(db, 'SELECT r.name, count(c.id) FROM runs r JOIN calls c ON c.run_id = r.id GROUP BY 1 ORDER BY 1') ==
           [('run-same', 10), ('run-same~2', 20)], f'{rows(db, "SELECT * FROM runs")}')
    before = rows(db, 'SELECT * FROM calls ORDER BY id')
    load(db, b, a)
    expect(rows(db, 'SELECT * FROM calls ORDER BY id') == before, 'reloading adds nothing')
    # A file of the first run, found elsewhere, joins it.
    c = os.path.join(tmp, 'c', 'run-same')
    log_file(os.path.join(c, '2-2.splog'), batch(site_entry(0, 'f()'), calls_entry(leaf_calls(5))),
             run='run-same', nonce=111, pid=2, tid=2)
    load(db, c)
    expect(rows(db, 'SELECT r.name, count(c.id) FROM runs r JOIN calls c ON c.run_id = r.id GROUP BY 1 ORDER BY 1') ==
           [('run-same', 15), ('run-same~2', 20)], 'the same nonce is the same run')
    # Two real runs given one name.
    runs = []
    for i in range(2):
        out = os.path.join(tmp, f'real{i}')
        subprocess.run([WORKLOAD, 'timed', '1'], env=dict(os.environ, SCOPEPROF_OUT=out), check=True, capture_output=True)
        src = os.path.join(out, os.listdir(out)[0])
        dst = os.path.join(out, 'run-real')
        os.rename(src, dst)
        for f in os.listdir(dst):
            rewrite_header(os.path.join(dst, f), run='run-real', nonce=1000 + i)
        runs.append(dst)
    db = os.path.join(tmp, 'real.db')
    load(db, *runs)
    got = rows(db, 'SELECT r.name, count(c.id) FROM runs r JOIN calls c ON c.run_id = r.id GROUP BY 1 ORDER BY 1')
    expect(got == [('run-real', dumped_calls(runs[0])), ('run-real~2', dumped_calls(runs[1]))], f'real runs {got}')


def scenario_resync(tmp):
    """A partial frame in the middle of a file (the disk was full, then writes resumed): the
    frames after it still load."""
    run = os.path.join(tmp, 'run-gap')
    batches = [batch(site_entry(0, 'f()'), calls_entry(leaf_calls(10)))] + \
              [batch(calls_entry(leaf_calls(10 + i, start=1000 * i))) for i in range(1, 5)]
    torn = batches[2][:len(batches[2]) // 2]
    log_file(os.path.join(run, '1-1.splog'), batches[0], batches[1], torn, batches[3], batches[4], run='run-gap')
    db = os.path.join(tmp, 'gap.db')
    p = load(db, run, expect_rc=1)
    expect('incomplete frame in the middle of the file (the disk was full?)' in p.stderr and 'killed' not in p.stderr, p.stderr)
    expect(one(db, 'SELECT count(*) FROM calls') == 10 + 11 + 13 + 14, f'{one(db, "SELECT count(*) FROM calls")} calls')
    out = scopeprof('dump', '--no-times', run, expect_rc=1).stdout
    expect(out.count('  call ') == 48 and 'disk was full' in out, out[-300:])
    # Garbage between frames: skipped, reported, the rest loads.
    log_file(os.path.join(tmp, 'junk', 'run-gap', '1-1.splog'), batches[0], b'SPFRjunk' * 5, batches[1], run='run-gap')
    db2 = os.path.join(tmp, 'junk.db')
    p = load(db2, os.path.join(tmp, 'junk', 'run-gap'), expect_rc=1)
    expect('skipped, reading resumed' in p.stderr and one(db2, 'SELECT count(*) FROM calls') == 21, p.stderr)
    # A real run whose middle frame lost its second half.
    real = record(tmp, 'calls', 20000, env={'SCOPEPROF_BUFFER_SIZE': '16K'})
    name = sorted(os.listdir(real))[0]
    data = open(os.path.join(real, name), 'rb').read()
    frames = frames_of(data)
    k = len(frames) // 2
    offset, length = frames[k]

    def calls_of(content):
        d = os.path.join(tmp, f'cut{len(content)}', os.path.basename(real))
        os.makedirs(d)
        open(os.path.join(d, name), 'wb').write(content)
        db = os.path.join(tmp, f'cut{len(content)}.db')
        load(db, d, expect_rc=None)
        return one(db, 'SELECT count(*) FROM calls')
    lost = calls_of(data[:offset + length]) - calls_of(data[:offset])
    expect(lost > 0, 'the damaged frame held calls')
    got = calls_of(data[:offset + length // 2] + data[offset + length:])
    expect(got == 80000 - lost, f'{got} of {80000 - lost} calls loaded after the damage')


def scenario_long_frame(tmp):
    """A frame longer than the reader's limit (SCOPEPROF_BUFFER_SIZE above 64 MiB): named as such,
    skipped, and what follows loads."""
    run = os.path.join(tmp, 'run-long')
    huge = struct.pack('<IIII', 0x52465053, 2, (64 << 20) + 8, 0) + bytes((64 << 20) + 8)
    log_file(os.path.join(run, '1-1.splog'), batch(site_entry(0, 'f()'), calls_entry(leaf_calls(10))), huge,
             batch(calls_entry(leaf_calls(7, start=5000))), run='run-long')
    db = os.path.join(tmp, 'long.db')
    p = load(db, run, expect_rc=1)
    expect(f'a frame of {(64 << 20) + 8} bytes, more than the 64 MiB a reader accepts' in p.stderr, p.stderr)
    expect(one(db, 'SELECT count(*) FROM calls') == 17, 'the frames around it load')


def scenario_symlink_loops(tmp):
    """Links to '.' inside a run are not followed (they made load and dump loop), and a file
    reached by two paths is read once."""
    run = record(tmp, 'timed', 1)
    n = dumped_calls(run)
    os.symlink('.', os.path.join(run, 'loop1'))
    os.symlink('.', os.path.join(run, 'loop2'))
    os.symlink('..', os.path.join(run, 'up'))
    log = sorted(f for f in os.listdir(run) if f.endswith('.splog'))[0]
    os.symlink(log, os.path.join(run, 'again.splog'))
    db = os.path.join(tmp, 'l.db')
    try:
        p = subprocess.run([SCOPEPROF, 'load', '--db', db, run], capture_output=True, text=True, timeout=30)
        d = subprocess.run([SCOPEPROF, 'dump', '--no-times', run], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        fail('load or dump followed the links for 30 s')
    expect(p.returncode == 0 and one(db, 'SELECT count(*) FROM calls') == n, f'{p.stderr}')
    files = sum(1 for f in os.listdir(run) if f.endswith('.splog') and not os.path.islink(os.path.join(run, f)))
    printed = sum(1 for line in d.stdout.splitlines() if line.startswith('file '))
    expect(d.returncode == 0 and printed == files, f'{printed} files dumped of {files}')


def as_nobody(*args, **kw):
    """Runs a command without root's power to ignore permissions (tests run as root in CI)."""
    prefix = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] if os.geteuid() == 0 else []
    return subprocess.run(prefix + list(args), capture_output=True, text=True, **kw)


def scenario_write_errors(tmp):
    """A full disk or an unwritable directory: a message naming the output, exit 1, no file
    left behind (not an abort with X.tmp-PID files)."""
    run, db = exact_run(tmp)
    with open('/dev/full', 'w') as full:
        for args in (['export', '--format', 'csv', '-o', '-', db], ['export', '--format', 'chrome', '-o', '-', db],
                     ['export', '--format', 'perfetto', '-o', '-', db], ['export', '--format', 'speedscope', '-o', '-', db],
                     ['export', '--format', 'folded', '-o', '-', db], ['report', '--top', '0', db],
                     ['report', '--errors', '--format', 'json', db], ['query', db, 'SELECT * FROM calls'],
                     ['rules', 'suggest', db], ['dump', run]):
            p = subprocess.run([SCOPEPROF, *args], stdout=full, stderr=subprocess.PIPE, text=True)
            expect(p.returncode == 1 and 'cannot write standard output: No space left on device' in p.stderr,
                   f'{args} to /dev/full: exit {p.returncode}: {p.stderr}')
    os.chmod(tmp, 0o755)
    os.chmod(db, 0o644)
    locked = os.path.join(tmp, 'locked')
    os.makedirs(locked)
    os.chmod(locked, 0o555)
    target = os.path.join(locked, 'x.csv')
    p = as_nobody(SCOPEPROF, 'export', '--format', 'csv', '-o', target, db)
    expect(p.returncode == 1 and f"cannot write '{target}': Permission denied" in p.stderr, p.stderr)
    p = as_nobody(SCOPEPROF, 'load', '--db', os.path.join(locked, 'new.db'), run)
    expect(p.returncode == 2 and f"cannot open database '{locked}/new.db': Permission denied" in p.stderr, p.stderr)
    full = os.path.join(tmp, 'full')
    os.makedirs(full)
    if os.geteuid() != 0 or subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full],
                                           capture_output=True).returncode != 0:
        print('no tmpfs can be mounted here: the full-filesystem part is left out')
        return
    try:
        fd = os.open(os.path.join(full, 'filler'), os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b'x' * 512):
                pass
        except OSError:
            pass
        os.close(fd)
        for fmt in ('chrome', 'perfetto', 'speedscope', 'folded', 'calltree', 'dot', 'csv', 'chrome.gz'):
            target = os.path.join(full, 'x.' + fmt)
            fmt = fmt.split('.')[0]
            p = scopeprof('export', '--format', fmt, '-o', target, db, expect_rc=1)
            expect(f"cannot write '{target}': No space left on device" in p.stderr, f'{fmt}: {p.stderr}')
        p = scopeprof('rules', 'suggest', '-o', os.path.join(full, 'x.rules'), db, expect_rc=1)
        expect('No space left on device' in p.stderr and 'x.rules' in p.stderr, p.stderr)
        expect(os.listdir(full) == ['filler'], f'left behind: {os.listdir(full)}')
    finally:
        subprocess.run(['umount', full])


def scenario_read_only(tmp):
    """A database in a read-only directory (WAL mode, no -shm can be made) is read; a database
    that is not ours is refused untouched."""
    run = record(tmp, 'timed', 1)
    ro = os.path.join(tmp, 'ro')
    os.makedirs(ro)
    db = os.path.join(ro, 'p.db')
    load(db, run)
    expect(one(db, 'PRAGMA journal_mode') == 'wal', 'loads leave WAL databases')
    expected = scopeprof('report', '--format', 'csv', db).stdout
    count = scopeprof('query', '--format', 'csv', db, 'SELECT count(*) FROM calls').stdout
    # A read-only connection leaves -wal and -shm behind; a copied database comes without.
    expect(os.path.getsize(db + '-wal') == 0, 'nothing in the write-ahead log')
    os.remove(db + '-wal')
    os.remove(db + '-shm')
    os.chmod(tmp, 0o755)
    os.chmod(ro, 0o555)
    try:
        p = as_nobody(SCOPEPROF, 'report', '--format', 'csv', db)
        expect(p.returncode == 0 and p.stdout == expected, f'report: {p.returncode} {p.stderr}')
        p = as_nobody(SCOPEPROF, 'query', '--format', 'csv', db, 'SELECT count(*) FROM calls')
        expect(p.returncode == 0 and p.stdout == count, f'query: {p.stderr}')
        p = as_nobody(SCOPEPROF, 'export', '--format', 'folded', '-o', '-', db)
        expect(p.returncode == 0 and 'timedOuter()' in p.stdout, f'export: {p.stderr}')
        expect(sorted(os.listdir(ro)) == ['p.db'], f'{os.listdir(ro)}')
    finally:
        os.chmod(ro, 0o755)
    foreign = os.path.join(tmp, 'foreign.sqlite')
    with sqlite3.connect(foreign) as c:
        c.execute('CREATE TABLE mine(x)')
        c.execute('INSERT INTO mine VALUES (1)')
    before = open(foreign, 'rb').read()
    p = load(foreign, run, expect_rc=2)
    expect("is not a scopeprof database" in p.stderr, p.stderr)
    expect(open(foreign, 'rb').read() == before, 'the refused database was changed')
    expect(not any(os.path.exists(foreign + x) for x in ('-wal', '-shm', '-journal')), 'files next to it')


def scenario_concurrent_load(tmp):
    """A load waits for another that holds the database (for longer than any fixed timeout),
    and says it is waiting."""
    run1, run2 = record(tmp, 'timed', 1), None
    db = os.path.join(tmp, 'c.db')
    load(db, run1)
    out2 = os.path.join(tmp, 'second')
    subprocess.run([WORKLOAD, 'timed', '1'], env=dict(os.environ, SCOPEPROF_OUT=out2), check=True, capture_output=True)
    run2 = os.path.join(out2, os.listdir(out2)[0])
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute('BEGIN IMMEDIATE')
    p = subprocess.Popen([SCOPEPROF, 'load', '--db', db, run2], stderr=subprocess.PIPE, text=True)
    import time
    time.sleep(12)
    if p.poll() is not None:
        fail(f'the second load gave up: {p.stderr.read()}')
    holder.execute('COMMIT')
    holder.close()
    _, err = p.communicate(timeout=60)
    expect(p.returncode == 0 and "waiting: database '" + db + "' is in use" in err, f'exit {p.returncode}: {err}')
    expect(one(db, 'SELECT count(*) FROM runs') == 2, 'both runs loaded')


def scenario_cli_edges(tmp):
    run, db = exact_run(tmp)
    empty = os.path.join(tmp, 'empty')
    os.makedirs(empty)
    p = scopeprof('dump', empty, expect_rc=1)
    expect(f"'{empty}'" in p.stderr and 'no scopeprof log files' in p.stderr, p.stderr)
    p = scopeprof('rules', 'check', tmp, expect_rc=1)
    expect(f"cannot read rules file '{tmp}': Is a directory" in p.stderr, p.stderr)
    p = scopeprof('query', db, 'SELECT 1; SELECT 2', expect_rc=1)
    expect("one SQL statement at a time; more follow the first: 'SELECT 2'" in p.stderr, p.stderr)
    expect(scopeprof('query', '--format', 'csv', db, 'SELECT 1 AS x; -- done\n').stdout == 'x\n1\n', 'a comment may follow')
    copy = os.path.join(tmp, 'copy.db')
    p = scopeprof('query', db, f"VACUUM INTO '{copy}'", expect_rc=1)
    expect('opened read-only, and this statement writes' in p.stderr and not os.path.exists(copy), p.stderr)
    for args in (['query', os.path.join(tmp, 'absent.db'), 'SELECT 1'],
                 ['export', '--format', 'csv', '-o', '-', os.path.join(tmp, 'absent.db')],
                 ['report', os.path.join(tmp, 'notes.txt')], ['diff', db + ':1,1', db]):
        if args[1].endswith('notes.txt'):
            open(args[1], 'w').write('not a database\n' * 100)
        p = scopeprof(*args, expect_rc=2)
        expect('scopeprof: error:' in p.stderr and 'usage:' not in p.stderr, f'{args}: {p.stderr}')
    p = scopeprof('diff', db + ':1,1', db, expect_rc=2)
    expect("run '1' is run 1 of" in p.stderr and 'already named' in p.stderr, p.stderr)
    # Names and messages from the program: control characters escaped on the console, JSON
    # valid UTF-8, one line per stack in folded output.
    evil = os.path.join(tmp, 'run-evil')
    log_file(os.path.join(evil, '1-1.splog'),
             batch(site_entry(0, 'red\x1b[31m\x9b()'.encode() + b'\xc2\x9b'), site_entry(1, b'bad\xff\xfe()'),
                   site_entry(2, 'two\nlines()'),
                   calls_entry([(0, 1, 0, 10, False), (1, 1, 20, 30, False), (2, 0, 0, 100, False)]),
                   exception_entry('E', 'msg \x1b]0;title\x07'), calls_entry([(2, 0, 200, 300, True)])),
             run='run-evil')
    edb = os.path.join(tmp, 'evil.db')
    load(edb, evil)
    for args in (['report', edb], ['report', '--errors', edb], ['report', '--format', 'markdown', edb]):
        out = subprocess.run([SCOPEPROF, *args], capture_output=True).stdout
        expect(not any(b < 0x20 and b not in (0x0a,) for b in out) and b'\xc2\x9b' not in out and b'\x7f' not in out,
               f'{args}: raw control characters in {out!r}')
    expect(b'red\\x1b[31m' in subprocess.run([SCOPEPROF, 'report', edb], capture_output=True).stdout, 'escaped, not dropped')
    for args in (['report', '--format', 'json', edb], ['query', '--format', 'json', edb, 'SELECT * FROM sites'],
                 ['export', '--format', 'chrome', '-o', '-', edb], ['export', '--format', 'calltree', '-o', '-', edb]):
        out = subprocess.run([SCOPEPROF, *args], capture_output=True).stdout
        try:
            parsed = json.loads(out.decode('utf-8'))
        except (UnicodeDecodeError, ValueError) as e:
            fail(f'{args}: not valid UTF-8 JSON: {e}')
        expect('bad\ufffd\ufffd()' in json.dumps(parsed, ensure_ascii=False), f'{args}: invalid bytes become U+FFFD')
    folded = subprocess.run([SCOPEPROF, 'export', '--format', 'folded', '-o', '-', edb], capture_output=True).stdout
    folded = folded.splitlines()
    expect(len(folded) == 3 and all(l.rsplit(b' ', 1)[1].isdigit() for l in folded), f'folded {folded}')



def stolen_ns():
    """The time the hypervisor has run other guests on this machine's CPUs (/proc/stat's steal,
    all CPUs). A thread it stops is not switched out by its kernel: cpu_ns counts that time as
    on the CPU, the thread's CPU clock does not."""
    with open('/proc/stat') as f:
        fields = f.readline().split()
    return int(fields[8]) * 1_000_000_000 // os.sysconf('SC_CLK_TCK') if len(fields) > 8 else 0


def cpu_run(tmp, env=None):
    """The cpu workload (sleep, spin, both, a condition wait; threads; a fork child) loaded; the
    truth is what the kernel said each function's thread ran (CLOCK_THREAD_CPUTIME_ID)."""
    out = os.path.join(tmp, 'out')
    e = dict(os.environ, SCOPEPROF_OUT=out, **(env or {}))
    stolen = stolen_ns()
    p = subprocess.run([WORKLOAD, 'cpu', '50'], env=e, capture_output=True, text=True, cwd=tmp)
    expect(p.returncode == 0, f'cpu workload failed: {p.stderr}')
    truth = collections.defaultdict(int)
    truth['stolen'] = stolen_ns() - stolen
    for line in p.stdout.splitlines():
        if line.startswith('truth '):
            name, ns = line[len('truth '):].rsplit(' ', 1)
            truth[name] += int(ns)
    db = os.path.join(tmp, 'cpu.db')
    load(db, os.path.join(out, sorted(os.listdir(out))[-1]))
    return db, truth


def scenario_cpu_samples(tmp):
    # Every thread of the cpu workload (two threads, a fork child and its thread) is sampled every
    # 1 ms of its CPU time; a sample names the innermost open call's function and the innermost
    # recorded one's. spinner() spins: its samples are its CPU time, which the kernel measured.
    db, truth = cpu_run(tmp, env={'SCOPEPROF_CPU_SAMPLES': '1ms'})
    threads = rows(db, 'SELECT pid, tid, cpu_sample_ns FROM threads')
    expect(len(threads) == 5 and all(t[2] == 1000000 for t in threads), f'threads sampled: {threads}')
    by = collections.defaultdict(float)
    for name, recorded, weight in rows(db, '''SELECT s.signature, r.signature, c.weight FROM cpu_samples c
                                              JOIN sites s ON s.id = c.site_id
                                              LEFT JOIN sites r ON r.id = c.recorded_site_id'''):
        expect(recorded == name, f'{name} is recorded, so it is the innermost recorded call: {recorded}')
        by[name] += weight * 1e6
    spun = truth['spinner()'] + truth['sleepyParent() self']
    sampled = by['spinner()'] + by['sleepyParent()']
    expect(abs(sampled - spun) <= 0.3 * spun + 3e6, f'samples {sampled / 1e6:.0f} ms, spinning {spun / 1e6:.0f} ms')
    expect(by['sleeper()'] <= 0.1 * spun + 2e6, f'a sleeper is not on the CPU: {by["sleeper()"] / 1e6:.0f} ms')
    # A program that resets every signal handler to the default keeps running (and sampling
    # only stops): the samples' signal is one whose default action is to ignore it.
    reset = os.path.join(tmp, 'reset')
    p = subprocess.run([WORKLOAD, 'reset-signals', '100'], env=dict(os.environ, SCOPEPROF_OUT=reset,
                       SCOPEPROF_CPU_SAMPLES='1ms'), capture_output=True, text=True)
    expect(p.returncode == 0, f'a program resetting its signal handlers: exit {p.returncode} {p.stderr}')
    # SCOPEPROF_CPU_SAMPLES=0: no samples; a bad value is named and the default kept.
    os.makedirs(os.path.join(tmp, 'off'))
    db0, _ = cpu_run(os.path.join(tmp, 'off'), env={'SCOPEPROF_CPU_SAMPLES': '0'})
    expect(one(db0, 'SELECT count(*) FROM cpu_samples') == 0 and
           one(db0, 'SELECT count(*) FROM threads WHERE cpu_sample_ns IS NOT NULL') == 0, 'sampling off')
    out = os.path.join(tmp, 'bad')
    p = subprocess.run([WORKLOAD, 'calls', '10'], env=dict(os.environ, SCOPEPROF_OUT=out, SCOPEPROF_CPU_SAMPLES='50us'),
                       capture_output=True, text=True)
    expect(p.returncode == 0 and "SCOPEPROF_CPU_SAMPLES='50us'" in p.stderr and 'using 1ms' in p.stderr,
           f'a bad value: {p.stderr}')


def samples_by_function(tmp, name, command, **env):
    """Runs command sampled every 1 ms (with env); its database and the periods the samples
    outside scopeprof's code charged to each function."""
    out = os.path.join(tmp, name)
    p = subprocess.run(command, capture_output=True, text=True,
                       env=dict(os.environ, SCOPEPROF_OUT=out, SCOPEPROF_CPU_SAMPLES='1ms', **env))
    expect(p.returncode == 0, f'{" ".join(command)} failed: {p.stderr}')
    db = os.path.join(tmp, name + '.db')
    load(db, out)
    return db, dict(rows(db, '''SELECT s.signature, total(c.weight) FROM cpu_samples c JOIN sites s
                                ON s.id = c.site_id WHERE NOT c.in_scopeprof GROUP BY 1'''))


def scenario_cpu_samples_by_address(tmp):
    # Built's constructor spends its time in member initializers, before its scope opens: the
    # marks name its caller. Half of it is inline code (the address names the constructor),
    # half a call of code that is not instrumented (the copied stack, unwound, does). countUp()
    # is throttled and tiny, and sampled (one call in 64 recorded) rather than off: the samples
    # in its scope's code are the measurement's (in_scopeprof), in nobody's own time.
    def sampled(program, rounds, name):
        return samples_by_function(tmp, name, [program, 'initializers', str(rounds)],
                                   SCOPEPROF_THROTTLE='10000:10us:sampled')

    db, by = sampled(WORKLOAD, 3000, 'static')
    built, caller = by.get('Built::Built(int)', 0), by.get('initializers(int)', 0)
    expect(built > 50 and built >= 4 * caller,
           f'the initializer\'s samples go to the constructor by address: {by}')
    expect(one(db, 'SELECT count(*) FROM cpu_samples WHERE by_address') > 0 and
           one(db, 'SELECT count(*) FROM cpu_samples WHERE address IS NULL') == 0,
           'samples carry their addresses, and some are charged by them')
    expect(one(db, 'SELECT count(*) FROM cpu_samples WHERE in_scopeprof') > 0,
           'some samples fall in the scopes of the throttled countUp()')
    # CPU time: a preempted caller's waiting is its own, however busy the machine.
    report = json.loads(scopeprof('report', '--format', 'json', '--top', '0', db).stdout)
    self_cpu = {r['function']: r['self_cpu_ns'] for r in report}
    expect(self_cpu.get('Built::Built(int)', 0) > 2 * self_cpu.get('initializers(int)', 0),
           f'the report gives the constructor its initializers\' time: {self_cpu}')


    # Compiled by clang, whose DWARF 5 gives a static's address as an index into an address
    # table; linked as the build links (SCOPEPROF_TEST_LINK, set by test/CMakeLists.txt).
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    clang_built = os.path.join(tmp, 'workload-clang')
    for command in (['clang++-19', '-std=c++17', '-O2', '-g', '-c', '-I', os.path.join(root, 'runtime', 'include'),
                     os.path.join(root, 'test', 'runtime', 'Workload.cpp'), '-o', clang_built + '.o'],
                    os.environ.get('SCOPEPROF_TEST_LINK', 'c++').split() +
                    [clang_built + '.o', os.path.join(os.path.dirname(os.path.dirname(WORKLOAD)), 'runtime', 'libscopeprof.a'),
                     '-lpthread', '-ldl', '-o', clang_built]):
        p = subprocess.run(command, capture_output=True, text=True)
        expect(p.returncode == 0, f'clang build of the workload: {" ".join(command)}\n{p.stderr[-2000:]}')
    _, by = sampled(clang_built, 3000, 'clang')
    built, caller = by.get('Built::Built(int)', 0), by.get('initializers(int)', 0)
    expect(built > 50 and built >= 4 * caller, f'clang\'s build, by address and stack: {by}')

    # The program changed after the run: its samples are charged by the marks, and load says so.
    copy = os.path.join(tmp, 'workload-copy')
    shutil.copy2(WORKLOAD, copy)
    out2 = os.path.join(tmp, 'out2')
    p = subprocess.run([copy, 'initializers', '1000'], capture_output=True, text=True,
                       env=dict(os.environ, SCOPEPROF_OUT=out2, SCOPEPROF_CPU_SAMPLES='1ms'))
    expect(p.returncode == 0, f'copied workload failed: {p.stderr}')
    with open(copy, 'ab') as f:
        f.write(b'rebuilt')
    db2 = os.path.join(tmp, 'b.db')
    r = load(db2, out2)
    expect(f"'{copy}' changed since the run" in r.stdout + r.stderr, f'load names the changed file: {r.stdout}{r.stderr}')
    expect(one(db2, 'SELECT count(*) FROM cpu_samples WHERE by_address') == 0 and
           one(db2, 'SELECT count(*) FROM cpu_samples') > 0, 'no sample of the changed file is charged by address')


def scenario_cpu_samples_through_malloc(tmp):
    # Through the shared runtime: Mapped's initializer allocates blocks glibc's malloc maps from
    # the kernel each time; the samples in libc, under the runtime's malloc, before Mapped's
    # scope opens, are unwound to the constructor.
    program = os.path.join(os.path.dirname(WORKLOAD), 'runtime-memory-workload')
    _, by = samples_by_function(tmp, 'm', [program, 'initializers', '30000'])
    mapped, mapper = by.get('Mapped::Mapped()', 0), by.get('mapper(int)', 0)
    expect(mapped > 20 and mapped >= 3 * mapper, f'samples under the runtime\'s malloc go to the constructor: {by}')


def scenario_cpu_samples_modules_crafted(tmp):
    # Samples with addresses: in a program file that is gone (the marks decide, and load says
    # it cannot read it), in no mapping at all (the marks decide: the throttled child(), never
    # drawn, so parent() keeps that share), and in the runtime library (the measurement's: its
    # share of parent()'s 9000 ns is nobody's).
    P, C = 0, 1
    run = os.path.join(tmp, 'run')
    samples = [(P, P, 1, 100, 0x1500), (C, P, 1, 200, 0x9000), (P, P, 1, 300, 0x5100)]
    log_file(os.path.join(run, '1-1.splog'),
             batch(site_entry(P, 'parent()') + site_entry(C, 'child()'), calls_entry([(P, 0, 0, 9000, False)]),
                   module_entry(0x1000, 0x2000, '/nonexistent/app'),
                   module_entry(0x5000, 0x6000, '/opt/sp/lib/libscopeprof.so.0'), cpu_samples_at_entry(samples)),
             cpu_sample_ns=100000)
    db = os.path.join(tmp, 'crafted.db')
    r = load(db, run)
    expect("cannot read '/nonexistent/app'" in r.stdout + r.stderr, f'load names the unreadable file: {r.stdout}{r.stderr}')
    stored = rows(db, 'SELECT address, by_address, in_scopeprof FROM cpu_samples ORDER BY at_ns')
    expect(stored == [(0x1500, 0, 0), (0x9000, 0, 0), (0x5100, 0, 1)], f'samples as stored: {stored}')
    report = {r['function']: r for r in json.loads(scopeprof('report', '--format', 'json', db).stdout)}
    expect(report['parent()']['self_ns'] == 6000, f"parent() keeps two thirds of its time: {report['parent()']}")

    # A sample whose stack runs past the end of its batch: the batch is named, the rest loads.
    cut = cpu_samples_at_entry([(P, P, 1, 100, 0x1500)])[:-4] + struct.pack('<I', 100) + b'short'
    bad = os.path.join(tmp, 'bad')
    log_file(os.path.join(bad, '1-1.splog'), batch(site_entry(P, 'parent()'), calls_entry([(P, 0, 0, 9000, False)])),
             batch(cut), cpu_sample_ns=100000)
    r = load(os.path.join(tmp, 'bad.db'), bad, expect_rc=1)
    expect('1-1.splog' in r.stderr and 'runs past the end of its batch' in r.stderr, f'the damaged batch is named: {r.stderr}')
    expect(one(os.path.join(tmp, 'bad.db'), 'SELECT count(*) FROM calls') == 1, 'the batch before it loads')


def scenario_cpu_samples_rate(tmp):
    # Samples decide nothing until calls go unrecorded, and on a VM each costs tens of us: until
    # then a thread takes one in 8, each standing for 8 periods. Once tiny() is throttled, every
    # period is sampled. Either way the periods add up to the thread's CPU time.
    db, _ = cpu_run(tmp, env={'SCOPEPROF_CPU_SAMPLES': '1ms'})
    weights = {w for (w,) in rows(db, 'SELECT weight FROM cpu_samples')}
    expect(weights and all(w % 8 == 0 for w in weights),
           f'no function throttled: one sample in 8, each weighing 8 periods; weights {weights}')
    # Cut late enough for a few samples before it. A perf event samples every period from the
    # cut on (weight 1); a POSIX timer fires with the scheduler tick, every few periods, and its
    # overruns say how many (weights of 2-4 at 250 Hz): either way fewer than 8.
    run = record(tmp, 'throttled', 300000, 0, env={'SCOPEPROF_THROTTLE': '30000:1us', 'SCOPEPROF_CPU_SAMPLES': '1ms'})
    db = os.path.join(tmp, 'rate.db')
    load(db, run)
    (cut,), = rows(db, 'SELECT at_ns FROM throttled')
    before = [w for (w,) in rows(db, 'SELECT weight FROM cpu_samples WHERE at_ns < ? ORDER BY at_ns', cut)]
    # The writer switches the thread as it cuts, not at the thread's next sample (up to 8 ms of
    # its CPU later, that sample weighing 8 ms of a function just cut off): a sample at the old
    # rate after the cut is one taken before the writer was done with the batch that cut.
    late = [w for (w,) in rows(db, 'SELECT weight FROM cpu_samples WHERE at_ns > ? + 1000000', cut)]
    after = [w for (w,) in rows(db, 'SELECT weight FROM cpu_samples WHERE at_ns > ? + 20000000', cut)]
    expect(before and all(w % 8 == 0 for w in before) and late and max(late) < 8 and after
           and statistics.median(after) < 8,
           f'weights before the cut {before}, from 1 ms after it {late[:5]}..., then {sorted(set(after))} '
           f'({len(after)} samples)')
    # CPU time, not the steps' durations: on a loaded machine they wait for a core too.
    def periods_against_cpu(db, what):
        sampled_ms = one(db, 'SELECT total(weight) FROM cpu_samples')
        spun_ms = one(db, 'SELECT total(cpu_ns) FROM calls c JOIN sites s ON s.id = c.site_id '
                          "WHERE s.signature = 'step()'") / 1e6
        expect(abs(sampled_ms - spun_ms) <= 0.2 * spun_ms + 10,
               f'{what}: {sampled_ms:.0f} periods of 1 ms sampled, the steps ran {spun_ms:.0f} ms of CPU')
    periods_against_cpu(db, 'sampled')
    # Someone else's SIGURG (out-of-band socket data, kill) is not a sample: a signal every
    # half millisecond through the run adds none.
    out = os.path.join(tmp, 'foreign')
    p = subprocess.Popen([WORKLOAD, 'throttled', '300000', '0'], env=dict(
        os.environ, SCOPEPROF_OUT=out, SCOPEPROF_THROTTLE='30000:1us', SCOPEPROF_CPU_SAMPLES='1ms'),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sent = 0
    while p.poll() is None:
        try:
            os.kill(p.pid, signal.SIGURG)
            sent += 1
        except ProcessLookupError:
            break
        time.sleep(0.0005)
    expect(p.wait() == 0 and sent > 100, f'workload under SIGURG: exit {p.returncode}, {sent} sent: {p.stderr.read()}')
    db = os.path.join(tmp, 'foreign.db')
    load(db, os.path.join(out, sorted(os.listdir(out))[-1]))
    periods_against_cpu(db, f'{sent} foreign signals sent')


def scenario_cpu_time(tmp):
    db, truth = cpu_run(tmp)
    calls = rows(db, 'SELECT s.signature, c.pid, c.tid, c.depth, c.duration_ns, c.cpu_ns, c.self_ns, c.self_cpu_ns '
                     'FROM calls c JOIN sites s ON s.id = c.site_id')
    by = collections.defaultdict(list)
    for name, *rest in calls:
        by[name].append(rest)
    # Every call is measured, the outermost calls of threads too (threadBody(): a thread tracks
    # its switches from its start, not from its first record), unless the kernel lost switch
    # records during it (then NULL, never a guess): a loaded machine made that happen to one call
    # of 44 in a CI run. At most one (and its callers); the kernel's account below bounds what a
    # missing call could hide.
    unmeasured = [(name, c) for name in ('sleeper()', 'spinner()', 'sleepyParent()', 'waiter()')
                  for c in by[name] if c[4] is None or c[6] is None]
    expect(len(unmeasured) <= 1, f'cpu_ns NULL in {unmeasured}')
    outermost = [c for name in ('threadBody()', 'leaf(int)') for c in by[name]]
    expect(len(outermost) == 6 and sum(c[4] is None for c in outermost) <= len(unmeasured),
           f'threads\' first and outermost calls: cpu_ns {outermost}')
    for name in by:
        by[name] = [c for c in by[name] if (c[4] is None) == (c[6] is None) and c[4] is not None]
    # Sleeping and waiting are off the CPU; spinning is on it, as much as the kernel let it.
    for name in ('sleeper()', 'waiter()'):
        for pid, tid, depth, dur, cpu, self_, self_cpu in by[name]:
            expect(cpu < 0.2 * dur, f'{name} in {pid}/{tid}: cpu {cpu} of {dur} ns')
    # A spinner is on the CPU unless others take it (the machine is shared): when the kernel
    # says it ran most of its wall time, so must cpu_ns.
    spin_cpu, spin_wall = sum(c[4] for c in by['spinner()']), sum(c[3] for c in by['spinner()'])
    expect(spin_cpu > 0.7 * spin_wall or truth['spinner()'] < 0.8 * spin_wall,
           f'spinner(): cpu {spin_cpu} of {spin_wall} ns; the kernel says {truth["spinner()"]}')
    # Against the kernel's own account of each thread's CPU time, summed per function.
    def close(got, want, what):
        expect(abs(got - want) <= max(0.05 * want, 2e6) + truth['stolen'],
               f'{what}: cpu {got} ns, the kernel says {want} ns ({truth["stolen"]} ns stolen by the hypervisor)')
    close(sum(c[4] for c in by['spinner()']), truth['spinner()'], 'spinner()')
    close(sum(c[4] for c in by['sleeper()']), truth['sleeper()'], 'sleeper()')
    if not unmeasured:
        close(sum(c[4] for c in by['threadBody()']), truth['threadBody()'], 'threadBody()')
    # The parent that spins and then calls a sleeper: its self CPU time is its own spin, nothing
    # of the child's sleep is taken from it, and its CPU time is the spin plus the child's. (How
    # much of its wall time that is depends on what else the machine runs: the kernel's own
    # account is the reference, not a ratio.)
    close(sum(c[6] for c in by['sleepyParent()']), truth['sleepyParent() self'], 'sleepyParent() self')
    child_cpu = sum(c[4] for c in by['sleeper()'] if c[2] == 1)
    close(sum(c[4] for c in by['sleepyParent()']), truth['sleepyParent() self'] + child_cpu, 'sleepyParent() total')
    # Threads and the fork child's threads: each has its own intervals.
    tracked = rows(db, 'SELECT pid, count(*) FROM threads WHERE switches_since_ns IS NOT NULL GROUP BY pid')
    expect(sorted(n for _, n in tracked) == [2, 3], f'tracked threads per process {tracked}')
    expect(len({(c[0], c[1]) for c in by['spinner()']}) == 5, 'spinner() measured on 5 threads')
    # site_stats: totals of the measured calls; wait = duration - cpu.
    st = rows(db, 'SELECT s.signature, st.calls, st.cpu_calls, st.cpu_ns, st.self_cpu_ns, st.wait_ns, st.self_wait_ns, '
                  'st.total_ns, st.self_ns FROM site_stats st JOIN sites s ON s.id = st.site_id')
    for name, n, cpu_calls, cpu, self_cpu, wait, self_wait, total, self_ in st:
        measured = [c for c in by[name] if c[4] is not None]
        expect(cpu_calls == len(measured), f'site_stats of {name}: cpu_calls')
        if measured:
            expect(cpu == sum(c[4] for c in measured) and wait == sum(c[3] - c[4] for c in measured) and
                   self_wait == sum(c[5] - c[6] for c in measured), f'site_stats of {name}: totals')
        else:
            expect(cpu is None and wait is None, f'site_stats of {name}: no cpu figure, NULL')
        if name in ('leaf(int)', 'threadBody()') and not unmeasured:
            expect(cpu_calls == n, f'{name}: every call has a cpu time')
    # The report ranks by self CPU time; --by self and --by wait put the sleeper first.
    data = json.loads(scopeprof('report', '--format', 'json', db).stdout)
    expect({data[0]['function'], data[1]['function']} == {'spinner()', 'sleepyParent()'}, f'by cpu: {data}')
    expect([r['self_cpu_ns'] for r in data if r['self_cpu_ns'] is not None] ==
           sorted((r['self_cpu_ns'] for r in data if r['self_cpu_ns'] is not None), reverse=True), 'sorted by self cpu')
    expect(abs(sum(r['percent_cpu'] for r in data) - 100) < 1e-6, 'cpu shares add up to 100%')
    for key in ('self', 'wait'):
        top = json.loads(scopeprof('report', '--format', 'json', '--by', key, '--top', '1', db).stdout)
        expect(top[0]['function'] == 'sleeper()', f'--by {key}: {top}')
    table = scopeprof('report', db).stdout.splitlines()
    expect('self cpu' in table[2] and 'self wait' in table[2] and '% cpu' in table[2], f'columns: {table[2]}')
    md = scopeprof('report', '--format', 'markdown', db).stdout.splitlines()
    expect('| self cpu | self wait |' in md[0], f'markdown {md[0]}')
    # diff compares wall times, as before.
    expect('sleeper()' in scopeprof('diff', '--format', 'json', db, db).stdout, 'diff still compares wall times')


def scenario_cpu_off(tmp):
    db, _ = cpu_run(tmp, env={'SCOPEPROF_COUNTERS': 'none'})
    expect(one(db, 'SELECT count(*) FROM calls WHERE cpu_ns IS NOT NULL OR self_cpu_ns IS NOT NULL') == 0,
           'SCOPEPROF_COUNTERS=none: no cpu_ns')
    expect(one(db, 'SELECT count(*) FROM threads WHERE switches_since_ns IS NOT NULL') == 0, 'no thread tracked')
    expect(one(db, 'SELECT count(*) FROM site_stats WHERE cpu_ns IS NOT NULL') == 0, 'no cpu totals')
    data = json.loads(scopeprof('report', '--format', 'json', db).stdout)
    expect(data[0]['function'] == 'sleeper()' and 'self_cpu_ns' not in data[0], f'ranked by wall self time: {data[0]}')
    p = scopeprof('report', '--by', 'cpu', db, expect_rc=2)
    expect('--by cpu: run 1 has no CPU times' in p.stderr and 'SCOPEPROF_COUNTERS=none' in p.stderr, p.stderr)


def scenario_cpu_lost(tmp):
    """A ring that overflows (two threads switching ~100 000 times a second): the runtime writes
    what it could not see as unknown, and no call overlapping it gets a CPU time."""
    run = record(tmp, 'ping-pong', 100000)
    out = scopeprof('dump', run).stdout
    unknown, current = collections.defaultdict(list), None
    for line in out.splitlines():
        if line.startswith('  thread '):
            current = int(line.split('tid=')[1].split()[0])
        elif line.startswith('  off-cpu ') and line.endswith(' unknown'):
            start, dur = (int(f.split('=')[1]) for f in line.split()[1:3])
            unknown[current].append((start, start + dur))
    expect(unknown, f'no stretch of unknown state: the ring never overflowed?\n{out[:2000]}')
    db = os.path.join(tmp, 'lost.db')
    load(db, run)
    calib = one(db, 'SELECT calibration_ns FROM processes')
    calls = rows(db, 'SELECT tid, start_ns - ?, end_ns - ?, duration_ns, cpu_ns FROM calls', calib, calib)
    for tid, start, end, dur, cpu in calls:
        overlaps = any(a < end and start < b for a, b in unknown[tid])
        expect(not overlaps or cpu is None, f'a call overlapping lost records got cpu {cpu}')
        expect(cpu is None or cpu <= dur, f'cpu {cpu} > duration {dur}')
    expect(any(c[4] is not None for c in calls), 'calls clear of the losses are measured')


def offcpu_entry(intervals, count=None):
    """intervals: (switch-out ns, switch-in ns, kind)."""
    return b'\x09' + struct.pack('<I', len(intervals) if count is None else count) + b''.join(
        struct.pack('<QQB', out, back, kind) for out, back, kind in intervals)


def scenario_cpu_crafted(tmp):
    """Known intervals and calls (ticks are ns here, no scope cost): exact CPU times; calls that
    began before tracking or overlap lost records have none; damaged entries are reported."""
    run = os.path.join(tmp, 'run-cpu')
    since = struct.pack('<HIQ', 22, 8, 1000)
    intervals = [(2000, 2500, 0), (3000, 3100, 1), (5000, 6000, 2)]
    calls = [(0, 0, 500, 900, False),     # before tracking: unknown
             (1, 1, 2400, 2800, False),   # off 2400-2500
             (0, 0, 1500, 4000, False),   # off 500 + 100, of which 100 in its child
             (0, 0, 4500, 5500, False),   # overlaps lost records: unknown
             (0, 0, 7000, 8000, False)]   # on the CPU throughout
    path = os.path.join(run, '1-1.splog')
    os.makedirs(run)
    header = header_payload(run='run-cpu') + since
    with open(path, 'wb') as f:
        f.write(b'SCOPEPRF' + struct.pack('<II', 1, 0) + frame(1, header) +
                batch(site_entry(0, 'parent()'), site_entry(1, 'child()'), offcpu_entry(intervals), calls_entry(calls)))
    db = os.path.join(tmp, 'crafted.db')
    load(db, run)
    got = rows(db, 'SELECT start_ns, duration_ns, cpu_ns, self_ns, self_cpu_ns FROM calls ORDER BY start_ns')
    expect(got == [(500, 400, None, 400, None), (1500, 2500, 1900, 2100, 1600), (2400, 400, 300, 400, 300),
                   (4500, 1000, None, 1000, None), (7000, 1000, 1000, 1000, 1000)], f'crafted cpu times {got}')
    # Damaged: an entry cut short, an interval that ends before it starts, one out of order.
    for name, entry, what in (
            ('cut', offcpu_entry(intervals[:2], count=3), 'an entry runs past the end of its batch'),
            ('reversed', offcpu_entry([(2500, 2000, 0)]), 'an off-CPU interval ends before it starts'),
            ('kind', offcpu_entry([(2000, 2500, 7)]), 'an off-CPU interval of unknown kind 7')):
        bad = os.path.join(tmp, name, 'run-cpu')
        os.makedirs(bad)
        with open(os.path.join(bad, '1-1.splog'), 'wb') as f:
            f.write(b'SCOPEPRF' + struct.pack('<II', 1, 0) + frame(1, header) +
                    batch(site_entry(0, 'parent()'), calls_entry(calls[:1]), entry))
        p = load(os.path.join(tmp, name + '.db'), bad, expect_rc=1)
        expect(f'malformed batch: {what}' in p.stderr and '1-1.splog' in p.stderr, f'{name}: {p.stderr}')
        expect(one(os.path.join(tmp, name + '.db'), 'SELECT count(*) FROM calls') == 1, f'{name}: the call before it loads')
    disordered = os.path.join(tmp, 'disordered', 'run-cpu')
    os.makedirs(disordered)
    with open(os.path.join(disordered, '1-1.splog'), 'wb') as f:
        f.write(b'SCOPEPRF' + struct.pack('<II', 1, 0) + frame(1, header) +
                batch(site_entry(0, 'parent()'), offcpu_entry([(3000, 3500, 0), (2000, 2500, 0)]),
                      calls_entry([(0, 0, 1500, 4000, False), (0, 0, 7000, 8000, False)])))
    # A long thread: the loader forgets intervals behind its outermost calls, and a region open
    # across them (it could need what was forgotten) gets no CPU time rather than a wrong one.
    n = 20000
    long_run = os.path.join(tmp, 'long', 'run-cpu')
    os.makedirs(long_run)
    ticks = [10000 + 1000 * i for i in range(n)]
    region = b'\x07' + struct.pack('<IIQQQ', 1, 0, 9000, ticks[-1] + 100, 0)
    with open(os.path.join(long_run, '1-1.splog'), 'wb') as f:
        f.write(b'SCOPEPRF' + struct.pack('<II', 1, 0) + frame(1, header) +
                batch(site_entry(0, 'step()'), site_entry(1, 'all steps'), offcpu_entry([(t, t + 10, 0) for t in ticks]),
                      calls_entry([(0, 0, t + 5, t + 50, False) for t in ticks]), region))
    ldb = os.path.join(tmp, 'long.db')
    load(ldb, long_run)
    got = rows(ldb, 'SELECT s.signature, count(*), min(cpu_ns), max(cpu_ns), count(cpu_ns) FROM calls c '
                    'JOIN sites s ON s.id = c.site_id GROUP BY 1 ORDER BY 1')
    expect(got == [('all steps', 1, None, None, 0), ('step()', n, 40, 40, n)], f'long thread: {got}')
    ddb = os.path.join(tmp, 'disordered.db')
    p = load(ddb, disordered, expect_rc=1)
    expect('off-CPU intervals out of time order' in p.stderr, p.stderr)
    expect(rows(ddb, 'SELECT cpu_ns FROM calls ORDER BY start_ns') == [(None,), (1000,)], 'unknown around them only')


def diff_json(base, head, expect_rc):
    return json.loads(scopeprof('diff', '--format', 'json', base, head, expect_rc=expect_rc).stdout)


def scenario_diff_allocs(tmp):
    """Allocations per call compare exactly (crafted counts, identical times, so only they can
    decide): any change is one, named, and fails the gate; figures over sampled calls are shown,
    not judged; runs that disagree among themselves must be separated; a side that did not count
    allocations is said so."""
    P, C, O, H = 0, 1, 2, 3
    sites = site_entry(P, 'parent()') + site_entry(C, 'child()') + site_entry(O, 'other()') + site_entry(H, 'hash()')

    def side(name, child=((2, 8192),), hash_bytes=16, counts_memory=True):
        """One run per entry of child: (allocs, bytes) of every child() call in that run.
        parent() allocates 100 bytes itself around each child() call; other() 64 bytes once;
        hash() was throttled: its two samples allocate hash_bytes each."""
        db = os.path.join(tmp, name + '.db')
        for r, (allocs, nbytes) in enumerate(child):
            calls, t = [], 0
            for _ in range(10):
                calls.append((C, 1, t + 1000, t + 5000, allocs, nbytes))
                calls.append((P, 0, t, t + 10000, allocs + 1, nbytes + 100))
                t += 20000
            calls.append((O, 0, t, t + 1000, 1, 64))
            calls += [(H, 0, t + 2000 + 100 * i, t + 2050 + 100 * i, 1, hash_bytes, True) for i in range(2)]
            run = os.path.join(tmp, name, f'run-{name}-{r}')
            log_file(os.path.join(run, '1-1.splog'), batch(sites, memory_calls(calls)), run=f'run-{name}-{r}',
                     sample_period=64, counts_memory=counts_memory)
            load(db, run)
        return db

    def functions(j):
        return {f['function']: f for f in j['functions']}

    base = side('base')
    more = side('more', child=((2, 8200),))
    j = diff_json(base, more, 1)
    expect((j['regressions'], j['alloc_regressions'], j['time_regressions'], j['allocs_compared']) == (2, 2, 0, True),
           f'8 more bytes per child() call: child() and parent() regressed, nothing else: {j}')
    f = functions(j)
    want = {'base_calls': 10, 'head_calls': 10, 'base_allocs_per_call': 2, 'head_allocs_per_call': 2,
            'base_bytes_per_call': 8192, 'head_bytes_per_call': 8200, 'base_self_bytes_per_call': 8192,
            'head_self_bytes_per_call': 8200, 'exact': True, 'varies_between_runs': False, 'changed': True,
            'verdict': 'regression'}
    expect(f['child()']['allocs'] == want, f"child(): {f['child()']['allocs']}")
    expect((f['parent()']['allocs']['base_bytes_per_call'], f['parent()']['allocs']['head_bytes_per_call'],
            f['parent()']['allocs']['base_self_bytes_per_call'], f['parent()']['allocs']['verdict']) ==
           (8292, 8300, 100, 'regression'), f"parent(): {f['parent()']['allocs']}")
    expect(f['other()']['allocs']['verdict'] == 'unchanged' and f['child()']['verdict'] == 'unchanged',
           'other() allocates as before; child() takes as long as before')
    # The sampled function allocates the same per sample, but its figures are of a sample.
    expect(not f['hash()']['allocs']['exact'] and f['hash()']['allocs']['verdict'] == 'unchanged',
           f"hash(): {f['hash()']['allocs']}")
    table = scopeprof('diff', base, more, expect_rc=1).stdout
    section = table.split('Allocation regressions (more allocations or bytes per call):\n')[1].splitlines()
    expect(section[1].startswith('child()') and section[2].startswith('parent()'),
           f'the function that allocates more itself comes first:\n{table}')
    expect('8192 → 8200' in section[1] and '8292 → 8300' in section[2] and 'REGRESSION' in section[1], table)
    expect('2 regressions, 0 improvements (wall time 0/0, allocations 2/0)' in table.splitlines()[0], table)
    md = scopeprof('diff', '--format', 'markdown', base, more, expect_rc=1).stdout.splitlines()
    at = md.index('### Allocation regressions (more allocations or bytes per call)')
    expect(md[at + 4].startswith('| `child()` |') and md[0].startswith('**scopeprof diff: 2 regressions'),
           '\n'.join(md))
    # Fewer bytes: improvements, the gate passes. The same allocations: nothing to say.
    j = diff_json(more, base, 0)
    expect((j['alloc_improvements'], j['alloc_regressions']) == (2, 0), f'improvements {j}')
    j = diff_json(base, side('same'), 0)
    expect(j['alloc_regressions'] == j['alloc_improvements'] == 0, f'identical: {j}')
    # The count alone, or the bytes alone, decide: more allocations of the same bytes, and
    # fewer, larger ones, are both regressions.
    for name, child in (('split', (3, 8192)), ('merged', (1, 8200))):
        j = diff_json(base, side(name, child=(child,)), 1)
        expect(functions(j)['child()']['allocs']['verdict'] == 'regression', f'{name}: {j}')
    # A sampled function's figures changed: shown, not judged (they are of the calls chance drew).
    j = diff_json(base, side('sampled', hash_bytes=32), 0)
    a = functions(j)['hash()']['allocs']
    expect((a['verdict'], a['base_calls'], a['base_bytes_per_call'], a['head_bytes_per_call']) == ('not judged', 128, 16, 32)
           and j['alloc_regressions'] == 0, f'two samples of 64 calls: {a}')
    table = scopeprof('diff', base, os.path.join(tmp, 'sampled.db')).stdout
    expect('Allocation changes not judged:' in table and 'not judged: some calls sampled or only counted' in table, table)
    # A sampled callee under a fully recorded caller: the caller's own bytes leave out the
    # callee's unrecorded calls (as site_stats does), so only its inclusive figure changes.
    def nested(name, hash_bytes):
        db = os.path.join(tmp, name + '.db')
        calls, t = [], 0
        for i in range(128):
            if i % 64 == 0:
                calls.append((1, 1, t + 100, t + 200, 1, hash_bytes, True))
            calls.append((0, 0, t, t + 1000, 2, 10 + hash_bytes))
            t += 2000
        run = os.path.join(tmp, name, f'run-{name}')
        log_file(os.path.join(run, '1-1.splog'),
                 batch(site_entry(0, 'g()') + site_entry(1, 'h()'), memory_calls(calls)),
                 run=f'run-{name}', sample_period=64, counts_memory=True)
        load(db, run)
        return db
    j = diff_json(nested('nested16', 16), nested('nested32', 32), 1)
    g = functions(j)['g()']['allocs']
    expect((g['base_bytes_per_call'], g['head_bytes_per_call'], g['base_self_bytes_per_call'],
            g['head_self_bytes_per_call'], g['verdict']) == (26, 42, 10, 10, 'regression'), f'g(): {g}')
    # Runs of one side that disagree: only a change beyond every run of the other side counts.
    varied = side('varied', child=((2, 8192), (2, 8200)))
    j = diff_json(varied, side('within', child=((2, 8196), (2, 8204))), 0)
    a = functions(j)['child()']['allocs']
    expect(a['varies_between_runs'] and not a['changed'] and a['verdict'] == 'unchanged', f'within the runs: {a}')
    j = diff_json(varied, side('beyond', child=((2, 8208), (2, 8208))), 1)
    expect(functions(j)['child()']['allocs']['verdict'] == 'regression', f'beyond every run: {j}')
    # A side that did not count: not compared, and said so; never a regression.
    uncounted = side('uncounted', child=((2, 8200),), counts_memory=False)
    j = diff_json(base, uncounted, 0)
    expect(not j['allocs_compared'] and functions(j)['child()']['allocs'] is None, f'{j}')
    out = scopeprof('diff', base, uncounted).stdout
    expect(f"Allocations not compared: not every run of head '{uncounted}' measured it" in out, out)


def scenario_diff_allocs_run(tmp):
    """The end-to-end path: two real runs of the memory workload (threads, fork, exceptions)
    under SCOPEPROF_COUNTERS=memory,cpu allocate alike; a run whose child() asks for 8 more
    bytes a call is a regression of child() and of the functions above it, with exact figures.
    Times cannot decide here (--min-time 3600s): a loaded machine changes them, not allocations."""
    program = os.path.join(os.path.dirname(WORKLOAD), 'runtime-memory-workload')

    def run(name, *args):
        out = os.path.join(tmp, 'out-' + name)
        p = subprocess.run([program, *args], env=dict(os.environ, SCOPEPROF_OUT=out, SCOPEPROF_COUNTERS='memory,cpu',
                                                      SCOPEPROF_THROTTLE='0'), capture_output=True, text=True)
        expect(p.returncode == 0, p.stderr)
        db = os.path.join(tmp, name + '.db')
        load(db, os.path.join(out, os.listdir(out)[0]))
        return db

    base, same, more = run('base'), run('same'), run('more', '8')
    j = json.loads(scopeprof('diff', '--format', 'json', '--min-time', '3600s', base, same).stdout)
    expect(j['allocs_compared'] and j['alloc_regressions'] == j['alloc_improvements'] == 0,
           f'two runs of one program allocate alike: {[f for f in j["functions"] if (f["allocs"] or {}).get("changed", True)]}')
    j = json.loads(scopeprof('diff', '--format', 'json', '--min-time', '3600s', base, more, expect_rc=1).stdout)
    changed = {f['function']: f['allocs'] for f in j['functions'] if f['allocs']['changed']}
    expect(set(changed) == {'child()', 'parent(int)'} and j['alloc_regressions'] == 2, f'changed: {changed}')
    # 1110 child() calls a side (1000 + 100 on a thread + 10 in the fork child).
    expect((changed['child()']['base_calls'], changed['child()']['base_bytes_per_call'],
            changed['child()']['head_bytes_per_call']) == (1110, 8192, 8200), f"child(): {changed['child()']}")
    expect(changed['parent(int)']['head_self_bytes_per_call'] == 0, f"parent(int): {changed['parent(int)']}")


def cpu_side(tmp, name, functions, since=1000):
    """A crafted run: functions are (signature, calls, wall ns, off-CPU ns) of sequential calls
    that each leave the CPU once; the thread is tracked from `since` (None: not tracked)."""
    db = os.path.join(tmp, name + '.db')
    run = os.path.join(tmp, name, 'run-' + name)
    calls, intervals, t = [], [], 2000
    for i, (sig, n, wall, off) in enumerate(functions):
        for _ in range(n):
            calls.append((i, 0, t, t + wall, False))
            if off:
                intervals.append((t + 100, t + 100 + off, 0))
            t += wall + 1000
    log_file(os.path.join(run, '1-1.splog'),
             batch(*[site_entry(i, f[0]) for i, f in enumerate(functions)],
                   *([offcpu_entry(intervals)] if since is not None else []), calls_entry(calls)),
             run='run-' + name, switches_since=since)
    load(db, run)
    return db


def scenario_diff_cpu(tmp):
    """CPU time is judged with wall time's noise model: f() takes as long as before but is on
    the CPU 8 us of its 10 us instead of 2 us: a CPU time regression, not a wall one."""
    base = cpu_side(tmp, 'base', [('f()', 1000, 10000, 8000), ('g()', 1000, 5000, 1000)])
    busier = cpu_side(tmp, 'busier', [('f()', 1000, 10000, 2000), ('g()', 1000, 5000, 1000)])
    j = diff_json(base, busier, 1)
    f = {x['function']: x for x in j['functions']}
    expect((j['time_regressions'], j['cpu_regressions'], j['regressions'], j['cpu_compared']) == (0, 1, 1, True),
           f'one CPU time regression: {j}')
    cpu = f['f()']['cpu']
    expect((cpu['base_total_ns'], cpu['head_total_ns'], cpu['base_self_ns'], cpu['verdict']) ==
           (2_000_000, 8_000_000, 2_000_000, 'regression') and cpu['p_value'] < 0.01, f'f() cpu {cpu}')
    expect(f['f()']['verdict'] == 'unchanged' and f['g()']['cpu']['verdict'] == 'unchanged', f'{j}')
    table = scopeprof('diff', base, busier, expect_rc=1).stdout
    section = table.split('CPU time regressions:\n')[1].splitlines()
    expect('cpu before' in section[0] and section[1].startswith('f()') and ' 2 ms ' in section[1] and
           ' 8 ms ' in section[1] and 'REGRESSION' in section[1], table)
    expect('Regressions:' not in table and '(wall time 0/0, CPU time 1/0)' in table.splitlines()[0], table)
    j = diff_json(busier, base, 0)
    expect(j['cpu_improvements'] == 1 and j['cpu_regressions'] == 0, f'the other way: {j}')
    # Not compared where a side has no CPU times, or some calls of a function have none.
    untracked = cpu_side(tmp, 'untracked', [('f()', 1000, 10000, 2000), ('g()', 1000, 5000, 1000)], since=None)
    j = diff_json(base, untracked, 0)
    expect(not j['cpu_compared'] and all(x['cpu'] is None for x in j['functions']), f'{j}')
    out = scopeprof('diff', '--format', 'markdown', base, untracked).stdout
    expect(f"CPU time not compared: not every run of head '{untracked}' measured it" in out, out)
    late = cpu_side(tmp, 'late', [('f()', 1000, 10000, 2000), ('g()', 1000, 5000, 1000)], since=3000)
    j = diff_json(base, late, 0)
    expect(j['cpu_compared'] and {x['function'] for x in j['functions'] if x['cpu'] is None} == {'f()'}, f'{j}')
    expect('CPU time of 1 function(s) not compared: not all of their calls have one' in
           scopeprof('diff', base, late).stdout, 'said so')


SCENARIOS = {name[len('scenario_'):].replace('_', '-'): fn for name, fn in globals().items()
             if name.startswith('scenario_')}

if __name__ == '__main__':
    if SCENARIO not in SCENARIOS:
        fail(f'unknown scenario; known: {", ".join(SCENARIOS)}')
    tmp = tempfile.mkdtemp(prefix='scopeprof-db-')
    try:
        SCENARIOS[SCENARIO](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f'ok [{SCENARIO}]')
