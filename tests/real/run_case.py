#!/usr/bin/env python3
"""Run one real-program or torture case under libheapprof.so and check the result.

    run_case.py --case NAME --lib LIBHEAPPROF --analyzer BIN --torture RT_TORTURE
                --torture-jemalloc BIN --dlib RT_DLIB --trap LIBHPTRAP --src DIR --work DIR

Exit status: 0 pass, 1 fail (every failed check is listed with what was expected and
what came back, the program's stderr and the analyzer's), 77 the case could not create
its condition (it says why). A missing tool is a failure, never a skip: tools/check
installs every tool these cases use.

Conventions shared with tests/preload/check_trace.py: `heapprof-analyze --dump` prints
one record per line, `kind key=value ...` (alloc size= block=, free block=, realloc block=
size=, header pid= ppid=; version 1 traces: addresses); `--format json` follows docs/json-report.md. Program
blocks have "marked" sizes (rt_torture.c: MARK_BASE + 16 k) so their dump lines can be
counted exactly whatever libc allocates on its own.
"""

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time

# The --dump line helpers both test drivers share.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from dump_lines import block_keys, count_sized_unique, parse_dump_line, unique_keys  # noqa: E402

SKIP = 77
MARK_SIZES = (2000, 2000 + 16 * 7)  # rt_torture.c: MARK_BASE + 16 * k, k < MARK_KINDS
DLIB_SIZES = (3000, 3001)  # rt_dlib.c
NOBODY = 65534

A = None  # parsed arguments


class Fail(Exception):
    pass


class Skip(Exception):
    pass


class Checks:
    """Collects failed checks so one run reports all of them."""

    def __init__(self):
        self.failed = []
        self.notes = []

    def check(self, ok, what, expected=None, got=None, detail=None):
        if not ok:
            msg = what
            if expected is not None or got is not None:
                msg += f"\n    expected: {expected!r}\n    got:      {got!r}"
            if detail:
                msg += "\n    " + detail.rstrip().replace("\n", "\n    ")
            self.failed.append(msg)
        return ok

    def note(self, msg):
        self.notes.append(msg)
        print("note: " + msg)


C = Checks()


# --- running programs ---------------------------------------------------------------

class Result:
    def __init__(self, argv, rc, out, err, pid, elapsed):
        self.argv, self.rc, self.out, self.err, self.pid, self.elapsed = (
            argv, rc, out, err, pid, elapsed)

    def heapprof_lines(self):
        return [l for l in self.err.splitlines() if "heapprof" in l.lower()]

    def describe(self):
        return (f"command: {' '.join(self.argv)}\nexit: {self.rc}\n"
                f"stdout (tail): {self.out[-800:]!r}\nstderr (tail): {self.err[-1500:]!r}")


def base_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HEAPPROF_") and k not in ("LD_PRELOAD", "LD_LIBRARY_PATH")}
    env.update({"LC_ALL": "C", "LANG": "C", "TZ": "UTC"})
    return env


def tool(name):
    """Absolute path of a tool the setup must have installed (missing: the case fails)."""
    path = name if os.path.isabs(name) else shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        raise Fail(f"required tool '{name}' is not installed (tools/check installs it)")
    return path


def run(argv, preload=True, outdir=None, template=None, env=None, cwd=None, stdin=None,
        timeout=60, preexec=None, kill_after=None, lib=None):
    """Runs argv; with preload, under libheapprof.so writing to outdir (or template)."""
    e = base_env()
    if preload:
        e["LD_PRELOAD"] = lib or A.lib
        e["HEAPPROF_OUTPUT"] = template if template is not None else os.path.join(
            outdir, "heapprof.%e.%p.zst")
    if env:
        e.update(env)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=e, cwd=cwd, stdin=subprocess.PIPE if stdin is not None
                         else subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True, preexec_fn=preexec)
    try:
        if kill_after is not None:
            sig, delay = kill_after
            try:
                out, err = p.communicate(stdin.encode() if stdin else None, timeout=delay)
            except subprocess.TimeoutExpired:
                p.send_signal(sig)
                out, err = p.communicate(timeout=timeout)
        else:
            out, err = p.communicate(stdin.encode() if stdin is not None else None,
                                     timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        raise Fail(f"timed out after {timeout}s (hang or deadlock?): {' '.join(argv)} "
                   f"({'with' if preload else 'without'} the preload)\n"
                   f"    stdout tail: {out.decode(errors='replace')[-500:]!r}\n"
                   f"    stderr tail: {err.decode(errors='replace')[-1000:]!r}")
    return Result(argv, p.returncode, out.decode(errors="replace"),
                  err.decode(errors="replace"), p.pid, time.monotonic() - t0)


def fresh_dir(*parts):
    d = os.path.join(A.work, A.case, *parts)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def files_under(d):
    out = []
    for root, _, names in os.walk(d):
        out += [os.path.join(root, n) for n in names]
    return sorted(out)


# --- analyzing traces ---------------------------------------------------------------

def analyzer(args, trace, timeout=120):
    p = subprocess.run([A.analyzer] + args + [trace], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


class Trace:
    """One trace file: its JSON report and, on demand, its --dump."""

    def __init__(self, path):
        self.path = path
        self.rc, out, self.err = analyzer(["--format", "json"], path)
        self.report = None
        if self.rc == 0:
            try:
                self.report = json.loads(out)
            except ValueError as ex:
                self.json_error = f"{ex}; stdout head: {out[:300]!r}"
        self._dump = None
        self._events = None

    @property
    def name(self):
        return os.path.basename(self.path)

    def section(self, key):
        return (self.report or {}).get(key) or {}

    @property
    def pid(self):
        return self.section("process").get("pid")

    @property
    def ppid(self):
        return self.section("process").get("ppid")

    @property
    def exe(self):
        return os.path.basename(self.section("process").get("exe") or "")

    @property
    def summary(self):
        return self.section("summary")

    def warnings(self):
        return self.err + "\n" + "\n".join(self.section("trace").get("warnings") or [])

    def incomplete(self):
        return bool(re.search(r"no trailer", self.warnings(), re.I)) or \
            self.section("trace").get("complete") is False

    def decodes(self, where):
        """Analyzer exit 0 with a JSON report."""
        ok = C.check(self.rc == 0, f"{where}: heapprof-analyze {self.name} exits 0", 0, self.rc,
                     f"analyzer stderr: {self.err[-1500:]}")
        if ok:
            ok = C.check(self.report is not None, f"{where}: {self.name} JSON parses",
                         detail=getattr(self, "json_error", ""))
        return ok

    def clean(self, where):
        """Exit 0, a JSON report, no 'no trailer' warning, trace.complete true. Returns
        whether the report can be checked further (it decodes), so one run reports an
        incomplete trace and the content checks too."""
        if not self.decodes(where):
            return False
        if self.incomplete():
            kinds = [l.split(" ", 1)[0] for l in self.dump()[-4:]]
            C.check(False, f"{where}: {self.name} is complete (no 'no trailer' warning, "
                    "trace.complete true)", True, self.section("trace").get("complete"),
                    f"warnings: {self.warnings().strip()[-600:]}\n"
                    f"last dump records: {kinds}")
        return True

    def plausible(self, where, min_allocs):
        s = self.summary
        allocs, frees, peak = s.get("allocations"), s.get("frees"), s.get("peak_heap_bytes")
        C.check(isinstance(allocs, int) and allocs >= min_allocs,
                f"{where}: {self.name} summary.allocations >= {min_allocs}", f">= {min_allocs}",
                allocs)
        C.check(isinstance(frees, int) and isinstance(allocs, int) and frees <= allocs,
                f"{where}: {self.name} summary.frees <= allocations", f"<= {allocs}", frees)
        C.check(isinstance(peak, int) and peak > 0, f"{where}: {self.name} peak_heap_bytes > 0",
                "> 0", peak)

    def dump(self):
        """The --dump lines, unparsed (a trace can have a million of them)."""
        if self._dump is None:
            rc, out, err = analyzer(["--dump"], self.path)
            C.check(rc == 0, f"heapprof-analyze --dump {self.name} exits 0", 0, rc, err[-1000:])
            self._dump = out.splitlines()
        return self._dump

    def records(self, kind):
        prefix = kind + " "
        return sum(1 for l in self.dump() if l.startswith(prefix))

    def sized(self, lo, hi):
        """(allocs, frees) of blocks whose size lies in [lo, hi], by replaying the dump.

        A free counts when its address holds such a block. Events are replayed in time
        order (t=, one clock for all threads): a block freed by another thread may be
        printed before its allocation when the threads' buffers were drained in another
        order."""
        if self._events is None:
            evs = []
            for i, line in enumerate(self.dump()):
                if line.startswith(("alloc ", "free ", "realloc ")):
                    kind, f = parse_dump_line(line)
                    evs.append((num(f.get("t"), 0), i, kind, f))
            evs.sort(key=lambda e: (e[0], e[1]))
            self._events = evs
        if unique_keys(block_keys(k, f)[1] for _, _, k, f in self._events[:64]):
            ev = []
            for _, _, k, f in self._events:
                gone, made = block_keys(k, f)
                if gone is not None:
                    ev.append((0, gone, 0))
                if made is not None:
                    ev.append((2 if k == "realloc" else 1, made, num(f.get("size"), -1)))
            got = count_sized_unique(ev, lambda size: lo <= size <= hi)
            return got["alloc"], got["free"]
        live, allocs, frees = {}, 0, 0
        for _, _, k, f in self._events:
            gone, made = block_keys(k, f)
            if gone is not None and live.pop(gone, False):
                frees += 1
            if made is not None:
                tagged = lo <= num(f.get("size"), -1) <= hi
                live[made] = tagged
                allocs += tagged
        return allocs, frees


def num(s, default=None):
    try:
        return int(s, 0)
    except (TypeError, ValueError):
        return default


def traces_in(outdir, at_least=1, where="run"):
    paths = files_under(outdir)
    C.check(len(paths) >= at_least, f"{where}: at least {at_least} trace file(s) in {outdir}",
            f">= {at_least}", [os.path.basename(p) for p in paths])
    return [Trace(p) for p in paths]


def marked(trace, where, allocs, frees=None, sizes=MARK_SIZES):
    got_a, got_f = trace.sized(*sizes)
    C.check(got_a == allocs, f"{where}: {trace.name} --dump has every marked allocation once "
            f"(sizes {sizes[0]}..{sizes[1]})", allocs, got_a)
    if frees is not None:
        C.check(got_f == frees, f"{where}: {trace.name} --dump has every free of a marked "
                "block once", frees, got_f)


def counts_from(out, tag):
    m = re.search(rf"^{tag} allocs=(\d+) frees=(\d+)$", out, re.M)
    if not m:
        raise Fail(f"program output lacks '{tag} allocs=N frees=N': {out[-500:]!r}")
    return int(m.group(1)), int(m.group(2))


def expect_run(r, where, rc=0, out=None, out_re=None, max_heapprof_lines=0):
    C.check(r.rc == rc, f"{where}: exit status", rc, r.rc, r.describe())
    if out is not None:
        C.check(r.out == out, f"{where}: stdout", out, r.out, r.describe())
    if out_re is not None:
        C.check(re.search(out_re, r.out, re.M) is not None, f"{where}: stdout matches {out_re!r}",
                out_re, r.out[-800:])
    lines = r.heapprof_lines()
    C.check(len(lines) <= max_heapprof_lines,
            f"{where}: at most {max_heapprof_lines} heapprof line(s) on stderr",
            f"<= {max_heapprof_lines}", lines)


def same_as_native(argv, where, outdir, **kw):
    """Runs argv without and with the preload: same stdout and exit status."""
    native = run(argv, preload=False, **kw)
    pre = run(argv, preload=True, outdir=outdir, **kw)
    C.check(native.rc == pre.rc, f"{where}: exit status with the preload equals without",
            native.rc, pre.rc, pre.describe())
    C.check(native.out == pre.out, f"{where}: stdout with the preload equals without",
            native.out[-1500:], pre.out[-1500:], pre.describe())
    C.check(len(pre.heapprof_lines()) == 0, f"{where}: no heapprof line on stderr", [],
            pre.heapprof_lines())
    return native, pre


# --- A. programs nobody here wrote ----------------------------------------------------

def all_clean(traces, where, min_main, main=None, min_other=1, may_be_cut=()):
    """Each trace decodes cleanly with plausible totals. `may_be_cut`: executable names
    whose process may die of SIGPIPE (no trailer then, but still exit 0)."""
    for t in traces:
        if t.exe in may_be_cut and t.incomplete():
            t.decodes(where)
            # Killed by SIGPIPE: only the frames flushed before may be there (maybe none).
            C.note(f"{t.name} ({t.exe}) has no trailer: allowed, it may die of SIGPIPE")
            continue
        if t.clean(where):
            t.plausible(where, min_main if (main is None or t is main) else min_other)


def case_sqlite3():
    sqlite = tool("sqlite3")
    out = fresh_dir("traces")
    rows = [(i, (i * 7919) % 20000, f"value-{i:05d}-" + "x" * (i % 37)) for i in range(20000)]
    sql = ["CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER NOT NULL, v TEXT);",
           "CREATE INDEX t_k ON t(k);", "BEGIN;"]
    sql += [f"INSERT INTO t VALUES({i}, {k}, '{v}');" for i, k, v in rows]
    sql += ["COMMIT;",
            "EXPLAIN QUERY PLAN SELECT count(*), sum(id) FROM t WHERE k BETWEEN 100 AND 299;",
            "SELECT count(*), sum(id) FROM t WHERE k BETWEEN 100 AND 299;",
            "SELECT v FROM t WHERE k = 4242;"]
    sel = [r for r in rows if 100 <= r[1] <= 299]
    native, pre = same_as_native([sqlite, ":memory:"], "sqlite3", out, stdin="\n".join(sql) + "\n")
    C.check(native.rc == 0 and f"{len(sel)}|{sum(r[0] for r in sel)}" in native.out
            and "t_k" in native.out, "sqlite3 (native): the workload ran and used the index",
            detail=native.describe())
    traces = traces_in(out, 1, "sqlite3")
    C.check(len(traces) == 1, "sqlite3: exactly one trace", 1, [t.name for t in traces])
    all_clean(traces, "sqlite3", 20000)


def case_python3():
    py = tool("/usr/bin/python3")  # the system interpreter, not a pyenv shim
    out = fresh_dir("traces")
    script = r"""
import json, hashlib
data = {"items": [{"id": i, "name": "item-%d" % i, "tags": ["t%d" % (i % 7), "u%d" % (i % 11)],
                   "score": i * 0.5, "nested": {"a": [i, i + 1, None, True]}}
                  for i in range(20000)]}
text = json.dumps(data, sort_keys=True)
back = json.loads(text)
assert back == data
text2 = json.dumps(back, sort_keys=True, indent=1)
print(len(text), len(text2), hashlib.sha256(text.encode()).hexdigest()[:16])
"""
    native, _ = same_as_native([py, "-I", "-S", "-c", script], "python3", out,
                               env={"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"})
    C.check(native.rc == 0 and native.out.strip(), "python3 (native) ran", detail=native.describe())
    traces = traces_in(out, 1, "python3")
    all_clean(traces, "python3", 1000)


def case_perl():
    perl = tool("perl")
    out = fresh_dir("traces")
    script = r"""
my $seed = 12345; my @words;
for my $i (1 .. 40000) {
    $seed = ($seed * 1103515245 + 12345) % 2147483648;
    push @words, join('', map { chr(97 + ($seed >> (3 * $_)) % 26) } 0 .. (2 + $seed % 6));
}
my $text = join(' ', @words);
my %count; $count{$_}++ for split / /, $text;
my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 4];
my $joined = join(',', map { "$_=$count{$_}" } @top);
(my $upper = $text) =~ s/(\w+)/\u$1/g;
print scalar(keys %count), " ", length($text), " ", length($upper), " $joined\n";
"""
    native, _ = same_as_native([perl, "-e", script], "perl", out)
    C.check(native.rc == 0 and native.out.strip(), "perl (native) ran", detail=native.describe())
    all_clean(traces_in(out, 1, "perl"), "perl", 1000)


def git_session(git, root, preload, outdir):
    """git init, commit a few files, log, status; returns the concatenated stdout."""
    repo = os.path.join(root, "repo")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    env = {"HOME": root, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z",
           "GIT_PAGER": "cat", "PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}
    ident = ["-c", "user.name=Heap Prof", "-c", "user.email=hp@example.invalid",
             "-c", "init.defaultBranch=main", "-c", "gc.auto=0", "-c", "maintenance.auto=false"]
    texts = []

    def g(*args):
        r = run([git] + ident + list(args), preload=preload, outdir=outdir, env=env, cwd=root)
        texts.append(f"$ git {' '.join(args)}\n{r.out}[exit {r.rc}]\n")
        C.check(r.rc == 0, f"git {args[0]} ({'with' if preload else 'without'} preload) exits 0",
                0, r.rc, r.describe())
        if preload:
            C.check(not r.heapprof_lines(), f"git {args[0]}: no heapprof line on stderr", [],
                    r.heapprof_lines())
        return r

    g("init", "-q", "repo")
    for i in range(5):
        with open(os.path.join(repo, f"file{i}.txt"), "w") as f:
            f.write("".join(f"line {j} of file {i}\n" for j in range(200 * (i + 1))))
    g("-C", "repo", "add", ".")
    g("-C", "repo", "commit", "-m", "first commit")
    with open(os.path.join(repo, "file1.txt"), "a") as f:
        f.write("changed\n")
    g("-C", "repo", "commit", "-a", "-m", "second commit")
    with open(os.path.join(repo, "untracked.txt"), "w") as f:
        f.write("u\n")
    g("-C", "repo", "log", "--stat")
    g("-C", "repo", "status")
    return "".join(texts)


def case_git():
    git = tool("git")
    out = fresh_dir("traces")
    native = git_session(git, os.path.join(A.work, A.case, "native"), False, None)
    pre = git_session(git, os.path.join(A.work, A.case, "preload"), True, out)
    C.check(native == pre, "git: stdout of every command with the preload equals without",
            native[-2000:], pre[-2000:])
    traces = traces_in(out, 6, "git")
    all_clean(traces, "git", 10)
    C.check(sum(t.summary.get("allocations") or 0 for t in traces) >= 1000,
            "git: at least 1000 allocations over all traces")


def case_gcc():
    gcc = tool("gcc")
    out = fresh_dir("traces")
    work = fresh_dir("src")
    src = os.path.join(work, "prog.c")
    with open(src, "w") as f:
        f.write('#include <stdio.h>\n#include <stdlib.h>\n'
                'struct node { struct node *next; int v; };\n'
                'int main(void) {\n  struct node *h = NULL; long s = 0;\n'
                '  for (int i = 0; i < 1000; i++) { struct node *n = malloc(sizeof *n);\n'
                '    n->v = i; n->next = h; h = n; }\n'
                '  while (h) { struct node *n = h->next; s += h->v; free(h); h = n; }\n'
                '  printf("sum=%ld\\n", s);\n  return 0;\n}\n')
    native = run([gcc, "-O1", "-o", "prog_native", "prog.c"], preload=False, cwd=work)
    pre = run([gcc, "-O1", "-o", "prog_preload", "prog.c"], outdir=out, cwd=work)
    expect_run(native, "gcc (native)")
    expect_run(pre, "gcc with the preload", rc=native.rc, out=native.out)
    for exe in ("prog_native", "prog_preload"):
        if os.path.exists(os.path.join(work, exe)):
            r = run([os.path.join(work, exe)], preload=False)
            expect_run(r, f"compiled {exe}", out="sum=499500\n")
        else:
            C.check(False, f"gcc produced {exe}")
    traces = traces_in(out, 3, "gcc")
    all_clean(traces, "gcc", 1)
    pids = {t.pid for t in traces if t.report}
    exes = sorted(t.exe for t in traces)
    C.check(len(traces) >= 3, "gcc: at least 3 traces (driver, cc1, as, collect2, ld)", ">= 3", exes)
    C.check(any(t.pid == pre.pid for t in traces), "gcc: a trace of the driver (pid of the "
            "process started)", pre.pid, [(t.exe, t.pid, t.ppid) for t in traces])
    C.check(any(e.startswith("cc1") for e in exes), "gcc: a trace of cc1", "cc1", exes)
    for t in traces:
        if t.report and t.pid != pre.pid:
            C.check(t.ppid in pids, f"gcc: {t.name} ({t.exe}) has a ppid among the traced "
                    "gcc processes", sorted(pids), t.ppid)
        if t.report:
            C.check(isinstance(t.pid, int) and t.pid > 0, f"gcc: {t.name} header has a pid",
                    "> 0", t.pid)


def case_bash_pipeline():
    bash = tool("bash")
    for t in ("seq", "sort", "head"):
        tool(t)
    out = fresh_dir("traces")
    native, pre = same_as_native([bash, "-c", "seq 1 20000 | sort -r | head -n 5"],
                                 "bash pipeline", out)
    C.check(native.out == "9999\n9998\n9997\n9996\n9995\n", "bash pipeline (native) output",
            detail=native.describe())
    traces = traces_in(out, 4, "bash pipeline")
    exes = sorted(t.exe for t in traces)
    for name in ("bash", "seq", "sort", "head"):
        C.check(name in exes, f"bash pipeline: a trace of {name}", name, exes)
    main = next((t for t in traces if t.pid == pre.pid and t.exe == "bash"), None)
    C.check(main is not None, "bash pipeline: a trace of the bash started", pre.pid,
            [(t.exe, t.pid) for t in traces])
    pids = {t.pid for t in traces if t.report}
    for t in traces:
        if t.report and t is not main:
            C.check(t.ppid in pids, f"bash pipeline: {t.name} has a ppid among the traced "
                    "processes", sorted(pids), t.ppid)
    all_clean(traces, "bash pipeline", 1, may_be_cut=("sort", "seq"))


def case_setpriv():
    """setpriv (util-linux) dropping root to nobody: with the preload it must still run
    the command. glibc's set*id() signals every thread, the recorder's writer included."""
    if os.geteuid() != 0:
        raise Skip(f"setpriv: needs root to change credentials; running as uid {os.geteuid()}")
    setpriv = tool("setpriv")
    out = fresh_dir("traces")
    os.chmod(out, 0o1777)  # the command runs as nobody and writes its own trace
    for extra in (["--reuid=65534", "--regid=65534", "--clear-groups"], ["--reuid=65534"]):
        argv = [setpriv] + extra + ["--", tool("sh"), "-c", "id -u; id -g"]
        native, pre = same_as_native(argv, "setpriv " + " ".join(extra), out, cwd="/")
        C.check(native.rc == 0, "setpriv (native) ran", detail=native.describe())
    all_clean(traces_in(out, 4, "setpriv"), "setpriv", 1)


# --- A2. runtimes: Rust, the JVM, node ---------------------------------------------------
# Each runs natively and under the preload (same output and exit status; a hang fails on
# the per-run timeout), then under libhptrap.so + the preload, which aborts if the
# recorder calls a libc function it must not inside an allocator call
# (docs/preload-safety.md). The wall times of both runs are noted.

def timed_note(where, native, pre):
    C.note(f"{where}: wall {native.elapsed:.3f} s native, {pre.elapsed:.3f} s under heapprof")


def same_lines_as_native(argv, where, outdir, sort=False, **kw):
    """same_as_native(), comparing stdout as sorted lines when sort (threads print in any
    order); then once more under the trap."""
    native = run(argv, preload=False, **kw)
    pre = run(argv, preload=True, outdir=outdir, **kw)
    norm = (lambda o: sorted(o.splitlines())) if sort else (lambda o: o)
    C.check(native.rc == pre.rc, f"{where}: exit status with the preload equals without",
            native.rc, pre.rc, pre.describe())
    C.check(norm(native.out) == norm(pre.out), f"{where}: stdout with the preload equals without",
            native.out[-1500:], pre.out[-1500:], pre.describe())
    C.check(len(pre.heapprof_lines()) == 0, f"{where}: no heapprof line on stderr", [],
            pre.heapprof_lines())
    trapped_dir = outdir.rstrip("/") + "-trap"
    os.makedirs(trapped_dir, exist_ok=True)
    trapped = run(argv, preload=True, outdir=trapped_dir, lib=f"{A.trap}:{A.lib}", **kw)
    C.check(trapped.rc == native.rc and norm(trapped.out) == norm(native.out) and
            "hptrap" not in trapped.err,
            f"{where}: under libhptrap.so the recorder calls no forbidden libc function",
            (native.rc, "no hptrap line"), (trapped.rc, [l for l in trapped.err.splitlines()
                                                         if "hptrap" in l][:4]),
            trapped.describe())
    timed_note(where, native, pre)
    return native, pre


def make_tree(root, dirs=40, files=25):
    """A source-like tree: dirs x files text files, some holding the word 'needle'."""
    for d in range(dirs):
        sub = os.path.join(root, f"dir{d:02d}", "src")
        os.makedirs(sub, exist_ok=True)
        for f in range(files):
            ext = "txt" if f % 3 else "rs"
            with open(os.path.join(sub, f"file{f:02d}.{ext}"), "w") as fh:
                for line in range(60):
                    word = "needle" if (d * files + f + line) % 97 == 0 else "hay"
                    fh.write(f"line {line} of {d}/{f}: {word} {'x' * (line % 40)}\n")
    return root


def case_rg():
    rg = tool("rg")  # Debian's ripgrep, a Rust program
    out = fresh_dir("traces")
    tree = make_tree(fresh_dir("tree"))
    native, _ = same_lines_as_native([rg, "--no-config", "-c", "needle", tree], "rg", out,
                                     sort=True, cwd=tree)
    C.check(native.rc == 0 and len(native.out.splitlines()) > 100, "rg (native) found matches",
            detail=native.describe())
    all_clean(traces_in(out, 1, "rg"), "rg", 200)


def case_fdfind():
    fd = tool("fdfind")  # Debian's fd-find, a Rust program
    out = fresh_dir("traces")
    tree = make_tree(fresh_dir("tree"))
    native, _ = same_lines_as_native([fd, "--no-ignore", "-e", "rs", ".", tree], "fdfind", out,
                                     sort=True, cwd=tree)
    C.check(native.rc == 0 and len(native.out.splitlines()) == 40 * 9,
            "fdfind (native) listed the .rs files", 40 * 9, len(native.out.splitlines()))
    all_clean(traces_in(out, 1, "fdfind"), "fdfind", 100)


RUST_HASH = re.compile(r"::h[0-9a-f]{16}$")


def rust_names(where, t, binary):
    """The report names the program's Rust functions readably, with Rust file:line."""
    frames = [f for s in t.report.get("sites", []) for f in s.get("stack", [])
              if os.path.basename(f.get("module") or "") == binary]
    names = [f.get("function") or "" for f in frames]
    raw = [n for n in names if n.startswith(("_ZN", "_R")) or RUST_HASH.search(n)]
    C.check(frames and not raw, f"{where}: no mangled or hashed Rust names", [], raw[:5])
    # v0 writes an inherent method as rustc-demangle and Rust's backtraces print it.
    want = ("rt_rust::cache::Cache::insert", "<rt_rust::cache::Cache>::insert")
    C.check(any(w in names for w in want), f"{where}: Cache::insert is named",
            " or ".join(want), sorted(set(n for n in names if "rt_rust" in n))[:10])
    C.check(any((f.get("file") or "").endswith("rt_rust.rs") and (f.get("line") or 0) > 0
                for f in frames), f"{where}: a frame has file:line in rt_rust.rs",
            "rt_rust.rs:N", sorted(set(f"{f.get('file')}:{f.get('line')}" for f in frames))[:6])


def case_rust():
    """A Rust program built here with Debian's rustc (std::thread, a HashMap cache, a panic
    caught with catch_unwind), in both symbol manglings (legacy and v0)."""
    rustc = tool("/usr/bin/rustc")  # Debian's, not a rustup toolchain earlier in PATH
    src = os.path.join(A.src, "rt_rust.rs")
    build = fresh_dir("build")
    for mangling in ("legacy", "v0"):
        exe = os.path.join(build, "rt_rust" if mangling == "legacy" else "rt_rust_v0")
        flags = ["-C", "symbol-mangling-version=v0"] if mangling == "v0" else []  # legacy: default
        r = run([rustc, "--edition", "2021", "-C", "opt-level=1", "-g"] + flags + ["-o", exe, src],
                preload=False, timeout=300, cwd=build)
        if r.rc != 0:
            raise Fail(f"rustc failed:\n{r.describe()}")
        out = fresh_dir("traces-" + mangling)
        where = f"rust ({mangling} mangling)"
        native, _ = same_lines_as_native([exe], where, out)
        C.check(native.out.strip() == "entries=8000 bytes=762464 strings=4000 caught=true",
                f"{where}: output", "entries=8000 bytes=762464 strings=4000 caught=true",
                native.out.strip())
        traces = traces_in(out, 1, where)
        all_clean(traces, where, 8000)
        for t in traces:
            if t.report:
                rust_names(where, t, os.path.basename(exe))


def tokio_load(port, conns=4, per_conn=1500, size=1024):
    """conns clients, each per_conn SETs of size bytes and as many GETs; returns the number
    of wrong replies."""
    import socket
    import threading
    bad = []

    def client(c):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sk:
            sk.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            f = sk.makefile("rwb")
            for i in range(per_conn):
                f.write(f"SET c{c}-k{i} {size}\nGET c{c}-k{i}\n".encode())
                f.flush()
                a, b = f.readline().strip(), f.readline().strip()
                if a != b"OK" or b != str(size).encode():
                    bad.append((c, i, a, b))

    ts = [threading.Thread(target=client, args=(c,)) for c in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return len(bad)


def serve_once(exe, preload, outdir, where, timeout=60):
    """Starts the server, loads it, stops it with SIGINT. Returns (rc, stdout, stderr, s)."""
    e = base_env()
    if preload:
        e["LD_PRELOAD"] = A.lib
        e["HEAPPROF_OUTPUT"] = os.path.join(outdir, "heapprof.%e.%p.zst")
    t0 = time.monotonic()
    p = subprocess.Popen([exe], env=e, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        first = p.stdout.readline().decode()
        m = re.match(r"port (\d+)", first)
        if not m:
            raise Fail(f"{where}: the server printed no port: {first!r}")
        bad = tokio_load(int(m.group(1)))
        C.check(bad == 0, f"{where}: every reply is right", 0, bad)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise Fail(f"{where}: the server did not stop within {timeout}s of SIGINT (hang?)")
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    return p.returncode, first + out.decode(errors="replace"), err.decode(errors="replace"), \
        time.monotonic() - t0


def case_tokio_server():
    """A multi-threaded tokio server built offline from Debian's librust-tokio-dev, loaded
    over loopback by 4 clients, stopped with SIGINT: same replies and exit status natively
    and under the preload, a complete trace, and its ever-growing cache at the top."""
    cargo = tool("/usr/bin/cargo")
    registry = "/usr/share/cargo/registry"
    if not os.path.isdir(os.path.join(registry, "tokio-1.24.2")) and not any(
            d.startswith("tokio-1.") for d in os.listdir(registry) if os.path.isdir(registry)):
        raise Fail("librust-tokio-dev is not installed (tools/check installs it)")
    home = fresh_dir("cargo-home")
    with open(os.path.join(home, "config.toml"), "w") as f:
        f.write(f'[source.crates-io]\nreplace-with = "debian"\n'
                f'[source.debian]\ndirectory = "{registry}"\n[net]\noffline = true\n')
    target = fresh_dir("target")
    t0 = time.monotonic()
    r = run([cargo, "build", "--release", "--quiet", "--manifest-path",
             os.path.join(A.src, "tokio_server", "Cargo.toml")], preload=False, timeout=900,
            env={"CARGO_HOME": home, "CARGO_TARGET_DIR": target})
    if r.rc != 0:
        raise Fail(f"cargo build failed:\n{r.describe()}")
    C.note(f"tokio_server: built in {time.monotonic() - t0:.1f} s")
    exe = os.path.join(target, "release", "hp_tokio_server")
    out = fresh_dir("traces")
    rc0, out0, _, t_native = serve_once(exe, False, out, "tokio_server (native)")
    rc1, out1, err1, t_pre = serve_once(exe, True, out, "tokio_server (heapprof)")
    expected = "stopped: keys=6000 history=6000 sets=6000 gets=6000"
    for rc, o, where in ((rc0, out0, "native"), (rc1, out1, "heapprof")):
        C.check(rc == 0, f"tokio_server ({where}): exit status 0 after SIGINT", 0, rc)
        C.check(expected in o, f"tokio_server ({where}): totals", expected, o[-300:])
    C.check("heapprof" not in err1.lower(), "tokio_server: no heapprof line on stderr", "",
            err1[-500:])
    C.note(f"tokio_server: wall {t_native:.2f} s native, {t_pre:.2f} s under heapprof "
           "(start, load, SIGINT, exit)")
    traces = traces_in(out, 1, "tokio_server")
    all_clean(traces, "tokio_server", 12000)
    for t in traces:
        if not t.report:
            continue
        C.check(t.summary.get("threads", 0) >= 5, "tokio_server: the worker threads recorded",
                ">= 5", t.summary.get("threads"))
        # The cache's values are the peak's biggest site (a HashMap resize may make the
        # peak come a few SETs before the end), and Store::set allocated them all:
        # 6000 x 1 KiB of values plus the keys and the history (main drops them at exit).
        sites = t.report.get("sites", [])
        top = sites[0] if sites else {}
        names = [f.get("function") or "" for f in top.get("stack", [])]
        setter = "hp_tokio_server::store::Store::set"
        C.check(setter in names and top.get("peak_bytes", 0) >= 5500 * 1024,
                "tokio_server: the growing cache (Store::set) is the top site",
                f"{setter}, peak >= 5,632,000 B", (names[:6], top.get("peak_bytes")))
        stored = sum(s.get("allocated_bytes", 0) for s in sites
                     if setter in [f.get("function") for f in s.get("stack", [])])
        C.check(stored >= 6000 * 1024, "tokio_server: Store::set allocated every value",
                ">= 6,144,000", stored)


def case_java():
    """OpenJDK 17 (Debian's) compiling and running a small threaded class."""
    javac, java = tool("javac"), tool("java")
    build = fresh_dir("build")
    r = run([javac, "-d", build, os.path.join(A.src, "RtJava.java")], preload=False, timeout=300)
    if r.rc != 0:
        raise Fail(f"javac failed:\n{r.describe()}")
    out = fresh_dir("traces")
    # -Xshare:off: class data sharing maps an archive whose use depends on address layout.
    argv = [java, "-Xshare:off", "-XX:TieredStopAtLevel=1", "-cp", build, "RtJava"]
    native, _ = same_lines_as_native(argv, "java", out, timeout=120)
    C.check(native.rc == 0 and native.out.startswith("entries=80000 "), "java (native) ran",
            "entries=80000 ...", native.out.strip())
    all_clean(traces_in(out, 1, "java"), "java", 5000)


def case_node():
    node = tool("node")
    out = fresh_dir("traces")
    script = r"""
const m = new Map();
for (let i = 0; i < 50000; i++) m.set('k' + i, {i, s: 'v'.repeat(i % 50)});
let total = 0; for (const [k, v] of m) total += v.s.length + k.length;
const json = JSON.stringify([...m.values()].slice(0, 2000));
console.log(m.size, total, json.length, JSON.parse(json).length);
"""
    native, _ = same_lines_as_native([node, "-e", script], "node", out)
    C.check(native.rc == 0 and native.out.startswith("50000 "), "node (native) ran",
            detail=native.describe())
    all_clean(traces_in(out, 1, "node"), "node", 1000)


def case_runtimes_trap():
    """python3 and perl (cases of their own above) under libhptrap.so as well."""
    py = tool("/usr/bin/python3")
    perl = tool("perl")
    for argv, where in (([py, "-I", "-S", "-c", "import json; print(len(json.dumps(list(range(50000)))))"],
                         "python3"),
                        ([perl, "-e", "my %h; $h{$_} = 'x' x ($_ % 30) for 1..40000; print scalar(keys %h), qq(\n)"],
                         "perl")):
        out = fresh_dir("traces-" + where)
        same_lines_as_native(argv, where, out)
        all_clean(traces_in(out, 1, where), where, 1000)


def case_cxx_exceptions():
    gxx = tool("g++")
    out = fresh_dir("traces")
    work = fresh_dir("bin")
    exe = os.path.join(work, "cxx_exceptions")
    b = run([gxx, "-O2", "-g", "-o", exe, os.path.join(A.src, "cxx_exceptions.cpp")],
            preload=False, timeout=120)
    if b.rc != 0:
        raise Fail(f"g++ could not build cxx_exceptions.cpp\n{b.describe()}")
    native, pre = same_as_native([exe], "c++ exceptions", out, timeout=120)
    C.check(native.out.startswith("caught=100000 "), "c++ exceptions (native) output",
            detail=native.describe())
    C.note(f"c++ exceptions: {native.elapsed:.2f}s without the preload, {pre.elapsed:.2f}s with "
           "(not asserted; see bench/)")
    traces = traces_in(out, 1, "c++ exceptions")
    all_clean(traces, "c++ exceptions", 100000)


# --- B. torture ---------------------------------------------------------------------

def torture(args, outdir, rc=0, timeout=60, env=None, max_heapprof_lines=0, **kw):
    r = run([A.torture] + args, outdir=outdir, env=env, timeout=timeout, **kw)
    expect_run(r, "rt_torture " + " ".join(args), rc=rc, max_heapprof_lines=max_heapprof_lines)
    return r


def by_pid(traces, pid, exe=None):
    return [t for t in traces if t.pid == pid and (exe is None or t.exe == exe)]


def one(traces, pid, where, exe=None):
    ts = by_pid(traces, pid, exe)
    C.check(len(ts) == 1, f"{where}: one trace of pid {pid}" + (f" ({exe})" if exe else ""), 1,
            [(t.name, t.exe, t.pid, t.ppid) for t in traces])
    return ts[0] if ts else None


def case_fork():
    out = fresh_dir("traces")
    r = torture(["fork", "1000", "8"], out)
    C.check("fork children=8 bad=0" in r.out, "fork: 8 children exited 0 (none deadlocked)",
            "fork children=8 bad=0", r.out)
    kids = [int(p) for p in re.findall(r"^pid (\d+) fork child$", r.out, re.M)]
    traces = traces_in(out, 9, "fork")
    C.check(len(traces) == 9, "fork: 9 traces (parent + 8 children)", 9, len(traces))
    parent = one(traces, r.pid, "fork")
    if parent and parent.clean("fork parent"):
        C.check(parent.records("fork") == 8, "fork: parent trace has 8 FORK records", 8,
                parent.records("fork"))
        marked(parent, "fork parent", 100, 100)
    for k in kids:
        t = one(traces, k, "fork child")
        if t and t.clean(f"fork child {k}"):
            C.check(t.ppid == r.pid, f"fork child {k}: header ppid is the parent", r.pid, t.ppid)
            marked(t, f"fork child {k}", 1000, 1000)


def case_doublefork():
    out = fresh_dir("traces")
    r = torture(["doublefork", "1000"], out)
    m = re.search(r"^pid (\d+) grandchild ppid (\d+)$", r.out, re.M)
    c = re.search(r"^pid (\d+) child$", r.out, re.M)
    if not (m and c):
        raise Fail(f"doublefork: unexpected output {r.out!r}")
    gc, child = int(m.group(1)), int(c.group(1))
    C.check("doublefork child_status=0" in r.out, "doublefork: child exited 0", detail=r.out)
    traces = traces_in(out, 3, "doublefork")
    C.check(len(traces) == 3, "doublefork: 3 traces", 3, [t.name for t in traces])
    g = one(traces, gc, "doublefork grandchild")
    if g and g.clean("doublefork grandchild"):
        C.check(g.ppid == child, "doublefork: grandchild header ppid is the child", child, g.ppid)
        marked(g, "doublefork grandchild", 1000, 1000)
    ch = one(traces, child, "doublefork child")
    if ch and ch.clean("doublefork child"):
        C.check(ch.ppid == r.pid, "doublefork: child header ppid is the parent", r.pid, ch.ppid)
    p = one(traces, r.pid, "doublefork parent")
    if p and p.clean("doublefork parent"):
        marked(p, "doublefork parent", 100, 100)


def exec_child_case(mode):
    out = fresh_dir("traces")
    r = torture([mode, "1000"], out)
    C.check(f"{mode} child_status=0" in r.out, f"{mode}: child exited 0", detail=r.out)
    c = re.search(rf"^pid (\d+) {mode} child$", r.out, re.M)
    if not c:
        raise Fail(f"{mode}: unexpected output {r.out!r}")
    child = int(c.group(1))
    C.check(f"pid {child} child allocs=1000 frees=1000" in r.out, f"{mode}: child ran",
            detail=r.out)
    traces = traces_in(out, 2, mode)
    p = one(traces, r.pid, f"{mode} parent")
    if p and p.clean(f"{mode} parent"):
        marked(p, f"{mode} parent", 100, 100)
    kid = [t for t in by_pid(traces, child) if t.report and
           "child" in (t.section("process").get("command") or "")]
    C.check(len(kid) == 1, f"{mode}: one trace of the exec'd child (pid {child}, command "
            "'... child 1000')", 1, [(t.name, t.pid, t.section("process").get("command"))
                                     for t in traces])
    if kid and kid[0].clean(f"{mode} child"):
        C.check(kid[0].ppid == r.pid, f"{mode}: child header ppid is the parent", r.pid,
                kid[0].ppid)
        marked(kid[0], f"{mode} child", 1000, 1000)
    # A vfork/posix_spawn child that only execs may leave a trace of its own; it must decode.
    for t in traces:
        if t is not p and (not kid or t is not kid[0]):
            C.note(f"{mode}: extra trace {t.name} (pid {t.pid}, {t.exe})")
            t.clean(f"{mode} extra trace")


def case_vfork():
    exec_child_case("vfork")


def case_spawn():
    exec_child_case("spawn")


def case_system():
    tool("/bin/sh")
    out = fresh_dir("traces")
    r = torture(["system"], out)
    C.check(r.out.startswith("from-system\nsystem status=3\n"), "system: output and status",
            "from-system\\nsystem status=3\\n...", r.out)
    traces = traces_in(out, 2, "system")
    p = one(traces, r.pid, "system parent", "rt_torture")
    if p and p.clean("system parent"):
        marked(p, "system parent", 100, 100)
    others = [t for t in traces if t is not p]
    C.check(any(t.exe in ("dash", "sh", "bash") for t in others), "system: a trace of the shell",
            "sh/dash", [t.exe for t in others])
    pids = {t.pid for t in traces if t.report}
    for t in others:
        if t.clean("system child"):
            C.check(t.ppid in pids, f"system: {t.name} ppid among the traced processes",
                    sorted(pids), t.ppid)


def case_threads():
    out = fresh_dir("traces")
    r = torture(["threads", "64", "192", "500"], out, timeout=120)
    a, f = counts_from(r.out, "threads")
    C.check(a == 96000 and f == 96000, "threads: program counters", (96000, 96000), (a, f))
    traces = traces_in(out, 1, "threads")
    C.check(len(traces) == 1, "threads: one trace", 1, len(traces))
    t = traces[0]
    if t.clean("threads"):
        marked(t, "threads", a, f)
        C.check(t.summary.get("threads", 0) >= 193, "threads: summary.threads counts every "
                "thread (192 + main)", ">= 193", t.summary.get("threads"))
        s = t.summary
        C.check((s.get("leaked_allocations") or 0) < 100, "threads: hardly anything leaked "
                "(every marked block is freed)", "< 100", s.get("leaked_allocations"))


def case_signal():
    out = fresh_dir("traces")
    r = torture(["signal", "300"], out, timeout=60)
    C.check("signal done" in r.out, "signal: program finished", detail=r.out)
    hits = re.search(r"hits=(\d+)", r.out)
    C.check(hits and int(hits.group(1)) > 0, "signal: the allocating handler ran", "> 0",
            hits and hits.group(1))
    a, f = counts_from(r.out, "signal")
    traces = traces_in(out, 1, "signal")
    for t in traces:
        if t.clean("signal"):
            marked(t, "signal", a, f)
            n1000 = t.sized(1000, 1000)[0] - 1  # less the warm-up block
            ends = [l for l in t.dump() if l.startswith("end ")]
            lost = num(parse_dump_line(ends[-1])[1].get("lost"), 0) if ends else 0
            nhits = int(hits.group(1)) if hits else 0
            C.note(f"signal: {n1000} of {nhits} handler allocations recorded, "
                   f"{lost} events counted lost")
            C.check(n1000 <= nhits, "signal: no more handler allocations than handler runs",
                    f"<= {nhits}", n1000)
            # hits can only undercount (nested handlers): each handler allocation is either
            # recorded or counted in END's lost_events.
            C.check(n1000 + lost >= nhits, "signal: every handler allocation is recorded or "
                    "counted lost (END lost=)", f">= {nhits}", f"{n1000} + {lost}")


def case_longjmp():
    out = fresh_dir("traces")
    r = torture(["longjmp", "200", "200"], out, env={"HEAPPROF_MAX_FRAMES": "256"})
    a, f = counts_from(r.out, "longjmp")
    C.check(a == 40000 and f == 40000, "longjmp: program counters", (40000, 40000), (a, f))
    for t in traces_in(out, 1, "longjmp"):
        if t.clean("longjmp"):
            marked(t, "longjmp", a, f)
            deep = max((len(s.get("stack") or []) for s in t.report.get("sites") or []), default=0)
            C.check(deep >= 200, "longjmp: the deepest site has the recursion's 200 frames "
                    "(HEAPPROF_MAX_FRAMES=256)", ">= 200", deep)


def case_dlopen():
    out = fresh_dir("traces")
    r = torture(["dlopen", A.dlib, "1000"], out, timeout=90)
    C.check("dlopen n=1000 lib_allocs=4000" in r.out, "dlopen: program output", detail=r.out)
    for t in traces_in(out, 1, "dlopen"):
        if t.clean("dlopen"):
            a, f = t.sized(*DLIB_SIZES)
            C.check(a == 5000 and f == 5000, "dlopen: the library's 4000 work + 1000 constructor "
                    "allocations and their frees are in --dump", (5000, 5000), (a, f))
            C.check(t.records("module_unload") >= 1000, "dlopen: 1000 MODULE_UNLOAD records",
                    ">= 1000", t.records("module_unload"))
            fns = {fr.get("function") for s in t.report.get("sites") or []
                   for fr in s.get("stack") or []}
            C.check("rt_dlib_work" in fns, "dlopen: a site symbolizes to rt_dlib_work in the "
                    "unloaded library", "rt_dlib_work", sorted(f for f in fns if f)[:30])


def case_deepbind():
    out = fresh_dir("traces")
    native = run([A.torture, "deepbind", A.dlib], preload=False)
    r = torture(["deepbind", A.dlib], out)
    C.check(r.out == native.out == "deepbind lib_allocs=200\n", "deepbind: output",
            native.out, r.out)
    for t in traces_in(out, 1, "deepbind"):
        if t.clean("deepbind"):
            a, f = t.sized(3000, 3000)
            # The library's own 100 work blocks + 100 lib_alloc(3000) + our 100 malloc(3000),
            # each freed once (our free of the library's blocks, the library's of ours).
            C.check(a == 300, "deepbind: allocations of the RTLD_DEEPBIND library are recorded "
                    "(its malloc binds to libc first)", 300, a)
            C.check(f == 300, "deepbind: frees by the RTLD_DEEPBIND library are recorded (else "
                    "our blocks it frees show as leaks)", 300, f)


def case_abort():
    out = fresh_dir("traces")
    r = torture(["abort"], out, rc=-signal.SIGABRT)
    C.check(r.out == "abort allocs=1000 frees=1000\n", "abort: output", detail=r.out)
    for t in traces_in(out, 1, "abort"):
        if t.decodes("abort"):
            C.check(t.incomplete(), "abort: the analyzer warns 'no trailer'", "no trailer",
                    t.warnings().strip())
            C.check(t.records("end") == 0, "abort: no END record", 0, t.records("end"))
            C.check(t.records("alloc") >= 1000, "abort: the allocations flushed before abort "
                    "are in the trace", ">= 1000", t.records("alloc"))


def case_exit():
    out = fresh_dir("traces")
    r = torture(["exit", "7"], out, rc=7)
    C.check(r.out == "exit allocs=1010 frees=1000\n", "_exit: output", detail=r.out)
    for t in traces_in(out, 1, "_exit"):
        if t.clean("_exit"):
            C.check(t.records("end") >= 1, "_exit: trace has END", ">= 1", t.records("end"))
            C.check(t.section("process").get("exit_status") == 7, "_exit: process.exit_status",
                    7, t.section("process").get("exit_status"))
            marked(t, "_exit", 1010, 1000)


def kill_case(sig, name):
    seed = int(os.environ.get("HEAPPROF_TEST_SEED", time.time_ns() % 1000000))
    rnd = random.Random(seed)
    print(f"{name}: seed {seed} (HEAPPROF_TEST_SEED={seed} repeats these delays)")
    for i in range(4):
        out = fresh_dir(f"traces{i}")
        delay = rnd.uniform(0.02, 0.4)
        r = run([A.torture, "loop", "5000"], outdir=out, kill_after=(sig, delay),
                env={"HEAPPROF_FLUSH_MS": str(rnd.choice([5, 20, 100]))})
        C.check(r.rc == -sig, f"{name}: run {i} killed by signal {sig} after {delay:.3f}s",
                -sig, r.rc, r.describe())
        C.check(len(r.heapprof_lines()) <= 1, f"{name}: run {i}: at most one heapprof line", "<= 1",
                r.heapprof_lines())
        for t in [Trace(p) for p in files_under(out)]:
            t.decodes(f"{name} run {i} (delay {delay:.3f}s)")


def case_kill_term():
    kill_case(signal.SIGTERM, "SIGTERM")


def case_kill_kill():
    kill_case(signal.SIGKILL, "SIGKILL")


def own_file_ok(path, where):
    want = "".join(f"own-data-{i:04d}\n" for i in range(100))
    got = open(path, "rb").read() if os.path.exists(path) else b"<missing>"
    C.check(got == want.encode(), f"{where}: the program's own file holds exactly what it "
            "wrote (no trace bytes in it)", f"{len(want)} bytes of own-data lines",
            f"{len(got)} bytes" + (" containing a zstd frame magic" if b"\x28\xb5\x2f\xfd" in got
                                    else "") + f": {got[:120]!r}")


def case_closefds():
    for how in ("range", "loop"):
        out = fresh_dir(f"traces-{how}")
        own = os.path.join(A.work, A.case, f"own-{how}.txt")
        r = torture(["closefds", how, own], out, env={"HEAPPROF_FLUSH_MS": "5"},
                    max_heapprof_lines=1)
        C.check(f"closefds {how} fd=3" in r.out, f"closefds {how}: output", detail=r.out)
        own_file_ok(own, f"closefds {how}")
        for t in traces_in(out, 1, f"closefds {how}"):
            if t.decodes(f"closefds {how}"):
                if t.incomplete():
                    C.note(f"closefds {how}: trace has no trailer (recorder lost its descriptor)")
                    C.check(len(r.heapprof_lines()) == 1, f"closefds {how}: an incomplete trace "
                            "comes with one heapprof line saying why", 1, r.heapprof_lines())


def case_dup2():
    out = fresh_dir("traces")
    own = os.path.join(A.work, A.case, "own.txt")
    r = torture(["dup2", own, os.path.realpath(out)], out, env={"HEAPPROF_FLUSH_MS": "5"},
                max_heapprof_lines=1)
    C.check("dup2 tracefd=found" in r.out, "dup2: the program found the trace's descriptor in "
            "/proc/self/fd (so it dup2()ed over it)", "dup2 tracefd=found", r.out)
    own_file_ok(own, "dup2")
    a, f = counts_from(r.out, "dup2")
    for t in traces_in(out, 1, "dup2"):
        if t.clean("dup2"):
            marked(t, "dup2", a, f)


def no_crash_one_line(r, where, rc=0, out_re=None):
    C.check(r.rc == rc, f"{where}: normal exit status", rc, r.rc, r.describe())
    if out_re:
        C.check(re.search(out_re, r.out) is not None, f"{where}: normal output", out_re, r.out)
    C.check(len(r.heapprof_lines()) <= 1, f"{where}: at most one heapprof line on stderr",
            "<= 1", r.heapprof_lines())


def case_unwritable():
    base = fresh_dir("d")
    regular = os.path.join(base, "regular-file")
    open(regular, "w").close()
    for label, tmpl in (("parent is a regular file", os.path.join(regular, "t.%p.zst")),
                        ("missing directory", os.path.join(base, "missing", "sub", "t.%p.zst"))):
        r = run([A.torture, "basic", "1000"], template=tmpl)
        no_crash_one_line(r, f"unwritable ({label})", out_re=r"^basic allocs=1000 frees=1000\n$")
        C.check(len(r.heapprof_lines()) == 1, f"unwritable ({label}): one heapprof line saying "
                "the output cannot be created", 1, r.heapprof_lines())
    C.check(files_under(base) == [regular], "unwritable: no file created", [regular],
            files_under(base))


def case_fsize():
    for limit in (0, 8192):
        out = fresh_dir(f"traces-{limit}")

        def lim(limit=limit):
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # a write past the limit kills
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        r = run([A.torture, "basic", "200000"], outdir=out, preexec=lim,
                env={"HEAPPROF_FLUSH_MS": "5"})
        where = f"fsize (RLIMIT_FSIZE {limit} bytes)"
        C.check(r.rc == 0, f"{where}: program not killed by SIGXFSZ, exit 0", 0, r.rc,
                r.describe())
        C.check(r.out == "basic allocs=200000 frees=200000\n", f"{where}: output", detail=r.out)
        C.check(len(r.heapprof_lines()) <= 1, f"{where}: at most one heapprof line", "<= 1",
                r.heapprof_lines())
        for p in files_under(out):
            size = os.path.getsize(p)
            C.check(size <= limit, f"{where}: trace within the limit", f"<= {limit}", size)
            if size > 0:
                t = Trace(p)
                C.check(t.rc in (0, 2), f"{where}: the analyzer reads a cut trace without "
                        "crashing (0, or 2 when not even the header fits)", "0 or 2", t.rc, t.err)


def case_diskfull():
    """A full file system: a 16 KiB tmpfs in a private mount namespace (unshare -rm needs
    no privileges where user namespaces are enabled, as on Debian 12). The threads mode's
    trace is about 800 KiB (its cross-thread frees do not repeat the way a single loop's
    events do, which compress to almost nothing): fifty times what fits."""
    if not shutil.which("unshare"):
        raise Skip("diskfull: unshare (util-linux) is not installed")
    out = fresh_dir("full")
    probe = subprocess.run(["unshare", "-rm", "sh", "-c",
                            f"mount -t tmpfs -o size=16k none '{out}'"], capture_output=True)
    if probe.returncode != 0:
        raise Skip("diskfull: cannot mount a tmpfs in a user namespace here: " +
                   probe.stderr.decode(errors="replace").strip())
    script = ('mount -t tmpfs -o size=16k none "$1" && shift && '
              'exec env LD_PRELOAD="$1" HEAPPROF_OUTPUT="$2" HEAPPROF_FLUSH_MS=5 '
              '"$3" threads')
    native = run([A.torture, "threads"], preload=False)
    r = run(["unshare", "-rm", "sh", "-c", script, "sh", out, A.lib,
             os.path.join(out, "t.%p.zst"), A.torture], preload=False)
    where = "disk full (16 KiB tmpfs)"
    C.check(native.rc == 0 and r.rc == 0, f"{where}: exit status unchanged", native.rc, r.rc,
            r.describe())
    C.check(r.out == native.out, f"{where}: output unchanged", native.out, r.out)
    lines = [l for l in r.err.splitlines() if l.startswith("heapprof:")]
    C.check(len(lines) == 1 and "No space left on device" in lines[0],
            f"{where}: exactly one heapprof line, naming the full disk", 1, lines)


def jemalloc_check(r, traces, where):
    C.check("jemalloc=yes" in r.out, f"{where}: jemalloc serves malloc (mallctl is there)",
            "jemalloc=yes", r.out)
    a, f = counts_from(r.out, "jemalloc")
    for t in traces:
        if t.clean(where):
            marked(t, where, a, f)
            t.plausible(where, a)


def case_jemalloc_linked():
    if A.torture_jemalloc.startswith("missing:") or not os.path.exists(A.torture_jemalloc):
        raise Fail("rt_torture_jemalloc was not built: libjemalloc not found at configure time "
                   "(install libjemalloc-dev)")
    out = fresh_dir("traces")
    r = run([A.torture_jemalloc, "jemalloc", "5000"], outdir=out)
    expect_run(r, "jemalloc linked")
    jemalloc_check(r, traces_in(out, 1, "jemalloc linked"), "jemalloc linked")


def case_jemalloc_preload():
    je = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
    if not os.path.exists(je):
        raise Fail(f"{je} is missing (install libjemalloc2)")
    out = fresh_dir("traces")
    r = run([A.torture, "jemalloc", "5000"], outdir=out, lib=f"{A.lib} {je}")
    expect_run(r, "jemalloc preloaded after libheapprof.so")
    jemalloc_check(r, traces_in(out, 1, "jemalloc preload"), "jemalloc preload")


def case_symlink():
    d = fresh_dir("d")
    target = os.path.join(d, "owned-target.txt")
    with open(target, "w") as f:
        f.write("precious\n")
    os.chmod(target, 0o644)
    link = os.path.join(d, "trace.zst")
    os.symlink(target, link)
    before = os.stat(target)
    r = run([A.torture, "basic", "1000"], template=link, cwd=d)
    no_crash_one_line(r, "symlink", out_re=r"^basic allocs=1000 frees=1000\n$")
    after = os.stat(target)
    C.check(open(target).read() == "precious\n" and after.st_size == before.st_size and
            after.st_mtime_ns == before.st_mtime_ns and stat.S_IMODE(after.st_mode) == 0o644,
            "symlink: the symlink's target is unchanged (content, size, mtime, mode)")
    C.check(os.path.islink(link) and os.readlink(link) == target, "symlink: the symlink is "
            "left as it was")
    new = [p for p in files_under(d) if p not in (target, link)]
    if new:
        C.note(f"symlink: trace written under another name: {[os.path.basename(p) for p in new]}")
        for p in new:
            C.check(not os.path.islink(p), f"symlink: {p} is a regular file")
            Trace(p).clean("symlink")
    else:
        C.check(len(r.heapprof_lines()) == 1, "symlink: no trace, and one heapprof line says why",
                1, r.heapprof_lines())


def case_mode():
    out = fresh_dir("traces")
    r = run([A.torture, "fork", "100", "2"], outdir=out, preexec=lambda: os.umask(0))
    expect_run(r, "mode (umask 0)")
    paths = files_under(out)
    C.check(len(paths) == 3, "mode: 3 traces (parent, 2 forked children)", 3, len(paths))
    for p in paths:
        m = stat.S_IMODE(os.lstat(p).st_mode)
        C.check(m == 0o600, f"mode: {os.path.basename(p)} has mode 0600 under umask 0",
                "0o600", oct(m))
        C.check(stat.S_ISREG(os.lstat(p).st_mode), f"mode: {os.path.basename(p)} is a regular "
                "file")


SUID_SRC = r"""
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>
int heapprof_is_recording(void);
int main(void)
{
	for (int i = 0; i < 1000; i++)
		free(malloc(2000 + 16 * (i % 8)));
	printf("ruid=%d euid=%d secure=%lu recording=%d\n", (int)getuid(), (int)geteuid(),
	       getauxval(AT_SECURE), heapprof_is_recording());
	return 0;
}
"""


def case_setuid():
    """A setuid-root program started by an unprivileged user is not profiled.

    ld.so ignores LD_PRELOAD paths for AT_SECURE processes, so to test the recorder's own
    check the program is linked against libheapprof.so (DT_NEEDED, absolute RUNPATH): the
    recorder is loaded and must refuse to record. A control run of the same binary without
    the setuid bit, as the same user, must record (else the condition is not real)."""
    if os.geteuid() != 0:
        raise Skip("setuid: needs root to make a setuid-root binary; running as uid "
                   f"{os.geteuid()}")
    setpriv = tool("setpriv")
    cc = tool("cc")
    base = os.path.join("/tmp", f"heapprof-real-setuid-{os.getpid()}")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    passed = False
    try:
        os.chmod(base, 0o755)
        shutil.copy(A.lib, os.path.join(base, "libheapprof.so"))
        os.chmod(os.path.join(base, "libheapprof.so"), 0o755)
        with open(os.path.join(base, "suid.c"), "w") as f:
            f.write(SUID_SRC)
        plain = os.path.join(base, "rt_suid")
        b = run([cc, "-O1", "-o", plain, os.path.join(base, "suid.c"), "-Wl,--no-as-needed",
                 "-L" + base, "-lheapprof", "-Wl,-rpath," + base], preload=False)
        if b.rc != 0:
            raise Fail(f"setuid: cannot link a program against libheapprof.so\n{b.describe()}")
        suid = os.path.join(base, "rt_suid_setuid")
        shutil.copy(plain, suid)
        os.chown(suid, 0, 0)
        os.chmod(suid, 0o4755)
        os.chmod(plain, 0o755)
        world = os.path.join(base, "out-world")
        rootonly = os.path.join(base, "out-root")
        os.makedirs(world)
        os.makedirs(rootonly)
        os.chmod(world, 0o1777)
        os.chmod(rootonly, 0o755)
        as_nobody = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]

        ctl = run(as_nobody + [plain], preload=False, cwd=base,
                  env={"HEAPPROF_OUTPUT": os.path.join(world, "ctl.%p.zst")})
        ctl_traces = files_under(world)
        if ctl.rc != 0 or "recording=1" not in ctl.out or not ctl_traces:
            raise Skip("setuid: the control run (same program without the setuid bit, as "
                       "nobody) did not record, so the condition cannot be shown: "
                       + ctl.describe().replace("\n", "; ") + f"; traces {ctl_traces}")
        for p in ctl_traces:
            os.unlink(p)

        for outdir in (world, rootonly):
            # env sets LD_PRELOAD for the setuid program only: setpriv is not profiled.
            r = run(as_nobody + [tool("env"), "LD_PRELOAD=" + A.lib,
                                 "HEAPPROF_OUTPUT=" + os.path.join(outdir, "suid.%p.zst"),
                                 suid], preload=False, cwd=base)
            m = re.search(r"ruid=(\d+) euid=(\d+) secure=(\d+)", r.out)
            if not m or m.group(1) != str(NOBODY) or m.group(2) != "0" or m.group(3) != "1":
                raise Skip(f"setuid: the binary did not run setuid-root with AT_SECURE (nosuid "
                           f"mount?): {r.describe()}")
            where = f"setuid (output dir {os.path.basename(outdir)})"
            expect_run(r, where, max_heapprof_lines=1)
            C.check("recording=0" in r.out, f"{where}: heapprof_is_recording() is 0",
                    "recording=0", r.out)
            C.check(files_under(outdir) == [], f"{where}: no trace written", [],
                    files_under(outdir))
        passed = not C.failed
    finally:
        if passed:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"setuid: kept {base}")


def case_odd_output():
    patterns = {"percent": "%", "double-percent": "%%", "unknown": "%z", "trailing": "t.%",
                "pid-thrice": "%p%p%p", "exe-pid": "%e%%%p%", "long-5000": "a" * 5000,
                "long-path-5000": "/".join(["d" * 200] * 24) + "/t.%p.zst"}
    for label, pat in patterns.items():
        d = fresh_dir(label)
        r = run([A.torture, "basic", "1000"], template=pat, cwd=d)
        where = f"odd HEAPPROF_OUTPUT {label} ({pat[:30]!r}{'...' if len(pat) > 30 else ''})"
        no_crash_one_line(r, where, out_re=r"^basic allocs=1000 frees=1000\n$")
        written = files_under(d)
        if written:
            for p in written:
                t = Trace(p)
                if t.clean(where):
                    marked(t, where, 1000, 1000)
        else:
            C.check(len(r.heapprof_lines()) == 1, f"{where}: a file is written or one heapprof "
                    "line says why", 1, r.heapprof_lines())
        if label == "pid-thrice" and written:
            C.check(os.path.basename(written[0]) == str(r.pid) * 3,
                    f"{where}: %p%p%p expands to the pid three times", str(r.pid) * 3,
                    os.path.basename(written[0]))
        if label == "double-percent" and written:
            C.check(os.path.basename(written[0]) == "%", f"{where}: %% expands to %", "%",
                    os.path.basename(written[0]))


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    global A
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--lib", required=True)
    ap.add_argument("--analyzer", required=True)
    ap.add_argument("--torture", required=True)
    ap.add_argument("--torture-jemalloc", default="missing:")
    ap.add_argument("--dlib", required=True)
    ap.add_argument("--trap", required=True, help="libhptrap.so (tests/preload/hptrap.c)")
    ap.add_argument("--src", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--work", required=True)
    A = ap.parse_args()
    for what in (A.lib, A.analyzer, A.torture, A.dlib):
        if not os.path.exists(what):
            print(f"FAIL {A.case}: {what} does not exist (not built?)")
            return 1
    t0 = time.monotonic()
    try:
        CASES[A.case]()
    except Skip as ex:
        print(f"SKIP {A.case}: {ex}")
        return SKIP
    except Fail as ex:
        C.failed.append(str(ex))
    except subprocess.TimeoutExpired as ex:
        C.failed.append(f"timed out: {ex}")
    took = time.monotonic() - t0
    if C.failed:
        print(f"FAIL {A.case} ({took:.1f}s): {len(C.failed)} check(s) failed")
        for i, f in enumerate(C.failed, 1):
            print(f"  {i}. {f}")
        print(f"  work dir kept: {os.path.join(A.work, A.case)}")
        return 1
    print(f"PASS {A.case} ({took:.1f}s)")
    shutil.rmtree(os.path.join(A.work, A.case), ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
