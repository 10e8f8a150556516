#!/usr/bin/env python3
"""`scopeprof view` on real runs of the runtime's Workload: the server's answers checked against
the database with SQL, the single-file report against its budget, bad inputs, and the page in
headless Chromium (check_view_browser.mjs, through playwright-core).

usage: check_view.py SCOPEPROF WORKLOAD NODE_MODULES ARTIFACTS SCENARIO
"""
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

SCOPEPROF, WORKLOAD, NODE_MODULES, ARTIFACTS, SCENARIO = sys.argv[1:6]
HERE = os.path.dirname(os.path.abspath(__file__))


def fail(message):
    print(f'FAIL [view.{SCENARIO}]: {message}', file=sys.stderr)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


def record(tmp, *args):
    """Runs the workload, every call recorded (no throttle); returns the run directory."""
    out = os.path.join(tmp, 'out-' + '-'.join(map(str, args)))
    env = dict(os.environ, SCOPEPROF_OUT=out, SCOPEPROF_THROTTLE='0')
    p = subprocess.run([WORKLOAD, *map(str, args)], env=env, capture_output=True, text=True, cwd=tmp)
    expect(p.returncode == 0, f'workload {args} failed: {p.stderr}')
    return os.path.join(out, sorted(os.listdir(out))[-1])


def scopeprof(*args, expect_rc=0):
    p = subprocess.run([SCOPEPROF, *args], capture_output=True, text=True)
    if expect_rc is not None and p.returncode != expect_rc:
        fail(f'scopeprof {" ".join(args)} exited {p.returncode}, expected {expect_rc}:\n{p.stdout}\n{p.stderr}')
    return p


def rows(db, sql, *params):
    with sqlite3.connect(db) as c:
        return c.execute(sql, params).fetchall()


def one(db, sql, *params):
    return rows(db, sql, *params)[0][0]


def two_runs(tmp):
    """A database with the multi-process run (forks, exec, threads, exceptions) and a
    single-thread run big enough (80 000 calls) to be drawn merged when zoomed out."""
    db = os.path.join(tmp, 'view.db')
    for run in (record(tmp, 'exact', 3, 1000, 3), record(tmp, 'calls', 20000)):
        scopeprof('load', '--db', db, run)
    return db


class Server:
    """`scopeprof view DB` in the background; the URL is read from its first line."""

    def __init__(self, db, *args):
        self.p = subprocess.Popen([SCOPEPROF, 'view', *args, db], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if 'http://127.0.0.1:' not in line:
            self.p.kill()
            fail(f'view printed {line!r}, stderr: {self.p.stderr.read()}')
        self.url = line[line.index('http://'):].split()[0]
        self.port = int(self.url.rsplit(':', 1)[1].strip('/'))

    def get(self, path, status=200):
        try:
            with urllib.request.urlopen(self.url + path.lstrip('/')) as r:
                expect(status == 200, f'{path} answered 200, expected {status}')
                return json.loads(r.read()) if path.startswith('api/') else r.read()
        except urllib.error.HTTPError as e:
            body = e.read()
            expect(e.code == status, f'{path} answered {e.code}, expected {status}: {body}')
            return json.loads(body or b'null') if path.startswith('api/') else None

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=30)


def scenario_api(tmp):
    db = two_runs(tmp)
    server = Server(db)
    try:
        check_api(db, server)
    finally:
        server.stop()


def check_api(db, server):
    # Loopback only: the listening socket is bound to 127.0.0.1.
    listening = open('/proc/net/tcp').read()
    expect(f'0100007F:{server.port:04X} 00000000:0000 0A' in listening,
           f'port {server.port} is not listening on 127.0.0.1 alone')
    runs = server.get('api/runs')
    expect([r['id'] for r in runs['runs']] == [r[0] for r in rows(db, 'SELECT id FROM runs ORDER BY id')],
           f'runs {runs}')
    expect(runs['default'] == one(db, 'SELECT max(id) FROM runs'), 'the latest run is shown first')
    for run_id, in rows(db, 'SELECT id FROM runs'):
        run = server.get(f'api/run?run={run_id}')
        start = one(db, 'SELECT start_ns FROM runs WHERE id=?', run_id)
        threads = [t for p in run['processes'] for t in p['threads']]
        expect(sorted(t['id'] for t in threads) == [r[0] for r in rows(db, 'SELECT id FROM threads WHERE run_id=? ORDER BY id', run_id)],
               f'run {run_id}: threads {threads}')
        expect(run['calls'] == one(db, 'SELECT count(*) FROM calls WHERE run_id=?', run_id), 'calls of the run')
        # Process-tree order: a parent before its children; a process's main thread first.
        seen = set()
        for p in run['processes']:
            expect(p['ppid'] in seen or p['ppid'] not in {q['pid'] for q in run['processes']}, f'{p["pid"]} before its parent')
            seen.add(p['pid'])
            if p['threads'] and any(t['tid'] == p['pid'] for t in p['threads']):
                expect(p['threads'][0]['tid'] == p['pid'], f'process {p["pid"]}: main thread first')
        for t in threads:
            calls = one(db, 'SELECT count(*) FROM calls WHERE thread_id=?', t['id'])
            expect(t['calls'] == calls, f'thread {t["id"]}: {t["calls"]} calls, SQL says {calls}')
            # The whole run: every call is drawn once, alone or merged into a box that counts it.
            whole = server.get(f'api/slices?run={run_id}&threads={t["id"]}&from=0&to={run["duration"] + 1}&px=1000&depth=10000')
            got = whole['threads'][0]
            expect(sum(r[4] for r in got['rows']) == calls,
                   f'thread {t["id"]}: boxes count {sum(r[4] for r in got["rows"])} calls at level {got["level"]}, SQL {calls}')
            # Every level, asked for the whole run, counts every call once.
            for level in (1, 3, run['levels']):
                at = server.get(f'api/slices?run={run_id}&threads={t["id"]}&from=0&to={run["duration"] + 1}&depth=10000&level={level}')
                expect(sum(r[4] for r in at['threads'][0]['rows']) == calls, f'thread {t["id"]} level {level}')
        # A window in the middle: individual calls, exactly those SQL finds overlapping it.
        big = max(threads, key=lambda t: t['calls'])
        lo = big['first'] + (big['last'] - big['first']) // 2
        hi = lo + (big['last'] - big['first']) // 100
        window = server.get(f'api/slices?run={run_id}&threads={big["id"]}&from={lo}&to={hi}&px=1000&depth=10000')['threads'][0]
        expect(window['level'] == 0, f'a 1% window is drawn call by call: level {window["level"]}')
        want = {r[0] for r in rows(db, 'SELECT id FROM calls WHERE thread_id=? AND start_ns <= ? AND end_ns >= ?',
                                   big['id'], start + hi, start + lo)}
        got_ids = [r[5] for r in window['rows']]
        expect(len(got_ids) == len(set(got_ids)), 'no call twice')
        expect(set(got_ids) == want, f'window [{lo}, {hi}]: {len(got_ids)} calls, SQL {len(want)}; '
               f'missing {sorted(want - set(got_ids))[:5]}, extra {sorted(set(got_ids) - want)[:5]}')
        # Windows with a short call touching one edge (its first or last ns in it), 1 ns to 3 ms
        # wide, each lane's calls asked for one by one: the id range the server reads a window's
        # short calls from holds every one overlapping it, though the loader's ids do not follow
        # start times strictly (a parent's id comes after its first child's).
        rng = random.Random(run_id)
        short = rows(db, 'SELECT thread_id, start_ns - ?, end_ns - ? FROM calls WHERE run_id=? AND end_ns - start_ns < 16000',
                     start, start, run_id)
        for _ in range(300):
            thread, first, last = rng.choice(short)
            span = int(10 ** rng.uniform(0, 6.5))
            lo, hi = (last, last + span) if rng.random() < 0.5 else (first - span, first)
            got_ids = [r[5] for r in server.get(f'api/slices?run={run_id}&threads={thread}&from={lo}&to={hi}'
                                                f'&depth=10000&level=0')['threads'][0]['rows']]
            want = {r[0] for r in rows(db, 'SELECT id FROM calls WHERE thread_id=? AND start_ns <= ? AND end_ns >= ?',
                                       thread, start + hi, start + lo)}
            expect(len(got_ids) == len(set(got_ids)) and set(got_ids) == want,
                   f'thread {thread}, window [{lo}, {hi}]: {len(got_ids)} calls, SQL {len(want)}; '
                   f'missing {sorted(want - set(got_ids))[:5]}, extra {sorted(set(got_ids) - want)[:5]}')
        # The flame graph and the function table count every call of the run.
        flame = server.get(f'api/flame?run={run_id}')
        expect(flame['left_out'] > 0 or sum(n[2] for n in flame['nodes']) == run['calls'], 'flame counts every call')
        top = one(db, '''SELECT sum(duration_ns) FROM calls c WHERE run_id=? AND
                         (parent_id IS NULL OR parent_id NOT IN (SELECT id FROM calls))''', run_id)
        expect(flame['total'] == top, f'flame total {flame["total"]}, SQL {top}')
        functions = {r[0]: r[1] for r in server.get(f'api/functions?run={run_id}')}
        by_site = dict(rows(db, 'SELECT site_id, count(*) FROM calls WHERE run_id=? GROUP BY site_id', run_id))
        expect(functions == by_site, f'functions {functions} vs {by_site}')
    # A call's path is its chain of parents.
    deep = rows(db, 'SELECT id FROM calls WHERE depth >= 2 AND parent_id IN (SELECT id FROM calls) ORDER BY depth DESC, id LIMIT 1')[0][0]
    call = server.get(f'api/call?id={deep}')
    chain, up = [], one(db, 'SELECT parent_id FROM calls WHERE id=?', deep)
    while up is not None and rows(db, 'SELECT 1 FROM calls WHERE id=?', up):
        chain.insert(0, up)
        up = one(db, 'SELECT parent_id FROM calls WHERE id=?', up)
    expect([p[0] for p in call['path']] == chain, f'path {call["path"]} vs {chain}')
    broken = rows(db, 'SELECT c.id, e.type, e.message FROM calls c JOIN exceptions e ON e.id = c.exception_id LIMIT 1')[0]
    call = server.get(f'api/call?id={broken[0]}')
    expect(call['broken'] and call['error_type'] == broken[1] and call['error_message'] == broken[2], f'broken call {call}')
    # The longest call of a function, as the search jumps to it.
    leaf = one(db, "SELECT id FROM sites WHERE signature='leaf(int)'")
    run_id = one(db, 'SELECT max(id) FROM runs')
    longest = server.get(f'api/longest?run={run_id}&sites={leaf}')
    expect(longest['id'] == one(db, 'SELECT id FROM calls WHERE run_id=? AND site_id=? ORDER BY duration_ns DESC LIMIT 1', run_id, leaf),
           'longest call')
    # Bad requests: 400 with a message, unknown paths 404; the server keeps serving.
    for path in ('api/slices?threads=1&from=0&to=1', 'api/slices?run=1&threads=x&from=0&to=1',
                 'api/call?id=12', 'api/run?run=999', 'api/flame?run=abc'):
        expect('error' in server.get(path, status=400), f'{path}: an error message')
    server.get('nothing-here', status=404)
    expect(b'scopeprof' in server.get(''), 'the page')


def scenario_report(tmp):
    db = two_runs(tmp)
    big = one(db, 'SELECT max(id) FROM runs')
    calls = one(db, 'SELECT count(*) FROM calls WHERE run_id=?', big)
    # Roomy: every call is in the file.
    out = os.path.join(tmp, 'all.html')
    p = scopeprof('view', '-o', out, '--max-size', '20M', db)
    expect(f'every one of the run\'s {calls} calls' in p.stdout, p.stdout)
    data = embedded(out)
    expect(data['finest_level'] == 0, 'level 0 fits in 20M')
    # Tight: merged boxes, under the budget, and the page says so.
    for budget, limit in (('256K', 256 << 10), ('400000', 400000)):
        out = os.path.join(tmp, f'small-{budget}.html')
        p = scopeprof('view', '-o', out, '--max-size', budget, db)
        size = os.path.getsize(out)
        expect(size <= limit, f'{out}: {size} bytes over the budget {limit}')
        data = embedded(out)
        expect(data['finest_level'] > 0 and 'merged' in data['summary'], data['summary'])
        thread = data['levels'][str(data['finest_level'])]['threads'][0]
        expect(sum(r[4] for r in thread['rows']) == calls, 'the summary still counts every call')
    # The first run, by name.
    name = one(db, 'SELECT name FROM runs WHERE id=1')
    out = os.path.join(tmp, 'first.html')
    scopeprof('view', '-o', out, '--run', name, db)
    expect(embedded(out)['run']['name'] == name, 'the run asked for')
    expect(os.path.getsize(out) <= 4 << 20, 'the default budget is 4M')
    # No request leaves the file: nothing is loaded from elsewhere.
    html = open(out, encoding='utf-8').read()
    for needle in ('src="', 'href="http', 'fetch("http'):
        expect(needle not in html.replace('href="data:,"', ''), f'{needle} in the single file')


def embedded(path):
    html = open(path, encoding='utf-8').read()
    start = html.index('<script id="scopeprof-data" type="application/json">') + len('<script id="scopeprof-data" type="application/json">')
    return json.loads(html[start:html.index('</script>', start)])


def scenario_bad_inputs(tmp):
    db = os.path.join(tmp, 'one.db')
    scopeprof('load', '--db', db, record(tmp, 'calls', 100))

    def refused(args, rc, *needles):
        p = scopeprof('view', *args, expect_rc=rc)
        expect(p.stderr.startswith('scopeprof: error: '), f'view {args}: {p.stderr!r}')
        for n in needles:
            expect(n in p.stderr, f'view {args}: {n!r} not in {p.stderr!r}')
        expect(p.stdout == '', f'view {args} printed {p.stdout!r}')

    refused([os.path.join(tmp, 'absent.db')], 2, "'" + os.path.join(tmp, 'absent.db') + "'")
    garbage = os.path.join(tmp, 'garbage.db')
    open(garbage, 'wb').write(b'this is not a database at all' * 100)
    refused([garbage], 2, garbage)
    other = os.path.join(tmp, 'other.db')
    with sqlite3.connect(other) as c:
        c.execute('CREATE TABLE t(x)')
    refused([other], 2, other)
    refused(['--run', 'nope', db], 2, "'nope'")
    refused([], 2, 'one database')
    for bad in ('--port=x', '--port=70000', '--port=-1'):
        refused([bad, db], 2, bad.split('=')[1])
    for bad in ('x', '0', '12Q', '-4M', '1.5.5M', 'M', ' 4M'):
        refused(['-o', os.path.join(tmp, 'x.html'), '--max-size', bad, db], 2, f"'{bad}'")
    refused(['-o', os.path.join(tmp, 'x.html'), '--port', '1', db], 2, '--port')
    refused(['--max-size', '4M', db], 2, '--max-size')
    # Too small a budget for this run, an unwritable place: nothing written, not even half.
    target = os.path.join(tmp, 'small.html')
    refused(['-o', target, '--max-size', '20K', db], 1, '20 KB', 'too small')
    refused(['-o', os.path.join(tmp, 'no', 'such', 'dir.html'), db], 1, 'dir.html')
    leftovers = [f for f in os.listdir(tmp) if f.endswith('.html') or '.tmp-' in f]
    expect(not leftovers, f'files left behind: {leftovers}')
    # A port asked for is the one served.
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        free = s.getsockname()[1]
    server = Server(db, '--port', str(free))
    try:
        expect(server.port == free and server.get('api/runs')['runs'], f'--port {free}: {server.url}')
    finally:
        server.stop()
    # A port in use: said, with the port.
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        s.listen()
        port = s.getsockname()[1]
        refused(['--port', str(port), db], 2, f"'{port}'", 'in use')


def scenario_browser(tmp):
    db = two_runs(tmp)
    report = os.path.join(tmp, 'report.html')
    scopeprof('view', '-o', report, '--max-size', '1M', db)
    server = Server(db)
    try:
        os.makedirs(ARTIFACTS, exist_ok=True)
        p = subprocess.run(['node', os.path.join(HERE, 'check_view_browser.mjs'), SCOPEPROF, db, server.url,
                            report, ARTIFACTS, NODE_MODULES], capture_output=True, text=True)
        print(p.stdout)
        expect(p.returncode == 0, f'browser checks failed:\n{p.stdout}\n{p.stderr}')
    finally:
        server.stop()


SCENARIOS = {'api': scenario_api, 'report': scenario_report, 'bad-inputs': scenario_bad_inputs,
             'browser': scenario_browser}

if __name__ == '__main__':
    tmp = tempfile.mkdtemp(prefix='scopeprof-view-')
    try:
        SCENARIOS[SCENARIO](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f'view.{SCENARIO}: ok')
