#!/usr/bin/env python3
"""Runs one program under heapprof and under heaptrack and checks that the answers
agree: calls to allocation functions, peak heap and leaked bytes (heaptrack's "leaked" is everything live at exit, so it is compared with our
summary.leaked_bytes, which has the same meaning).

heaptrack's own preload library is C++, so its numbers include libstdc++'s emergency
exception pool (one call, ~72 KiB live until exit). That baseline is measured on a
program that allocates nothing and subtracted, so the test does not hard-code it.
heaptrack_print rounds sizes to two decimals of K/M/G (powers of 1000): sizes are
compared within that rounding.

usage: heaptrack_compare.py ANALYZER PRELOAD EMPTY_PROG PROG [ARGS...]
"""
import json
import os
import re
import subprocess
import sys
import tempfile

UNITS = {"B": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def parse_size(text):
    m = re.fullmatch(r"([0-9.]+)([BKMGT])", text.strip())
    if not m:
        raise ValueError("cannot parse heaptrack size %r" % text)
    value, unit = float(m.group(1)), m.group(2)
    # Half a unit in the last printed decimal is heaptrack's rounding error.
    decimals = len(m.group(1).split(".")[1]) if "." in m.group(1) else 0
    return value * UNITS[unit], 0.5 * 10 ** -decimals * UNITS[unit]


def heaptrack(prog, workdir):
    out = os.path.join(workdir, "ht.%d" % len(os.listdir(workdir)))
    run = subprocess.run(["heaptrack", "-o", out] + prog, capture_output=True, text=True,
                         cwd=workdir)
    if run.returncode != 0:
        sys.exit("heaptrack failed (%d): %s" % (run.returncode, run.stderr[-2000:]))
    files = [f for f in os.listdir(workdir) if f.startswith(os.path.basename(out))]
    if len(files) != 1:
        sys.exit("heaptrack wrote %r" % files)
    text = subprocess.run(["heaptrack_print", "-p", "0", "-a", "0", "-T", "0",
                           os.path.join(workdir, files[0])],
                          capture_output=True, text=True, check=True).stdout
    def grab(label):
        m = re.search(r"^%s: ([^ \n]+)" % re.escape(label), text, re.M)
        if not m:
            sys.exit("heaptrack_print has no %r line:\n%s" % (label, text[-3000:]))
        return m.group(1)
    return {
        "allocations": int(grab("calls to allocation functions")),
        "temporary": int(grab("temporary memory allocations")),
        "peak": parse_size(grab("peak heap memory consumption")),
        "leaked": parse_size(grab("total memory leaked")),
    }


def heapprof(analyzer, preload, prog, workdir):
    env = dict(os.environ, LD_PRELOAD=preload,
               HEAPPROF_OUTPUT=os.path.join(workdir, "hp.%p.zst"))
    run = subprocess.run(prog, env=env, capture_output=True, cwd=workdir)
    if run.returncode != 0:
        sys.exit("program failed under heapprof (%d)" % run.returncode)
    traces = [os.path.join(workdir, f) for f in os.listdir(workdir) if f.startswith("hp.")]
    if len(traces) != 1:
        sys.exit("heapprof wrote %r" % traces)
    report = json.loads(subprocess.run([analyzer, "--format", "json", "--no-symbols", traces[0]],
                                       capture_output=True, text=True, check=True).stdout)
    os.unlink(traces[0])
    return report["summary"]


def main():
    analyzer, preload, empty, prog = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    failures = []
    with tempfile.TemporaryDirectory() as workdir:
        base = heaptrack([empty], workdir)
        ht = heaptrack(prog, workdir)
        ours = heapprof(analyzer, preload, prog, workdir)
        base_ours = heapprof(analyzer, preload, [empty], workdir)

    def count(name, ours_value, ht_value):
        print("%-12s heapprof %-12d heaptrack %-12d" % (name, ours_value, ht_value))
        if ours_value != ht_value:
            failures.append(name)

    def size(name, ours_value, ht_pair, base_pair):
        value, err = ht_pair[0] - base_pair[0], ht_pair[1] + base_pair[1]
        print("%-12s heapprof %-12d heaptrack %-12.0f (+-%.0f)" % (name, ours_value, value, err))
        if abs(ours_value - value) > err:
            failures.append(name)

    count("allocations", ours["allocations"] - base_ours["allocations"],
          ht["allocations"] - base["allocations"])
    # Printed, not compared: heaptrack counts temporaries in one global order of all
    # threads and by (size, stack) rather than by block (docs/compared-to-heaptrack.md).
    print("%-12s heapprof %-12d heaptrack %-12d (not compared)" % (
        "temporary", ours["temporary_allocations"] - base_ours["temporary_allocations"],
        ht["temporary"] - base["temporary"]))
    size("peak", ours["peak_heap_bytes"] - base_ours["peak_heap_bytes"], ht["peak"], base["peak"])
    size("leaked", ours["leaked_bytes"] - base_ours["leaked_bytes"], ht["leaked"], base["leaked"])
    if failures:
        sys.exit("heapprof and heaptrack disagree on: " + ", ".join(failures))
    print("heapprof and heaptrack agree")


if __name__ == "__main__":
    main()
