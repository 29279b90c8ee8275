#!/usr/bin/env python3
"""Run a test program under libheapprof.so and check what heapprof-analyze says about it.

    check_trace.py --preload LIB --analyzer BIN --workdir DIR --expect FILE.expect
                   [--source FILE]... [--trap LIBHPTRAP] -- PROGRAM [ARGS...]

The expectation file is JSON; lines whose first non-blank characters are '#' or '//'
are comments. Top-level keys:

  "run":       how to run the program (all optional):
               {"args": [...], "env": {"K": "V"}, "exit_code": 0, "timeout_s": 60,
                "stdout": "exact text", "stdout_re": "regex", "stderr_re": "regex",
                "kill_after": {"ready": "ready", "min_ms": 250, "extra_ms": 200},
                "compare_without_preload": true,   # same stdout, stderr and exit code
                "stderr_heapprof_lines": 1,        # ... except exactly N extra lines
                "pre_create_file": "$WORKDIR/f"}   # a regular file made before the run
  "traces":    the number of trace files the run must leave (default 1)
  "processes": [{"select": {<process field>: value, ...}, <checks>}, ...]  one entry
               per trace, picked by the fields of its JSON "process" object.
               Without "processes", the checks at the top level apply to the only trace.

Checks (at the top level or inside a "processes" entry):

  "analyzer_exit": 0           exit status of `heapprof-analyze --format json`
  "warnings_re": "re"          its stderr or one of the JSON trace.warnings must match
                               (re.search, case-insensitive)
  "trace":   {field: value}    the JSON "trace" object
  "process": {field: value}    the JSON "process" object
  "summary": {field: value}    the JSON "summary" object
  "scope":   [{"function": "f", "allocations": N, "frees": N, ...}]
             sums over the sites whose stack contains a frame of function "f" (use a
             list "functions": [...] for any of several). Sites have no free count:
             "frees" is sum(allocations - leaked_allocations), i.e. the blocks from
             those sites that were released. Scoping is how the tests stay exact
             although the C runtime and the loader allocate a little on their own
             (stdio buffers, thread DTVs, dlopen's link maps).
  "sites":   [{"function": "f", "line": "@MARKER", <site field>: value,
               "frames": [{frame field: value}, ...]}]
             the one site whose innermost frame is function "f" (and at the marker's
             line when "line" is given); "frames" is matched against the start of its
             stack, innermost first.
  "first_site": {...}          same, for sites[0] (the biggest peak_bytes)
  "hints":   {field: value}    the JSON "hints" object (heapprof_alloc_hint blocks; a
                               report without one is {}; null: there must be none),
                               with "sites": [...] matched
                               against hints.sites as "sites" is against sites
  "marks":   [{field: value}, ...]  the JSON "marks" list, entry by entry: the same
                               length, each entry's fields (a report without marks
                               has [])
  "dump":    {"records": {"alloc": N, "end": 0, ...},   lines per record kind
              "header": {field: value},                  the header line's fields
              "sized": {"sizes": [[lo, hi], ...], "alloc": N, "free": N, "realloc": N},
                   replays the dump: alloc = ALLOC/REALLOC events whose size lies in a
                   range, free = FREE/REALLOC releases of such blocks. Threads tests
                   tag their blocks with sizes nothing else uses.
              "unloaded_re": "regex"}   a MODULE whose path matches was unloaded

Values: a number, string, bool or null is compared exactly; a string starting with
'>=', '<=', '>', '<' or '!=' compares numerically; '~re' matches a regex; '@NAME'
is the line of the comment /* @NAME */ in the --source files (never hard-code a
line); '$ROOT_PID' is the pid of the process the harness started.

Addresses are never compared. On failure the script prints every mismatch
(where: expected vs got), a condensed view of the report, and keeps the work dir.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

# The --dump line helpers both test drivers share.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from dump_lines import block_keys, count_sized_unique, parse_dump_line, unique_keys  # noqa: E402

MARKER_RE = re.compile(r"/\*\s*@([A-Z0-9_]+)\s*\*/")


class Failures:
    def __init__(self):
        self.items = []

    def add(self, where, expected, got):
        self.items.append((where, expected, got))

    def __bool__(self):
        return bool(self.items)


def load_expect(path):
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f if not l.lstrip().startswith(("#", "//"))]
    try:
        return json.loads("".join(lines))
    except json.JSONDecodeError as e:
        sys.exit(f"check_trace: {path}: invalid JSON: {e}")


def load_markers(sources):
    markers = {}
    for src in sources:
        with open(src, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                for m in MARKER_RE.finditer(line):
                    name = m.group(1)
                    if name in markers:
                        sys.exit(f"check_trace: marker @{name} defined twice")
                    markers[name] = (os.path.basename(src), lineno)
    return markers


class Ctx:
    def __init__(self, markers):
        self.markers = markers
        self.root_pid = None
        self.workdir = None

    def resolve(self, v):
        if isinstance(v, str):
            if v == "$ROOT_PID":
                return self.root_pid
            if v.startswith("@"):
                if v[1:] not in self.markers:
                    sys.exit(f"check_trace: unknown marker {v} (pass its file with --source)")
                return self.markers[v[1:]][1]
            return v.replace("$WORKDIR", self.workdir or "")
        return v

    def matches(self, expected, got):
        """True when got satisfies expected (see the module docstring)."""
        if isinstance(expected, str):
            for op in (">=", "<=", "!=", ">", "<"):
                if expected.startswith(op):
                    if not isinstance(got, (int, float)) or isinstance(got, bool):
                        return False
                    rhs = float(self.resolve(expected[len(op):].strip()))
                    return {">=": got >= rhs, "<=": got <= rhs, "!=": got != rhs,
                            ">": got > rhs, "<": got < rhs}[op]
            if expected.startswith("~"):
                return isinstance(got, str) and re.search(expected[1:], got) is not None
        exp = self.resolve(expected)
        if isinstance(exp, bool) or isinstance(got, bool):
            return type(exp) is type(got) and exp == got
        return exp == got

    def check_fields(self, fails, where, expected, obj):
        if not isinstance(obj, dict):
            fails.add(where, "an object", obj)
            return
        for key, exp in expected.items():
            got = obj.get(key, "<missing>")
            if not self.matches(exp, got):
                fails.add(f"{where}.{key}", exp, got)


# --- running ------------------------------------------------------------------------

def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HEAPPROF_") and k not in ("LD_PRELOAD", "MALLOC_CHECK_",
                                                         "MALLOC_PERTURB_")}
    env["LC_ALL"] = "C"
    return env


def run_program(cmd, env, run, fails, label):
    """Runs cmd; returns (pid, exit_code, stdout, stderr)."""
    timeout = run.get("timeout_s", 60)
    kill = run.get("kill_after")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    if kill:
        # Wait for the ready line, then let it run long enough for several flushes.
        line = proc.stdout.readline().decode(errors="replace").strip()
        if line != kill.get("ready", "ready"):
            proc.kill()
            proc.wait()
            fails.add(f"{label}: first stdout line", kill.get("ready", "ready"), line)
        else:
            elapsed_ms = (time.monotonic() - start) * 1000
            wait_ms = max(kill.get("min_ms", 250) - elapsed_ms, 0) + kill.get("extra_ms", 0)
            time.sleep(wait_ms / 1000)
            if proc.poll() is not None:
                fails.add(f"{label}: still running when killed", True, False)
            proc.send_signal(signal.SIGKILL)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        fails.add(f"{label}: finished within {timeout} s", True, False)
    return proc.pid, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def run_analyzer(analyzer, args, trace):
    p = subprocess.run([analyzer] + args + [trace], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


# --- dump ---------------------------------------------------------------------------

def num(s):
    try:
        return int(s, 0)
    except (TypeError, ValueError):
        return s


def replay_sized(events, in_range):
    """Counts allocations of tagged sizes and the releases of those blocks.

    The dump is in file order: each thread's events come in runs, so a block freed by
    another thread can appear before its allocation. Events are replayed in time
    order instead (alloc times are taken after the call, free times before, so a free
    follows its allocation and precedes the reuse of the address). Within one time
    unit: first frees of live blocks, then allocations, then the remaining frees."""
    if unique_keys(e[2] for e in events):
        return count_sized_unique([(op, k, size) for _, op, k, size in events], in_range)
    live = {}  # addr -> tagged?
    sized = {"alloc": 0, "free": 0, "realloc": 0}
    events.sort(key=lambda e: e[0])
    n, i = len(events), 0
    while i < n:
        t0, j = events[i][0], i + 1
        while j < n and events[j][0] == t0:
            j += 1
        if j == i + 1:  # the common case: alone in its time unit
            _, op, addr, size = events[i]
            if op == 0:
                sized["free"] += live.pop(addr, False)
            else:
                tagged = live[addr] = in_range(size)
                sized["alloc"] += tagged
                sized["realloc"] += tagged and op == 2
            i = j
            continue
        later = []
        for _, op, addr, size in events[i:j]:
            if op == 0 and addr in live:
                sized["free"] += live.pop(addr)
            elif op == 0:
                later.append(addr)
        for _, op, addr, size in events[i:j]:
            if op != 0:
                tagged = live[addr] = in_range(size)
                sized["alloc"] += tagged
                sized["realloc"] += tagged and op == 2
        for addr in later:
            sized["free"] += live.pop(addr, False)
        i = j
    return sized


def check_dump(ctx, fails, where, exp, dump_text):
    counts = {}
    header = None
    modules = {}
    unloaded = set()
    ranges = [tuple(r) for r in exp.get("sized", {}).get("sizes", [])]
    if sum(hi - lo + 1 for lo, hi in ranges) <= 65536:
        in_range = {n for lo, hi in ranges for n in range(lo, hi + 1)}.__contains__
    else:
        in_range = lambda size: any(lo <= size <= hi for lo, hi in ranges)
    events = []  # (t, op, addr, size) for the sized replay
    for line in dump_text.splitlines():
        if not line.strip():
            continue
        kind, f = parse_dump_line(line)
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "header" and header is None:
            header = {k: num(v) for k, v in f.items()}
        elif kind == "module":
            modules[f.get("id")] = line.split(" path=", 1)[-1].split(" build_id=")[0]
        elif kind == "module_unload":
            unloaded.add(f.get("id"))
        elif ranges and kind in ("alloc", "free", "realloc"):
            gone, made = block_keys(kind, f)
            if gone is not None:
                events.append((int(f["t"]), 0, gone, 0))
            if made is not None:
                events.append((int(f["t"]), 2 if kind == "realloc" else 1, made, int(f["size"])))
    sized = replay_sized(events, in_range) if ranges else {}
    for kind, n in exp.get("records", {}).items():
        if not ctx.matches(n, counts.get(kind, 0)):
            fails.add(f"{where}.dump.records.{kind}", n, counts.get(kind, 0))
    if "header" in exp:
        ctx.check_fields(fails, f"{where}.dump.header", exp["header"], header)
    for key in ("alloc", "free", "realloc"):
        if key in exp.get("sized", {}) and not ctx.matches(exp["sized"][key], sized[key]):
            fails.add(f"{where}.dump.sized.{key}", exp["sized"][key], sized[key])
    if "unloaded_re" in exp:
        paths = [modules.get(i, "?") for i in unloaded]
        if not any(re.search(exp["unloaded_re"], p) for p in paths):
            fails.add(f"{where}.dump.unloaded", exp["unloaded_re"], paths)
    return counts


# --- report checks ------------------------------------------------------------------

def frame_str(fr):
    s = f"{fr.get('function')}:{fr.get('line')}"
    return s + " (inlined)" if fr.get("inlined") else s


def site_has_function(site, names):
    return any(fr.get("function") in names for fr in site.get("stack", []))


def check_frames(ctx, fails, where, exp_frames, stack):
    for i, exp in enumerate(exp_frames):
        if i >= len(stack):
            fails.add(f"{where}.stack[{i}]", exp, "<no frame>")
            continue
        ctx.check_fields(fails, f"{where}.stack[{i}]", frame_exp(ctx, exp), stack[i])


def frame_exp(ctx, exp):
    """A frame expectation; a "line" given as @MARKER also pins the file's basename."""
    exp = dict(exp)
    line = exp.get("line")
    if isinstance(line, str) and line.startswith("@"):
        fname = ctx.markers.get(line[1:], (None,))[0]
        if fname and "file" not in exp:
            exp["file"] = "~(^|/)" + re.escape(fname) + "$"
    return exp


def check_site(ctx, fails, where, exp, site):
    exp = dict(exp)
    frames = exp.pop("frames", [])
    fr0 = {k: exp.pop(k) for k in ("function", "line", "file", "inlined", "module") if k in exp}
    if fr0:
        frames = [dict(fr0, **(frames[0] if frames else {}))] + frames[1:]
    check_frames(ctx, fails, where, frames, site.get("stack", []))
    ctx.check_fields(fails, where, exp, site)


def check_report(ctx, fails, where, exp, report):
    for sect in ("trace", "process", "summary"):
        if sect in exp:
            ctx.check_fields(fails, f"{where}.{sect}", exp[sect], report.get(sect))
    sites = report.get("sites") or []
    for i, sc in enumerate(exp.get("scope", [])):
        sc = dict(sc)
        names = set(sc.pop("functions", [])) | ({sc.pop("function")} if "function" in sc else set())
        chosen = [s for s in sites if site_has_function(s, names)]
        sums = {k: sum(s.get(k) or 0 for s in chosen)
                for k in ("allocations", "allocated_bytes", "peak_bytes", "leaked_bytes",
                          "leaked_allocations", "temporary_allocations")}
        sums["frees"] = sums["allocations"] - sums["leaked_allocations"]
        sums["sites"] = len(chosen)
        ctx.check_fields(fails, f"{where}.scope[{'|'.join(sorted(names))}]", sc, sums)
    check_sites(ctx, fails, where, exp.get("sites", []), sites)
    if "hints" in exp and exp["hints"] is None:
        if "hints" in report:
            fails.add(f"{where}.hints", None, report["hints"])
    elif "hints" in exp:
        hx = dict(exp["hints"])
        hints = report.get("hints") or {}
        check_sites(ctx, fails, f"{where}.hints", hx.pop("sites", []), hints.get("sites") or [])
        ctx.check_fields(fails, f"{where}.hints", hx, hints)
    if "marks" in exp:
        marks = report.get("marks") or []
        if len(marks) != len(exp["marks"]):
            fails.add(f"{where}.marks (number)", len(exp["marks"]), len(marks))
        for i, (mx, m) in enumerate(zip(exp["marks"], marks)):
            ctx.check_fields(fails, f"{where}.marks[{i}]", mx, m)
    if "first_site" in exp:
        if not sites:
            fails.add(f"{where}.sites[0]", exp["first_site"], "<no sites>")
        else:
            check_site(ctx, fails, f"{where}.sites[0]", exp["first_site"], sites[0])


def check_sites(ctx, fails, where, expected, sites):
    for sx in expected:
        line = ctx.resolve(sx["line"]) if "line" in sx else None
        cands = [s for s in sites if s.get("stack")
                 and s["stack"][0].get("function") == sx.get("function")
                 and (line is None or s["stack"][0].get("line") == line)]
        label = f"{where}.site[{sx.get('function')}" + (f":{sx['line']}]" if line else "]")
        if len(cands) != 1:
            fails.add(f"{label} (number of matching sites)", 1, len(cands))
            if not cands:
                continue
        check_site(ctx, fails, label, sx, cands[0])


def condensed(report, nsites=12):
    lines = [f" {k}: {json.dumps(report.get(k))}" for k in ("trace", "process", "summary")]
    sites = report.get("sites") or []
    lines.append(f" sites ({len(sites)}, first {min(nsites, len(sites))}):")
    for s in sites[:nsites]:
        counts = {k: s.get(k) for k in ("allocations", "allocated_bytes", "peak_bytes",
                                        "leaked_allocations", "temporary_allocations")}
        stack = " <- ".join(frame_str(f) for f in (s.get("stack") or [])[:5])
        lines.append(f"  {json.dumps(counts)}  {stack}")
    return "\n".join(lines)


def select_trace(ctx, fails, sel, analyzed):
    hits = [a for a in analyzed if a["report"] is not None and all(
        ctx.matches(v, (a["report"].get("process") or {}).get(k)) for k, v in sel.items())]
    if len(hits) != 1:
        fails.add(f"traces matching {sel}", 1, len(hits))
        return None
    return hits[0]


# --- main ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preload", required=True)
    ap.add_argument("--analyzer", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("--source", action="append", default=[])
    ap.add_argument("--trap", help="libhptrap.so, preloaded before the recorder: the run "
                    "aborts if the recorder calls a libc function it must not (hptrap.c)")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no program given after --")

    exp = load_expect(a.expect)
    ctx = Ctx(load_markers(a.source))
    ctx.workdir = os.path.abspath(a.workdir)
    shutil.rmtree(ctx.workdir, ignore_errors=True)
    os.makedirs(ctx.workdir)
    fails = Failures()
    run = exp.get("run", {})
    cmd = cmd + [ctx.resolve(x) for x in run.get("args", [])]
    if "pre_create_file" in run:
        open(ctx.resolve(run["pre_create_file"]), "w").close()

    env = clean_env()
    env["HEAPPROF_OUTPUT"] = os.path.join(ctx.workdir, "heapprof.%e.%p.zst")
    env.update({k: ctx.resolve(v) for k, v in run.get("env", {}).items()})
    env["LD_PRELOAD"] = os.path.abspath(a.preload)
    if a.trap:
        env["LD_PRELOAD"] = os.path.abspath(a.trap) + ":" + env["LD_PRELOAD"]

    t0 = time.monotonic()
    ctx.root_pid, code, out, err = run_program(cmd, env, run, fails, "program")
    elapsed = time.monotonic() - t0
    print(f"check_trace: ran {' '.join(cmd)} (pid {ctx.root_pid}) in {elapsed:.2f} s, exit {code}")
    exp_code = run.get("exit_code", -signal.SIGKILL if "kill_after" in run else 0)
    if code != exp_code:
        fails.add("program exit code", exp_code, code)
    if "stdout" in run and out != run["stdout"]:
        fails.add("program stdout", run["stdout"], out)
    if "stdout_re" in run and not re.search(run["stdout_re"], out):
        fails.add("program stdout", "~" + run["stdout_re"], out)
    if "stderr_re" in run and not re.search(run["stderr_re"], err):
        fails.add("program stderr", "~" + run["stderr_re"], err)

    if run.get("compare_without_preload"):
        cenv = clean_env()
        _, ccode, cout, cerr = run_program(cmd, cenv, {"timeout_s": run.get("timeout_s", 60)},
                                           fails, "control")
        if (ccode, cout) != (code, out):
            fails.add("exit code and stdout with vs without the preload", (ccode, cout), (code, out))
        extra = run.get("stderr_heapprof_lines", 0)
        elines, clines = err.splitlines(), cerr.splitlines()
        hp = [l for l in elines if "heapprof" in l]
        rest = [l for l in elines if "heapprof" not in l]
        if len(hp) != extra:
            fails.add("stderr lines mentioning heapprof", extra, hp)
        if rest != clines:
            fails.add("stderr other than heapprof's, vs without the preload", clines, rest)
        if hp:
            print(f"check_trace: heapprof said: {hp[0]}")
    if err.strip() and not run.get("compare_without_preload"):
        print("check_trace: program stderr:\n" + err.rstrip())

    traces = sorted(os.path.join(ctx.workdir, f) for f in os.listdir(ctx.workdir)
                    if f.endswith(".zst"))
    if len(traces) != exp.get("traces", 1):
        fails.add("number of trace files", exp.get("traces", 1), [os.path.basename(t) for t in traces])

    analyzed = []
    for t in traces:
        rc, jout, jerr = run_analyzer(a.analyzer, ["--format", "json"], t)
        try:
            report = json.loads(jout) if jout.strip() else None
        except json.JSONDecodeError as e:
            report = None
            fails.add(f"{os.path.basename(t)}: analyzer JSON", "valid JSON", f"{e}: {jout[:300]!r}")
        analyzed.append({"file": t, "rc": rc, "stderr": jerr, "report": report})

    groups = exp.get("processes")
    if groups is None:
        groups = [dict(exp, select=None)] if analyzed and exp.get("traces", 1) == 1 else []
    for g in groups:
        if g.get("select") is None:
            item = analyzed[0]
        else:
            item = select_trace(ctx, fails, g["select"], analyzed)
            if item is None:
                continue
        where = os.path.basename(item["file"])
        if not ctx.matches(g.get("analyzer_exit", 0), item["rc"]):
            fails.add(f"{where}: analyzer exit status", g.get("analyzer_exit", 0), item["rc"])
        if "warnings_re" in g:
            warnings = ((item["report"] or {}).get("trace") or {}).get("warnings") or []
            said = [item["stderr"]] + [str(w) for w in warnings]
            if not any(re.search(g["warnings_re"], w, re.I) for w in said):
                fails.add(f"{where}: analyzer warnings", "~" + g["warnings_re"], said)
        if item["stderr"].strip():
            print(f"check_trace: {where}: analyzer stderr: {item['stderr'].strip()}")
        if item["report"] is None:
            fails.add(f"{where}: analyzer report", "a JSON object", item["stderr"][:300])
            continue
        check_report(ctx, fails, where, g, item["report"])
        if "dump" in g:
            rc, dout, derr = run_analyzer(a.analyzer, ["--dump"], item["file"])
            if not ctx.matches(g.get("analyzer_exit", 0), rc):
                fails.add(f"{where}: analyzer --dump exit status", g.get("analyzer_exit", 0), rc)
            counts = check_dump(ctx, fails, where, g["dump"], dout)
            print(f"check_trace: {where}: dump records {json.dumps(counts, sort_keys=True)}")

    if fails:
        print(f"\ncheck_trace: FAILED ({len(fails.items)} mismatches), expectations {a.expect}")
        w = max(len(x[0]) for x in fails.items)
        for where, e, g in fails.items:
            gs = json.dumps(g) if not isinstance(g, str) else repr(g)
            print(f"  {where.ljust(w)}  expected {json.dumps(e)}  got {gs[:2000]}")
        for item in analyzed:
            if item["report"] is not None:
                print(f"\n--- report for {os.path.basename(item['file'])} (condensed) ---")
                print(condensed(item["report"]))
        print(f"\ncheck_trace: traces kept in {ctx.workdir}")
        return 1
    print(f"check_trace: OK ({len(traces)} trace(s), {a.expect})")
    shutil.rmtree(ctx.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
