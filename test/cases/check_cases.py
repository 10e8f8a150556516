#!/usr/bin/env python3
"""Profile cases end to end: the case runner on test/cases/Demo.cpp and the GoogleTest listener
on test/cases/GtestDemo.cpp, run for real, loaded into SQLite and checked against the calls
each case and fixture makes (docs/cases.md).

usage: check_cases.py SCOPEPROF CASES_DEMO GTEST_DEMO SCENARIO
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

SCOPEPROF, DEMO, GTEST_DEMO, SCENARIO = sys.argv[1:5]


def fail(message):
    print(f'FAIL [{SCENARIO}]: {message}', file=sys.stderr)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


def run(program, *args, tmp, expect_rc=0, env=None):
    """Runs \p program with logs under tmp/out (every call recorded: counts are exact)."""
    e = dict(os.environ, SCOPEPROF_OUT=os.path.join(tmp, 'out'), SCOPEPROF_THROTTLE='0')
    for name in ('SCOPEPROF_COUNTERS', 'SCOPEPROF_RUN_DIR', 'SCOPEPROF_RUN_NONCE'):
        e.pop(name, None)
    e.update(env or {})
    p = subprocess.run([program, *args], env=e, capture_output=True, text=True, cwd=tmp)
    if expect_rc is not None and p.returncode != expect_rc:
        fail(f'{os.path.basename(program)} {" ".join(args)} exited {p.returncode}, expected '
             f'{expect_rc}:\n{p.stdout}{p.stderr}')
    return p


def scopeprof(*args, expect_rc=0):
    p = subprocess.run([SCOPEPROF, *args], capture_output=True, text=True)
    if expect_rc is not None and p.returncode != expect_rc:
        fail(f'scopeprof {" ".join(args)} exited {p.returncode}, expected {expect_rc}:\n'
             f'{p.stdout}{p.stderr}')
    return p


def load(tmp):
    """Loads every run under tmp/out into tmp/cases.db; returns the database."""
    db = os.path.join(tmp, 'cases.db')
    scopeprof('load', '--db', db, os.path.join(tmp, 'out'))
    return db


def rows(db, sql, *params):
    with sqlite3.connect(db) as c:
        return c.execute(sql, params).fetchall()


def calls_by_case(db):
    """{(case name or None, warmup, function): calls}."""
    return {(name, warmup, fn): n for name, warmup, fn, n in rows(
        db, 'SELECT k.name, k.warmup, s.signature, count(*) FROM calls c JOIN sites s ON '
            's.id = c.site_id LEFT JOIN cases k ON k.id = c.case_id GROUP BY 1, 2, 3')}


def report_json(db, *args):
    return json.loads(scopeprof('report', '--format', 'json', '--top', '0', *args, db).stdout)


def scenario_list(tmp):
    out = run(DEMO, '--list', tmp=tmp).stdout
    expect(out == 'Demo::fast\nDemo::slow\nDemo::skipped [skip]\nDemo::memoryOnly [only under '
                  'memory]\nOther::plain [skip under memory]\nOther::boom\n',
           f'--list shows every case with its marks, in order:\n{out}')
    out = run(DEMO, '--list', '--case', 'Other::*', '--case', 'Demo::s*', tmp=tmp).stdout
    expect(out == 'Demo::slow\nDemo::skipped [skip]\nOther::plain [skip under memory]\n'
                  'Other::boom\n', f'--list with --case lists the selected ones:\n{out}')


def scenario_select(tmp):
    p = run(DEMO, '--case', 'Demo::*', tmp=tmp)
    lines = p.stdout.splitlines()
    expect(lines[:6] == ['run     Demo::fast', 'ok      Demo::fast (1 repetition, 0 warm-ups)',
                         'run     Demo::slow', 'ok      Demo::slow (1 repetition, 0 warm-ups)',
                         'skip    Demo::skipped (skip())',
                         'skip    Demo::memoryOnly (only under memory)'],
           f'Demo::* runs fast and slow and skips the other two:\n{p.stdout}')
    expect(lines[6] == '2 cases run under time, 2 skipped, 0 failed', f'summary: {lines[6]}')
    db = load(tmp)
    got = calls_by_case(db)
    expect(got == {(None, None, 'prepare()'): 2, (None, None, 'cleanup()'): 2,
                   ('Demo::fast', 0, 'fastWork()'): 1, ('Demo::slow', 0, 'slowWork()'): 1,
                   ('Demo::slow', 0, 'leaf()'): 10, ('Demo::slow', 0, 'threadWork()'): 1},
           f'setUp and tearDown outside the cases, each case its own calls (other threads '
           f'too), nothing of the skipped ones: {got}')
    # The report of one case holds exactly that case's calls.
    report = report_json(db, '--case', 'Demo::slow')
    expect(report['cases'] == ['Demo::slow'] and report['repetitions'] == 1,
           f'the JSON says which cases: {report}')
    functions = {r['function']: r['calls'] for r in report['functions']}
    expect(functions == {'slowWork()': 1, 'leaf()': 10, 'threadWork()': 1},
           f'report --case Demo::slow: exactly its calls: {functions}')
    table = scopeprof('report', '--case', 'Demo::*', db).stdout
    expect('cases Demo::fast, Demo::slow (2 repetitions)' in table, f'the table says which:\n{table}')
    expect('prepare()' not in table, f'fixture calls are in no case:\n{table}')
    md = scopeprof('report', '--format', 'markdown', '--case', 'Demo::fast', db).stdout
    expect(md.startswith('case `Demo::fast` (1 repetition)\n\n|'), f'markdown says which:\n{md}')


def scenario_repeat(tmp):
    run(DEMO, '--case', 'Demo::fast', '--case', 'Demo::slow', '--repeat', '3', '--warmup', '2',
        tmp=tmp)
    db = load(tmp)
    cases = rows(db, 'SELECT name, warmup, group_concat(repetition) FROM (SELECT * FROM cases '
                     'ORDER BY start_ns) GROUP BY 1, 2 ORDER BY 1, 2')
    expect(cases == [('Demo::fast', 0, '1,2,3'), ('Demo::fast', 1, '1,2'),
                     ('Demo::slow', 0, '1,2,3'), ('Demo::slow', 1, '1,2')],
           f'2 warm-ups then 3 measured repetitions of each, numbered: {cases}')
    got = calls_by_case(db)
    expect(got == {(None, None, 'prepare()'): 10, (None, None, 'cleanup()'): 10,
                   ('Demo::fast', 0, 'fastWork()'): 3, ('Demo::fast', 1, 'fastWork()'): 2,
                   ('Demo::slow', 0, 'slowWork()'): 3, ('Demo::slow', 1, 'slowWork()'): 2,
                   ('Demo::slow', 0, 'leaf()'): 30, ('Demo::slow', 1, 'leaf()'): 20,
                   ('Demo::slow', 0, 'threadWork()'): 3, ('Demo::slow', 1, 'threadWork()'): 2},
           f'every repetition and warm-up tagged: {got}')
    report = report_json(db, '--case', 'Demo::slow')
    functions = {r['function']: r['calls'] for r in report['functions']}
    expect(report['repetitions'] == 3 and functions == {'slowWork()': 3, 'leaf()': 30,
                                                         'threadWork()': 3},
           f'report --case counts the measured repetitions, not the warm-ups: {report}')
    # Loading again adds nothing: the cases are as idempotent as the calls.
    scopeprof('load', '--db', db, os.path.join(tmp, 'out'))
    expect(rows(db, 'SELECT count(*) FROM cases') == [(10,)], 'a second load adds no case')


def scenario_memory(tmp):
    p = run(DEMO, '--case', 'Demo::*', '--case', 'Other::plain', '--profiler', 'memory', tmp=tmp)
    expect('ok      Demo::memoryOnly' in p.stdout and 'skip    Other::plain (skip("memory"))'
           in p.stdout and '3 cases run under memory, 2 skipped' in p.stdout,
           f'--profiler memory runs the memory-only case and skips skip("memory"):\n{p.stdout}')
    db = load(tmp)
    got = rows(db, 'SELECT c.allocs, c.alloc_bytes FROM calls c JOIN sites s ON s.id = c.site_id '
                   'JOIN cases k ON k.id = c.case_id WHERE s.signature = ?1 AND k.name = ?2',
               'allocWork()', 'Demo::memoryOnly')
    expect(got == [(2, 4000)], f'the memory-only case ran with allocations counted: {got}')
    report = report_json(db, '--case', 'Demo::memoryOnly', '--by', 'alloc_bytes')
    expect([(r['function'], r['alloc_bytes']) for r in report['functions']] == [('allocWork()', 4000)],
           f'report --case of it: {report}')
    # --profiler cpu: the memory-only case is not run.
    p = run(DEMO, '--case', 'Demo::*', '--profiler', 'cpu', tmp=tmp)
    expect('skip    Demo::memoryOnly (only under memory)' in p.stdout,
           f'--profiler cpu skips the memory-only case:\n{p.stdout}')


def scenario_throws(tmp):
    p = run(DEMO, '--case', 'Other::*', '--repeat', '3', tmp=tmp, expect_rc=1)
    expect('FAILED  Other::boom: threw std::runtime_error: boom (repetition 1)' in p.stdout,
           f'the throwing case is reported by name with its exception:\n{p.stdout}')
    expect(p.stdout.splitlines()[-2] == '2 cases run under time, 0 skipped, 1 failed: Other::boom',
           f'and in the summary:\n{p.stdout}')
    expect('ok      Other::plain (3 repetitions, 0 warm-ups)' in p.stdout,
           f'the other case still runs:\n{p.stdout}')
    db = load(tmp)
    cases = rows(db, 'SELECT name, repetition, failed FROM cases ORDER BY start_ns')
    expect(cases == [('Other::plain', 1, 0), ('Other::plain', 2, 0), ('Other::plain', 3, 0),
                     ('Other::boom', 1, 1)],
           f'a failed case stops repeating and is marked failed: {cases}')
    errors = json.loads(scopeprof('report', '--errors', '--format', 'json', '--case', 'Other::boom',
                                  db).stdout)
    expect([(e['type'], e['message']) for e in errors] == [('std::runtime_error', 'boom')],
           f'report --errors --case: its exception: {errors}')


def scenario_bad_inputs(tmp):
    bad = os.path.join(tmp, 'bad')
    os.mkdir(bad)
    for args, message in [
            (['--profiler', 'gpu'], "unknown profiler 'gpu' (expected time, memory or cpu)"),
            (['--case', 'Nope::*'], "no case matches 'Nope::*'"),
            (['--case', 'Demo::*', '--case', 'Demo::x'], "no case matches 'Demo::x'"),
            (['--case', 'Demo::[a'], "bad --case pattern 'Demo::[a'"),
            (['--repeat', '0'], "--repeat needs a number from 1 to 1000000, not '0'"),
            (['--repeat', 'three'], "--repeat needs a number from 1 to 1000000, not 'three'"),
            (['--repeat', '-2'], "--repeat needs a number from 1 to 1000000, not '-2'"),
            (['--warmup', '1x'], "--warmup needs a number from 0 to 1000000, not '1x'"),
            (['--repeat'], '--repeat needs a value'),
            (['--bogus'], "unknown argument '--bogus'")]:
        p = run(DEMO, *args, tmp=bad, expect_rc=2)
        expect(f'scopeprof: error: {message}' in p.stderr and 'usage:' in p.stderr,
               f'{args}: a clear message and the usage:\n{p.stderr}')
        expect('run ' not in p.stdout, f'{args}: nothing ran:\n{p.stdout}')
    run(DEMO, '--case', 'Demo::fast', tmp=tmp)
    db = load(tmp)
    p = scopeprof('report', '--case', 'Demo::nothing', db, expect_rc=2)
    expect("no case of run 1 matches 'Demo::nothing' (its cases: Demo::fast)" in p.stderr,
           f'report --case matching nothing:\n{p.stderr}')
    p = scopeprof('diff', '--case', 'Demo::nothing', db, db, expect_rc=2)
    expect("no case of run 1 matches 'Demo::nothing'" in p.stderr, f'diff too:\n{p.stderr}')
    out = os.path.join(tmp, 'x.csv')
    p = scopeprof('export', '--format', 'csv', '-o', out, '--case', 'Demo::nothing', db,
                  expect_rc=None)
    expect(p.returncode != 0 and "no case of run 1 matches" in p.stderr and not os.path.exists(out),
           f'export too, writing nothing:\n{p.stderr}')
    # A run without cases says so.
    plain = os.path.join(tmp, 'plain')
    os.mkdir(plain)
    run(GTEST_DEMO, '--gtest_list_tests', tmp=plain)
    db2 = os.path.join(tmp, 'plain.db')
    scopeprof('load', '--db', db2, os.path.join(plain, 'out'))
    p = scopeprof('report', '--case', '*::*', db2, expect_rc=2)
    expect('has no profile cases' in p.stderr, f'a run without cases:\n{p.stderr}')


def scenario_export_diff(tmp):
    run(DEMO, '--case', 'Demo::*', '--repeat', '2', tmp=tmp)
    db = load(tmp)
    out = os.path.join(tmp, 'slow.csv')
    scopeprof('export', '--format', 'csv', '-o', out, '--case', 'Demo::slow', db)
    with open(out) as f:
        lines = f.read().splitlines()[1:]
    functions = sorted({line.split(',')[5] for line in lines})
    expect(len(lines) == 24 and functions == ['leaf()', 'slowWork()', 'threadWork()'],
           f'export --case cuts to the case: {len(lines)} rows of {functions}')
    trace = os.path.join(tmp, 'fast.json')
    scopeprof('export', '--format', 'chrome', '-o', trace, '--case', 'Demo::fast', db)
    with open(trace) as f:
        events = json.load(f)
    names = {e.get('name') for e in (events['traceEvents'] if isinstance(events, dict) else events)
             if e.get('ph') in ('X', 'B')}
    expect(names == {'fastWork()'}, f'a timeline of one case: {names}')
    p = scopeprof('diff', '--case', 'Demo::slow', '--format', 'json', db, db)
    result = json.loads(p.stdout)
    expect(result['base_cases'] == ['Demo::slow'] and result['head_cases'] == ['Demo::slow'],
           f'diff --case says which cases: {result}')
    compared = sorted(f['function'] for f in result['functions'])
    expect(compared == ['leaf()', 'slowWork()', 'threadWork()'],
           f'diff --case compares the case\'s functions: {compared}')
    md = scopeprof('diff', '--case', 'Demo::*', '--format', 'markdown', db, db).stdout
    expect('cases: base Demo::fast, Demo::slow; head Demo::fast, Demo::slow' in md,
           f'markdown says which:\n{md}')


def scenario_gtest(tmp):
    p = run(GTEST_DEMO, '--gtest_repeat=2', tmp=tmp)
    expect('[  PASSED  ] 4 tests' in p.stdout, f'the suite passes as it did:\n{p.stdout}')
    db = load(tmp)
    cases = rows(db, 'SELECT name, group_concat(repetition), max(failed) FROM (SELECT * FROM cases '
                     'ORDER BY start_ns) GROUP BY 1 ORDER BY min(start_ns)')
    expect(cases == [('Math::add', '1,2', 0), ('Doubling::twice', '1,2', 0),
                     ('Numbers/Param::even/0', '1,2', 0), ('Numbers/Param::even/1', '1,2', 0)],
           f'every test is a case named Suite::Name, once per --gtest_repeat iteration: {cases}')
    got = calls_by_case(db)
    expect(got == {('Math::add', 0, 'add(int, int)'): 4, ('Doubling::twice', 0, 'add(int, int)'): 4,
                   ('Doubling::twice', 0, 'twice(int)'): 2,
                   ('Numbers/Param::even/0', 0, 'twice(int)'): 2,
                   ('Numbers/Param::even/0', 0, 'add(int, int)'): 2,
                   ('Numbers/Param::even/1', 0, 'twice(int)'): 2,
                   ('Numbers/Param::even/1', 0, 'add(int, int)'): 2},
           f'each test owns its calls, SetUp included: {got}')
    report = report_json(db, '--case', 'Doubling::twice')
    functions = {r['function']: r['calls'] for r in report['functions']}
    expect(functions == {'add(int, int)': 4, 'twice(int)': 2}, f'report --case: {functions}')
    report = report_json(db, '--case', 'Numbers/Param::*')
    expect(report['cases'] == ['Numbers/Param::even/0', 'Numbers/Param::even/1'],
           f'* matches across / in a case name: {report}')
    # A failing test is a failed case; the suite's exit status is GoogleTest's.
    failing = os.path.join(tmp, 'failing')
    os.mkdir(failing)
    run(GTEST_DEMO, '--gtest_filter=Math.*', tmp=failing, env={'GTEST_DEMO_FAIL': '1'},
        expect_rc=1)
    db2 = os.path.join(tmp, 'failing.db')
    scopeprof('load', '--db', db2, os.path.join(failing, 'out'))
    expect(rows(db2, 'SELECT name, failed FROM cases') == [('Math::add', 1)],
           'a failed test is a failed case')


def scenario_gtest_solo(tmp):
    """Each test run alone makes the calls its case holds in the full run (scripts/gtest-cases-check,
    the check the corpus runs on fmtlib's suite), and a test that depends on an earlier one fails it."""
    checker = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts',
                           'gtest-cases-check')
    solos = ['Math.add', 'Doubling.twice', 'Numbers/Param.even/0', 'Numbers/Param.even/1']

    def check(work, *args, expect_rc, env=None):
        p = subprocess.run([checker, '--scopeprof', SCOPEPROF, '--work', work, *args],
                           capture_output=True, text=True, env=dict(os.environ, **(env or {})))
        expect(p.returncode == expect_rc, f'gtest-cases-check {" ".join(args)} exited '
               f'{p.returncode}, expected {expect_rc}:\n{p.stdout}{p.stderr}')
        return p.stdout + p.stderr

    work = os.path.join(tmp, 'same')
    out = check(work, *[a for s in solos for a in ('--solo', s)], GTEST_DEMO, expect_rc=0)
    for line in ['4 tests listed (1 disabled, not run), 4 cases in the full run',
                 'every listed test is a case, by name: same',
                 'Doubling::twice: 3 calls of 2 functions alone; in the full run 3 calls of 2 functions',
                 "Numbers/Param::even/1: the full run's case and the test alone: same",
                 'Math::add: report --case and the test alone: same',
                 '4 of 4 tests alone made recorded calls and were compared', 'passed']:
        expect(line in out, f'gtest-cases-check says {line!r}:\n{out}')
    # What the checker compared, read independently: the calls GtestDemo.cpp makes per test.
    db = os.path.join(work, 'cases.db')
    got = {(d.split('/')[-1], k, fn): n for d, k, fn, n in rows(
        db, 'SELECT r.directory, k.name, s.signature, count(*) FROM calls c JOIN cases k ON '
            'k.id = c.case_id JOIN sites s ON s.id = c.site_id JOIN runs r ON r.id = k.run_id '
            "WHERE r.directory LIKE '%/solo/%' GROUP BY 1, 2, 3")}
    expect(sorted((k, fn, n) for (_, k, fn), n in got.items()) == [
        ('Doubling::twice', 'add(int, int)', 2), ('Doubling::twice', 'twice(int)', 1),
        ('Math::add', 'add(int, int)', 2),
        ('Numbers/Param::even/0', 'add(int, int)', 1), ('Numbers/Param::even/0', 'twice(int)', 1),
        ('Numbers/Param::even/1', 'add(int, int)', 1), ('Numbers/Param::even/1', 'twice(int)', 1)],
        f'each solo run holds its one test\'s calls: {got}')

    # State left by Math.add: Doubling.twice makes two more calls after it than alone.
    out = check(os.path.join(tmp, 'leak'), '--solo', 'Math.add', '--solo', 'Doubling.twice',
                GTEST_DEMO, expect_rc=1, env={'GTEST_DEMO_LEAK': '1'})
    for line in ["DIFFERENT: Doubling::twice, the full run's case against the test alone:",
                 'add(int, int) (test/cases/GtestDemo.cpp): 4 in the full run, 2 alone',
                 'add(int, int): report --case 4, alone 2',
                 "Math::add: the full run's case and the test alone: same", 'FAILED']:
        expect(line in out, f'the leaking test is caught: {line!r}:\n{out}')

    # Bad input: named, exit status 2, nothing compared.
    for args, message in [
            (['--solo', 'Math.nope', GTEST_DEMO], "'Math.nope' is not a test 'cases-gtest-demo "
                                                   "--gtest_list_tests' lists"),
            ([os.path.join(tmp, 'missing')], f"cannot run '{os.path.join(tmp, 'missing')}'"),
            (['--bogus', GTEST_DEMO], "unknown argument '--bogus'"),
            ([], 'no GoogleTest program given')]:
        out = check(os.path.join(tmp, 'bad'), *args, expect_rc=2)
        expect(f'gtest-cases-check: error: {message}' in out, f'{args}: named:\n{out}')


SCENARIOS = {
    'list': scenario_list,
    'select': scenario_select,
    'repeat': scenario_repeat,
    'memory': scenario_memory,
    'throws': scenario_throws,
    'bad-inputs': scenario_bad_inputs,
    'export-diff': scenario_export_diff,
    'gtest': scenario_gtest,
    'gtest-solo': scenario_gtest_solo,
}

if __name__ == '__main__':
    with tempfile.TemporaryDirectory(prefix='scopeprof-cases-') as tmp:
        SCENARIOS[SCENARIO](tmp)
    print(f'ok [{SCENARIO}]')
