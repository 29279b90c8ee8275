#!/usr/bin/env python3
"""Leak-check tests of heapprof (tests/leak/CMakeLists.txt runs each mode).

  compare  --heapprof W --analyze A [--expect K=BYTES/BLOCKS,...] -- prog args
      Runs prog under valgrind memcheck and under `heapprof`, and compares bytes and
      blocks per class (definite, indirect, possible, reachable). Both sides are
      restricted to the blocks allocated by the program itself: those whose innermost
      frame outside the allocator lies in the program's executable. The C library and
      ld.so keep one-time blocks that differ between the two tools (valgrind frees some
      through __libc_freeres, heapprof suppresses them by default), so they are not
      compared. --expect also checks the known figures.
  exitcodes --heapprof W
      Every combination of (program ok, failed, killed) x (leaks, none) through
      `heapprof --leak-check`.
  suppress --heapprof W --analyze A --supp FILE --prog P --progsupp Q
      Suppressions from a file and from the program's __lsan_default_suppressions().
  memcheck --heapprof W --example DIR --module-dir DIR
      Configures and builds examples/leakcheck with this heapprof, runs its ctest and
      `ctest -T memcheck`, and checks the results and the defect count.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

KINDS = ("definite", "indirect", "possible", "reachable")
VG_KINDS = {"Leak_DefinitelyLost": "definite", "Leak_IndirectlyLost": "indirect",
            "Leak_PossiblyLost": "possible", "Leak_StillReachable": "reachable"}
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)


def run(cmd, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


def own_record(frames, exe):
    """frames: list of object paths, innermost first. True when the innermost frame
    outside the allocator is in exe."""
    for obj in frames:
        if obj is None:
            return False
        base = os.path.basename(obj)
        if "vgpreload" in base or base.startswith("libheapprof"):
            continue
        return os.path.realpath(obj) == exe
    return False


def valgrind_totals(prog_args, exe, tmp):
    xml = os.path.join(tmp, "vg.xml")
    p = run(["valgrind", "--leak-check=full", "--show-leak-kinds=all", "--xml=yes",
             "--xml-file=" + xml, "--num-callers=50"] + prog_args)
    tot = {k: [0, 0] for k in KINDS}
    root = ET.parse(xml).getroot()
    for err in root.iter("error"):
        kind = VG_KINDS.get(err.findtext("kind"))
        if not kind:
            continue
        frames = [f.findtext("obj") for f in err.find("stack").iter("frame")]
        if not own_record(frames, exe):
            continue
        xw = err.find("xwhat")
        # A lost record that others hang from says "160 (32 direct, 128 indirect) bytes":
        # leakedbytes is the sum; the class owns the direct part (memcheck's summary).
        m = re.search(r"\((\d[\d,]*) direct, [\d,]+ indirect\)", xw.findtext("text") or "")
        tot[kind][0] += int(m.group(1).replace(",", "")) if m else int(xw.findtext("leakedbytes"))
        tot[kind][1] += int(xw.findtext("leakedblocks"))
    return p.returncode, tot


def heapprof_totals(args, prog_args, exe, tmp):
    out = os.path.join(tmp, "hp.%p.zst")
    p = run([args.heapprof, "-o", out, "--"] + prog_args)
    traces = sorted(f for f in os.listdir(tmp) if f.startswith("hp.") and f.endswith(".zst"))
    check(len(traces) == 1, "one trace expected, got %r (stderr: %s)" % (traces, p.stderr))
    if not traces:
        return p.returncode, None
    a = run([args.analyze, "--format", "json", "--no-default-suppressions",
             os.path.join(tmp, traces[0])])
    check(a.returncode == 0, "heapprof-analyze failed (%d): %s" % (a.returncode, a.stderr))
    if a.returncode != 0:
        return p.returncode, None
    rep = json.loads(a.stdout)
    leaks = rep.get("leaks")
    check(leaks is not None, "no 'leaks' in the report: the trace has no LEAK_SCAN")
    if leaks is None:
        return p.returncode, None
    tot = {k: [0, 0] for k in KINDS}
    for s in leaks["sites"]:
        if own_record([f.get("module") for f in s["stack"]], exe):
            tot[s["kind"]][0] += s["bytes"]
            tot[s["kind"]][1] += s["blocks"]
    return p.returncode, tot


def parse_expect(text):
    exp = {}
    for item in filter(None, (text or "").split(",")):
        kind, val = item.split("=")
        b, n = val.split("/")
        exp[kind] = [int(b), int(n)]
    return exp


def mode_compare(args):
    prog_args = args.rest
    exe = os.path.realpath(prog_args[0])
    with tempfile.TemporaryDirectory(prefix="heapprof-leak.") as tmp:
        vrc, vg = valgrind_totals(prog_args, exe, tmp)
        hrc, hp = heapprof_totals(args, prog_args, exe, tmp)
    check(vrc == hrc, "exit status differs: valgrind %d, heapprof %d" % (vrc, hrc))
    exp = parse_expect(args.expect)
    for k in KINDS:
        e = exp.get(k, [0, 0]) if args.expect is not None else None
        if e is not None:
            check(vg[k] == e, "valgrind %s: %r, expected %r" % (k, vg[k], e))
        if hp is not None:
            check(hp[k] == vg[k], "%s: heapprof %d B in %d blocks, valgrind %d B in %d blocks"
                  % (k, hp[k][0], hp[k][1], vg[k][0], vg[k][1]))
    print("valgrind: %r\nheapprof: %r" % (vg, hp))


def mode_exitcodes(args):
    exitwith = os.path.abspath(args.prog)
    cases = [  # (leak, code, expected wrapper status)
        ("0", "0", 0), ("1", "0", 3), ("0", "5", 5), ("1", "5", 5),
        ("0", "term", 128 + 15), ("1", "term", 128 + 15),
    ]
    with tempfile.TemporaryDirectory(prefix="heapprof-leak.") as tmp:
        for leak, code, want in cases:
            p = run([args.heapprof, "--leak-check", "--", exitwith, leak, code], cwd=tmp)
            check(p.returncode == want, "exitwith %s %s: status %d, expected %d; stderr: %s"
                  % (leak, code, p.returncode, want, p.stderr))
            if want == 0:
                check(p.stderr.strip() == "", "terse on success, got: %r" % p.stderr)
                check(not [f for f in os.listdir(tmp) if f.endswith(".zst")],
                      "traces removed after a passing leak check")
            if leak == "1" and code == "0":
                check("definitely lost" in p.stderr, "the leak report is shown: %r" % p.stderr)
            for f in os.listdir(tmp):
                os.unlink(os.path.join(tmp, f))
        # --fail-on-leaks=reachable does not fail on a definite leak
        p = run([args.heapprof, "--leak-check", "--fail-on-leaks=reachable", "--",
                 exitwith, "1", "0"], cwd=tmp)
        check(p.returncode == 0, "--fail-on-leaks=reachable: status %d" % p.returncode)
        # plain profiling: the program's status, and where the trace is
        p = run([args.heapprof, "--", exitwith, "1", "7"], cwd=tmp)
        check(p.returncode == 7, "plain run: status %d, expected 7" % p.returncode)
        # %e is the executable's name: leak_exitwith as CMake builds it
        name = re.escape(os.path.basename(exitwith))
        check(re.search(r"^heapprof: trace written to heapprof\.%s\.\d+\.zst$" % name, p.stderr,
                        re.M) is not None, "plain run names its trace: %r" % p.stderr)


def mode_suppress(args):
    args.prog, args.progsupp = os.path.abspath(args.prog), os.path.abspath(args.progsupp)
    args.supp = os.path.abspath(args.supp)
    with tempfile.TemporaryDirectory(prefix="heapprof-leak.") as tmp:
        # suppressed.c: lose_me (3 x 24 B) suppressed by the file; keep_me (8 B) is not
        p = run([args.heapprof, "--leak-check", "--suppressions", args.supp,
                 "--print-suppressions", "--", args.prog], cwd=tmp)
        check(p.returncode == 3, "keep_me still leaks: status %d" % p.returncode)
        check("definitely lost: 8 B in 1 block" in p.stderr, "only keep_me reported: %r" % p.stderr)
        check(re.search(r"3\s+72\s+leak:lose_me", p.stderr) is not None,
              "--print-suppressions shows lose_me with 3 blocks, 72 bytes: %r" % p.stderr)
        p = run([args.heapprof, "--leak-check", "--suppressions", args.supp, "--",
                 args.prog, "all"], cwd=tmp)
        check(p.returncode == 0, "everything suppressed: status %d, %s" % (p.returncode, p.stderr))
        p = run([args.heapprof, "--leak-check", "--", args.prog, "all"], cwd=tmp)
        check(p.returncode == 3, "without the file: status %d" % p.returncode)
        # JSON: suppressed totals
        run([args.heapprof, "-o", os.path.join(tmp, "s.%p.zst"), "--", args.prog, "all"])
        tr = [f for f in os.listdir(tmp) if f.startswith("s.")]
        a = run([args.analyze, "--format", "json", "--suppressions", args.supp,
                 os.path.join(tmp, tr[0])] if tr else ["false"])
        if a.returncode == 0:
            leaks = json.loads(a.stdout)["leaks"]
            check(leaks and leaks["definitely_lost"] == {"bytes": 0, "blocks": 0},
                  "JSON definitely_lost after suppression: %r" % (leaks,))
            check(leaks and leaks["suppressed"]["bytes"] >= 72, "JSON suppressed: %r" % (leaks,))
        else:
            check(False, "heapprof-analyze --format json failed: %s" % a.stderr)
        # the program's own __lsan_default_suppressions()
        p = run([args.heapprof, "--leak-check", "--print-suppressions", "--", args.progsupp],
                cwd=tmp)
        check(p.returncode == 0, "__lsan_default_suppressions: status %d, %s"
              % (p.returncode, p.stderr))


def mode_memcheck(args):
    with tempfile.TemporaryDirectory(prefix="heapprof-example.") as tmp:
        b = os.path.join(tmp, "build")
        p = run(["cmake", "-S", args.example, "-B", b, "-DCMAKE_MODULE_PATH=" + args.module_dir,
                 "-DHEAPPROF_EXECUTABLE=" + args.heapprof])
        check(p.returncode == 0, "configure: " + p.stdout + p.stderr)
        p = run(["cmake", "--build", b])
        check(p.returncode == 0, "build: " + p.stdout + p.stderr)
        if failures:
            return
        p = run(["ctest", "--output-on-failure"], cwd=b)
        out = p.stdout
        check(p.returncode != 0, "ctest fails (leaky leaks)")
        check(re.search(r"Test +#\d+: leaky \.+\*\*\*Failed", out) is not None, "leaky fails:\n" + out)
        for t in ("tidy", "tidy_existing"):
            check(re.search(r"Test +#\d+: %s \.+ +Passed" % t, out) is not None,
                  "%s passes:\n%s" % (t, out))
        p = run(["ctest", "-T", "memcheck"], cwd=b)
        out = p.stdout + p.stderr
        check(re.search(r"MemCheck: #\d+: leaky \.+ +Defects: 1\b", out) is not None,
              "memcheck: leaky has 1 defect:\n" + out)
        check(re.search(r"MemCheck: #\d+: tidy", out) is None, "memcheck: tidy has none:\n" + out)
        check(re.search(r"^Direct leak - 1$", out, re.M) is not None,
              "memcheck summary: Direct leak - 1:\n" + out)
        check("Cannot find memory tester output file" not in out, "every test wrote its log:\n" + out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["compare", "exitcodes", "suppress", "memcheck"])
    ap.add_argument("--heapprof", required=True)
    ap.add_argument("--analyze")
    ap.add_argument("--expect")
    ap.add_argument("--prog")
    ap.add_argument("--progsupp")
    ap.add_argument("--supp")
    ap.add_argument("--example")
    ap.add_argument("--module-dir")
    # The program and its arguments follow "--": split there, since argparse has already
    # bound an optional positional (empty) when it meets "--" after the options.
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    args = ap.parse_args(argv)
    args.rest = rest
    if args.mode == "compare" and not shutil.which("valgrind"):
        print("valgrind not found: skipped")
        return 77
    globals()["mode_" + args.mode](args)
    if failures:
        print("%d check(s) failed" % len(failures), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
