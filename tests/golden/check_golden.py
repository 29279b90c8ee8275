#!/usr/bin/env python3
"""Golden traces: every trace format version ever written must stay readable with the
same answers. For each tests/golden/<name>.zst, the analyzer's JSON (--no-symbols, so
the answer depends on the trace alone) must equal <name>.json, and its --dump record
counts must equal <name>.counts. Regenerate the expectations only when a change of
*meaning* is intended, never to make a reader regression pass:
    check_golden.py ANALYZER DIR --update
"""
import collections
import json
import os
import subprocess
import sys


def analyze(analyzer, trace):
    out = subprocess.run([analyzer, "--format", "json", "--no-symbols", trace],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("%s: heapprof-analyze exited %d: %s" % (trace, out.returncode, out.stderr))
    report = json.loads(out.stdout)
    report["trace"]["file"] = os.path.basename(report["trace"]["file"])
    dump = subprocess.run([analyzer, "--dump", trace], capture_output=True, text=True, check=True)
    counts = collections.Counter(line.split(" ", 1)[0] for line in dump.stdout.splitlines())
    return report, dict(sorted(counts.items()))


def main():
    analyzer, folder = sys.argv[1], sys.argv[2]
    update = "--update" in sys.argv[3:]
    traces = sorted(f for f in os.listdir(folder) if f.endswith(".zst"))
    if not traces:
        sys.exit("no golden traces in " + folder)
    failed = 0
    for name in traces:
        base = os.path.join(folder, name[:-4])
        report, counts = analyze(analyzer, os.path.join(folder, name))
        if update:
            with open(base + ".json", "w") as f:
                json.dump(report, f, indent=1, sort_keys=True)
                f.write("\n")
            with open(base + ".counts", "w") as f:
                json.dump(counts, f, indent=1)
                f.write("\n")
            continue
        with open(base + ".json") as f:
            want = json.load(f)
        with open(base + ".counts") as f:
            want_counts = json.load(f)
        if report != want:
            failed += 1
            for key in want:
                if report.get(key) != want[key]:
                    print("%s: '%s' differs:\n  want %s\n  got  %s" %
                          (name, key, json.dumps(want[key])[:600], json.dumps(report.get(key))[:600]))
        if counts != want_counts:
            failed += 1
            print("%s: record counts differ: want %s got %s" % (name, want_counts, counts))
        print("%s: %s" % (name, "ok" if not failed else "FAILED"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
