#!/usr/bin/env python3
"""scripts/bench-accuracy's measuring and analysis (stdlib only); docs/accuracy.md has the method.

  accuracy.py rounds --rounds N --out JSON --logs DIR --db-dir DIR -- BASE_CMD... --- INST_CMD...
      interleaved baseline / instrumented runs, wall time of each, the last instrumented run's
      logs kept in DIR/keep (every other run's logs are deleted after it ends)
  accuracy.py attribute --perf-script FILE --functions LIST --root DIR --out JSON
      perf samples charged to the innermost instrumented frame (matching key below)
  accuracy.py analyze --project NAME --work DIR ...
      side by side, agreement, Spearman; prints the summary and writes result.json
"""
import argparse
import collections
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

# ---------------------------------------------------------------------------------------------
# The matching key: a function's qualified name without parameters, template arguments, return
# type, cv/ref qualifiers, ABI tags and compiler clone suffixes, plus the file that holds its
# body, relative to the project root. perf (demangled symbols and DWARF inline frames) and the
# rewriter (its qualified signature) spell the same function differently; both reduce to this.
# Overloads and template specializations defined in one file share a key on both sides.

ANON = "(anonymous namespace)"
_CLONE = re.compile(r"\s*\[clone [^\]]*\]|(\.(isra|constprop|part|cold|lto_priv|localalias|"
                    r"clone|str)(\.\d+)?)+$|\[abi:[^\]]*\]")
_OPERATOR_TOKENS = ["<=>", "<<=", ">>=", "->*", "<<", ">>", "<=", ">=", "->", "<", ">",
                    "()", "[]"]
_LAMBDA = re.compile(r"\{lambda\((?:[^()]|\([^()]*\))*\)#(\d+)\}(::operator\(\))?")


def _skip_group(s, i, open_c, close_c):
    """Index after the balanced group that starts at s[i] == open_c."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def normalize(name):
    """'void ns::Vec<int>::push(int const&) const [clone .isra.0]' -> 'ns::Vec::push'."""
    s = name.strip()
    s = _CLONE.sub("", s)
    s = _CLONE.sub("", s)
    # GCC spells a lambda 'f()::{lambda(int)#2}::operator()'; the rewriter 'f(...)::lambda#2(int)'.
    s = _LAMBDA.sub(lambda m: "lambda#" + m.group(1), s)
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        tail = "".join(out)
        if s.startswith(ANON, i):
            out.append("@anon@")
            i += len(ANON)
            continue
        if tail.endswith("operator") and not re.search(r"[A-Za-z0-9_]operator$", tail):
            # operator<, operator(), operator new, operator bool, ...
            rest = s[i:].lstrip()
            for tok in _OPERATOR_TOKENS:
                if rest.startswith(tok):
                    out.append(tok)
                    i = len(s) - len(rest) + len(tok)
                    break
            else:
                if c == " ":  # operator new / delete / a conversion: keep the words
                    m = re.match(r"\s*(new\[\]|delete\[\]|new|delete|[A-Za-z_][\w:]*(\s*[*&]+)?)", s[i:])
                    if m:
                        out.append(" " + m.group(1).replace(" ", ""))
                        i += m.end()
                        continue
                out.append(c)
                i += 1
            continue
        if c == "(":
            i = _skip_group(s, i, "(", ")")
            # qualifiers after a parameter list
            m = re.match(r"(\s*(const|volatile|&&|&|noexcept))*", s[i:])
            i += m.end()
            continue
        if c == "<":
            i = _skip_group(s, i, "<", ">")
            continue
        out.append(c)
        i += 1
    s = "".join(out).strip()
    # A return type (function templates' demangled names carry one): the last top-level word
    # of the part before the final name component, unless the name is an operator.
    op = s.find("operator")
    head, opname = (s[:op], s[op:]) if op >= 0 else (s, "")
    if " " in head.strip():
        head = head.strip().split(" ")[-1] if not head.endswith(" ") else head.strip().split(" ")[-1] + " "
    s = (head + opname).replace(" ::", "::").strip()
    s = re.sub(r"\s+", " ", s)
    return s.replace("@anon@", ANON)


def relpath(path, root):
    """path relative to root, or None when outside it (or unknown)."""
    if not path or path.startswith("??") or path.startswith("["):
        return None
    p = os.path.normpath(path)
    if not os.path.isabs(p):
        return None
    try:
        p = os.path.realpath(p)
    except OSError:
        pass
    r = os.path.realpath(root)
    if p == r or not p.startswith(r + os.sep):
        return None
    return os.path.relpath(p, r)


def key_str(name, file):
    return f"{name} @ {file}"


# ---------------------------------------------------------------------------------------------
# The functions: `scopeprof rewrite --list` lines `FILE:LINE: REASON: SIGNATURE [KINDS]`, every
# function of the project's files, instrumented or not (and why not).

LIST_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<reason>[^:]+): (?P<sig>.*)$")


def read_functions(path):
    funcs = []  # (file, line, signature, instrumented)
    for line in open(path, errors="replace"):
        m = LIST_LINE.match(line.rstrip("\n"))
        if m:
            sig = re.sub(r" \[[a-z_,]+\]$", "", m.group("sig"))  # the kinds: [method,ctor]
            funcs.append((m.group("file"), int(m.group("line")), sig,
                          m.group("reason") == "instrumented"))
    return funcs


def last_component(n):
    """'a::(anonymous namespace)::B::f' -> 'f'; a lambda is also an 'operator()'."""
    depth, cut = 0, 0
    for i, c in enumerate(n):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == ":" and depth == 0 and n[i + 1:i + 2] == ":":
            cut = i + 2
    return n[cut:]


class Functions:
    """The project's functions by file and by short name, to find the one a frame is in."""

    def __init__(self, funcs):
        self.members = {}   # key -> [signatures] of instrumented functions
        self.by_file_short = {}  # (file, short name) -> [(line, key or None, normalized)]
        self.by_name = {}  # normalized qualified name -> {key or None}
        for file, line, sig, instrumented in funcs:
            n = normalize(sig)
            k = key_str(n, file) if instrumented else None
            if instrumented:
                self.members.setdefault(k, []).append(sig)
            self.by_name.setdefault(n, set()).add(k)
            shorts = {last_component(n)}
            if re.fullmatch(r"lambda#\d+", last_component(n)):
                shorts.add("operator()")  # DWARF names a lambda's body 'operator()'
            for sh in shorts:
                self.by_file_short.setdefault((file, sh), []).append((line, k, n))

    def match(self, name, file, line):
        """(key or None, why): the instrumented function that the code at file:line, in a
        function named `name` (qualified or, for DWARF inline frames, not), belongs to."""
        n = normalize(name)
        cands = self.by_file_short.get((file, last_component(n)))
        if not cands:
            # A symbol's own name with a line of code inlined into it that DWARF does not
            # describe as inlined (it happens at -O2/-O3): the qualified name, if unique.
            keys = self.by_name.get(n, set()) if "::" in n else set()
            if len(keys) == 1:
                k = next(iter(keys))
                return (k, "instrumented") if k else (None, "not instrumented")
            return None, "not listed"
        if "::" in n:  # a qualified name: the same qualified name, if listed
            same = [c for c in cands if c[2] == n]
            if same:
                cands = same
        if len({c[1] for c in cands}) == 1:
            k = cands[0][1]
        elif line > 0:
            # the function of that name defined last before the line holds it
            before = [c for c in cands if c[0] <= line]
            k = max(before)[1] if before else min(cands, key=lambda c: c[0] - line)[1]
        else:
            keys = {c[1] for c in cands if c[1]}
            if len(keys) != 1:
                return None, "ambiguous"
            k = keys.pop()
        return (k, "instrumented") if k else (None, "not instrumented")


# ---------------------------------------------------------------------------------------------
# perf script output (`-F comm,tid,ip,sym,dso`, a dwarf call graph): a header line per sample,
# then one line per physical frame `ADDR SYM (DSO)`, innermost first. The program's frames are
# expanded into their inline frames with one batch of `llvm-symbolizer --inlining` (function
# name, then file:line, innermost first). A return address is looked up at address - 1: at the address
# after a call, the line table still gives the call's line but the inline ranges have ended,
# and the innermost inlined function's name would be lost (perf script --inline shows exactly
# that: the caller's name with the callee's line).

FRAME = re.compile(r"^\s+([0-9a-f]+) (.*?)(?: \((.*)\))?$")
KERNEL = "[kernel.kallsyms]"


def parse_perf_script(path):
    sample = None
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if sample is not None:
                    yield sample
                sample = None
                continue
            if line[0] not in " \t":
                if sample is not None:
                    yield sample
                sample = {"head": line.rstrip("\n"), "frames": []}
                continue
            if sample is None:
                continue
            m = FRAME.match(line.rstrip("\n"))
            if m and m.group(3) != "inlined":  # perf's own inline frames: we expand them ourselves
                sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(2))
                sample["frames"].append((int(m.group(1), 16), sym, m.group(3) or ""))
        if sample is not None:
            yield sample


def lookup_addresses(symbolizer, exe, addrs):
    """{addr: [(name, file, line), ...] innermost first}, from one llvm-symbolizer process.
    (GNU addr2line 2.40 loses the inline frames of the first address it is asked about.)"""
    out = {}
    if not addrs:
        return out
    p = subprocess.run([symbolizer, f"--obj={exe}", "--inlining", "--demangle", "--print-address"],
                       input="\n".join(f"0x{a:x}" for a in sorted(addrs)) + "\n",
                       capture_output=True, text=True, check=True)
    for block in p.stdout.split("\n\n"):
        lines = block.strip("\n").split("\n")
        if not lines or not lines[0].startswith("0x"):
            continue
        chain = []
        for name, loc in zip(lines[1::2], lines[2::2]):
            m = re.match(r"^(.*):(\d+):\d+$", loc)
            file, line = (m.group(1), int(m.group(2))) if m else (None, 0)
            chain.append((name, None if file == "??" else file, line))
        out[int(lines[0], 16)] = chain
    return out


def program_addresses(sample, exe):
    """The sample's frames in the program itself (not libraries or the kernel), leaf first, as
    addresses to look up: a return address at - 1, so it falls inside the call."""
    leaf = True
    after_kernel = False
    for addr, _sym, dso in sample["frames"]:
        if dso == KERNEL:
            after_kernel = True
            continue
        a = addr if (leaf and not after_kernel) else addr - 1
        leaf = False
        if dso and os.path.realpath(dso) == exe:
            yield a


def attribute(args):
    funcs = Functions(read_functions(args.functions))
    exe = os.path.realpath(args.exe)
    samples = list(parse_perf_script(args.perf_script))
    wanted = {a for s in samples for a in program_addresses(s, exe)}
    chains = lookup_addresses(args.symbolizer, exe, wanted)
    counts = {}
    total = dropped = 0
    walked = {}  # project frames passed over on the way out: not instrumented, or not found
    cache = {}
    for s in samples:
        total += 1
        charged = None
        for a in program_addresses(s, exe):
            for name, file, line in chains.get(a, []):
                ck = (name, file, line)
                if ck not in cache:
                    rel = relpath(file, args.root)
                    cache[ck] = (None, "outside the project") if rel is None else funcs.match(name, rel, line)
                    cache[ck] = cache[ck] + (rel,)
                k, why, rel = cache[ck]
                if k is not None:
                    charged = k
                    break
                if rel is not None:
                    u = f"{normalize(name)} @ {rel} ({why})"
                    walked[u] = walked.get(u, 0) + 1
            if charged:
                break
        if charged is None:
            dropped += 1
        else:
            counts[charged] = counts.get(charged, 0) + 1
    out = {
        "samples": total,
        "attributed": total - dropped,
        "dropped": dropped,
        "functions": counts,
        "instrumented_functions": sum(len(v) for v in funcs.members.values()),
        "instrumented_keys": len(funcs.members),
        "merged_keys": sum(1 for v in funcs.members.values() if len(v) > 1),
        "walked_past": sorted(walked.items(), key=lambda kv: -kv[1])[:20],
    }
    json.dump(out, open(args.out, "w"), indent=1)


# ---------------------------------------------------------------------------------------------
# Interleaved timed runs.

def rounds(args):
    argv = args.cmd
    if "---" not in argv:
        sys.exit("accuracy.py rounds: expected BASE_CMD --- INST_CMD")
    cut = argv.index("---")
    base, inst = argv[:cut], argv[cut + 1:]
    if base and base[0] == "--":
        base = base[1:]
    # The defaults are measured: no SCOPEPROF_* setting reaches either build but those asked
    # for with --setting (bench-accuracy --env), and those only the scopeprof build's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPEPROF_")}
    bad = [s for s in args.setting if not re.fullmatch(r"SCOPEPROF_[A-Z_]+=.*", s)]
    if bad:
        sys.exit(f"accuracy.py rounds: --setting takes SCOPEPROF_NAME=VALUE, not {bad[0]!r}")
    settings = dict(s.split("=", 1) for s in args.setting)
    keep = os.path.join(args.logs, "keep")
    shutil.rmtree(args.logs, ignore_errors=True)
    os.makedirs(args.logs)
    res = {"baseline_s": [], "instrumented_s": [], "ratios": [],
           "baseline_cpu_s": [], "instrumented_cpu_s": [], "cpu_ratios": []}

    def run(cmd, extra_env, label):
        """(wall s, CPU s of the process and its threads: user + system, output)"""
        shutil.rmtree(args.db_dir, ignore_errors=True)
        os.makedirs(args.db_dir)
        out_path = args.db_dir + ".out"
        with open(out_path, "wb") as out:
            t = time.perf_counter()
            p = subprocess.Popen(cmd, env=dict(env, **extra_env), cwd=args.db_dir, stdout=out,
                                 stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(p.pid, 0)
            t = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        text = open(out_path, "rb").read().decode(errors="replace")
        os.unlink(out_path)
        if p.returncode != 0:
            sys.stderr.write(text[-3000:])
            sys.exit(f"bench-accuracy: the {label} run failed (exit {p.returncode}): {' '.join(cmd)}")
        return t, usage.ru_utime + usage.ru_stime, text

    for r in range(args.rounds):
        tb, cb, out_b = run(base, {}, "baseline")
        out_dir = os.path.join(args.logs, f"round{r + 1}")
        ti, ci, out_i = run(inst, dict(settings, SCOPEPROF_OUT=out_dir), "instrumented")
        res["baseline_s"].append(round(tb, 4))
        res["instrumented_s"].append(round(ti, 4))
        res["ratios"].append(round(ti / tb, 3))
        res["baseline_cpu_s"].append(round(cb, 4))
        res["instrumented_cpu_s"].append(round(ci, 4))
        res["cpu_ratios"].append(round(ci / cb, 3) if cb > 0 else None)
        print(f"  round {r + 1}/{args.rounds}: baseline {tb:.2f} s, scopeprof {ti:.2f} s, "
              f"{ti / tb:.2f}x  (CPU {cb:.2f} s, {ci:.2f} s, {ci / max(cb, 1e-9):.2f}x)",
              file=sys.stderr, flush=True)
        if r == args.rounds - 1:
            os.rename(out_dir, keep)
            res["baseline_output"] = out_b[-4000:]
            res["instrumented_output"] = out_i[-4000:]
        else:
            shutil.rmtree(out_dir, ignore_errors=True)
    shutil.rmtree(args.db_dir, ignore_errors=True)
    b, i = statistics.median(res["baseline_s"]), statistics.median(res["instrumented_s"])
    res["baseline_median_s"] = round(b, 4)
    res["instrumented_median_s"] = round(i, 4)
    res["median_ratio"] = round(statistics.median(res["ratios"]), 3)
    res["ratio_of_medians"] = round(i / b, 3)
    res["cpu_median_ratio"] = round(statistics.median(res["cpu_ratios"]), 3)
    json.dump(res, open(args.out, "w"), indent=1)


# ---------------------------------------------------------------------------------------------
# Statistics.

def ranks(values):
    """Fractional ranks, 1 = largest; ties get the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def pearson(x, y):
    n = len(x)
    if n < 2:
        return None
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return None
    return sxy / (sxx * syy) ** 0.5


def spearman(x, y):
    """Spearman's rho with ties: Pearson's r of the fractional ranks."""
    return pearson(ranks(x), ranks(y))


def top(d, n):
    """The n largest entries, value descending then key ascending (a fixed order for ties)."""
    return [k for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))[:n] if v > 0]


def scopeprof_profile(report_json, inst):
    """Per-key self ns from `scopeprof report --top 0 --format json`: self CPU time where the
    run measured it (what the report ranks by, and what a CPU sampling profile sees), else self
    time."""
    rows = json.load(open(report_json))
    if isinstance(rows, dict):
        rows = rows.get("rows") or rows.get("functions") or []
    prof, calls, unknown = {}, 0, []
    for row in rows:
        sig = row.get("function") or row.get("name")
        where = row.get("file") or row.get("where") or ""
        file = re.sub(r":\d+$", "", where)
        n = normalize(sig)
        k = key_str(n, file)
        if k not in inst.members:
            unknown.append(k)
        self_ns = row.get("self_cpu_ns")
        if self_ns is None:
            self_ns = row.get("self_ns", row.get("self", 0))
        prof[k] = prof.get(k, 0) + int(self_ns)
        calls += int(row.get("calls", 0))
    return prof, calls, unknown


def analyze(args):
    inst = Functions(read_functions(args.functions))
    perf = json.load(open(args.perf))
    tim = json.load(open(args.rounds_json))
    sp, calls_reported, unknown = scopeprof_profile(args.report, inst)
    n = args.top
    # A second perf run of the same baseline: compared with the first, how far two samples of
    # the same program already disagree (the floor under any comparison with one of them); added
    # to it, the truth scopeprof is compared with, from twice the samples.
    repeat = None
    pf = perf["functions"]
    if args.perf_again and os.path.exists(args.perf_again):
        again = json.load(open(args.perf_again))
        pa = again["functions"]
        ta, t1 = top(pa, n), top(pf, n)
        u3 = sorted(set(ta) | set(t1))
        rho3 = spearman([pf.get(k, 0) for k in u3], [pa.get(k, 0) for k in u3])
        repeat = {"agreement": len(set(ta) & set(t1)),
                  "spearman": None if rho3 is None else round(rho3, 3), "union_size": len(u3)}
        pf = {k: pf.get(k, 0) + pa.get(k, 0) for k in set(pf) | set(pa)}
        walked = collections.Counter(dict(perf["walked_past"]))
        walked.update(dict(again["walked_past"]))
        perf = dict(perf, samples=perf["samples"] + again["samples"],
                    attributed=perf["attributed"] + again["attributed"],
                    dropped=perf["dropped"] + again["dropped"], runs=2,
                    walked_past=walked.most_common(20))
    top_p, top_s = top(pf, n), top(sp, n)
    union = sorted(set(top_p) | set(top_s))
    x = [pf.get(k, 0) for k in union]
    y = [sp.get(k, 0) for k in union]
    rho = spearman(x, y)
    agree = len(set(top_p) & set(top_s))
    p_total = sum(pf.values()) or 1
    s_total = sum(sp.values()) or 1

    def entries(keys, d, total):
        return [{"function": k, "share": round(d.get(k, 0) / total, 4), "value": d.get(k, 0)}
                for k in keys]

    sanity = None
    if args.perf_instrumented and os.path.exists(args.perf_instrumented):
        pi = json.load(open(args.perf_instrumented))
        ti = top(pi["functions"], n)
        u2 = sorted(set(ti) | set(top_s))
        sanity = {
            "perf_on_instrumented_vs_scopeprof_agreement": len(set(ti) & set(top_s)),
            "perf_on_instrumented_vs_scopeprof_spearman":
                spearman([pi["functions"].get(k, 0) for k in u2], [sp.get(k, 0) for k in u2]),
            "perf_on_instrumented_vs_baseline_perf_agreement": len(set(ti) & set(top_p)),
            "samples": pi["samples"], "dropped": pi["dropped"],
            "top": entries(ti, pi["functions"], sum(pi["functions"].values()) or 1),
        }
    result = {
        "project": args.project,
        "workload": args.workload,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": args.machine,
        "seconds": args.seconds,
        "slowdown": {
            "median_ratio": tim["median_ratio"],
            "ratios": tim["ratios"],
            "baseline_s": tim["baseline_s"],
            "instrumented_s": tim["instrumented_s"],
            "baseline_median_s": tim["baseline_median_s"],
            "instrumented_median_s": tim["instrumented_median_s"],
            "cpu_median_ratio": tim.get("cpu_median_ratio"),
            "cpu_ratios": tim.get("cpu_ratios"),
            "baseline_cpu_s": tim.get("baseline_cpu_s"),
            "instrumented_cpu_s": tim.get("instrumented_cpu_s"),
        },
        "top_n": n,
        "agreement": agree,
        "spearman": None if rho is None else round(rho, 3),
        "union_size": len(union),
        "perf": {
            "samples": perf["samples"], "attributed": perf["attributed"], "dropped": perf["dropped"],
            "runs": perf.get("runs", 1), "functions_with_samples": len(pf),
            "top": entries(top_p, pf, p_total),
            "walked_past": perf["walked_past"],
        },
        "scopeprof": {
            "calls": args.calls, "calls_written_one_by_one": args.recorded_calls,
            "calls_in_report": calls_reported,
            "log_bytes": args.log_bytes, "functions_with_self_time": sum(1 for v in sp.values() if v > 0),
            "report_rows_not_in_list": len(unknown),
            "top": entries(top_s, sp, s_total),
        },
        "instrumented": {
            "functions": perf["instrumented_functions"], "keys": perf["instrumented_keys"],
            "keys_merging_overloads": perf["merged_keys"],
            "keys_with_perf_samples": len(pf),
            "keys_with_scopeprof_self_time": sum(1 for v in sp.values() if v > 0),
            "keys_on_both_sides": len(set(k for k, v in sp.items() if v > 0) & set(pf)),
        },
        "perf_against_itself": repeat,
        "sanity_perf_on_instrumented": sanity,
        "union": [{"function": k, "perf_samples": pf.get(k, 0), "scopeprof_self_ns": sp.get(k, 0),
                   "perf_rank": r1, "scopeprof_rank": r2}
                  for k, r1, r2 in zip(union, ranks(x), ranks(y))],
    }
    json.dump(result, open(args.out, "w"), indent=1)
    print_summary(result)


def short(name, width):
    return name if len(name) <= width else "…" + name[-(width - 1):]


def print_summary(r):
    s = r["slowdown"]
    print(f"== {r['project']}: {r['workload']}")
    print(f"slowdown (scopeprof default build / baseline, wall time, median of {len(s['ratios'])} "
          f"interleaved rounds): {s['median_ratio']:.2f}x   per round: "
          + ", ".join(f"{x:.2f}" for x in s["ratios"])
          + f"   (baseline median {s['baseline_median_s']:.2f} s, scopeprof {s['instrumented_median_s']:.2f} s)")
    if s.get("cpu_ratios"):
        print(f"CPU time (user + system, all threads) ratio, median: {s['cpu_median_ratio']:.2f}x   per round: "
              + ", ".join(f"{x:.2f}" for x in s["cpu_ratios"]))
    p, sp, ins = r["perf"], r["scopeprof"], r["instrumented"]
    runs = " in 2 runs" if p.get("runs") == 2 else ""
    print(f"perf: {p['samples']} samples{runs}, {p['attributed']} charged to an instrumented function, "
          f"{p['dropped']} dropped ({100 * p['dropped'] / max(p['samples'], 1):.1f}%: no instrumented frame)")
    print(f"instrumented: {ins['functions']} functions in {ins['keys']} keys "
          f"({ins['keys_merging_overloads']} merge overloads); {ins['keys_with_perf_samples']} got perf samples, "
          f"{ins['keys_with_scopeprof_self_time']} scopeprof self time, {ins['keys_on_both_sides']} both")
    print(f"scopeprof: {sp['calls']} calls recorded ({sp['calls_written_one_by_one']} written one by one, "
          f"the rest counted per function), {sp['log_bytes'] / 1e6:.1f} MB of logs")
    w = 44
    print(f"\n{'#':>2}  {'perf (uninstrumented), self':<{w}} {'%':>6}   {'scopeprof (default build), self':<{w}} {'%':>6}")
    for i in range(r["top_n"]):
        a = p["top"][i] if i < len(p["top"]) else None
        b = sp["top"][i] if i < len(sp["top"]) else None
        la = f"{short(a['function'], w):<{w}} {100 * a['share']:5.1f}%" if a else " " * (w + 7)
        lb = f"{short(b['function'], w):<{w}} {100 * b['share']:5.1f}%" if b else ""
        print(f"{i + 1:>2}  {la}   {lb}")
    rho = "undefined" if r["spearman"] is None else f"{r['spearman']:.2f}"
    print(f"\ntop-{r['top_n']} agreement: {r['agreement']}/{r['top_n']}   "
          f"Spearman over the union ({r['union_size']} functions): {rho}")
    if r.get("perf_against_itself"):
        q = r["perf_against_itself"]
        rho3 = "undefined" if q["spearman"] is None else f"{q['spearman']:.2f}"
        print(f"perf against a second perf run of the baseline (the noise floor): agreement "
              f"{q['agreement']}/{r['top_n']}, Spearman {rho3} ({q['union_size']} functions)")
    if r.get("sanity_perf_on_instrumented"):
        c = r["sanity_perf_on_instrumented"]
        rho2 = c["perf_on_instrumented_vs_scopeprof_spearman"]
        print(f"sanity: perf on the instrumented build vs scopeprof: agreement "
              f"{c['perf_on_instrumented_vs_scopeprof_agreement']}/{r['top_n']}, Spearman "
              f"{'undefined' if rho2 is None else f'{rho2:.2f}'}; vs perf on the baseline: "
              f"{c['perf_on_instrumented_vs_baseline_perf_agreement']}/{r['top_n']}")
    if p["walked_past"]:
        print("most-sampled project frames that are not instrumented functions (charged to a caller): "
              + "; ".join(f"{k}: {v}" for k, v in p["walked_past"][:4]))


def selftest():
    """The matching key and the statistics on known cases (`accuracy.py selftest`)."""
    cases = {
        "void ns::Vec<int>::push(int const&) const [clone .isra.0]": "ns::Vec::push",
        "ns::Vec<T>::push(const T &)": "ns::Vec::push",
        "app::S::get() const &": "app::S::get",
        "(anonymous namespace)::helper(int)": "(anonymous namespace)::helper",
        "ns::S::operator()(int)": "ns::S::operator()",
        "ns::S::operator bool() const": "ns::S::operator bool",
        "ns::S::~S()": "ns::S::~S",
        "leveldb::Status::ToString[abi:cxx11]() const": "leveldb::Status::ToString",
        "std::vector<int> leveldb::foo<int>(int)": "leveldb::foo",
        "leveldb::operator<<(std::ostream&, X)": "leveldb::operator<<",
        "leveldb::Slice::operator[](size_t) const": "leveldb::Slice::operator[]",
        "foo.cold": "foo",
        "app::run(int)::lambda#2(auto) const": "app::run::lambda#2",
        "app::run(int)::{lambda(auto:1)#2}::operator()": "app::run::lambda#2",
        "leveldb::SkipList<char const*, leveldb::MemTable::KeyComparator>::Iterator::Next":
            "leveldb::SkipList::Iterator::Next",
        "ns::X::operator->() const": "ns::X::operator->",
        "ns::X::operator<(ns::X const&) const": "ns::X::operator<",
    }
    bad = [(k, normalize(k), v) for k, v in cases.items() if normalize(k) != v]
    assert last_component("a::(anonymous namespace)::B::f") == "f"
    assert ranks([3, 1, 3, 0]) == [1.5, 3.0, 1.5, 4.0]
    assert abs(spearman([1, 2, 3], [30, 20, 10]) + 1) < 1e-9
    assert spearman([1, 1], [1, 2]) is None
    f = Functions([("a.cc", 10, "ns::A::run()", True), ("a.cc", 20, "ns::B::run()", False),
                   ("a.cc", 30, "ns::C::run(int)", True), ("a.cc", 40, "ns::C::run()", True)])
    assert f.match("run", "a.cc", 12)[0] == "ns::A::run @ a.cc"
    assert f.match("run", "a.cc", 25) == (None, "not instrumented")
    assert f.match("run", "a.cc", 45)[0] == "ns::C::run @ a.cc"  # overloads merge
    assert f.match("ns::C::run(int)", "a.cc", 31)[0] == "ns::C::run @ a.cc"
    assert f.match("run", "b.cc", 12) == (None, "not listed")
    for k, got, want in bad:
        print(f"normalize({k!r}) = {got!r}, expected {want!r}")
    print("accuracy.py selftest: " + ("passed" if not bad else "FAILED"))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd_name", required=True)
    a = sub.add_parser("rounds")
    a.add_argument("--rounds", type=int, default=5)
    a.add_argument("--setting", action="append", default=[], metavar="SCOPEPROF_NAME=VALUE")
    a.add_argument("--out", required=True)
    a.add_argument("--logs", required=True)
    a.add_argument("--db-dir", required=True)
    a.add_argument("cmd", nargs=argparse.REMAINDER)
    a = sub.add_parser("attribute")
    a.add_argument("--perf-script", required=True)
    a.add_argument("--functions", required=True)
    a.add_argument("--root", required=True)
    a.add_argument("--exe", required=True)
    a.add_argument("--symbolizer", default="llvm-symbolizer-19")
    a.add_argument("--out", required=True)
    a = sub.add_parser("analyze")
    for opt in ("--project", "--workload", "--machine", "--functions", "--perf", "--report",
                "--rounds-json", "--out"):
        a.add_argument(opt, required=True)
    a.add_argument("--perf-instrumented")
    a.add_argument("--perf-again")
    a.add_argument("--calls", type=int, default=0)
    a.add_argument("--recorded-calls", type=int, default=0)
    a.add_argument("--seconds", type=int, default=0)
    a.add_argument("--log-bytes", type=int, default=0)
    a.add_argument("--top", type=int, default=10)
    sub.add_parser("selftest")
    a = sub.add_parser("normalize")
    a.add_argument("names", nargs="+")
    args = ap.parse_args()
    if args.cmd_name == "rounds":
        rounds(args)
    elif args.cmd_name == "attribute":
        attribute(args)
    elif args.cmd_name == "analyze":
        analyze(args)
    elif args.cmd_name == "selftest":
        sys.exit(selftest())
    else:
        for n in args.names:
            print(normalize(n))


if __name__ == "__main__":
    main()
