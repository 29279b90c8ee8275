#!/usr/bin/env python3
"""Time-aware analysis on programs with known memory over time (docs/time-analysis.md).

    check_time.py --preload LIB --analyzer BIN --workdir DIR --case server|burst|threads -- PROGRAM

Runs PROGRAM under the preload (server: twice, once without its warm-up mark), then
heapprof-analyze with --at, --range, --growth and --check, and checks the answers
against what the program is known to have done (its #defines, repeated here):

  server  --at MARK gives the exact live bytes of each site at the mark, and the heap
          the mark recorded; --range MARK..MARK counts only the allocations in it;
          --growth ranks the history list first with a slope within 10% of the truth
          (bytes per request over the marks' times, the trace's own clock) and never
          calls the bounded cache growing, with or without the warm-up mark; each
          --check item flips between PASS and FAIL on thresholds just above and below
          its measured value, and exit status 3 follows a FAIL.
  burst   the busiest 1-second window holds exactly the burst (calls and bytes); the
          rate items and fragmentation flip as above.
  threads a multi-threaded program (tests/preload/threads.c): --at T and --range T..
          split its allocations exactly, and --at peak's live heap is the peak.
Prints every mismatch and exits 1 on any.
"""

import argparse
import glob
import json
import math
import os
import shutil
import subprocess
import sys

# The environment of a program run under the preload, shared by the report tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from preload_env import preload_env  # noqa: E402

REQUESTS, WARMUP, HISTORY, CACHE, CACHE_CAP, STARTUP, TEMP = 1200, 300, 96, 256, 200, 50000, 512
BURST, BURST_BYTES = 20000, 1000

fails = []


def check(cond, what):
    if not cond:
        fails.append(what)
    return cond


def record(a, name, args=(), says_ok=True):
    out = os.path.join(a.workdir, name)
    os.makedirs(out)
    env = preload_env(a.preload, os.path.join(out, "trace.%p.zst"))
    r = subprocess.run(a.program + list(args), env=env, capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or (says_ok and not r.stdout.endswith("ok\n")):
        sys.exit(f"{a.program}: exit {r.returncode}, stdout {r.stdout!r}, stderr {r.stderr!r}")
    traces = glob.glob(os.path.join(out, "trace.*.zst"))
    if len(traces) != 1:
        sys.exit(f"expected one trace in {out}, found {traces}")
    return traces[0]


def analyze(a, trace, *opts, exit_code=0):
    cmd = [a.analyzer, "-q", "--format", "json", *opts, trace]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if not check(r.returncode == exit_code,
                 f"{' '.join(opts)}: exit {r.returncode}, expected {exit_code}; stderr {r.stderr.strip()!r}"):
        return None
    return json.loads(r.stdout) if r.stdout else None


def site_of(report, function):
    """The site whose innermost frame is function (None when absent)."""
    got = [s for s in report["sites"] if s["stack"] and s["stack"][0]["function"] == function]
    return got[0] if len(got) == 1 else None


def mark(report, label):
    got = [m for m in report.get("marks", []) if m["label"] == label]
    return got[0] if got else None


def item(report, key):
    return next(i for i in report["checks"]["items"] if i["key"] == key)


def flips(a, trace, key, option, fmt_above, fmt_below, extra=()):
    """--check's item `key` is PASS just above its measured value and FAIL just below."""
    r = subprocess.run([a.analyzer, "-q", "--format", "json", "--check", *extra, trace],
                       capture_output=True, text=True, timeout=60)
    it = item(json.loads(r.stdout), key)
    if not check(it["verdict"] in ("PASS", "FAIL"), f"{key}: verdict {it['verdict']} ({it['note']})"):
        return None
    m = it["measured"]
    for value, verdict in ((fmt_above(m), "PASS"), (fmt_below(m), "FAIL")):
        r = subprocess.run([a.analyzer, "-q", "--format", "json", "--check", *extra, option, value, trace],
                           capture_output=True, text=True, timeout=60)
        got = item(json.loads(r.stdout), key)
        check(got["verdict"] == verdict,
              f"{key}: {option} {value} (measured {m}): {got['verdict']}, expected {verdict}")
        if verdict == "FAIL":
            check(r.returncode == 3, f"{key}: {option} {value}: exit {r.returncode}, expected 3")
            check(f"check failed: {got['title']}" in r.stderr, f"{key}: no 'check failed' line: {r.stderr!r}")
    return m


def server(a):
    trace = record(a, "server")
    full = analyze(a, trace)
    if not full:
        return
    # --at a mark: the live set there, exactly.
    for label, done in (("warmup", WARMUP), ("half", REQUESTS // 2)):
        at = analyze(a, trace, "--at", label)
        if not at:
            continue
        w = at["window"]
        check(w["closed"] and w["from_s"] == 0 and math.isclose(w["to_s"], mark(full, label)["t_s"], rel_tol=1e-9),
              f"--at {label}: window {w}")
        expect = {"history_add": (done, done * HISTORY), "cache_put": (done, min(done, CACHE_CAP) * CACHE),
                  "startup_table": (1, STARTUP), "handle": (done, 0)}
        for fn, (calls, live) in expect.items():
            s = site_of(at, fn)
            if check(s, f"--at {label}: no site {fn}"):
                check((s["allocations"], s["leaked_bytes"]) == (calls, live),
                      f"--at {label}: {fn} calls, live {(s['allocations'], s['leaked_bytes'])}, expected {(calls, live)}")
        check(at["summary"]["leaked_bytes"] == mark(full, label)["heap_bytes"],
              f"--at {label}: live {at['summary']['leaked_bytes']}, the mark's heap {mark(full, label)['heap_bytes']}")
    # --range between marks: only the events in it.
    rg = analyze(a, trace, "--range", "half..done")
    if rg:
        n = REQUESTS - REQUESTS // 2
        check(site_of(rg, "startup_table") is None, "--range half..done: startup_table counted")
        for fn, (calls, live) in {"history_add": (n, n * HISTORY), "cache_put": (n, CACHE_CAP * CACHE),
                                  "handle": (n, 0)}.items():
            s = site_of(rg, fn)
            if check(s, f"--range: no site {fn}"):
                check((s["allocations"], s["leaked_bytes"]) == (calls, live),
                      f"--range half..done: {fn} {(s['allocations'], s['leaked_bytes'])}, expected {(calls, live)}")
        check(rg["summary"]["allocations"] == 3 * n, f"--range: {rg['summary']['allocations']} allocations, expected {3 * n}")
        check([m["label"] for m in rg["marks"]] == ["half", "done"], f"--range: marks {rg['marks']}")
    # --range in seconds: nothing before the start, nothing at or after the end.
    empty = analyze(a, trace, "--range", "1000..2000")
    if empty:
        check(empty["summary"]["allocations"] == 0 and empty["sites"] == [], f"--range 1000..2000: {empty['summary']}")
    analyze(a, trace, "--at", "no-such-mark", exit_code=2)
    analyze(a, trace, "--range", "2..1", exit_code=1)

    # Growth: the history first, within 10% of the truth; the cache never growing.
    for name, tr, pre in (("warmup mark", trace, ""),
                          ("first 10%", record(a, "server-nowarmup", ["nowarmup"]), "no-")):
        g = analyze(a, tr, "--growth", "--budget", "100M")
        if not g:
            continue
        # The truth: the bytes the history gained between two marks, over their times.
        truth = (REQUESTS - WARMUP) * HISTORY / (mark(g, pre + "done")["t_s"] - mark(g, pre + "warmup")["t_s"])
        gr = g["growth"]
        check(gr["warmup"] == ("mark" if name == "warmup mark" else "first 10%"), f"{name}: warm-up {gr['warmup']}")
        top = gr["sites"][0] if gr["sites"] else None
        if check(top and top["growing"] and top["stack"][0]["function"] == "history_add",
                 f"{name}: first growth site {top}"):
            check(abs(top["slope_bytes_per_s"] - truth) <= 0.10 * truth,
                  f"{name}: history slope {top['slope_bytes_per_s']:.0f} B/s, truth {truth:.0f} B/s")
            check(gr["budget_reached_in_s"] and gr["budget_reached_in_s"] > 0, f"{name}: budget {gr}")
        check(gr["growing_sites"] == 1, f"{name}: {gr['growing_sites']} growing sites: {gr['sites']}")
        for s in gr["sites"]:
            if s["stack"][0]["function"] == "cache_put":
                check(not s["growing"], f"{name}: the bounded cache is called growing: {s}")
        check(gr["functions"] and gr["functions"][0]["function"] == "history_add", f"{name}: functions {gr['functions']}")
        series = g["series"]["sites"]
        check(series and series[0]["stack"][0]["function"] == "history_add"
              and len(series[0]["live_bytes"]) == len(g["series"]["t_s"]), "series: history first, one value a bucket")
        if series:
            check(series[0]["live_bytes"][-1] == REQUESTS * HISTORY, f"series: history ends at {series[0]['live_bytes'][-1]}")

    # The checklist: each item flips on its threshold; the fitted growth fails by default.
    flips(a, trace, "heap_stable", "--max-growth", lambda m: f"{math.ceil(m) + 1}", lambda m: f"{math.floor(m) - 1}")
    flips(a, trace, "peak_heap", "--max-peak", lambda m: f"{int(m)}", lambda m: f"{int(m) - 1}", ["--max-growth", "1G"])
    flips(a, trace, "peak_rss", "--max-rss", lambda m: f"{int(m)}", lambda m: f"{int(m) - 1}", ["--max-growth", "1G"])
    r = subprocess.run([a.analyzer, "-q", "--check", trace], capture_output=True, text=True, timeout=60)
    check(r.returncode == 3 and "FAIL  heap stable under load" in r.stdout, f"--check (text): exit {r.returncode}")
    check("Suspected leaks (growing, still reachable)" in r.stdout
          and r.stdout.index("Suspected leaks") < r.stdout.index("LEAK SUMMARY"), "text: growth section above the leak scan")
    ok = analyze(a, trace, "--check", "--max-growth", "1G")
    if ok:
        check(item(ok, "no_leaks")["verdict"] == "PASS", f"no_leaks: {item(ok, 'no_leaks')}")


def burst(a):
    trace = record(a, "burst")
    r = analyze(a, trace, "--check", exit_code=3)  # the fragmentation of the default 20% fails
    if not r:
        return
    b = r["busiest_window"]
    check((b["calls"], b["bytes"]) == (BURST, BURST * BURST_BYTES), f"busiest window {b}")
    check(item(r, "alloc_calls")["measured"] == BURST and item(r, "alloc_rate")["measured"] == BURST * BURST_BYTES,
          f"rate items {item(r, 'alloc_calls')}, {item(r, 'alloc_rate')}")
    frag = item(r, "fragmentation")
    check(frag["verdict"] == "FAIL" and 0.3 < frag["measured"] < 0.7, f"fragmentation {frag}")
    loose = ["--max-fragmentation", "100%"]
    flips(a, trace, "alloc_rate", "--max-alloc-rate", lambda m: f"{int(m)}/s", lambda m: f"{int(m) - 1}/s", loose)
    flips(a, trace, "alloc_calls", "--max-alloc-calls", lambda m: f"{int(m)}", lambda m: f"{int(m) - 1}", loose)
    flips(a, trace, "fragmentation", "--max-fragmentation", lambda m: f"{m + 0.001:.6f}", lambda m: f"{m - 0.001:.6f}")
    # A window excludes the burst: the busiest second is then that of the rest.
    w = analyze(a, trace, "--check", "--range", "0..1", *loose)
    if w:
        check(w["busiest_window"]["calls"] < 10, f"--range 0..1: busiest {w['busiest_window']}")


def threads(a):
    trace = record(a, "threads", says_ok=False)
    full = analyze(a, trace)
    if not full:
        return
    s = full["summary"]
    check(s["threads"] > 2, f"threads: {s['threads']} threads")
    peak = analyze(a, trace, "--at", "peak")
    if peak:
        check(peak["summary"]["leaked_bytes"] == s["peak_heap_bytes"],
              f"--at peak: live {peak['summary']['leaked_bytes']}, peak {s['peak_heap_bytes']}")
    t = f"{s['duration_s'] / 2:.6f}"
    before, after = analyze(a, trace, "--at", t), analyze(a, trace, "--range", t + "..")
    if before and after:
        check(before["summary"]["allocations"] + after["summary"]["allocations"] == s["allocations"]
              and before["summary"]["allocated_bytes"] + after["summary"]["allocated_bytes"] == s["allocated_bytes"],
              f"--at {t} + --range {t}..: {before['summary']['allocations']} + {after['summary']['allocations']}"
              f" allocations, all {s['allocations']}")
        check(before["window"]["to_s"] == after["window"]["from_s"], "the two windows meet")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preload", required=True)
    ap.add_argument("--analyzer", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--case", choices=("server", "burst", "threads"), required=True)
    ap.add_argument("program", nargs="+")
    a = ap.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    {"server": server, "burst": burst, "threads": threads}[a.case](a)
    for f in fails:
        print("FAIL:", f)
    if fails:
        print(f"{len(fails)} mismatch(es); traces kept in {a.workdir}")
        return 1
    shutil.rmtree(a.workdir, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
