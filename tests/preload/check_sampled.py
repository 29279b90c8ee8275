#!/usr/bin/env python3
"""Run a program that prints its exact heap totals under libheapprof.so with sampling
on, and check that the analyzer's estimates are within a tolerance of the truth.

    check_sampled.py --preload LIB --analyzer BIN --workdir DIR [--sample-bytes N]
                     [--tolerance 0.05] [--runs 1] -- PROGRAM [ARGS...]

PROGRAM prints "name value" lines on stdout; each name in --fields (JSON "summary"
fields; default allocations, frees, allocated_bytes, peak_heap_bytes, leaked_bytes)
is compared: |estimate - truth| <= tolerance * truth. Other printed names that the
summary has are shown but not checked (leaked_allocations: 20,000 mostly small-weight
blocks, a relative deviation near 2%, too close to 5% at 3 deviations). The report
must also say it is sampled (trace.sampled, trace.sample_bytes) and estimated
(summary.estimated). The recorder seeds its sampler from the TSC, so every run draws
other samples; --runs N repeats the run and prints each relative error, which is how
the tolerance's margin was measured (see sampled.c).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_trace import clean_env, run_analyzer  # noqa: E402


def one_run(a, cmd, workdir):
    """Returns (list of failures, {name: relative error})."""
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    env = clean_env()
    env["HEAPPROF_OUTPUT"] = os.path.join(workdir, "heapprof.%p.zst")
    env["HEAPPROF_SAMPLE_BYTES"] = str(a.sample_bytes)
    env["LD_PRELOAD"] = os.path.abspath(a.preload)
    p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    fails = []
    if p.returncode != 0:
        return [f"program exit status {p.returncode}: {p.stderr.decode(errors='replace')}"], {}
    truth = {}
    for line in p.stdout.decode().splitlines():
        name, value = line.split()
        truth[name] = int(value)
    traces = [f for f in os.listdir(workdir) if f.endswith(".zst")]
    if len(traces) != 1:
        return [f"expected 1 trace in {workdir}, found {len(traces)}"], {}
    rc, out, err = run_analyzer(a.analyzer, ["--format", "json"],
                                os.path.join(workdir, traces[0]))
    if rc != 0:
        return [f"analyzer exit status {rc}: {err}"], {}
    report = json.loads(out)
    trace, summary = report["trace"], report["summary"]
    if trace.get("sampled") is not True:
        fails.append(f"trace.sampled: expected true, got {trace.get('sampled')!r}")
    if trace.get("sample_bytes") != a.sample_bytes:
        fails.append(f"trace.sample_bytes: expected {a.sample_bytes}, "
                     f"got {trace.get('sample_bytes')!r}")
    if summary.get("estimated") is not True:
        fails.append(f"summary.estimated: expected true, got {summary.get('estimated')!r}")
    errors = {}
    for name, exact in truth.items():
        if name not in summary:
            continue
        checked = name in a.fields
        est = summary[name]
        rel = (est - exact) / exact if exact else float(est != 0)
        errors[name] = rel
        if checked and abs(rel) > a.tolerance:
            fails.append(f"summary.{name}: estimate {est} vs truth {exact}: "
                         f"{rel:+.2%} beyond ±{a.tolerance:.0%}")
    if not any(k in a.fields for k in errors):
        fails.append("the program printed no total to check")
    return fails, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preload", required=True)
    ap.add_argument("--analyzer", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--sample-bytes", type=int, default=65536)
    ap.add_argument("--tolerance", type=float, default=0.05)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--fields", type=lambda v: v.split(","),
                    default=["allocations", "frees", "allocated_bytes", "peak_heap_bytes",
                             "leaked_bytes"])
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no program given after --")

    failed = 0
    worst = {}
    for i in range(a.runs):
        workdir = os.path.abspath(a.workdir)
        fails, errors = one_run(a, cmd, workdir)
        print(f"check_sampled: run {i + 1}: " +
              ", ".join(f"{k} {v:+.3%}" for k, v in errors.items()))
        for k, v in errors.items():
            worst[k] = max(worst.get(k, 0.0), abs(v))
        for f in fails:
            print(f"  FAIL {f}")
        if fails:
            failed += 1
            break  # keep the work dir of the failing run
    if a.runs > 1:
        print("check_sampled: worst |error|: " +
              ", ".join(f"{k} {v:.3%}" for k, v in worst.items()))
    if failed:
        return 1
    shutil.rmtree(os.path.abspath(a.workdir), ignore_errors=True)
    print("check_sampled: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
