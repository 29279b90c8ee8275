#!/usr/bin/env python3
"""heapprof benchmark suite: each workload uninstrumented, under heapprof and under
heaptrack, runs alternated, medians and ratios from the same session.

Called by bench/run (which installs missing packages first); see bench/README.md.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
TOOLS = ("native", "heapprof", "heaptrack")
WORKLOADS = ("churn", "churn_deep", "sqlite3", "python", "exceptions", "redis", "many_threads",
             "writers")
# Opt-in (--only): a redis trace of the size a ten-minute loaded server writes.
EXTRA_WORKLOADS = ("redis_long",)
MiB = 1024 * 1024


def die(msg, code=1):
    print("bench: " + msg, file=sys.stderr)
    sys.exit(code)


def note(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------------------- setup

def find_heapprof(args):
    """Return (lib, analyzer), building heapprof with CMake when it is missing."""
    build = os.environ.get("HEAPPROF_BUILD") or os.path.join(ROOT, "build")
    build = os.path.abspath(build)
    lib = os.path.join(build, "lib", "libheapprof.so")
    ana = os.path.join(build, "bin", "heapprof-analyze")
    if not (os.path.exists(lib) and os.path.exists(ana)) and not args.no_build:
        note("building heapprof in %s" % build)
        try:
            if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
                sh(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
                   stdout=subprocess.DEVNULL)
            sh(["cmake", "--build", build, "-j", str(os.cpu_count() or 2),
                "--target", "heapprof", "heapprof-analyze"], stdout=subprocess.DEVNULL)
        except subprocess.CalledProcessError:
            try:  # target names differ between versions of the tree: build everything
                sh(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)],
                   stdout=subprocess.DEVNULL)
            except subprocess.CalledProcessError:
                pass
    if not os.path.exists(lib):
        die("libheapprof.so not found at '%s': the recorder is not built (build it with "
            "'cmake -B build && cmake --build build', set HEAPPROF_BUILD=DIR, or run "
            "'bench/run --tools native,heaptrack')" % lib)
    if not os.path.exists(ana):
        die("heapprof-analyze not found at '%s': build the analyzer or set HEAPPROF_BUILD" % ana)
    return lib, ana


def find_heaptrack():
    """heaptrack's own script locates its preload and interpreter relative to itself."""
    exe = shutil.which("heaptrack")
    if not exe:
        die("heaptrack not found (apt-get install heaptrack, or --tools native,heapprof)")
    libdir = os.path.normpath(os.path.join(os.path.dirname(os.path.realpath(exe)), "..", "lib",
                                           "heaptrack"))
    pre = os.path.join(libdir, "libheaptrack_preload.so")
    interp = os.path.join(libdir, "libexec", "heaptrack_interpret")
    for p in (pre, interp):
        if not os.path.exists(p):
            die("heaptrack is installed but '%s' is missing" % p)
    return pre, interp


def build_workloads(out):
    bindir = os.path.join(out, "bin")
    os.makedirs(bindir, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    cxx = os.environ.get("CXX", "g++")
    wl = os.path.join(BENCH, "workloads")
    jobs = [
        ([cc, "-O2", "-Wall", "-Wextra", "-o", "measure", os.path.join(BENCH, "measure.c")]),
        ([cc, "-O2", "-g", "-Wall", "-Wextra", "-pthread", "-o", "churn",
          os.path.join(wl, "churn.c")]),
        ([cc, "-O2", "-g", "-Wall", "-Wextra", "-pthread", "-o", "churn_deep",
          os.path.join(wl, "churn_deep.c")]),
        ([cc, "-O2", "-g", "-Wall", "-Wextra", "-pthread", "-o", "many_threads",
          os.path.join(wl, "many_threads.c")]),
        ([cxx, "-O2", "-g", "-Wall", "-Wextra", "-pthread", "-o", "exceptions",
          os.path.join(wl, "exceptions.cpp")]),
    ]
    for cmd in jobs:
        src, dst = cmd[-1], os.path.join(bindir, cmd[cmd.index("-o") + 1])
        if os.path.exists(dst) and os.path.getmtime(dst) >= os.path.getmtime(src):
            continue
        cmd[cmd.index("-o") + 1] = dst
        sh(cmd)
    return bindir


# ---------------------------------------------------------------------------- running

class Runner:
    def __init__(self, args, out, bindir):
        self.args = args
        self.out = out
        self.bindir = bindir
        self.measure = os.path.join(bindir, "measure")
        self.traces = os.path.join(out, "traces")
        os.makedirs(self.traces, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("HEAPPROF_") and k not in ("LD_PRELOAD", "DEBUGINFOD_URLS")}

    def measure_cmd(self, argv, stdin=None, side=None, tag="run"):
        """Run argv under bench/measure; return the parsed result and the program's stdout."""
        res = os.path.join(self.out, "measure.txt")
        if os.path.exists(res):
            os.unlink(res)
        cmd = [self.measure, "-o", res, "-t", str(self.args.timeout)]
        if side:
            cmd += ["-s", side, "-k", "60"]
        cmd += ["--"] + argv
        log = os.path.join(self.out, "logs", tag + ".stderr")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, "w") as err, open(stdin or os.devnull) as inp:
            p = subprocess.run(cmd, stdin=inp, stdout=subprocess.PIPE, stderr=err,
                               env=self.env, text=True)
        try:
            with open(res) as f:
                r = dict(kv.split("=", 1) for kv in f.read().split())
        except OSError:
            die("measure failed for %s (see %s)" % (tag, log))
        r = {k: float(v) for k, v in r.items()}
        r["stdout"] = p.stdout
        if r["timed_out"]:
            note("%s: killed after %d s (see %s)" % (tag, self.args.timeout, log))
        elif r["status"] != 0:
            note("%s: exit status %d (see %s)" % (tag, r["status"], log))
        return r

    def run_tool(self, tool, wl, argv, stdin, i, env=()):
        """env: extra NAME=VALUE settings for heapprof (HEAPPROF_WRITERS=2)."""
        tag = "%s.%s.%d" % (wl, tool, i)
        if tool == "native":
            return self.measure_cmd(argv, stdin, tag=tag), None
        if tool == "heapprof":
            for old in glob.glob(os.path.join(self.traces, tag + ".*.zst")):
                os.unlink(old)
            pattern = os.path.join(self.traces, tag + ".%p.zst")
            r = self.measure_cmd(["env", "LD_PRELOAD=" + self.lib, "HEAPPROF_OUTPUT=" + pattern,
                                  "HEAPPROF_VERBOSE=1"] + list(env) + argv, stdin, tag=tag)
            log = os.path.join(self.out, "logs", tag + ".stderr")
            r["writer_ns"] = writer_ns_per_event(log)
            r["compressor_ns"] = writer_ns_per_event(log, "compressor threads (")
            files = sorted(glob.glob(os.path.join(self.traces, tag + ".*.zst")),
                           key=os.path.getmtime)
            return r, files[-1] if files else None
        # heaptrack: what /usr/bin/heaptrack does, with the program as measure's own child
        # so its peak RSS is its own; the interpreter and zstd are side processes, so their
        # CPU counts and the clock runs until the compressed file is complete.
        fifo = os.path.join(self.out, "heaptrack.fifo")
        if os.path.exists(fifo):
            os.unlink(fifo)
        os.mkfifo(fifo)
        trace = os.path.join(self.traces, tag + ".zst")
        side = "%s < %s | zstd -c > %s" % (shlex.quote(self.ht_interp), shlex.quote(fifo),
                                           shlex.quote(trace))
        r = self.measure_cmd(["env", "LD_PRELOAD=" + self.ht_preload,
                              "DUMP_HEAPTRACK_OUTPUT=" + fifo] + argv, stdin, side=side, tag=tag)
        os.unlink(fifo)
        return r, trace


def writer_ns_per_event(log, who="writer thread:"):
    """The writer thread's CPU per event (or, with who="compressor threads (", all the
    compressor threads' together), from HEAPPROF_VERBOSE's lines at exit."""
    try:
        with open(log, errors="replace") as f:
            for line in f:
                if who in line and "x100 = " in line:
                    return int(line.rsplit("x100 = ", 1)[1]) / 100.0
    except (OSError, ValueError):
        pass
    return None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def zstd_raw_bytes(path):
    p = subprocess.Popen(["zstd", "-dcq", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = 0
    while True:
        b = p.stdout.read(1 << 20)
        if not b:
            break
        n += len(b)
    p.wait()
    return n


def heaptrack_events(path):
    """Allocations ('+' lines) and frees ('-' lines) in heaptrack's interpreted output."""
    p = subprocess.Popen(["zstd", "-dcq", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    a = f = 0
    for line in p.stdout:
        c = line[:1]
        if c == b"+":
            a += 1
        elif c == b"-":
            f += 1
    p.wait()
    return a, f


def heapprof_events(runner, path):
    p = subprocess.run([runner.analyzer, "--format", "json", path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, env=runner.env, timeout=runner.args.timeout)
    try:
        s = json.loads(p.stdout)["summary"]
        return s["allocations"], s["frees"]
    except (ValueError, KeyError, TypeError):
        note("heapprof-analyze --format json failed on '%s'" % path)
        return None, None


def bench_workload(runner, wl, argv, stdin, tools, runs):
    note("%s: %s" % (wl, " ".join(shlex.quote(a) for a in argv) + (" < " + stdin if stdin else "")))
    runner.measure_cmd(argv, stdin, tag=wl + ".warmup")
    res = {t: [] for t in tools}
    trace = {}
    sizes = {t: [] for t in tools}
    for i in range(runs):
        for t in tools:
            r, tr = runner.run_tool(t, wl, argv, stdin, i)
            ok = not r["timed_out"] and r["status"] == 0
            res[t].append(r if ok else None)
            if tr and os.path.exists(tr) and ok:
                trace[t] = tr
                sizes[t].append(os.path.getsize(tr))
    row = {"tools": tools, "runs": runs}
    for t in tools:
        good = [r for r in res[t] if r]
        row[t] = {
            "ok": len(good), "wall": median([r["wall_s"] for r in good]),
            "cpu": median([r["cpu_s"] for r in good]),
            "rss": median([r["prog_maxrss_kb"] * 1024 for r in good]),
            "tree_rss": median([r["tree_maxrss_kb"] * 1024 for r in good]),
        }
        if t != "native":
            row[t]["trace"] = median(sizes[t])
            row[t]["raw"] = zstd_raw_bytes(trace[t]) if t in trace else None
        if t == "heapprof":
            row[t]["writer_ns"] = median([r.get("writer_ns") for r in good])
    if "heaptrack" in trace:
        a, f = heaptrack_events(trace["heaptrack"])
        row["heaptrack"]["events"] = a + f
    if "heapprof" in trace:
        a, f = heapprof_events(runner, trace["heapprof"])
        row["heapprof"]["events"] = None if a is None else a + f
    analyze_traces(runner, wl, trace, row, runs)
    return row


def free_port():
    import socket
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def redis_run(runner, tool, tag, requests):
    """One redis-server under a tool, driven by redis-benchmark, stopped by SHUTDOWN
    (a clean exit: the trace gets its trailer). Returns (result, trace)."""
    port = free_port()
    server = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
              "--bind", "127.0.0.1"]
    for old in glob.glob(os.path.join(runner.traces, tag + ".*zst")):
        os.unlink(old)
    env = dict(runner.env)
    if tool == "heapprof":
        env.update({"LD_PRELOAD": runner.lib, "HEAPPROF_VERBOSE": "1",
                    "HEAPPROF_OUTPUT": os.path.join(runner.traces, tag + ".%p.zst")})
        argv = server
    elif tool == "heaptrack":
        argv = ["heaptrack", "-o", os.path.join(runner.traces, tag + ".ht")] + server
    else:
        argv = server
    log = os.path.join(runner.out, "logs", tag + ".stderr")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    t0 = time.monotonic()
    with open(log, "w") as err:
        srv = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err,
                               start_new_session=True)
        for _ in range(200):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.strip() == b"PONG":
                break
            time.sleep(0.05)
        load = subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(requests), "-c", "50",
                               "-d", "256", "-t", "set,get,lpush,lpop,sadd,hset", "--csv"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              timeout=runner.args.timeout)
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            srv.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(srv.pid, signal.SIGKILL)
            srv.wait()
    wall = time.monotonic() - t0
    rps = []
    for line in load.stdout.splitlines()[1:]:
        cells = [c.strip('"') for c in line.split(",")]
        try:
            rps.append(float(cells[1]))
        except (IndexError, ValueError):
            pass
    files = sorted(glob.glob(os.path.join(runner.traces, tag + ".*zst")), key=os.path.getmtime)
    r = {"wall": wall, "rps": statistics.mean(rps) if rps else None,
         "writer_ns": writer_ns_per_event(log) if tool == "heapprof" else None}
    return r, files[-1] if files else None


def bench_redis(runner, tools, runs, requests, name="redis"):
    note("%s: redis-server under redis-benchmark -n %d -c 50 -d 256 "
         "-t set,get,lpush,lpop,sadd,hset" % (name, requests))
    res = {t: [] for t in tools}
    trace = {}
    for i in range(runs):
        for t in tools:
            r, tr = redis_run(runner, t, "%s.%s.%d" % (name, t, i), requests)
            res[t].append(r)
            if tr:
                trace[t] = tr
    row = {"tools": tools, "runs": runs}
    for t in tools:
        rs = [r for r in res[t] if r["rps"]]
        row[t] = {"ok": len(rs), "wall": median([r["wall"] for r in rs]),
                  "rps": median([r["rps"] for r in rs]), "cpu": None, "rss": None,
                  "tree_rss": None}
        if t != "native" and t in trace:
            row[t]["trace"] = os.path.getsize(trace[t])
            row[t]["raw"] = zstd_raw_bytes(trace[t])
        if t == "heapprof":
            row[t]["writer_ns"] = median([r["writer_ns"] for r in rs])
    if "heaptrack" in trace:
        a, f = heaptrack_events(trace["heaptrack"])
        row["heaptrack"]["events"] = a + f
    if "heapprof" in trace:
        a, f = heapprof_events(runner, trace["heapprof"])
        row["heapprof"]["events"] = None if a is None else a + f
    analyze_traces(runner, name, trace, row, runs)
    return row


def analyze_traces(runner, wl, trace, row, runs):
    """heapprof-analyze and heaptrack_print on the workload's last traces, alternated."""
    ana = {"heapprof": [], "heaptrack": []}
    for i in range(runs):
        if "heapprof" in trace:
            ana["heapprof"].append(runner.measure_cmd(
                ["sh", "-c", 'exec "$0" "$1" > /dev/null', runner.analyzer, trace["heapprof"]],
                tag="%s.analyze.%d" % (wl, i)))
        if "heaptrack" in trace:
            ana["heaptrack"].append(runner.measure_cmd(
                ["sh", "-c", 'exec "$0" "$1" > /dev/null', "heaptrack_print", trace["heaptrack"]],
                tag="%s.heaptrack_print.%d" % (wl, i)))
    for t, rs in ana.items():
        good = [r for r in rs if r and not r["timed_out"] and r["status"] == 0]
        if t in row and good:
            row[t]["ana_wall"] = median([r["wall_s"] for r in good])
            row[t]["ana_cpu"] = median([r["cpu_s"] for r in good])
            row[t]["ana_rss"] = median([r["prog_maxrss_kb"] * 1024 for r in good])


def bench_many_threads(runner, tools, runs, ops):
    counts = (1, 2, 4, 8, 16)
    tools = [t for t in tools if t != "heaptrack"]
    note("many_threads: %s THREADS %d, threads %s" % (os.path.join(runner.bindir, "many_threads"),
                                                       ops, counts))
    out = {t: {} for t in tools}
    for n in counts:
        argv = [os.path.join(runner.bindir, "many_threads"), str(n), str(ops)]
        vals = {t: [] for t in tools}
        for i in range(runs):
            for t in tools:
                r, _ = runner.run_tool(t, "many_threads%d" % n, argv, None, i)
                if r["timed_out"] or r["status"] != 0:
                    continue
                kv = dict(x.split("=", 1) for x in r["stdout"].split()[1:])
                vals[t].append((float(kv["per_thread_events_per_s"]),
                                float(kv["per_thread_events_per_cpu_s"]), r["wall_s"]))
        for t in tools:
            v = vals[t]
            out[t][n] = (median([x[0] for x in v]), median([x[1] for x in v]),
                         median([x[2] for x in v])) if v else (None, None, None)
    return {"tools": tools, "counts": counts, "rates": out, "ops": ops}


def writer_cpu(log, who="writer thread:"):
    """(CPU seconds, events) of HEAPPROF_VERBOSE's line for `who` at exit, or None."""
    try:
        with open(log, errors="replace") as f:
            for line in f:
                if who in line and " us CPU for " in line:
                    us, rest = line.split(who, 1)[1].split(" us CPU for ", 1)
                    return int(us.split()[-1]) / 1e6, int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return None


def bench_writers(runner, runs, argv):
    """The writing side: the writer thread's CPU (its serial work: every thread's events
    pass through it) and the compressor threads', with 1 and 2 compressing threads
    (HEAPPROF_WRITERS), on an allocation-bound workload, and the same on a program that
    sleeps 2 s: the writer's cost per second of running with nearly no events (its ticks,
    RSS samples). What is left per event is the serial work each event costs, and the
    most events per second the writing side sustains is 1e9 / that (the compressors run
    in parallel, each taking 1/N of the frames)."""
    note("writers: %s under heapprof with HEAPPROF_WRITERS=1 and 2" % " ".join(argv))
    idle_argv = ["/usr/bin/python3", "-c", "import time; time.sleep(2)"]
    out, idle = {}, {}
    for i in range(runs):
        for w in (1, 2):
            env = ["HEAPPROF_WRITERS=%d" % w]
            r, _ = runner.run_tool("heapprof", "writers%d" % w, argv, None, i, env=env)
            log = os.path.join(runner.out, "logs", "writers%d.heapprof.%d.stderr" % (w, i))
            wc, cc = writer_cpu(log), writer_cpu(log, "compressor threads (%d):" % w)
            if not r["timed_out"] and r["status"] == 0 and wc:
                out.setdefault(w, []).append((wc, cc, r["wall_s"]))
            r, _ = runner.run_tool("heapprof", "writers%d_idle" % w, idle_argv, None, i, env=env)
            log = os.path.join(runner.out, "logs", "writers%d_idle.heapprof.%d.stderr" % (w, i))
            wc = writer_cpu(log)
            if not r["timed_out"] and r["status"] == 0 and wc:
                idle.setdefault(w, []).append(wc[0] / r["wall_s"])
    res = {}
    for w, v in out.items():
        ev = median([x[0][1] for x in v])
        wn = median([1e9 * x[0][0] / x[0][1] for x in v])
        cn = median([1e9 * x[1][0] / x[1][1] for x in v if x[1]]) if w > 1 else None
        per_s = median(idle.get(w, []))
        marginal = median([1e9 * max(0.0, x[0][0] - (per_s or 0) * x[2]) / x[0][1] for x in v])
        serial = max(marginal or 0, (cn or 0) / w)
        res[w] = {"events": ev, "writer_ns": wn, "compressor_ns": cn, "idle_cpu_per_s": per_s,
                  "marginal_ns": marginal, "wall": median([x[2] for x in v]),
                  "max_rate": 1e9 / serial if serial else None}
    return {"argv": argv, "writers": res}


def writers_table(wr):
    L = ["### writers", "",
         "The writing side on `%s` (heapprof only; the writer thread is the one thread every "
         "event passes through): its CPU per event; its CPU per second on a program that "
         "only sleeps (ticks, RSS samples: a cost of time, not of events); what is left per "
         "event once that is taken off (the serial work an event costs); the compressor "
         "threads' CPU per event, all together; and the most events per second the writing "
         "side sustains, 1e9 / the larger of the serial ns per event and each compressor's "
         "share. From `HEAPPROF_VERBOSE=1`'s lines at exit. Issue 15's starting point: "
         "about 50 ns per event on the writer (live set and transcoding), a cap near 20M "
         "events/s." % " ".join(os.path.basename(a) for a in wr["argv"]), "",
         "| HEAPPROF_WRITERS | writer ns/event | writer CPU when idle | serial ns/event "
         "| compressors ns/event (all) | max events/s | program wall (s) |",
         "|---|---|---|---|---|---|---|"]
    for w in sorted(wr["writers"]):
        x = wr["writers"][w]
        idle = "–" if x["idle_cpu_per_s"] is None else "%.1f ms/s" % (1e3 * x["idle_cpu_per_s"])
        L.append("| %d | %s | %s | %s | %s | %s | %s |" % (
            w, fmt(x["writer_ns"]), idle, fmt(x["marginal_ns"]),
            "– (the writer compresses)" if w == 1 else fmt(x["compressor_ns"]),
            fmt(x["max_rate"], "rate"), fmt(x["wall"], "s")))
    L.append("")
    return L


# ---------------------------------------------------------------------------- report

def fmt(v, unit=""):
    if v is None:
        return "–"
    if unit == "s":
        return "%.3f" % v
    if unit == "MiB":
        return "%.1f" % (v / MiB)
    if unit == "size":
        return "%.1f MiB" % (v / MiB) if v >= MiB else "%.1f KiB" % (v / 1024)
    if unit == "x":
        return "%.2fx" % v
    if unit == "B/ev":
        return "%.2f" % v
    if unit == "rate":
        return "%.2fM" % (v / 1e6)
    if isinstance(v, float):
        return "%.3g" % v
    return str(v)


def ratio(a, b):
    return a / b if a is not None and b else None


def per_event(row, t, key):
    r = row.get(t, {})
    ev = r.get("events") or row.get("heapprof", {}).get("events") or row.get("heaptrack", {}).get("events")
    return r[key] / ev if r.get(key) is not None and ev else None


def workload_table(wl, row):
    tools = row["tools"]
    L = ["### %s" % wl, ""]
    hdr = ["metric"] + list(tools)
    pairs = [(a, b) for a, b in (("heapprof", "native"), ("heaptrack", "native"),
                                 ("heapprof", "heaptrack")) if a in tools and b in tools]
    hdr += ["%s/%s" % p for p in pairs]
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + "---|" * len(hdr))

    def line(name, key, unit, with_ratio=True, fn=None):
        vals = {t: (fn(t) if fn else row[t].get(key)) for t in tools}
        if all(v is None for v in vals.values()):
            return
        cells = [name] + [fmt(vals[t], unit) for t in tools]
        for a, b in pairs:
            cells.append(fmt(ratio(vals[a], vals[b]), "x") if with_ratio else "")
        L.append("| " + " | ".join(cells) + " |")

    line("requests/s (redis-benchmark, mean of its tests)", "rps", "")
    line("wall time (s)", "wall", "s")
    line("CPU time, user+sys, whole tree (s)", "cpu", "s")
    line("program peak RSS (MiB)", "rss", "MiB")
    line("process tree peak RSS (MiB)", "tree_rss", "MiB")
    line("events (allocs+frees)", "events", "")
    line("trace size, compressed", "trace", "size")
    line("trace size, raw", "raw", "size")
    line("bytes/event, compressed", None, "B/ev", fn=lambda t: per_event(row, t, "trace"))
    line("bytes/event, raw", None, "B/ev", fn=lambda t: per_event(row, t, "raw"))
    line("writer thread CPU per event (ns)", "writer_ns", "", with_ratio=False)
    line("analyzer wall (s)", "ana_wall", "s")
    line("analyzer CPU (s)", "ana_cpu", "s")
    line("analyzer peak RSS (MiB)", "ana_rss", "MiB")
    okcells = ["%d/%d" % (row[t]["ok"], row["runs"]) for t in tools]
    L.append("| runs ok | " + " | ".join(okcells) + " |" + " |" * len(pairs))
    L.append("")
    return L


def with_cpu(r, row, base):
    """The wall ratio, and the CPU ratio beside it: on a loaded machine wall time carries
    other people's work, CPU time much less of it."""
    c = ratio(row["heapprof"].get("cpu"), row.get(base, {}).get("cpu"))
    return "%s (CPU %s)" % (fmt(r, "x"), fmt(c, "x"))


def targets(rows, mt, wr=None):
    T = []

    def add(name, measured, ok):
        mark = "–" if ok is None else ("✓" if ok else "✗")
        T.append((name, measured, mark))

    for wl in ("churn", "churn_deep"):
        c = rows.get(wl)
        if not c or "heapprof" not in c:
            continue
        hp, nat, ht = c["heapprof"], c.get("native", {}), c.get("heaptrack", {})
        r = ratio(hp["wall"], ht.get("wall"))
        add("%s: heapprof wall ≤ 0.2x heaptrack" % wl, with_cpu(r, c, "heaptrack"),
            None if r is None else r <= 0.2)
        r = ratio(hp["wall"], nat.get("wall"))
        add("%s: heapprof wall ≤ 3x native" % wl, with_cpu(r, c, "native"),
            None if r is None else r <= 3)
        if hp.get("rss") and nat.get("rss"):
            d = hp["rss"] - nat["rss"]
            add("%s: recorder memory ≤ native peak RSS + 32 MiB" % wl, "+%.1f MiB" % (d / MiB),
                d <= 32 * MiB)
    # The trace and the analyzer against heaptrack, on every workload.
    for wl, w in rows.items():
        hp, ht = w.get("heapprof", {}), w.get("heaptrack", {})
        if hp.get("trace") and ht.get("trace"):
            r = ratio(hp["trace"], ht["trace"])
            add("%s: compressed trace ≤ heaptrack's" % wl,
                "%s vs %s (%s)" % (fmt(hp["trace"], "size"), fmt(ht["trace"], "size"),
                                   fmt(r, "x")), r <= 1)
        r = ratio(ht.get("ana_wall"), hp.get("ana_wall"))
        if r is not None:
            mem = ""
            if hp.get("ana_rss") and ht.get("ana_rss"):
                mem = ", %.1f vs %.1f MiB" % (hp["ana_rss"] / MiB, ht["ana_rss"] / MiB)
            add("%s: analyzer ≥ 3x faster than heaptrack_print" % wl,
                fmt(r, "x") + " faster" + mem, r >= 3)
    for wl in ("sqlite3", "exceptions"):
        w = rows.get(wl)
        if w and "heapprof" in w and "native" in w:
            r = ratio(w["heapprof"]["wall"], w["native"]["wall"])
            add("%s: heapprof wall ≤ 1.5x native" % wl, with_cpu(r, w, "native"),
                None if r is None else r <= 1.5)
    if mt and "heapprof" in mt["rates"]:
        rt = mt["rates"]["heapprof"]
        one, sixteen = rt[1][0], rt[16][0]
        r = ratio(sixteen, one)
        cores = os.cpu_count() or 1
        ok = None if (r is None or cores < 16) else r >= 0.7
        txt = ("%.0f%%" % (100 * r) if r is not None else "–")
        if cores < 16:
            txt += " (needs ≥ 16 cores; measured on %d)" % cores
        if cores < 16 and wr and rt[1][0]:
            # What 16 cores would show if only the writing side limited the threads:
            # 16 threads at the 1-thread rate need 16x its events through the writer.
            best = max((x["max_rate"] or 0) for x in wr["writers"].values())
            if best:
                txt += "; projected from the writing side's %s events/s: %.0f%%" % (
                    fmt(best, "rate"), 100 * min(1.0, best / (16 * rt[1][0])))
        add("many_threads: 16-thread per-thread rate ≥ 70% of 1-thread (heapprof)", txt, ok)
    if wr:
        for w, x in sorted(wr["writers"].items()):
            if x["marginal_ns"] is not None:
                add("writers=%d: the writer's serial CPU per event a small fraction "
                    "(≤ 25%%) of issue 15's 50 ns" % w,
                    "%.1f ns (%.0f%%; %.1f ns with its idle ticks), max %s events/s" % (
                        x["marginal_ns"], 100 * x["marginal_ns"] / 50, x["writer_ns"],
                        fmt(x["max_rate"], "rate")), x["marginal_ns"] <= 12.5)
    return T


def many_threads_table(mt):
    L = ["### many_threads", "",
         "Per-thread event rate (events/s per thread, median; `cpu` = per thread CPU-second). "
         "%d ops per thread; %d cores here, so above %d threads the wall-based rate falls "
         "for lack of cores, not because of the recorder." % (mt["ops"], os.cpu_count() or 1,
                                                               os.cpu_count() or 1), ""]
    hdr = ["threads"]
    for t in mt["tools"]:
        hdr += ["%s rate" % t, "%s %% of 1-thread" % t, "%s rate/cpu" % t]
    if "heapprof" in mt["tools"] and "native" in mt["tools"]:
        hdr.append("heapprof/native wall")
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + "---|" * len(hdr))
    for n in mt["counts"]:
        cells = [str(n)]
        for t in mt["tools"]:
            rate, cpu, _ = mt["rates"][t][n]
            one = mt["rates"][t][1][0]
            cells += [fmt(rate, "rate"), "%.0f%%" % (100 * rate / one) if rate and one else "–",
                      fmt(cpu, "rate")]
        if "heapprof" in mt["tools"] and "native" in mt["tools"]:
            cells.append(fmt(ratio(mt["rates"]["heapprof"][n][2], mt["rates"]["native"][n][2]), "x"))
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    return L


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()
    def ver(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return ["- machine: %d CPUs (`nproc`), %s, kernel %s, load average before the run %.2f" %
            (os.cpu_count() or 0, model, platform.release(), load[0]),
            "- date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "- heaptrack: %s; sqlite3 %s; %s; cc: %s" % (
                ver(["heaptrack", "--version"]), ver(["sqlite3", "--version"]).split()[0],
                ver(["/usr/bin/python3", "--version"]), ver(["cc", "--version"]))]


# ---------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small inputs, 2 runs (pipeline check)")
    ap.add_argument("--runs", type=int, help="runs per tool (default 5, --quick 2)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma list of %s" % ",".join(TOOLS))
    ap.add_argument("--only", default=",".join(WORKLOADS),
                    help="comma list of %s" % ",".join(WORKLOADS + EXTRA_WORKLOADS))
    ap.add_argument("--out", default=os.path.join(BENCH, "out"), help="work dir (traces, logs)")
    ap.add_argument("--results", default=os.path.join(BENCH, "RESULTS.md"),
                    help="Markdown file to write ('-' for none)")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per run before it is killed")
    ap.add_argument("--no-build", action="store_true", help="never run cmake")
    ap.add_argument("--keep-traces", action="store_true", help="keep bench/out/traces afterwards")
    args = ap.parse_args()
    runs = args.runs or (2 if args.quick else 5)
    tools = [t for t in args.tools.split(",") if t]
    wls = [w for w in args.only.split(",") if w]
    for t in tools:
        if t not in TOOLS:
            die("unknown tool '%s'" % t, 2)
    for w in wls:
        if w not in WORKLOADS + EXTRA_WORKLOADS:
            die("unknown workload '%s'" % w, 2)
    if "native" not in tools:
        tools.insert(0, "native")

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    bindir = build_workloads(out)
    runner = Runner(args, out, bindir)
    if "heapprof" in tools:
        runner.lib, runner.analyzer = find_heapprof(args)
    if "heaptrack" in tools:
        runner.ht_preload, runner.ht_interp = find_heaptrack()
    wldir = os.path.join(BENCH, "workloads")
    q = args.quick
    specs = {
        "churn": ([os.path.join(bindir, "churn"), "2", "200000" if q else "1000000"], None),
        "sqlite3": (["sqlite3", "-batch", ":memory:"], os.path.join(wldir, "sqlite.sql")),
        "python": (["/usr/bin/python3", os.path.join(wldir, "json_roundtrip.py"), "1" if q else "2"],
                   None),
        "exceptions": ([os.path.join(bindir, "exceptions"), "30000" if q else "150000"], None),
        "churn_deep": ([os.path.join(bindir, "churn_deep"), "2", "200000" if q else "1000000"],
                       None),
    }
    t0 = time.time()
    rows, mt, wr = {}, None, None
    for w in wls:
        if w == "writers":
            if "heapprof" in tools:
                wr = bench_writers(runner, runs, specs["churn_deep"][0])
                for f in glob.glob(os.path.join(runner.traces, "writers*")):
                    os.unlink(f)
        elif w == "many_threads":
            mt = bench_many_threads(runner, tools, runs, 100000 if q else 1000000)
        elif w in ("redis", "redis_long"):
            n = (20000 if q else 200000) * (10 if w == "redis_long" else 1)
            rows[w] = bench_redis(runner, tools, 1 if w == "redis_long" else runs, n, w)
            if not args.keep_traces:
                for f in glob.glob(os.path.join(runner.traces, w + "*")):
                    os.unlink(f)
        else:
            argv, stdin = specs[w]
            rows[w] = bench_workload(runner, w, argv, stdin, tools, runs)
            if not args.keep_traces:
                for f in glob.glob(os.path.join(runner.traces, w + "*")):
                    os.unlink(f)

    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"rows": rows, "many_threads": mt, "writers": wr}, f, indent=1, default=str)
    cmd = "bench/run " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if os.environ.get("HEAPPROF_BUILD"):
        cmd = "HEAPPROF_BUILD=%s %s" % (shlex.quote(os.environ["HEAPPROF_BUILD"]), cmd)
    L = ["# heapprof benchmark results", ""]
    L += machine()
    L += ["- command: `%s` (%d runs per tool, alternated %s; medians; %.0f s in all)" %
          (cmd.strip(), runs, ", ".join(tools), time.time() - t0), ""]
    L += ["Wall and CPU time cover the whole process tree until the trace is complete "
          "(heaptrack: program + heaptrack_interpret + zstd). Peak RSS is the program's "
          "own. Events are allocations + frees (heapprof: analyzer JSON; heaptrack: its "
          "interpreted file's +/- lines). Analyzer: `heapprof-analyze TRACE` vs "
          "`heaptrack_print TRACE`, text output to /dev/null.", ""]
    T = targets(rows, mt, wr)
    if T:
        L += ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
        L += ["| %s | %s | %s |" % t for t in T]
        L.append("")
    L += ["## Workloads", ""]
    for w in wls:
        if w in rows:
            L += workload_table(w, rows[w])
    if mt:
        L += many_threads_table(mt)
    if wr:
        L += writers_table(wr)
    text = "\n".join(L)
    print(text)
    if args.results != "-":
        with open(args.results, "w") as f:
            f.write(text)
        note("wrote %s" % args.results)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
