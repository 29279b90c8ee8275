#!/usr/bin/env python3
"""The writer's rounds, read back from --dump (preload/writer.c, docs/trace-format.md).

    check_rounds.py --preload LIB --analyzer BIN --workdir DIR -- PROGRAM

PROGRAM is quiet_busy.c: a busy thread and a quiet one whose blocks are QUIET_SIZE
bytes. Checked, in the order of the trace's records:
- every block of the quiet thread is there, allocated and freed;
- its events wait in its ring: some run of them between two ROUND records spans several
  rounds' times (one EVENTS record where each round wrote one before);
- a ROUND's watermark never passes them: no quiet event comes after a ROUND whose
  watermark is above its time, but for the rare producer preempted between reading the
  clock and publishing (the format allows it; at most 2% here);
- no RSS record repeats the value of the one before (a sample equal to the last is not
  written).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_trace import clean_env, run_analyzer  # noqa: E402

QUIET_SIZE = 777
TIME = re.compile(r" t=(\d+) ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preload", required=True)
    ap.add_argument("--analyzer", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    env = clean_env()
    env["HEAPPROF_OUTPUT"] = os.path.join(a.workdir, "heapprof.%p.zst")
    env["LD_PRELOAD"] = os.path.abspath(a.preload)
    p = subprocess.run(a.cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    if p.returncode != 0:
        print(f"FAIL: program exit status {p.returncode}: {p.stderr}")
        return 1
    blocks = int(p.stdout.split()[1])
    traces = [f for f in os.listdir(a.workdir) if f.endswith(".zst")]
    if len(traces) != 1:
        print(f"FAIL: expected 1 trace in {a.workdir}, found {traces}")
        return 1
    rc, out, err = run_analyzer(a.analyzer, ["--dump"], os.path.join(a.workdir, traces[0]))
    if rc != 0:
        print(f"FAIL: analyzer --dump exit status {rc}: {err}")
        return 1

    fails = []
    quiet = set()  # the quiet thread's blocks, as their lines end: "block=T:N"
    watermark = 0
    allocs = frees = late = 0
    group, widest = set(), 0  # the quiet thread's times since the last ROUND
    last_rss, repeated_rss = None, 0
    for line in out.splitlines():
        if line.startswith("round "):
            watermark = max(watermark, int(line.split("watermark=")[1]))
            widest = max(widest, len(group))
            group = set()
            continue
        if line.startswith("rss "):
            v = int(line.split("bytes=")[1])
            repeated_rss += v == last_rss
            last_rss = v
            continue
        block = line[line.rfind(" block=") + 1:]
        if line.startswith("alloc ") and f" size={QUIET_SIZE} " in line:
            quiet.add(block)
            allocs += 1
        elif line.startswith("free ") and block in quiet:
            frees += 1
        else:
            continue
        t = int(TIME.search(line).group(1))
        group.add(t)
        late += t < watermark
    widest = max(widest, len(group))

    def check(ok, what, want, got):
        if not ok:
            fails.append(f"{what}\n    expected: {want}\n    got:      {got}")

    check(allocs == blocks and frees == blocks,
          "every block of the quiet thread is allocated and freed", (blocks, blocks),
          (allocs, frees))
    check(widest >= 3, "the quiet thread's events wait in its ring: a run of them "
          "between two ROUNDs spans 3 or more times", ">= 3", widest)
    check(late <= 0.02 * 2 * blocks, "no ROUND's watermark passes the quiet thread's "
          "waiting events", f"<= {0.02 * 2 * blocks:.0f} late", late)
    check(repeated_rss == 0, "no RSS record repeats the one before", 0, repeated_rss)
    if fails:
        print(f"FAIL: {len(fails)} check(s)")
        for i, f in enumerate(fails, 1):
            print(f"  {i}. {f}")
        return 1
    print(f"ok: {allocs} quiet blocks, widest run {widest} times, {late} late events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
