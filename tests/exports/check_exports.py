#!/usr/bin/env python3
"""Checks heapprof-analyze's exports with the tools users open them in.

  check_exports.py --analyzer A --preload P --workdir D CHECK -- PROGRAM [ARGS...]

PROGRAM runs under the preload; its trace is exported and read back:
  collapsed  every KIND parsed by a strict collapsed-stack reader (speedscope's rule:
             `stack count`, one space, an integer), lines sorted and distinct; the
             counts sum exactly to the known totals and to the JSON report's
  pprof      `go tool pprof` (-top, -traces, -raw) on --pprof and --pprof-at end: Go's
             four sample types in Go's order, the known top site with exact bytes and
             objects, the bytes label, the build-id of the program's mapping, sums of
             every sample type equal to the report's totals
  massif     `ms_print` exits 0 and prints the known peak; the tree's top entry is the
             known site with its exact bytes; the file obeys massif-visualizer's stricter
             grammar (indentation, child counts, one peak, sorted children)
  dhat       valgrind's dh_view.js loads the DHAT file in headless Chromium and shows
             the known site; every PP has the fields dh_view needs; sums = the report's
  exports    the four above; all: the five
  cli        usage errors of the export options (exit 1) and a missing trace (exit 2)
With --known the program is tests/exports/exports_prog.c and its exact counts are
checked; without it (a real program) the exports are checked against the JSON report.
"""
import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys

# The environment of a program run under the preload, shared by the report tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from preload_env import preload_env  # noqa: E402

# exports_prog.c's exact counts (see its header).
KNOWN = {
    "peak": {"alloc_big": 1000000, "alloc_leak": 12288},
    "leaked": {"alloc_leak": 12288},
    "allocated": {"alloc_big": 1000000, "alloc_leak": 12288, "use_temp": 3200},
    "calls": {"alloc_big": 10, "alloc_leak": 3, "use_temp": 50},
    "temporary": {"use_temp": 50},
}
KIND_TOTAL = {  # the JSON summary's field of each kind
    "peak": "peak_heap_bytes",
    "leaked": "leaked_bytes",
    "allocated": "allocated_bytes",
    "calls": "allocations",
    "temporary": "temporary_allocations",
}

failures = []


def fail(what, want, got):
    failures.append(f"{what}: expected {want!r}, got {got!r}")


def check(cond, what, want=True, got=False):
    if not cond:
        fail(what, want, got)


def run(cmd, timeout=60, env=None, want_rc=0):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if want_rc is not None and p.returncode != want_rc:
        fail(f"exit status of {' '.join(cmd)} (stderr: {p.stderr.strip()[:2000]})",
             want_rc, p.returncode)
    return p


def record(a, cmd):
    env = preload_env(a.preload, os.path.join(a.workdir, "trace.%p.zst"),
                      dict(kv.partition("=")[::2] for kv in a.env))
    run(cmd, timeout=120, env=env)
    traces = [f for f in os.listdir(a.workdir) if f.startswith("trace.")]
    if len(traces) != 1:
        sys.exit(f"check_exports: expected one trace in {a.workdir}, found {traces}")
    return os.path.join(a.workdir, traces[0])


def report(a, trace):
    p = run([a.analyzer, "-q", "--format", "json", trace])
    return json.loads(p.stdout)


# --- collapsed ----------------------------------------------------------------------

LINE = re.compile(r"^(.*) (\d+)$")  # speedscope's rule, the strictest reader


def parse_collapsed(text, kind):
    stacks = {}
    lines = text.split("\n")
    check(lines[-1] == "", f"collapsed {kind}: ends with a newline", "", lines[-1])
    lines = lines[:-1]
    for ln in lines:
        m = LINE.match(ln)
        if not m:
            fail(f"collapsed {kind}: a 'stack count' line", "stack COUNT", ln)
            continue
        stack, count = m.group(1), int(m.group(2))
        frames = stack.split(";")
        check(all(frames), f"collapsed {kind}: no empty frame in {stack!r}")
        check(count > 0, f"collapsed {kind}: a positive count in {ln!r}")
        # flamegraph.pl reads a trailing number of the stack as a second count.
        check(not re.search(r"\s\d+$", stack), f"collapsed {kind}: no number ending {stack!r}")
        check(stack not in stacks, f"collapsed {kind}: {stack!r} once")
        stacks[stack] = count
    check(lines == sorted(lines), f"collapsed {kind}: sorted lines (inferno)")
    return stacks


def check_collapsed(a, trace, rep):
    for kind, field in KIND_TOTAL.items():
        p = run([a.analyzer, "-q", "--collapsed", kind, trace])
        stacks = parse_collapsed(p.stdout, kind)
        total = sum(stacks.values())
        check(total == rep["summary"][field], f"collapsed {kind}: sum = summary.{field}",
              rep["summary"][field], total)
        if a.known:
            by_leaf = {}
            for stack, count in stacks.items():
                frames = stack.split(";")
                check(frames[0] == "main", f"collapsed {kind}: outermost frame first", "main",
                      frames[0])
                by_leaf[frames[-1]] = by_leaf.get(frames[-1], 0) + count
            check(by_leaf == KNOWN[kind], f"collapsed {kind}: counts by innermost frame",
                  KNOWN[kind], by_leaf)
            check(total == sum(KNOWN[kind].values()), f"collapsed {kind}: known total",
                  sum(KNOWN[kind].values()), total)
        if not a.known:
            continue
        # -o FILE writes the same lines.
        out = os.path.join(a.workdir, f"{kind}.collapsed.txt")
        run([a.analyzer, "-q", "--collapsed", kind, "-o", out, trace])
        with open(out) as f:
            check(f.read() == p.stdout, f"collapsed {kind}: -o FILE holds stdout's lines")


# --- pprof --------------------------------------------------------------------------

GO_TYPES = "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt]"


def pprof(a, args, path):
    env = dict(os.environ)
    env["HOME"] = a.workdir  # go keeps its cache under HOME; no network is needed
    env.setdefault("GOFLAGS", "-mod=mod")
    return run(["go", "tool", "pprof"] + args + [path], timeout=120, env=env)


def top_rows(text):
    """-top rows: {function: (flat, cum)} as integers (with -unit=B, 'B' stripped)."""
    rows = {}
    for ln in text.splitlines():
        m = re.match(r"^\s*(\d+)B?\s+[\d.]+%\s+[\d.]+%\s+(\d+)B?\s+[\d.]+%\s+(.+?)\s*$", ln)
        if m:
            rows[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return rows


def raw_samples(text):
    """-raw: the sample types line and the samples' values and location ids."""
    types, samples, section = None, [], None
    for ln in text.splitlines():
        if ln.startswith("Samples:"):
            section = "samples"
            continue
        if ln.startswith("Locations"):
            section = "locations"
            continue
        if section == "samples" and types is None:
            types = ln.strip()
            continue
        m = re.match(r"^\s*(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+):\s*([\d ]*)$", ln)
        if section == "samples" and m:
            samples.append(([int(m.group(i)) for i in range(1, 5)], m.group(5).split()))
    return types, samples


def build_id(path):
    p = run(["readelf", "-n", path])
    m = re.search(r"Build ID:\s*([0-9a-f]+)", p.stdout)
    return m.group(1) if m else None


def check_pprof(a, trace, rep, exe):
    s = rep["summary"]
    for at in ("peak", "end"):
        out = os.path.join(a.workdir, f"heap-{at}.pb.gz")
        args = [a.analyzer, "-q", "--pprof", out, trace]
        if at == "end":
            args[2:2] = ["--pprof-at", "end"]
        run(args)
        with open(out, "rb") as f:
            head = f.read(2)
        check(head == b"\x1f\x8b", f"pprof {at}: gzip magic", b"\x1f\x8b", head)
        with gzip.open(out) as f:
            f.read()  # a complete gzip stream, CRC checked

        raw = pprof(a, ["-raw"], out)
        types, samples = raw_samples(raw.stdout)
        check(types == GO_TYPES, f"pprof {at}: Go's sample types in Go's order", GO_TYPES, types)
        check("PeriodType: space bytes" in raw.stdout, f"pprof {at}: period_type space/bytes")
        period = rep["trace"]["sample_bytes"] or 1
        check(f"Period: {period}\n" in raw.stdout, f"pprof {at}: period = the sampling mean",
              period, raw.stdout[:400])
        check(not re.search(r"error|failed", raw.stderr, re.I),
              f"pprof {at}: no error from go tool pprof", "", raw.stderr.strip()[:500])
        sums = [sum(v[i] for v, _ in samples) for i in range(4)]
        want = [s["allocations"], s["allocated_bytes"], None,
                s["peak_heap_bytes"] if at == "peak" else s["leaked_bytes"]]
        if at == "end":
            want[2] = s["leaked_allocations"]
        for i, name in enumerate(["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"]):
            if want[i] is not None:
                check(sums[i] == want[i], f"pprof {at}: sum of {name} = the report's",
                      want[i], sums[i])
        check(all(ids for _, ids in samples), f"pprof {at}: every sample has a stack")
        bid = build_id(exe)
        check(bid and re.search(rf"{re.escape(exe)} {bid}", raw.stdout),
              f"pprof {at}: the program's mapping with its build-id", bid, raw.stdout[-800:])

        if not a.known:
            top = pprof(a, ["-top"], out)
            check("Showing nodes" in top.stdout, f"pprof {at}: -top shows nodes", True,
                  top.stdout[:300])
            continue
        inuse = {"alloc_big": 1000000, "alloc_leak": 12288} if at == "peak" else \
            {"alloc_leak": 12288}
        objects = {"alloc_big": 10, "alloc_leak": 3} if at == "peak" else {"alloc_leak": 3}
        for index, want_rows in (("inuse_space", inuse), ("inuse_objects", objects),
                                 ("alloc_space", KNOWN["allocated"]),
                                 ("alloc_objects", KNOWN["calls"])):
            top = pprof(a, ["-top", "-unit=B", "-nodefraction=0", f"-sample_index={index}"],
                        out)
            rows = top_rows(top.stdout)
            flat = {f: v[0] for f, v in rows.items() if v[0]}
            check(flat == want_rows, f"pprof {at} -top -sample_index={index}: flat by function",
                  want_rows, flat)
            first = next(iter(rows), None)
            check(first == max(want_rows, key=want_rows.get),
                  f"pprof {at} -top {index}: the top site first", max(want_rows, key=want_rows.get),
                  first)
            check(rows.get("main", (0, 0))[1] == sum(want_rows.values()),
                  f"pprof {at} -top {index}: main's cum", sum(want_rows.values()),
                  rows.get("main"))
        tr = pprof(a, ["-traces", "-unit=B"], out).stdout
        top_site = "alloc_big" if at == "peak" else "alloc_leak"
        top_bytes = 1000000 if at == "peak" else 12288
        label = "97.66kB" if at == "peak" else "4kB"
        check(re.search(rf"bytes:\s+{label}\n\s+{top_bytes}B\s+{top_site}\n\s+main\n", tr),
              f"pprof {at} -traces: the top site's stack, leaf first, with its bytes label",
              f"bytes: {label} / {top_bytes}B {top_site} / main", tr)
        for size, values in ((100000, "10    1000000"), (4096, "3      12288"),
                             (64, "50       3200")):
            check(re.search(rf"{values} .*\n\s+bytes:\[{size}\]\n", raw.stdout),
                  f"pprof {at} -raw: the bytes label of the {size}-byte site", size,
                  raw.stdout[:1500])
    if a.known:
        # Functions with their file and line: -lines puts file:line on each row.
        out = os.path.join(a.workdir, "heap-peak.pb.gz")
        lines = pprof(a, ["-top", "-lines", "-unit=B"], out).stdout
        check(re.search(rf"1000000B .*alloc_big .*exports_prog\.c:{a.line_big}\b", lines),
              "pprof -lines: alloc_big at its malloc line", f"exports_prog.c:{a.line_big}",
              lines)


def check_inlined(a, trace):
    """A location inside inlined code: its Lines callee first, then the caller."""
    with open(a.inlined) as f:
        src = f.readlines()
    alloc = next(i for i, ln in enumerate(src, 1) if "@INLINE_ALLOC" in ln)
    call = next(i for i, ln in enumerate(src, 1) if "@INLINE_CALL" in ln)
    out = os.path.join(a.workdir, "inlined.pb.gz")
    run([a.analyzer, "-q", "--pprof", out, trace])
    raw = pprof(a, ["-raw"], out).stdout
    want = rf"M=1 make_buf \S*inlined\.c:{alloc} s=0\n\s+fill_buffers \S*inlined\.c:{call} s=0\n"
    check(re.search(want, raw), "pprof -raw: make_buf's location, callee first, then its caller",
          want, raw[raw.find("Locations"):][:600])
    top = pprof(a, ["-top", "-unit=B"], out).stdout
    check(re.search(r"\b1230B .*make_buf", top), "pprof -top: the inlined callee holds the bytes",
          "1230B ... make_buf", top)


# --- massif -------------------------------------------------------------------------

NODE = re.compile(r"^( *)n(\d+): (\d+) (.+)$")


def parse_massif(text):
    """Parses massif's out-file as massif-visualizer does (strictly); returns snapshots."""
    lines = text.split("\n")
    check(lines[-1] == "", "massif: ends with a newline")
    lines = lines[:-1]
    check(lines[0].startswith("desc: ") and sum(ln.startswith("desc:") for ln in lines) == 1,
          "massif: exactly one 'desc: ' line first")
    check(lines[1].startswith("cmd: "), "massif: 'cmd: ' second", "cmd: ", lines[1])
    check(lines[2] == "time_unit: ms", "massif: time_unit ms", "time_unit: ms", lines[2])
    snaps, i = [], 3
    fields = ["time", "mem_heap_B", "mem_heap_extra_B", "mem_stacks_B", "heap_tree"]
    while i < len(lines):
        check(lines[i] == "#-----------" and lines[i + 2] == "#-----------",
              f"massif line {i + 1}: a separator of 11 dashes", "#-----------", lines[i])
        check(lines[i + 1] == f"snapshot={len(snaps)}", f"massif line {i + 2}",
              f"snapshot={len(snaps)}", lines[i + 1])
        snap = {}
        for k, f in enumerate(fields):
            key, _, val = lines[i + 3 + k].partition("=")
            check(key == f, f"massif line {i + 4 + k}: field", f, key)
            snap[f] = val if f == "heap_tree" else float(val)
        i += 3 + len(fields)
        if snap["heap_tree"] in ("detailed", "peak"):
            snap["tree"], i = parse_tree(lines, i, 0)
            check(snap["tree"]["bytes"] <= snap["mem_heap_B"],
                  f"snapshot {len(snaps)}: root within the heap (ms_print aborts otherwise)")
        else:
            check(snap["heap_tree"] == "empty", f"snapshot {len(snaps)}: heap_tree", "empty",
                  snap["heap_tree"])
        snaps.append(snap)
    check(sum(s["heap_tree"] == "peak" for s in snaps) == 1, "massif: exactly one peak snapshot")
    times = [s["time"] for s in snaps]
    check(times == sorted(times), "massif: snapshots in time order")
    for ln in lines:
        check(ln == "#-----------" or "#" not in ln, f"massif: no '#' in {ln!r}")
    return snaps


def parse_tree(lines, i, depth):
    m = NODE.match(lines[i]) if i < len(lines) else None
    if not m:
        fail(f"massif line {i + 1}: a node", "nK: BYTES LABEL", lines[i] if i < len(lines) else "")
        return {"bytes": 0, "label": "", "children": []}, i + 1
    check(len(m.group(1)) == depth, f"massif line {i + 1}: indentation = depth", depth,
          len(m.group(1)))
    node = {"bytes": int(m.group(3)), "label": m.group(4), "children": []}
    i += 1
    for _ in range(int(m.group(2))):
        c, i = parse_tree(lines, i, depth + 1)
        node["children"].append(c)
    # The "below massif's threshold" node comes last whatever its size, as in massif.
    b = [c["bytes"] for c in node["children"] if "below massif's threshold" not in c["label"]]
    check(b == sorted(b, reverse=True), f"massif: children by bytes descending at {node['label']}")
    check(sum(b) <= node["bytes"], f"massif: children within their parent at {node['label']}")
    return node, i


def check_massif(a, trace, rep):
    out = os.path.join(a.workdir, "massif.out")
    run([a.analyzer, "-q", "--massif", out, trace])
    with open(out) as f:
        snaps = parse_massif(f.read())
    peak = [s for s in snaps if s["heap_tree"] == "peak"]
    want_peak = rep["summary"]["peak_heap_bytes"]
    if peak:
        check(peak[0]["mem_heap_B"] == want_peak, "massif: the peak snapshot's heap", want_peak,
              peak[0]["mem_heap_B"])
        check(abs(peak[0]["time"] - rep["summary"]["peak_time_s"] * 1000) <= 0.5,
              "massif: the peak snapshot at the peak's time (ms)",
              rep["summary"]["peak_time_s"] * 1000, peak[0]["time"])
    check(max(s["mem_heap_B"] for s in snaps) == want_peak, "massif: no snapshot above the peak")
    check(snaps[-1]["mem_heap_B"] == rep["summary"]["leaked_bytes"],
          "massif: the last snapshot holds what was never freed", rep["summary"]["leaked_bytes"],
          snaps[-1]["mem_heap_B"])
    ms = run(["ms_print", out])
    printed = f"{want_peak:,}"
    check(re.search(rf"^\s+\d+\s+[\d,]+\s+{printed}\s+{printed}\s+0\s+0\s*$", ms.stdout, re.M),
          "ms_print: the peak's row", printed, ms.stdout[:3000])
    check(re.search(r"Detailed snapshots: \[.*\d+ \(peak\)", ms.stdout),
          "ms_print: the peak among the detailed snapshots")
    if a.known:
        # The first entry of the peak's own tree: after its row (an earlier detailed
        # snapshot, taken while alloc_big's blocks were being made, has a tree too).
        n = re.search(r"Detailed snapshots: \[.*?(\d+) \(peak\)", ms.stdout)
        row = n and re.search(rf"^\s+{n.group(1)}\s+[\d,]+\s+[\d,]+\s", ms.stdout, re.M)
        top = row and re.compile(r"\n->(\S+) \(([\d,]+)B\) 0x[0-9A-F]+: (\w+) \((.*):(\d+)\)\n"
                                ).search(ms.stdout, row.end())
        got = top and (top.group(2), top.group(3), top.group(4).endswith("exports_prog.c"),
                       int(top.group(5)))
        check(got == ("1,000,000", "alloc_big", True, a.line_big),
              "ms_print: the peak tree's top entry", ("1,000,000", "alloc_big", True, a.line_big),
              got)
        check(peak and peak[0]["tree"]["children"][0]["bytes"] == 1000000,
              "massif: the peak tree's first child is alloc_big's 1000000 bytes")


# --- DHAT ---------------------------------------------------------------------------

DH_VIEW = "/usr/libexec/valgrind/dh_view.js"  # valgrind's viewer, as Debian installs it

# A page that runs valgrind's dh_view.js unchanged and feeds it the file as its Load
# button does (JSON.parse, buildTree, displayTree); written at test time, never copied.
DRIVER = """<!DOCTYPE html>
<html><head><meta charset="UTF-8"><script src="file://%s"></script>
<script>
window.addEventListener("load", () => {
  onLoad();
  try {
    gFilename = "heapprof.dhat.json";
    gData = JSON.parse(document.getElementById("data").textContent);
    buildTree();
    displayTree(0, 0, 0);
    document.body.setAttribute("data-result", "ok");
  } catch (e) {
    document.body.setAttribute("data-result", "error: " + e);
  }
});
</script></head><body><script id="data" type="application/json">%s</script></body></html>
"""


def check_dhat(a, trace, rep):
    out = os.path.join(a.workdir, "dhat.json")
    run([a.analyzer, "-q", "--dhat", out, trace])
    with open(out, encoding="utf-8") as f:
        text = f.read()
    d = json.loads(text)
    # dh_view.js buildTree/checkPP's requirements.
    for k in ("dhatFileVersion", "mode", "verb", "bklt", "bkacc", "tu", "Mtu", "cmd", "pid",
              "te", "pps", "ftbl", "tg", "tuth"):
        check(k in d, f"dhat: top-level field {k}")
    check(d.get("dhatFileVersion") == 2 and d.get("mode") == "heap" and d.get("bklt") is True
          and d.get("bkacc") is False, "dhat: version 2, heap mode, lifetimes, no accesses")
    check(d["ftbl"][0] == "[root]", "dhat: ftbl[0] is [root]", "[root]", d["ftbl"][0])
    for pp in d["pps"]:
        for k in ("tb", "tbk", "tl", "mb", "mbk", "gb", "gbk", "eb", "ebk", "fs"):
            check(k in pp, f"dhat: PP field {k}")
        check(pp["fs"] and all(0 < i < len(d["ftbl"]) for i in pp["fs"]),
              "dhat: PP frames index ftbl", "1..", pp["fs"])
        check(pp["mb"] >= pp["gb"] and pp["mb"] >= pp["eb"] and pp["tb"] >= pp["mb"],
              "dhat: tb >= mb >= gb, eb", True, pp)
        check(0 <= pp["tl"] <= pp["tbk"] * d["te"], "dhat: lifetimes within the run", True, pp)
    s = rep["summary"]
    for field, key in (("tb", "allocated_bytes"), ("tbk", "allocations"),
                       ("gb", "peak_heap_bytes"), ("eb", "leaked_bytes"),
                       ("ebk", "leaked_allocations")):
        got = sum(pp[field] for pp in d["pps"])
        check(got == s[key], f"dhat: sum of {field} = summary.{key}", s[key], got)
    # The JSON report prints seconds to 6 significant digits: within 1 µs of them.
    check(abs(d["te"] - s["duration_s"] * 1e6) <= 1 and abs(d["tg"] - s["peak_time_s"] * 1e6) <= 1,
          "dhat: te and tg, the duration and the peak's time in µs",
          (s["duration_s"], s["peak_time_s"]), (d["te"], d["tg"]))
    if a.known:
        by = {}
        for pp in d["pps"]:
            m = re.match(r"0x[0-9A-F]+: (\w+) ", d["ftbl"][pp["fs"][0]])
            by[m.group(1) if m else d["ftbl"][pp["fs"][0]]] = pp
        want = {
            "alloc_big": (1000000, 10, 1000000, 10, 1000000, 10, 0, 0),
            "alloc_leak": (12288, 3, 12288, 3, 12288, 3, 12288, 3),
            "use_temp": (3200, 50, 64, 1, 0, 0, 0, 0),
        }
        got = {f: tuple(pp[k] for k in ("tb", "tbk", "mb", "mbk", "gb", "gbk", "eb", "ebk"))
               for f, pp in by.items()}
        check(got == want, "dhat: each site's tb tbk mb mbk gb gbk eb ebk", want, got)
        leak = by.get("alloc_leak", {})
        # Never freed: each of the 3 blocks lives from its allocation to the end. The
        # last one makes the peak (tg); the others are older by their distance in the
        # trace's clock (units of 2^time_shift ticks, --dump shows both).
        dump = run([a.analyzer, "--dump", trace]).stdout
        m = re.search(r"ticks_per_second=(\d+) time_shift=(\d+)", dump)
        unit_us = (1 << int(m.group(2))) / int(m.group(1)) * 1e6 if m else 0
        ts = [int(t) for t in re.findall(r"^alloc thread=\d+ t=(\d+) size=4096 ", dump, re.M)]
        want_tl = 3 * (d["te"] - d["tg"]) + sum(max(ts) - t for t in ts) * unit_us if ts else -1
        check(leak and len(ts) == 3 and abs(leak["tl"] - want_tl) <= 3 * 2,
              "dhat: alloc_leak's lifetimes run to the end", want_tl, leak.get("tl"))
    # The viewer itself, in headless Chromium.
    if not os.path.exists(DH_VIEW):
        fail("dh_view.js of valgrind", DH_VIEW, "missing")
        return
    page = os.path.join(a.workdir, "dh_view_driver.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write(DRIVER % (DH_VIEW, text.replace("</", "<\\/")))
    p = run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--user-data-dir=" + os.path.join(a.workdir, "chromium"),
             "--virtual-time-budget=5000", "--dump-dom", "file://" + page], timeout=120)
    dom = p.stdout
    m = re.search(r'data-result="([^"]*)"', dom)
    check(m and m.group(1) == "ok", "dh_view.js loads the file", "ok", m and m.group(1))
    check("Total:" in dom and "At t-gmax:" in dom and "At t-end:" in dom,
          "dh_view.js shows totals, t-gmax and t-end", True, dom[-3000:])
    if a.known:
        check(re.search(r"alloc_big \(\S*exports_prog\.c:\d+\)", dom)
              and "1,000,000 bytes" in dom, "dh_view.js shows alloc_big's 1,000,000 bytes", True,
              dom[-3000:])


# --- command line -------------------------------------------------------------------

def check_cli(a, trace):
    cases = [
        (["--collapsed", "bytes", trace], 1, r"invalid --collapsed 'bytes': expected peak"),
        (["--pprof-at", "start", "--pprof", "x.pb.gz", trace], 1, r"invalid --pprof-at 'start'"),
        (["--pprof-at", "end", trace], 1, r"--pprof-at needs --pprof FILE"),
        (["--pprof", os.path.join(a.workdir, "x.pb.gz"), trace, trace], 1,
         r"--pprof takes one trace"),
        (["--massif", "m.out", "-o", "n.out", trace], 1, r"--massif FILE writes FILE"),
        (["--collapsed", "peak", "--follow", trace], 1, r"--collapsed takes one trace"),
        (["--pprof", "a.pb.gz", "--massif", "m.out", trace], 1, r"one report at a time"),
        (["--format", "json", "--dhat", "d.json", trace], 1, r"one report at a time"),
        (["--massif", os.path.join(a.workdir, "no", "such", "dir"), trace], 1,
         r"cannot open '.*no/such/dir' for writing"),
        (["--pprof", os.path.join(a.workdir, "y.pb.gz"), os.path.join(a.workdir, "missing.zst")],
         2, r"cannot open '.*missing\.zst'"),
    ]
    for args, rc, msg in cases:
        p = run([a.analyzer] + args, want_rc=rc)
        check(re.search(msg, p.stderr), f"message of {' '.join(args)}", msg, p.stderr)
    help_text = run([a.analyzer, "--help"]).stdout
    for opt in ("--collapsed KIND", "--pprof FILE", "--pprof-at WHEN", "--massif FILE",
                "--dhat FILE"):
        check(opt in help_text, f"--help documents {opt}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--analyzer", required=True)
    ap.add_argument("--preload", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--known", help="exports_prog.c: its exact counts are checked")
    ap.add_argument("--inlined", help="tests/preload/inlined.c: pprof's inlined lines")
    ap.add_argument("--env", action="append", default=[], help="K=V for the program")
    ap.add_argument("check", choices=["collapsed", "pprof", "massif", "dhat", "cli", "pprof-inlined", "exports",
                                       "all"])
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    a.workdir = os.path.abspath(a.workdir)
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    if a.known:
        with open(a.known) as f:
            a.line_big = next(i for i, ln in enumerate(f, 1) if "@EXP_BIG" in ln)
    trace = record(a, cmd)
    rep = report(a, trace)
    exe = rep["process"]["exe"]
    if a.check in ("collapsed", "exports", "all"):
        check_collapsed(a, trace, rep)
    if a.check in ("pprof", "exports", "all"):
        check_pprof(a, trace, rep, exe)
    if a.check in ("massif", "exports", "all"):
        check_massif(a, trace, rep)
    if a.check in ("dhat", "exports", "all"):
        check_dhat(a, trace, rep)
    if a.check == "pprof-inlined":
        check_inlined(a, trace)
    if a.check in ("cli", "all"):
        check_cli(a, trace)
    for f in failures:
        print("FAIL", f)
    print(f"check_exports {a.check}: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
