#!/usr/bin/env python3
"""The compiler launcher `scopeprof cc` on real builds: CMake (examples/logstats with its own
files, an OBJECT library with a shared library, a generated header), a plain Makefile, and a
unit clang cannot parse. Each build must leave its sources untouched and leave no temporary
files; the programs run, and their logs load with the functions we expect.

usage: check_launcher.py PREFIX SOURCE_ROOT SCENARIO   (PREFIX: an installed scopeprof)
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

PREFIX, SOURCE_ROOT, SCENARIO = sys.argv[1:4]
SCOPEPROF = os.path.join(PREFIX, 'bin', 'scopeprof')
INPUTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'Inputs')
LAUNCHER_ARGS = [f'-DCMAKE_{lang}_{kind}_LAUNCHER={SCOPEPROF};cc'
                 for lang in ('C', 'CXX') for kind in ('COMPILER', 'LINKER')]


def fail(message):
    print(f'FAIL [launcher.{SCENARIO}]: {message}', file=sys.stderr)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


def run(*args, expect_rc=0, **kw):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if expect_rc is not None and p.returncode != expect_rc:
        fail(f'{" ".join(map(str, args))} exited {p.returncode}, expected {expect_rc}:\n'
             f'{p.stdout[-4000:]}\n{p.stderr[-4000:]}')
    return p


def tree_digest(root):
    """Every file under root (a build directory inside it excluded) with its content hash."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith('build')]
        for f in filenames:
            path = os.path.join(dirpath, f)
            out[os.path.relpath(path, root)] = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    return out


def cmake_build(source, build, env, *extra):
    run('cmake', '-S', source, '-B', build, '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
        *LAUNCHER_ARGS, *extra, env=env)
    return run('cmake', '--build', build, '-j', '2', env=env)


def profile(program, tmp, env, *args):
    """Runs program with logging on, loads the run; the sites as {signature: (key, file)}."""
    runs = os.path.join(tmp, 'runs')
    shutil.rmtree(runs, ignore_errors=True)
    out = run(program, *args, env=dict(env, SCOPEPROF_OUT=runs)).stdout
    db = os.path.join(tmp, 'run.db')
    for f in (db, db + '-wal', db + '-shm'):
        if os.path.exists(f):
            os.remove(f)
    run(SCOPEPROF, 'load', '--quiet', '--db', db, runs)
    rows = run(SCOPEPROF, 'query', '--format', 'csv', db,
               'SELECT site_key, signature, file FROM sites').stdout.splitlines()[1:]
    sites = {}
    for row in rows:
        key, rest = row.split(',', 1)
        signature, file = rest.rsplit(',', 1)
        sites[signature.strip('"')] = (key, file)
    return out, sites


def environment(tmp):
    # A private TMPDIR shows whether the launcher leaves its temporary trees behind.
    temp = os.path.join(tmp, 'temp')
    os.makedirs(temp, exist_ok=True)
    return dict(os.environ, TMPDIR=temp, LC_ALL='C', PATH=os.path.join(PREFIX, 'bin') + os.pathsep + os.environ['PATH'])


def no_leftovers(env):
    left = os.listdir(env['TMPDIR'])
    expect(not left, f'temporary files left behind: {left}')


def rewrite_keys(build, env):
    """{(signature, file): key} as `scopeprof rewrite` would insert them."""
    diff = run(SCOPEPROF, 'rewrite', '-p', build, '--diff', '--quiet', env=env).stdout
    keys = {}
    for m in re.finditer(r'SCOPEPROF_FN\(0x([0-9a-f]+), "((?:[^"\\]|\\.)*)", "([^"]*)"', diff):
        keys[(m.group(2), m.group(3))] = m.group(1)
    return keys


def scenario_logstats(tmp):
    # The example as it is in our tree, its CMake files unchanged; the build outside it.
    source = os.path.join(SOURCE_ROOT, 'examples', 'logstats')
    before = tree_digest(source)
    env = environment(tmp)
    build = os.path.join(tmp, 'build')
    p = cmake_build(source, build, env, '-DCMAKE_EXPORT_COMPILE_COMMANDS=ON')
    expect('scopeprof cc: note' not in p.stdout + p.stderr, f'a unit was not instrumented:\n{p.stdout}')
    expect(tree_digest(source) == before, 'the source tree changed')
    no_leftovers(env)
    out, sites = profile(os.path.join(build, 'logstats'), tmp, env)
    expect('checksum' in out, out)
    for signature in ('logstats::LogParser::normalizePath(std::string_view)',
                      'logstats::ThreadPool::work(unsigned int)', 'main(int, char **)'):
        expect(signature in sites, f'{signature} not recorded: {sorted(sites)}')
    # The same keys as `rewrite` gives for this tree: a header's function included.
    keys = rewrite_keys(build, env)
    for signature, (key, file) in sites.items():
        expect(keys.get((signature, file)) == key,
               f'{signature} in {file}: launcher key {key}, rewrite key {keys.get((signature, file))}')
    expect(sites['logstats::ThreadPool::work(unsigned int)'][1].endswith('include/logstats/ThreadPool.h'),
           sites['logstats::ThreadPool::work(unsigned int)'])
    # The dependency files name the originals: a second build has nothing to do.
    p = run('ninja', '-C', build, '-n', '-d', 'explain')
    expect('no work to do' in p.stdout,
           f'the build is not up to date after building (do the dependency files name the mirror?):\n{p.stdout}{p.stderr}')


def copy_input(name, tmp):
    source = os.path.join(tmp, name)
    shutil.copytree(os.path.join(INPUTS, name), source)
    return source, tree_digest(source)


def scenario_object_library(tmp):
    source, before = copy_input('objlib', tmp)
    env = environment(tmp)
    build = os.path.join(tmp, 'objlib-build')
    cmake_build(source, build, env)
    expect(tree_digest(source) == before, 'the source tree changed')
    no_leftovers(env)
    out, sites = profile(os.path.join(build, 'app'), tmp, env)
    expect(out.strip() == '90 uuu', out)
    for signature in ('main()', 'core_sum(int)', 'util_name(int)', 'core_twice(int)'):
        expect(signature in sites, f'{signature} not recorded: {sorted(sites)}')
    expect(sites['core_twice(int)'][1] == 'include/core.h', sites['core_twice(int)'])


def scenario_generated_header(tmp):
    source, before = copy_input('generated', tmp)
    env = environment(tmp)
    build = os.path.join(source, 'build')  # inside the project: the generated header is its own
    cmake_build(source, build, env)
    expect(tree_digest(source) == before, 'the source tree changed')
    no_leftovers(env)
    out, sites = profile(os.path.join(build, 'answerer'), tmp, env)
    expect(out.strip() == '42 2', out)
    for signature in ('main()', 'report(int)', 'answer()'):
        expect(signature in sites, f'{signature} not recorded: {sorted(sites)}')
    expect(sites['answer()'][1] == 'build/gen/answer.h', sites['answer()'])


def scenario_makefile(tmp):
    source, before = copy_input('makefile', tmp)
    env = environment(tmp)
    run('make', '-C', source, f'CXX={SCOPEPROF} cc g++', env=env)
    no_leftovers(env)
    expect({k: v for k, v in tree_digest(source).items() if not k.endswith('.o') and k != 'shapes'}
           == before, 'the sources changed')
    out, sites = profile(os.path.join(source, 'shapes'), tmp, env)
    expect(out.strip() == '14', out)
    for signature in ('main()', 'total_area(const std::vector<double> &)'):
        expect(signature in sites, f'{signature} not recorded: {sorted(sites)}')


def scenario_unparsable(tmp):
    # GCC's nested functions: GCC compiles them, clang cannot parse them. Compiled unchanged,
    # with the note, exit 0; a real error keeps the compiler's own status and message.
    env = environment(tmp)
    nested = os.path.join(tmp, 'nested.c')
    with open(nested, 'w') as f:
        f.write('int outer(int v) { int inner(int x) { return x * 2; } return inner(v); }\n'
                'int main(void) { return outer(0); }\n')
    p = run(SCOPEPROF, 'cc', 'gcc', '-c', nested, '-o', os.path.join(tmp, 'nested.o'), env=env)
    notes = [l for l in p.stderr.splitlines() if l.startswith('scopeprof cc: note: ')]
    expect(len(notes) == 1 and 'clang cannot parse it' in notes[0] and 'compiled without profiling' in notes[0],
           p.stderr)
    expect(os.path.exists(os.path.join(tmp, 'nested.o')), 'no object file')
    broken = os.path.join(tmp, 'broken.c')
    with open(broken, 'w') as f:
        f.write('int main(void) { return undeclared; }\n')
    p = run(SCOPEPROF, 'cc', 'gcc', '-c', broken, '-o', os.path.join(tmp, 'broken.o'), env=env,
            expect_rc=1)
    expect("'undeclared' undeclared" in p.stderr and 'broken.c:1' in p.stderr, p.stderr)
    # Preprocessing only: passed through with a note.
    p = run(SCOPEPROF, 'cc', 'gcc', '-E', nested, env=env)
    expect('int outer' in p.stdout and 'only preprocesses' in p.stderr, p.stderr)
    no_leftovers(env)


def scenario_diagnostics(tmp):
    # A warning in an instrumented unit names the original file and line, not the mirror.
    env = environment(tmp)
    source = os.path.join(tmp, 'warn.cpp')
    with open(source, 'w') as f:
        f.write('#include <cstdio>\n'
                'int used(int v) { int unused = v; for (int i = 0; i < v; ++i) std::printf("%d", i); return v; }\n')
    p = run(SCOPEPROF, 'cc', 'g++', '-Wall', '-c', source, '-o', os.path.join(tmp, 'warn.o'), env=env)
    expect(f'{source}:2:' in p.stderr and 'unused' in p.stderr and 'scopeprof-cc' not in p.stderr, p.stderr)
    symbols = run('nm', os.path.join(tmp, 'warn.o')).stdout
    expect('scopeprof' in symbols, f'not instrumented:\n{symbols}')
    no_leftovers(env)


SCENARIOS = {name[len('scenario_'):].replace('_', '-'): fn for name, fn in globals().items()
             if name.startswith('scenario_')}

if __name__ == '__main__':
    if SCENARIO not in SCENARIOS:
        fail(f'unknown scenario (known: {" ".join(SCENARIOS)})')
    with tempfile.TemporaryDirectory(prefix='scopeprof-launcher-') as tmp:
        SCENARIOS[SCENARIO](os.path.realpath(tmp))
