#!/usr/bin/env python3
"""Steers a running, multi-threaded instrumented program with `scopeprof ctl` and checks what it
says against the program's own logs.

usage: check_ctl.py SCOPEPROF CTL_WORKLOAD SCENARIO

No assertion depends on timing: where the program must have done something, the test polls
(generous deadlines); where it must not have, it checks that nothing changed.
"""
import json
import os
import queue
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

SCOPEPROF, WORKLOAD, SCENARIO = sys.argv[1:4]
DEADLINE = 120  # seconds: a loaded machine (sanitizers, parallel builds) is slow, never wrong
THREADS = 3
F, G, H, NEVER = 'work::f()', 'work::g()', 'work::h()', 'work::never()'


def fail(message):
    print(f'FAIL [ctl-{SCENARIO}]: {message}')
    sys.exit(1)


def expect(cond, message):
    if not cond:
        fail(message)


def poll(what, predicate):
    """Calls predicate until it returns a true value, which it returns."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    fail(f'timed out waiting for {what}')


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.xdg = os.path.join(tmp, 'xdg')
        os.mkdir(self.xdg, 0o700)
        self.out = os.path.join(tmp, 'out')
        self.env = dict(os.environ, XDG_RUNTIME_DIR=self.xdg, SCOPEPROF_OUT=self.out,
                        SCOPEPROF_THROTTLE='0')
        for name in ('SCOPEPROF_RUN_DIR', 'SCOPEPROF_RUN_NONCE', 'SCOPEPROF_ENABLE', 'SCOPEPROF_RULES'):
            self.env.pop(name, None)
        self.sockets = os.path.join(self.xdg, 'scopeprof')

    def ctl(self, *args, input=None, expect_exit=0, env=None, user=None):
        prefix = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] if user else []
        p = subprocess.run(prefix + [SCOPEPROF, 'ctl', *map(str, args)], input=input, capture_output=True,
                           text=True, timeout=DEADLINE, env=env or self.env)
        if expect_exit is not None and p.returncode != expect_exit:
            fail(f'ctl {" ".join(map(str, args))}: exit {p.returncode}, expected {expect_exit}\n'
                 f'stdout: {p.stdout}\nstderr: {p.stderr}')
        return p

    def results(self, pid):
        rows = json.loads(self.ctl(pid, 'results', '--format', 'json', '--top', '0').stdout)
        return {r['function']: r for r in rows}

    def start(self, *args, enabled=False):
        env = dict(self.env)
        if not enabled:
            env['SCOPEPROF_ENABLE'] = '0'
        prog = Program(subprocess.Popen([WORKLOAD, str(THREADS), *args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
        return prog

    def wait_socket(self, pid):
        path = os.path.join(self.sockets, f'{pid}.sock')
        poll(f'the control socket of {pid}', lambda: os.path.exists(path))
        return path


class Program:
    """The workload, its output read as it comes."""

    def __init__(self, popen):
        self.popen = popen
        self.lines = queue.Queue()
        self.stdout = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.popen.stdout:
            self.stdout.append(line)
            self.lines.put(line)

    def expect_line(self, prefix):
        try:
            line = self.lines.get(timeout=DEADLINE)
        except queue.Empty:
            fail(f'the workload never printed "{prefix}"')
        expect(line.startswith(prefix), f'workload printed {line!r}, expected {prefix}...')
        return line

    def finish(self):
        self.popen.stdin.close()
        code = self.popen.wait(timeout=DEADLINE)
        stderr = self.popen.stderr.read()
        self.reader.join(DEADLINE)
        return code, stderr


def calls(rows, name):
    return rows[name]['calls'] if name in rows else 0


def with_data(rows):
    return {name for name, r in rows.items() if r['calls'] > 0}


def database_calls(env, pid=None):
    """Per function, the calls the run's logs hold, as `scopeprof report` counts them."""
    runs = os.listdir(env.out)
    expect(len(runs) == 1, f'one run directory expected, found {runs}')
    db = os.path.join(env.tmp, 'run.db')
    if os.path.exists(db):
        os.remove(db)
    p = subprocess.run([SCOPEPROF, 'load', os.path.join(env.out, runs[0]), '--db', db],
                       capture_output=True, text=True, timeout=DEADLINE)
    expect(p.returncode == 0, f'load failed: {p.stderr}')
    args = [SCOPEPROF, 'report', db, '--format', 'json', '--top', '0', '--raw']
    if pid:
        args += ['--pid', str(pid)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=DEADLINE)
    expect(p.returncode == 0, f'report failed: {p.stderr}')
    return {r['function']: r['calls'] for r in json.loads(p.stdout)}


def expect_same_counts(live, logged, slack, what):
    """What `results` said equals what the logs hold, but for calls open when it was asked."""
    for name in set(with_data(live)) | set(logged):
        a, b = calls(live, name), logged.get(name, 0)
        expect(abs(a - b) <= slack, f'{what}: {name}: results said {a} calls, the logs hold {b}')


class CommandLine:
    """Each command a `scopeprof ctl PID ...` of its own."""

    def __init__(self, env, pid):
        self.env, self.pid = env, pid

    def do(self, *args):
        return self.env.ctl(self.pid, *args).stdout

    def results(self):
        return self.env.results(self.pid)

    def close(self):
        pass


class Prompt:
    """The commands typed into one interactive `scopeprof ctl PID`."""

    def __init__(self, env, pid):
        self.pid = pid
        self.popen = subprocess.Popen([SCOPEPROF, 'ctl', str(pid)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env.env)
        self.out = queue.Queue()
        self.sent = []
        threading.Thread(target=lambda: [self.out.put(l) for l in self.popen.stdout], daemon=True).start()

    def line(self):
        try:
            return self.out.get(timeout=DEADLINE)
        except queue.Empty:
            fail('the prompt stopped answering')

    def send(self, command):
        self.sent.append(command)
        self.popen.stdin.write(command + '\n')
        self.popen.stdin.flush()

    def do(self, *args):
        # Every command that changes something answers with one line on the process's state.
        self.send(' '.join(args))
        line = self.line()
        expect(line.startswith(f'process {self.pid} '), f'prompt answered {line!r} to {args}')
        return line

    def results(self):
        self.send('results --format json --top 0')
        text = ''
        while not text.rstrip().endswith(']'):
            text += self.line()
        return {r['function']: r for r in json.loads(text)}

    def close(self):
        self.send('help')
        expect('commands:' in self.line(), 'help lists the commands')
        self.line()
        self.send('history')
        history = [self.line().split(None, 1)[1].strip() for _ in self.sent]
        expect(history == self.sent, f'history {history}, expected {self.sent}')
        self.send('explode')  # an error: said on stderr, and the prompt goes on
        self.send('quit')
        code = self.popen.wait(timeout=DEADLINE)
        stderr = self.popen.stderr.read()
        expect(code == 0, f'prompt exited {code}: {stderr}')
        expect("unknown ctl command 'explode'" in stderr, f'prompt stderr: {stderr}')


def steer(tmp, interface):
    env = Env(tmp)
    prog = env.start()
    pid = int(prog.expect_line('ready').split()[1])
    env.wait_socket(pid)
    ctl = interface(env, pid)

    # Started with recording off: nothing at all.
    expect(not with_data(ctl.results()), 'nothing is recorded before enable')
    state = ctl.do('enable', 'work::f')
    expect('recording on' in state, f'enable: {state}')
    rows = poll('f in the results', lambda: (lambda r: calls(r, F) > 100 and r)(ctl.results()))
    expect(with_data(rows) == {F}, f'after enable f, results hold {with_data(rows)}')

    ctl.do('add', 'work::g', 'work::later*')
    rows = poll('g in the results', lambda: (lambda r: calls(r, G) > 100 and r)(ctl.results()))
    expect(with_data(rows) == {F, G}, f'after add g, results hold {with_data(rows)}')
    expect(rows['work::later*']['calls'] == 0 and 'no data' in rows['work::later*']['note'],
           f'a glob asked for that matched nothing is listed with no data: {rows.get("work::later*")}')
    expect(rows[G]['self_ns'] < rows[G]['total_ns'], 'g calls f: its self time is less than its total')

    ctl.do('remove', 'work::f')
    before = ctl.results()
    after = poll('g to grow after remove f', lambda: (lambda r: calls(r, G) > calls(before, G) + 200 and r)(
        ctl.results()))
    expect(calls(after, F) - calls(before, F) <= THREADS,
           f'f went on growing after remove: {calls(before, F)} -> {calls(after, F)}')
    expect(after[F]['note'] == 'not recording now', f'f is noted as off: {after[F]["note"]}')

    ctl.do('disable')
    stopped = ctl.results()
    time.sleep(0.5)  # time for calls to happen, were anything still recording
    final = ctl.results()
    for name in (F, G):
        expect(calls(final, name) - calls(stopped, name) <= THREADS,
               f'{name} grew after disable: {calls(stopped, name)} -> {calls(final, name)}')
    for name in (H, NEVER):
        expect(calls(final, name) == 0, f'{name} was never asked for, yet has {calls(final, name)} calls')
    ctl.close()

    code, stderr = prog.finish()
    expect(code == 3, f'the workload exited {code}')
    expect(prog.stdout == [f'ready {pid}\n', 'done\n'], f'the workload printed {prog.stdout}')
    expect(stderr == '', f'the workload said on stderr: {stderr}')
    expect_same_counts(final, database_calls(env), THREADS, 'final results against the logs')
    expect(not os.path.exists(os.path.join(env.sockets, f'{pid}.sock')), 'the socket is removed at exit')


def scenario_steer(tmp):
    steer(tmp, CommandLine)


def scenario_prompt(tmp):
    steer(tmp, Prompt)


def raw_request(path, payload, read=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(DEADLINE)
    s.connect(path)
    try:
        s.sendall(payload)
        if not payload.endswith(b'\n'):
            s.shutdown(socket.SHUT_WR)  # the end of the request is the end of the stream
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused before all of it was read: the reply says why
    if not read:
        s.close()
        return None
    reply = b''
    while not reply.endswith(b'\n'):
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
    s.close()
    return json.loads(reply)


def scenario_bad_requests(tmp):
    env = Env(tmp)
    prog = env.start(enabled=True)
    pid = int(prog.expect_line('ready').split()[1])
    path = env.wait_socket(pid)

    def refused(payload, words):
        reply = raw_request(path, payload)
        expect(reply['ok'] is False and reply['version'] == 1, f'{payload[:60]!r}: reply {reply}')
        expect(words in reply['error'], f'{payload[:60]!r}: error {reply["error"]!r} lacks {words!r}')

    refused(b'garbage\n', 'malformed request')
    refused(b'[1, 2]\n', 'malformed request')
    refused(b'\xff\xfe{\n', 'malformed request')
    refused(b'{"version": 1}\n', "no 'command'")
    refused(b'{"command": "status"}\n', "no protocol 'version'")
    refused(b'{"version": 99, "command": "status"}\n', 'unsupported protocol version 99')
    refused(b'{"version": 1, "command": "explode"}\n', "unknown command 'explode'")
    refused(b'{"version": 1, "command": "add"}\n', "needs at least one glob")
    refused(b'{"version": 1, "command": "add", "globs": "work::f"}\n', "array of strings")
    refused(b'{"version": 1, "command": "rules", "text": 5}\n', "'rules' needs")
    refused(b'{"version": 1, "command": "rules", "text": "include nonsense:x", "origin": 7}\n', '<ctl rules>:1')
    refused(b'[' * 100000 + b']' * 100000 + b'\n', 'malformed request')
    refused(b'{"version": 1, "command": "enable", "globs": ["work::[f"]}\n', 'work::[f')
    refused(b'{"version": 1, "command": "status", "x": "' + b'a' * (2 << 20) + b'"}\n', 'longer than 1048576')
    refused(b'x' * (3 << 20), 'longer than 1048576')
    raw_request(path, b'', read=False)  # connects and says nothing
    raw_request(path, b'{"version": 1, "comm', read=False)  # goes away mid-request
    reply = raw_request(path, b'{"version": 1, "command": "status"}')  # no newline: still a request
    expect(reply['ok'] and reply['pid'] == pid and reply['recording'], f'status without newline: {reply}')

    # The command line: every bad input named, with its exit status.
    def cli(args, code, words):
        p = env.ctl(*args, expect_exit=code)
        expect(words in p.stderr and p.stderr.startswith('scopeprof: '),
               f'ctl {args}: stderr {p.stderr!r} lacks {words!r}')

    bad_rules = os.path.join(tmp, 'bad.rules')
    with open(bad_rules, 'w') as f:
        f.write('include function:ok\ninclude nonsense:x\n')
    cli([pid, 'explode'], 2, "unknown ctl command 'explode'")
    cli(['abc', 'status'], 2, "'abc' is not a process id")
    cli([pid, 'add'], 2, "'add' needs at least one GLOB")
    cli([pid, 'status', 'extra'], 2, "takes no arguments, not 'extra'")
    cli([pid, 'results', '--by', 'cpu'], 2, "unknown sort key 'cpu'")
    cli([pid, 'results', '--format', 'xml'], 2, "unknown format 'xml'")
    cli([pid, 'results', '--top', 'many'], 2, "--top needs a number, not 'many'")
    cli([pid, 'rules', os.path.join(tmp, 'absent.rules')], 2, 'absent.rules')
    cli([pid, 'rules', bad_rules], 1, 'bad.rules:2')
    cli([pid, 'enable', 'work::[f'], 1, 'work::[f')
    cli([], 2, "'ctl' needs 'list' or a process id")

    # A good rules file through standard input, and the program did not notice any of it.
    p = env.ctl(pid, 'rules', '-', input='exclude function:work::h\n')
    status = json.loads(env.ctl(pid, 'status', '--format', 'json').stdout)
    expect(status['rules'] == 'exclude function:work::h\n', f'rules in force: {status["rules"]!r}')
    expect(status['threads'] >= THREADS and status['sites']['known'] >= 3, f'status: {status}')
    env.ctl(pid, 'flush')
    code, stderr = prog.finish()
    expect(code == 3 and prog.stdout == [f'ready {pid}\n', 'done\n'] and stderr == '',
           f'the workload was disturbed: exit {code}, stdout {prog.stdout}, stderr {stderr!r}')


def scenario_other_user(tmp):
    env = Env(tmp)
    prog = env.start(enabled=True)
    pid = int(prog.expect_line('ready').split()[1])
    path = env.wait_socket(pid)
    # As nobody, ctl looks in nobody's own directory and finds the process is not nobody's.
    nobody_env = {k: v for k, v in env.env.items() if k != 'XDG_RUNTIME_DIR'}
    p = env.ctl(pid, 'status', expect_exit=2, env=nobody_env, user='nobody')
    expect(f'process {pid} belongs to another user (uid {os.getuid()})' in p.stderr, f'as nobody: {p.stderr}')
    # Past the directory (opened up for the test), the process itself checks the peer's uid.
    os.chmod(tmp, 0o711)
    os.chmod(env.xdg, 0o711)
    os.chmod(env.sockets, 0o711)
    os.chmod(path, 0o777)
    client = ('import json, socket, sys\n'
              's = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n'
              'try:\n'
              '    s.sendall(b\'{"version": 1, "command": "disable"}\\n\')\n'
              'except BrokenPipeError:\n'
              '    pass  # refused before the request was read\n'
              'print(s.makefile().readline())\n')
    p = subprocess.run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', sys.executable,
                        '-c', client, path], capture_output=True, text=True, timeout=DEADLINE)
    expect(p.returncode == 0, f'the client as nobody failed: {p.stderr}')
    reply = json.loads(p.stdout)
    expect(not reply['ok'] and 'permission denied' in reply['error'] and 'not uid 65534' in reply['error'],
           f'nobody was answered {reply}')
    # An open directory is refused by ctl too: it is not private any more.
    p = env.ctl(pid, 'status', expect_exit=2)
    expect('open to other users' in p.stderr, f'open directory: {p.stderr}')
    os.chmod(env.sockets, 0o700)
    status = json.loads(env.ctl(pid, 'status', '--format', 'json').stdout)
    expect(status['recording'], 'the refused disable changed nothing')
    code, stderr = prog.finish()
    expect(code == 3 and stderr == '', f'exit {code}, stderr {stderr!r}')


def scenario_fork(tmp):
    env = Env(tmp)
    prog = env.start('fork')
    first = prog.expect_line('')
    second = prog.expect_line('')
    lines = {l.split()[0]: int(l.split()[1]) for l in (first, second)}
    parent, child = lines['ready'], lines['child']
    env.wait_socket(parent)
    env.wait_socket(child)
    listed = env.ctl('list', '--format', 'json').stdout
    pids = {r['pid'] for r in json.loads(listed)}
    expect(pids == {parent, child}, f'list shows {listed}')

    env.ctl(child, 'enable', 'work::f')
    poll('f in the child', lambda: calls(env.results(child), F) > 100)
    env.ctl(parent, 'enable', 'work::g')
    poll('g in the parent', lambda: calls(env.results(parent), G) > 100)
    env.ctl(child, 'disable')
    env.ctl(parent, 'disable')
    in_child, in_parent = env.results(child), env.results(parent)
    expect(with_data(in_child) == {F}, f'the child traced {with_data(in_child)}')
    expect(with_data(in_parent) == {G}, f'the parent traced {with_data(in_parent)}')
    code, stderr = prog.finish()
    expect(code == 3 and stderr == '', f'exit {code}, stderr {stderr!r}')
    expect(prog.stdout[-1] == 'done, child 4\n', f'the workload printed {prog.stdout}')
    expect_same_counts(in_child, database_calls(env, child), THREADS, 'the child')
    expect_same_counts(in_parent, database_calls(env, parent), THREADS, 'the parent')


def scenario_dead_pid(tmp):
    env = Env(tmp)
    prog = env.start()
    pid = int(prog.expect_line('ready').split()[1])
    path = env.wait_socket(pid)
    prog.popen.kill()
    prog.popen.wait(timeout=DEADLINE)
    expect(os.path.exists(path), 'a killed process leaves its socket')
    p = env.ctl(pid, 'status', expect_exit=2)
    expect(f'no such process: {pid}' in p.stderr, f'dead pid: {p.stderr}')
    expect(not os.path.exists(path), 'the stale socket of a dead process is removed')

    # A live process (this one) whose socket nobody listens on: an image exec'd after the
    # instrumented one, not instrumented itself.
    own = os.path.join(env.sockets, f'{os.getpid()}.sock')
    orphans = [socket.socket(socket.AF_UNIX) for _ in range(2)]
    orphans[0].bind(own)
    p = env.ctl(os.getpid(), 'status', expect_exit=2)
    expect('no longer listens' in p.stderr and not os.path.exists(own), f'orphan socket: {p.stderr}')
    # `list` cleans what dead processes left, and sockets nobody listens on.
    stale = os.path.join(env.sockets, '999999999.sock')
    open(stale, 'w').close()
    orphans[1].bind(own)
    p = env.ctl('list')
    expect('no instrumented process' in p.stdout, f'list: {p.stdout}')
    expect(not os.path.exists(stale), 'list removes the socket of a dead pid')
    expect(not os.path.exists(own), 'list removes a socket nobody listens on')
    for orphan in orphans:
        orphan.close()
    # A live process that is not instrumented.
    p = env.ctl(os.getpid(), 'status', expect_exit=2)
    expect('has no control channel' in p.stderr, f'not instrumented: {p.stderr}')


def scenario_run(tmp):
    env = Env(tmp)
    out = os.path.join(tmp, 'elsewhere')
    popen = subprocess.Popen([SCOPEPROF, 'run', '--disabled', '--out', out, '--', WORKLOAD, str(THREADS)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env.env)
    said = popen.stderr.readline()
    words = said.split()
    expect(words[:2] == ['scopeprof:', 'pid'] and 'run directory' in said, f'run said {said!r}')
    pid = int(words[2])
    run_dir = said.rsplit(' ', 1)[1].strip()
    expect(os.path.dirname(run_dir) == out and os.path.isdir(run_dir), f'run directory {run_dir}')
    env.wait_socket(pid)
    status = json.loads(env.ctl(pid, 'status', '--format', 'json').stdout)
    expect(not status['recording'] and status['run_dir'] == run_dir, f'status {status}')
    env.ctl(pid, 'enable')
    poll('calls', lambda: calls(env.results(pid), H) > 0)
    popen.stdin.close()
    code = popen.wait(timeout=DEADLINE)
    expect(code == 3, f'run exited {code}, not the program\'s 3')
    expect(popen.stdout.read() == f'ready {pid}\ndone\n', 'the program\'s output goes through')
    expect(any(f.endswith('.splog') for f in os.listdir(run_dir)), 'the logs are in the run directory')

    for args, code, words in [(['--', '/nonexistent/program'], 2, "cannot run '/nonexistent/program'"),
                              ([], 2, "'run' needs a program"),
                              (['--bogus', WORKLOAD], 2, "unknown option '--bogus'")]:
        p = subprocess.run([SCOPEPROF, 'run', *args], capture_output=True, text=True, timeout=DEADLINE,
                           env=env.env)
        expect(p.returncode == code and words in p.stderr, f'run {args}: exit {p.returncode}, {p.stderr!r}')
    p = subprocess.run([SCOPEPROF, 'run', '--out', out, 'sh', '-c', 'exit 7'], capture_output=True,
                       text=True, timeout=DEADLINE, env=env.env)
    expect(p.returncode == 7, f'run of sh exiting 7 exited {p.returncode}')


def main():
    tmp = tempfile.mkdtemp(prefix=f'scopeprof-ctl-{SCENARIO}-')
    try:
        globals()['scenario_' + SCENARIO.replace('-', '_')](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f'PASS [ctl-{SCENARIO}]')


if __name__ == '__main__':
    main()
