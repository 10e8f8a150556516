#!/usr/bin/env python3
"""Runs the runtime test programs and checks what `scopeprof dump` shows, exactly.

usage: check_runtime.py SCOPEPROF WORKLOAD CWORKLOAD SCENARIO
"""
import collections
import os
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

SCOPEPROF, WORKLOAD, CWORKLOAD, SCENARIO = sys.argv[1:5]

CALL = re.compile(r'  call depth=(\d+) (region )?(.*) start=(\d+) dur=(\d+)(?: paused=(\d+))?( \[broken\])?$')


class LogFile:
    def __init__(self, path):
        self.path = path
        self.process = {}
        self.thread = {}
        self.renames = []
        self.calls = []  # dicts: depth, name, region, dur, paused, broken, error
        self.exceptions = []
        self.summaries = {}
        self.dropped = 0
        self.problems = []

    def count(self, name, **kw):
        return sum(1 for c in self.calls if c['name'] == name and all(c[k] == v for k, v in kw.items()))


def fields(line):
    return {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', line)}


def dump(path, expect_clean=True, ordered=True):
    proc = subprocess.run([SCOPEPROF, 'dump', path], capture_output=True, text=True)
    if expect_clean and proc.returncode != 0:
        fail(f'dump exited {proc.returncode}: {proc.stderr}')
    files, current, error = [], None, None
    for line in proc.stdout.splitlines():
        if line.startswith('file '):
            current = LogFile(line[5:])
            files.append(current)
            error = None
        elif line.startswith('  process '):
            current.process = fields(line)
        elif line.startswith('  thread '):
            current.thread = fields(line)
        elif line.startswith('  thread-name '):
            current.renames.append(line.split('"')[1])
        elif line.startswith('  exception '):
            f = fields(line)
            current.exceptions.append((f['type'], f['message']))
            error = len(current.exceptions) - 1
        elif line.startswith('  call '):
            m = CALL.match(line)
            if not m:
                fail(f'unparsable call line: {line}')
            current.calls.append(dict(depth=int(m[1]), region=bool(m[2]), name=m[3], dur=int(m[5]),
                                      end=int(m[4]) + int(m[5]) + int(m[6] or 0),
                                      paused=int(m[6] or 0), broken=bool(m[7]),
                                      error=error if m[7] else None))
        elif line.startswith('  summary '):
            f = fields(line)
            current.summaries[f['site']] = (int(f['calls']), int(f['total']))
        elif line.startswith('  dropped '):
            current.dropped = int(line.split()[1])
        elif line.startswith('  problem '):
            current.problems.append(line)
    for f in files if ordered else []:
        # Calls are logged as they end, in order, whatever the batching.
        last = 0
        for c in f.calls:
            expect(c['end'] + 1000 >= last, f'{f.path}: calls out of order at {c}')
            last = max(last, c['end'])
    return files, proc


def fail(message):
    print(f'FAIL [{SCENARIO}]: {message}')
    sys.exit(1)


def expect(cond, message):
    if not cond:
        fail(message)


def run(args, env_extra, out, **kw):
    # Every call is recorded unless a test turns the auto-throttle on: calls are counted exactly.
    env = dict(os.environ, SCOPEPROF_OUT=out)
    env.update({'SCOPEPROF_THROTTLE': '0', **env_extra})
    env.pop('SCOPEPROF_RUN_DIR', None)
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, **kw)


def scenario_exact(tmp):
    T, N, K = 3, 1000, 3
    p = run([WORKLOAD, 'exact', str(T), str(N), str(K)], {}, tmp)
    expect(p.returncode == 0, f'workload failed: {p.stderr}')
    runs = os.listdir(tmp)
    expect(len(runs) == 1, f'expected one run directory, found {runs}')
    files, _ = dump(tmp)
    for f in files:
        expect(not f.problems, f'{f.path}: {f.problems}')
    main = [f for f in files if f.count('exact(int, int, int)') == 1]
    expect(len(main) == 1, 'exactly one file holds exact()')
    main = main[0]
    parent_pid = main.process['pid']
    expect(main.thread['tid'] == parent_pid, 'exact() ran on the main thread')

    # Workers: exact counts, nesting, names.
    workers = [f for f in files if f.process['pid'] == parent_pid and f is not main]
    expect(len(workers) == T, f'{len(workers)} worker files, expected {T}')
    for w in workers:
        expect(w.count('outer(int)', depth=0) == N, f'{w.path}: outer')
        expect(w.count('inner(int)', depth=1) == N, f'{w.path}: inner')
        expect(w.count('leaf(int)', depth=2) == 2 * N, f'{w.path}: leaf')
        expect(len(w.calls) == 4 * N, f'{w.path}: {len(w.calls)} calls, expected {4 * N}')
        expect(re.fullmatch(r'worker-\d', w.thread['name']), f'thread name {w.thread["name"]}')
        expect(w.renames == ['renamed-' + w.thread['name'][-1]], f'renames {w.renames}')

    # Exceptions: types, messages, broken scopes, tracebacks (the broken chain per exception).
    expect(main.count('thrower(int)', broken=True) == 6, 'six broken thrower scopes')
    expect(main.count('thrower(int)', broken=False) == 0, 'no thrower scope ends normally')
    expect(main.count('catcher(int, int)', broken=False) == 4, 'catcher scopes end normally')
    expect(main.count('atOutOfRange()', broken=True) == 1, 'atOutOfRange is broken')
    expect(main.exceptions == [('std::runtime_error', 'thrown at the bottom')] * 2 +
           [('std::out_of_range', 'vector::_M_range_check: __n (which is 7) >= this->size() (which is 0)')],
           f'exceptions {main.exceptions}')
    chains = collections.defaultdict(list)
    for c in main.calls:
        if c['broken']:
            chains[c['error']].append(c['depth'])
    depths = [chains[k] for k in sorted(chains)]
    expect(depths == [[5, 4, 3, 2], [5, 4], [1]], f'traceback depths {depths}')
    # Regions: paused time excluded.
    regions = [c for c in main.calls if c['region']]
    expect(len(regions) == 1 and regions[0]['name'] == 'paused-region', f'regions {regions}')
    expect(regions[0]['paused'] >= 30e6 and regions[0]['dur'] >= 20e6 and regions[0]['dur'] < 30e6 + 20e6,
           f'region timing {regions[0]}')

    # Forked children (one execs): own pid, the parent's pid and name.
    children = [f for f in files if f.process['pid'] != parent_pid]
    expect(len(children) == K + 1, f'{len(children)} child files, expected {K + 1}')
    pids = collections.Counter(f.process['pid'] for f in children)
    expect(sorted(pids.values()) == [1] * (K - 1) + [2], f'child pids {pids}')
    for c in children:
        expect(c.process['ppid'] == parent_pid, f'{c.path}: ppid {c.process["ppid"]}')
        expect(c.process['parent'] == main.process['name'], f'{c.path}: parent name')
        expect(c.count('leaf(int)') == N, f'{c.path}: leaf calls {c.count("leaf(int)")}')
    exec_images = [c for c in children if 'exec-child' in c.process['args']]
    expect(len(exec_images) == 1, 'one exec-ed image')
    expect(exec_images[0].count('execChild(int)', depth=0) == 1, 'execChild')
    expect(exec_images[0].count('leaf(int)', depth=1) == N, 'exec-ed leaf depth')
    finished = [c for c in children if c.count('childWork(int, int)') == 1]
    expect(len(finished) == K - 1, 'childWork completes in children that do not exec')
    for c in finished:
        work_depth = [x['depth'] for x in c.calls if x['name'] == 'childWork(int, int)'][0]
        expect(c.count('leaf(int)', depth=work_depth + 1) == N, 'child nesting continues the parent')


def scenario_exit_with_threads(tmp):
    T, N = 2, 20000
    p = run([WORKLOAD, 'exit-with-threads', str(T), str(N)], {'SCOPEPROF_BUFFER_SIZE': '8K'}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    leafs = sorted(f.count('leaf(int)') for f in files)
    expect(leafs == [0] + [N] * T, f'leaf calls per file {leafs}')


def scenario_sigkill(tmp):
    env = dict(os.environ, SCOPEPROF_OUT=tmp, SCOPEPROF_BUFFER_SIZE='16K')
    proc = subprocess.Popen([WORKLOAD, 'spin'], env=env, stdout=subprocess.PIPE, text=True)
    for _ in range(5):
        proc.stdout.readline()
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    files, _ = dump(tmp, expect_clean=False)
    expect(len(files) == 1, 'one log file')
    log = files[0]
    expect(all(' torn ' in p for p in log.problems), f'only a torn tail may be reported: {log.problems}')
    expect(len(log.calls) >= 4 * 4096, f'only {len(log.calls)} calls read back')
    expect(all(c['name'] in ('outer(int)', 'inner(int)', 'leaf(int)') for c in log.calls), 'sane records')
    # Cut the file at many places: every complete batch before the cut reads back, the rest is
    # reported as torn, never misread.
    path = log.path
    data = open(path, 'rb').read()
    previous = -1
    cuts = sorted(set(list(range(len(data) - 24, len(data))) + list(range(0, len(data), max(1, len(data) // 8)))))
    for cut in cuts:
        if cut < 16:
            continue
        cut_path = os.path.join(tmp, 'cut.splog')
        open(cut_path, 'wb').write(data[:cut])
        cut_files, proc = dump(cut_path, expect_clean=False)
        cut_log = cut_files[0]
        expect(all(' torn ' in p for p in cut_log.problems), f'cut at {cut}: {cut_log.problems}')
        expect(len(cut_log.calls) >= previous, f'cut at {cut}: fewer calls than a shorter cut')
        previous = len(cut_log.calls)
    expect(previous <= len(log.calls), 'a cut never adds calls')


def scenario_c_form(tmp):
    p = run([CWORKLOAD, '100'], {}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    expect(len(files) == 1, 'one file')
    expect(files[0].count('sum_squares(int)', depth=0) == 1, 'sum_squares')
    expect(files[0].count('square(int)', depth=1) == 100, 'square')


def scenario_empty_run(tmp):
    p = run([CWORKLOAD, '0'], {}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    expect(len(files) == 1 and files[0].calls == [] and files[0].process['pid'], 'a valid, empty run')


def scenario_threshold(tmp):
    p = run([WORKLOAD, 'calls', '10000'], {'SCOPEPROF_MIN_DURATION': '1ms'}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    log = files[0]
    # A call preempted past the threshold is written one by one; totals stay exact.
    expect(all(c['dur'] >= 1e6 for c in log.calls), 'short calls are not written one by one')
    expect(len(log.calls) < 100, f'{len(log.calls)} calls over 1 ms')
    counts = {k: v[0] + log.count(k) for k, v in log.summaries.items()}
    expect(counts == {'leaf(int)': 20000, 'inner(int)': 10000, 'outer(int)': 10000}, f'counts {counts}')
    expect(all(v[1] > 0 for v in log.summaries.values()), 'summed time')


def scenario_log_budget(tmp):
    # Past SCOPEPROF_MAX_LOG_SIZE, calls are counted per site: nothing is lost, the log stops growing.
    p = run([WORKLOAD, 'calls', '100000'], {'SCOPEPROF_MAX_LOG_SIZE': '64K', 'SCOPEPROF_BUFFER_SIZE': '16K',
                                          'SCOPEPROF_THROTTLE': '0'}, tmp)
    expect(p.returncode == 0, p.stderr)
    expect(p.stderr.count('SCOPEPROF_MAX_LOG_SIZE') == 1, f'one warning: {p.stderr}')
    expect('recorded' in p.stderr and 'to record less: SCOPEPROF_MIN_DURATION=1us' in p.stderr,
           f'what the run cost and what to do: {p.stderr}')
    log = dump(tmp)[0][0]
    counts = {k: log.summaries.get(k, (0, 0))[0] + log.count(k) for k in ('outer(int)', 'inner(int)', 'leaf(int)')}
    expect(counts == {'outer(int)': 100000, 'inner(int)': 100000, 'leaf(int)': 200000}, f'counts {counts}')
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(tmp) for f in fs)
    expect(0 < len(log.calls) < 10000 and size < 200 * 1024, f'{len(log.calls)} calls written, {size} bytes')


def scenario_max_depth(tmp):
    p = run([WORKLOAD, 'calls', '1000'], {'SCOPEPROF_MAX_DEPTH': '2'}, tmp)
    expect(p.returncode == 0, p.stderr)
    log = dump(tmp)[0][0]
    expect(log.count('outer(int)') == 1000 and log.count('inner(int)') == 1000, 'shallow calls kept')
    expect(log.count('leaf(int)') == 0 and log.summaries['leaf(int)'][0] == 2000, 'deep calls summarized')


def scenario_drop_policy(tmp):
    p = run([WORKLOAD, 'calls', '200000'], {'SCOPEPROF_ON_FULL': 'drop', 'SCOPEPROF_BUFFER_SIZE': '4K',
                                          'SCOPEPROF_THROTTLE': '0'}, tmp)
    expect(p.returncode == 0, p.stderr)
    log = dump(tmp)[0][0]
    expect(len(log.calls) + log.dropped == 800000, f'{len(log.calls)} written + {log.dropped} dropped')


def scenario_runtime_rules(tmp):
    rules = os.path.join(tmp, 'rt.rules')
    open(rules, 'w').write('exclude function:leaf\n')
    out = os.path.join(tmp, 'out')
    p = run([WORKLOAD, 'calls', '100'], {'SCOPEPROF_RULES': rules}, out)
    expect(p.returncode == 0, p.stderr)
    log = dump(out)[0][0]
    expect(log.count('leaf(int)') == 0 and log.count('inner(int)') == 100, 'leaf excluded at run time')
    open(rules, 'w').write('exclude fucntion:leaf\n')
    out2 = os.path.join(tmp, 'out2')
    p = run([WORKLOAD, 'calls', '100'], {'SCOPEPROF_RULES': rules}, out2)
    expect(p.returncode == 0, 'a bad rules file never stops the program')
    expect("unknown selector 'fucntion'" in p.stderr and 'recording every site' in p.stderr, p.stderr)
    expect(dump(out2)[0][0].count('leaf(int)') == 200, 'everything recorded after a bad rules file')


def scenario_bad_environment(tmp):
    p = run([WORKLOAD, 'calls', '100'], {'SCOPEPROF_BUFFER_SIZE': 'lots', 'SCOPEPROF_MIN_DURATION': '5 parsecs',
                                         'SCOPEPROF_ON_FULL': 'panic', 'SCOPEPROF_ENABLE': 'maybe',
                                         'SCOPEPROF_MAX_LOG_SIZE': 'huge', 'SCOPEPROF_THROTTLE': '1000:fast',
                                         'SCOPEPROF_RECORD_CMDLINE': 'sometimes',
                                         'SCOPEPROF_COUNTERS': 'cpu,cycles'}, tmp)
    expect(p.returncode == 0, p.stderr)
    for var in ('SCOPEPROF_BUFFER_SIZE=\'lots\'', 'SCOPEPROF_MIN_DURATION=\'5 parsecs\'',
                'SCOPEPROF_ON_FULL=\'panic\'', 'SCOPEPROF_ENABLE=\'maybe\'', 'SCOPEPROF_MAX_LOG_SIZE=\'huge\'',
                'SCOPEPROF_THROTTLE=\'1000:fast\'', 'SCOPEPROF_RECORD_CMDLINE=\'sometimes\'',
                'SCOPEPROF_COUNTERS=\'cpu,cycles\' is not a list of counters from: cpu, memory (or none); using cpu'):
        expect(p.stderr.count(var) == 1, f'one warning for {var}: {p.stderr}')
    expect(dump(tmp)[0][0].count('outer(int)') == 100, 'defaults used')
    # What a cut site's calls become: off or sampled, nothing else.
    p = run([WORKLOAD, 'calls', '10'], {'SCOPEPROF_THROTTLE': '1000:1us:maybe'}, os.path.join(tmp, 'then'))
    expect(p.returncode == 0 and p.stderr.count("SCOPEPROF_THROTTLE='1000:1us:maybe' is not") == 1, p.stderr)
    # A buffer larger than a reader takes as one frame is refused, not written unreadable.
    big = os.path.join(tmp, 'big')
    p = run([WORKLOAD, 'calls', '10'], {'SCOPEPROF_BUFFER_SIZE': '64M'}, big)
    expect("SCOPEPROF_BUFFER_SIZE='64M' is not a size from 4K to 32M" in p.stderr, p.stderr)


def switches_line(path):
    out = subprocess.run([SCOPEPROF, 'dump', path], capture_output=True, text=True).stdout
    return [l.strip() for l in out.splitlines() if l.startswith('  switches ')]


def scenario_cpu_switches(tmp):
    # Every thread of every process tracks its own switches: 3 threads and a fork child's 2.
    p = run([WORKLOAD, 'cpu', '20'], {}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    lines = switches_line(tmp)
    expect(len(files) == 5 and len(lines) == 5 and all(l.startswith('switches since=') for l in lines), f'{lines}')
    expect(len({f.process['pid'] for f in files}) == 2, 'a fork child')
    out = subprocess.run([SCOPEPROF, 'dump', tmp], capture_output=True, text=True).stdout
    per_file = [chunk.count('\n  off-cpu start=') for chunk in out.split('\nfile ')]
    # Each round's two sleeps always leave the CPU; its wait and join need not (on a loaded
    # machine the setter may be done before the waiter waits: one file once had 3 intervals).
    expect(all(n >= 2 for n in per_file), f'each thread slept: off-CPU intervals per file {per_file}')
    # Switched off: the header says so, and nothing is asked of the kernel.
    off = os.path.join(tmp, 'off')
    p = run([WORKLOAD, 'calls', '10'], {'SCOPEPROF_COUNTERS': 'none'}, off)
    expect(p.returncode == 0 and not p.stderr, p.stderr)
    expect(switches_line(off) == ['switches untracked'], f'{switches_line(off)}')
    # No descriptor leaks into an exec'ed program (CLOEXEC): it holds its own thread's only, two
    # events a thread (its switches, its CPU samples).
    p = run([WORKLOAD, 'exec-perf-fds'], {}, os.path.join(tmp, 'exec'))
    expect(p.returncode == 0 and 'before exec 4' in p.stdout and 'after exec 2' in p.stdout, p.stdout + p.stderr)
    # A kernel that refuses: the run goes on, untracked, with one warning when verbose only.
    refuse = {'LD_PRELOAD': os.path.join(os.path.dirname(WORKLOAD), 'librefuse-perf.so')}
    for verbose in ('0', '1'):
        out = os.path.join(tmp, 'refused' + verbose)
        p = run([WORKLOAD, 'cpu', '5'], dict(refuse, SCOPEPROF_VERBOSE=verbose), out)
        expect(p.returncode == 0, p.stderr)
        warned = p.stderr.count('cannot track context switches (perf_event_open: Permission denied')
        expect(warned == (verbose == '1'), f'SCOPEPROF_VERBOSE={verbose}: {warned} warnings\n{p.stderr}')
        expect(switches_line(out) == ['switches untracked'] * 5, f'{switches_line(out)}')


def scenario_manual_api(tmp):
    p = run([WORKLOAD, 'manual'], {}, tmp)
    expect(p.returncode == 0, p.stderr)
    log = dump(tmp)[0][0]
    expect(log.count('manual block', depth=0) == 10, 'SCOPEPROF_SCOPE blocks')
    expect(log.count('leaf(int)', depth=1) == 10, 'calls inside the blocks')
    expect(log.count('leaf(int)', depth=0) == 5, 'calls while disabled are not recorded')


def scenario_disabled(tmp):
    p = run([WORKLOAD, 'calls', '100'], {'SCOPEPROF_ENABLE': '0'}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    expect(sum(len(f.calls) for f in files) == 0, 'nothing recorded when disabled')


def scenario_unwritable_output(tmp):
    blocker = os.path.join(tmp, 'file')
    open(blocker, 'w').write('not a directory')
    p = run([WORKLOAD, 'calls', '100'], {}, os.path.join(blocker, 'out'))
    expect(p.returncode == 0, 'the program runs on')
    expect(p.stderr.count('cannot create run directory') == 1, p.stderr)


def scenario_signals(tmp):
    # A 10 kHz SIGALRM handler calls instrumented code while the thread records (small buffers:
    # it is often inside the recorder): the run ends, nothing is torn, and every handler call is
    # either recorded or counted as dropped.
    p = run([WORKLOAD, 'signals', '1500'], {'SCOPEPROF_BUFFER_SIZE': '4K', 'SCOPEPROF_THROTTLE': '0'}, tmp)
    expect(p.returncode == 0, f'exit {p.returncode}: {p.stderr}')
    calls = int(p.stdout.split()[-1])
    # Counted through the loader (millions of calls): it also refuses torn records.
    db = os.path.join(tmp, 'signals.db')
    load = subprocess.run([SCOPEPROF, 'load', '--quiet', '--db', db, tmp], capture_output=True, text=True)
    expect(load.returncode == 0, f'the log does not load cleanly: {load.stderr}')
    with sqlite3.connect(db) as c:
        recorded = c.execute("SELECT count(*) FROM calls c JOIN sites s ON s.id = c.site_id "
                             "WHERE s.signature = 'handled()'").fetchone()[0]
        dropped = c.execute('SELECT sum(dropped_calls) FROM threads').fetchone()[0]
    expect(recorded + dropped == calls and recorded > 0,
           f'{recorded} handler calls recorded + {dropped} dropped != {calls} made')


def scenario_sigterm_exit(tmp):
    # A SIGTERM handler that calls instrumented code and exit(): never hangs in the final flush.
    for trial in range(20):
        out = os.path.join(tmp, str(trial))
        env = dict(os.environ, SCOPEPROF_OUT=out, SCOPEPROF_BUFFER_SIZE='4K', SCOPEPROF_THROTTLE='0')
        env.pop('SCOPEPROF_RUN_DIR', None)
        proc = subprocess.Popen([WORKLOAD, 'sigterm-exit'], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        expect(proc.stdout.readline().strip() == 'ready', 'workload did not start')
        time.sleep(0.01 * trial)
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            fail(f'trial {trial}: hung after SIGTERM')
        expect(code == 3, f'trial {trial}: exit {code}')
        load = subprocess.run([SCOPEPROF, 'load', '--quiet', '--db', os.path.join(out, 'db'), out],
                              capture_output=True, text=True)
        # An exit that interrupted the recorder skips the final flush (it says so), so the writer
        # may be cut off in its last batch: a torn tail, never damage in the middle.
        skipped = 'exit inside the recorder' in proc.stderr.read()
        torn_tail = all('torn last batch' in line for line in load.stderr.splitlines() if 'warning' in line)
        expect(load.returncode == 0 or (skipped and torn_tail),
               f'trial {trial}: the log does not load cleanly: {load.stderr}')


def scenario_clone_exec(tmp):
    # A raw clone() child (no fork handlers) that execs an instrumented program completes, and
    # the new image joins the run.
    p = run([WORKLOAD, 'clone-exec'], {}, tmp)
    expect(p.returncode == 0, f'exit {p.returncode}: {p.stderr}')
    files, _ = dump(tmp)
    exec_image = [f for f in files if 'calls' in f.process.get('args', '')]
    expect(len(exec_image) == 1 and exec_image[0].count('outer(int)') == 5, 'the exec\'d image recorded 5 calls')


def scenario_deep(tmp):
    # 100 000 deep: no call is mistaken for broken, the depth field saturates visibly.
    n = 100000
    p = run([WORKLOAD, 'deep', str(n)], {'SCOPEPROF_THROTTLE': '0'}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    calls = [c for f in files for c in f.calls if c['name'] == 'recurse(int)']
    expect(len(calls) == n + 1 and not any(c['broken'] for c in calls), f'{len(calls)} calls, broken ones: '
           f'{sum(c["broken"] for c in calls)}')
    depths = collections.Counter(min(c['depth'], 65535) for c in calls)
    expect(max(c['depth'] for c in calls) == 65535 and depths[65535] == n + 1 - 65535,
           f'saturated at 65535: {depths[65535]} calls')


def scenario_longjmp(tmp):
    # Error recovery with longjmp out of three open scopes, 1000 times: the calls after each jump
    # have their true depth; the scopes the jumps left are not calls and are not recorded.
    p = run([CWORKLOAD, 'jump', '1000'], {}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    log = files[0]
    expect(log.count('square(int)', depth=1) == 1000, f'square depths: {collections.Counter(c["depth"] for c in log.calls if c["name"] == "square(int)")}')
    expect(log.count('recover(int)', depth=0) == 1 and log.count('fail_deep(int)') == 0, 'recover, no fail_deep')


def scenario_disk_full(tmp):
    # The log's disk fills up, then frees up: no torn frame is left in the middle of a file, the
    # calls that could not be written are counted as dropped, and later batches load. A disk that
    # stays full to the end: the calls whose count no log could hold (a small frame may still fit
    # where a big one did not) are said at exit, so every call made is accounted for.
    if os.geteuid() != 0:
        # Not root here: a file size limit fails the writes the same way (EFBIG), for good.
        import resource

        def limit():
            resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        p = run([WORKLOAD, 'paced', '1500'], DISK_FULL_ENV, tmp, preexec_fn=limit)
        check_disk_full_accounting(p.returncode, p.stdout, p.stderr, tmp, freed=False)
        return
    for freed in (True, False):
        mnt = os.path.join(tmp, f'small-{freed}')
        os.makedirs(mnt)
        # Full but for room for the run directory and the first batches; once freed, room for
        # the whole run.
        size = (64 if freed else 1) << 20
        subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', mnt], check=True)
        try:
            filler = os.path.join(mnt, 'filler')
            with open(filler, 'wb') as f:
                f.write(b'x' * (size - 16 * 1024))
            e = dict(os.environ, SCOPEPROF_OUT=os.path.join(mnt, 'out'), **DISK_FULL_ENV)
            e.pop('SCOPEPROF_RUN_DIR', None)
            proc = subprocess.Popen([WORKLOAD, 'paced', '2500'], env=e, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            if freed:
                time.sleep(1.0)
                os.remove(filler)
            out, err = proc.communicate(timeout=120)
            check_disk_full_accounting(proc.returncode, out, err, os.path.join(mnt, 'out'), freed)
        finally:
            subprocess.run(['umount', mnt])


DISK_FULL_ENV = {'SCOPEPROF_BUFFER_SIZE': '16K', 'SCOPEPROF_THROTTLE': '0'}


def check_disk_full_accounting(code, out, err, logs, freed):
    expect(code == 0, f'exit {code}: {err}')
    expect('cannot write a log batch' in err, f'a warning: {err!r}')
    files, _ = dump(logs)
    expect(all(not f.problems for f in files), f'damaged: {[f.problems for f in files]}')
    made = 4 * int(out.split()[-1])
    written, dropped = sum(len(f.calls) for f in files), sum(f.dropped for f in files)
    lost = re.search(r'lost (\d+) calls that no log counts', err)
    lost = int(lost.group(1)) if lost else 0
    expect(written + dropped + lost == made and dropped + lost > 0,
           f'{written} written + {dropped} dropped + {lost} lost != {made} made (freed: {freed})')
    if freed:
        expect(lost == 0, f'a disk with room again at exit lost no count: {err}')
        last = max(c['end'] for f in files for c in f.calls)
        first = min(c['end'] for f in files for c in f.calls)
        expect(last - first > 1.5e9, f'calls after the disk freed up were written ({(last - first) / 1e9:.2f} s)')


def scenario_rethrown(tmp):
    # std::future::get() rethrows the worker's exception (std::rethrow_exception): the scope it
    # unwinds is broken, with the exception's type and message; the next call is a normal one.
    p = run([WORKLOAD, 'future'], {}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    calls = [c for f in files for c in f.calls]
    waited = [c for c in calls if c['name'] == 'waitForIt()']
    expect(len(waited) == 1 and waited[0]['broken'], f'waitForIt(): {waited}')
    log = [f for f in files if f.count('waitForIt()')][0]
    expect(log.exceptions[waited[0]['error']] == ('std::runtime_error', 'from the future'), f'{log.exceptions}')
    expect(any(c['name'] == 'leaf(int)' and not c['broken'] for c in calls), 'later calls are not broken')


def scenario_run_identity(tmp):
    # Two runs in one second with the same name never share a directory; run directories are
    # owner-only and never followed through a symlink; logs are 0600; the command line can be
    # left out.
    out = os.path.join(tmp, 'out')
    os.makedirs(out)
    for _ in range(3):
        expect(run([WORKLOAD, 'calls', '3'], {}, out).returncode == 0, 'workload failed')
    runs = sorted(os.listdir(out))
    expect(len(runs) == 3, f'three runs, three directories: {runs}')
    for r in runs:
        st = os.lstat(os.path.join(out, r))
        expect(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700, f'{r}: mode {oct(st.st_mode)}')
        for f in os.listdir(os.path.join(out, r)):
            mode = stat.S_IMODE(os.stat(os.path.join(out, r, f)).st_mode)
            expect(mode == 0o600, f'{f}: mode {oct(mode)}')
    # A run directory planted by someone else (here: a symlink) is not joined.
    target = os.path.join(tmp, 'elsewhere')
    os.makedirs(target)
    planted = os.path.join(tmp, 'planted')
    os.symlink(target, planted)
    p = subprocess.run([WORKLOAD, 'calls', '3'], env=dict(os.environ, SCOPEPROF_RUN_DIR=planted),
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0 and 'not a directory of this user' in p.stderr and not os.listdir(target),
           f'symlinked run directory: {p.stderr}')
    # The command line: in full by default, only the program with SCOPEPROF_RECORD_CMDLINE=0.
    quiet = os.path.join(tmp, 'quiet')
    p = run([WORKLOAD, 'calls', '3', '--password=hunter2'], {'SCOPEPROF_RECORD_CMDLINE': '0'}, quiet)
    files, _ = dump(quiet)
    expect(files[0].process['args'] == WORKLOAD, f'args recorded: {files[0].process["args"]}')


def scenario_migrated(tmp):
    # A scope that ends on another thread than it began on is counted as dropped there; neither
    # thread's other calls suffer, and the first thread's depth is right again from the exit of
    # the enclosing scope.
    p = run([WORKLOAD, 'migrate'], {}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    calls = [c for f in files for c in f.calls]
    expect(not any(c['name'] == 'migrated()' for c in calls), 'the migrated call is not written')
    expect(sum(f.dropped for f in files) == 1, f'dropped: {[f.dropped for f in files]}')
    seen = sorted((c['depth'], c['name']) for c in calls)
    expect(seen == [(0, 'handOver()'), (0, 'leaf(int)'), (0, 'outer(int)'), (1, 'inner(int)'),
                    (2, 'leaf(int)'), (2, 'leaf(int)')], f'calls and depths: {seen}')


def scenario_rename_seen_first(tmp):
    # The same rename seen twice (by the writer's /proc check, then by the pthread_setname_np
    # hook) is one rename in the log.
    p = run([WORKLOAD, 'rename-seen-first'], {}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    worker = [f for f in files if f.count('leaf(int)') == 3]
    expect(len(worker) == 1, f'one file holds the three leaf calls: {[f.path for f in files]}')
    expect(worker[0].renames == ['seen-first'], f'renames {worker[0].renames}')


def scenario_long_exception(tmp):
    # A demangled type name over 1 KiB (and a long message) is cut, not written past the buffer
    # (ASan runs this scenario too).
    p = run([WORKLOAD, 'long-exception'], {}, tmp)
    expect(p.returncode == 0, p.stderr)
    files, _ = dump(tmp)
    log = [f for f in files if f.count('throwLong()')][0]
    (kind, message), = log.exceptions
    expect(kind.startswith('LongError<NestedTemplateWithANameLongEnoughToAddUp_<'), f'type {kind[:80]}')
    expect(len(kind) == 511 and 0 < len(message) and len(kind) + len(message) + 2 <= 1024,
           f'{len(kind)} + {len(message)} bytes')


def main():
    tmp = tempfile.mkdtemp(prefix=f'scopeprof-{SCENARIO}-')
    try:
        globals()['scenario_' + SCENARIO.replace('-', '_')](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f'PASS [{SCENARIO}]')


if __name__ == '__main__':
    main()
