#!/usr/bin/env python3
"""The diff of two runs: heapprof-analyze --diff BASE NEW (docs/diff.md).

    check_diff.py --preload LIB --analyzer BIN --base PROG --new PROG --source diff_prog.c
                  --workdir DIR CASE

PROG BASE and NEW are diff_prog.c built twice (see its comment for the known changes).
CASE is one of:
  sites   the JSON: totals and every site's change exactly as known, the two calls on one
          line merged, the added and removed sites, BASE's functions at other addresses
          than NEW's (so the match cannot be by address), the order by change of peak
  text    the text report: each section's first site, its change and its stack at the
          marker's line; COLUMNS narrows it; the other measures' changes
  budget  --fail-on-increase: exit 3 just above the measured change, 0 just below, for
          peak, calls, allocated and leaked; the diff reversed passes budgets of 0
  input   a missing trace, a file that is not a trace (exit 2 naming it), usage errors
  real    two runs of a real multi-threaded program (zstd -T4): every site of either run
          accounted for, the totals those of each run's own report, site changes summing
          to the totals' change; a run diffed with itself changes nothing
  html    --diff --html in headless chromium (--chromium): the cards' changes and budget
          verdicts, every known site's changes in the table, the differential flame
          graph's colours (a site that grew drawn red, one that shrank blue), width by
          BASE drawing the site NEW lacks, a click zooming, no console error, no network,
          a non-blank screenshot; the page of the bundled example run for 2,000 and 4,000
          requests (--example), its known per-request site; the page of the zstd runs,
          its cards the JSON's
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

# The environment of a program run under the preload, shared by the report tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from preload_env import preload_env  # noqa: E402

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def markers(path):
    lines = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            for m in re.finditer(r"/\* @(\w+) \*/", line):
                lines[m.group(1)] = n
    return lines


def record(a, prog_args, trace):
    subprocess.run(prog_args, env=preload_env(a.preload, trace), check=True, timeout=60, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL)
    if not os.path.exists(trace):
        sys.exit(f"no trace written at {trace}")


def analyze(a, args, env=None):
    e = dict(os.environ)
    e.pop("COLUMNS", None)
    e.update(env or {})
    return subprocess.run([a.analyzer] + args, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60, env=e)


def diff_json(a, base, new, extra=()):
    p = analyze(a, ["--diff", "--format", "json", *extra, base, new])
    if p.returncode != 0:
        sys.exit(f"--diff --format json exited {p.returncode}: {p.stderr}")
    return json.loads(p.stdout)["diff"]


def by_function(d, name):
    """The entries whose innermost frame is function `name`."""
    return [s for s in d["sites"] if s["stack"] and s["stack"][0]["function"] == name]


def traces(a):
    base, new = (os.path.join(a.workdir, n + ".zst") for n in ("base", "new"))
    record(a, [a.base], base)
    record(a, [a.new], new)
    return base, new


EXPECT = {
    # function: status, {measure: (base, new)}, base_sites, new_sites
    "grow_calls": ("matched", {"calls": (100, 150), "allocated": (6400, 9600), "peak": (0, 0),
                               "leaked": (0, 0)}, 1, 1),
    "shrink_calls": ("matched", {"calls": (40, 10), "allocated": (40000, 10000)}, 1, 1),
    "two_per_line": ("matched", {"calls": (40, 60), "allocated": (640, 960)}, 2, 2),
    "leak_some": ("matched", {"calls": (3, 5), "allocated": (300, 500), "leaked": (300, 500),
                              "peak": (300, 500), "leaked_allocations": (3, 5)}, 1, 1),
    "peak_block": ("matched", {"calls": (1, 1), "allocated": (1 << 20, 1536 << 10),
                               "peak": (1 << 20, 1536 << 10), "leaked": (0, 0)}, 1, 1),
    "only_base": ("removed", {"calls": (1, 0), "allocated": (4096, 0)}, 1, 0),
    "only_new": ("added", {"calls": (0, 7), "allocated": (0, 224)}, 0, 1),
}
TOTAL_CHANGE = {"calls": 48, "allocated": 494136, "peak": 524488, "leaked": 200}
LINES = {"grow_calls": "GROW", "shrink_calls": "SHRINK", "two_per_line": "PAIRS",
         "leak_some": "LEAK", "peak_block": "PEAK", "only_base": "ONLY_BASE",
         "only_new": "ONLY_NEW"}


def case_sites(a, mk):
    base, new = traces(a)
    d = diff_json(a, base, new)
    for measure, change in TOTAL_CHANGE.items():
        check(d["totals"][measure]["change"] == change,
              f"totals.{measure}.change: {d['totals'][measure]} != {change}")
    check(d["sites_added"] == 1 and d["sites_removed"] == 1,
          f"one site added and one removed, got {d['sites_added']}, {d['sites_removed']}")
    for fn, (status, figures, nb, nn) in EXPECT.items():
        e = by_function(d, fn)
        if not check(len(e) == 1, f"{fn}: {len(e)} entries, expected 1"):
            continue
        e = e[0]
        check(e["status"] == status, f"{fn}: status {e['status']} != {status}")
        check((e["base_sites"], e["new_sites"]) == (nb, nn),
              f"{fn}: merged sites {e['base_sites']}, {e['new_sites']} != {nb}, {nn}")
        check(e["stack"][0]["line"] == mk[LINES[fn]] and
              e["stack"][0]["file"].endswith("diff_prog.c"),
              f"{fn}: innermost frame {e['stack'][0]} not at diff_prog.c:{mk[LINES[fn]]}")
        check(len(e["stack"]) >= 2 and e["stack"][1]["function"] == "main",
              f"{fn}: caller {e['stack'][1:2]} is not main")
        for measure, (x, y) in figures.items():
            f = e[measure]
            check((f["base"], f["new"], f["change"]) == (x, y, y - x),
                  f"{fn}.{measure}: {f} != base {x}, new {y}")
    # Largest change of peak first; then by the other measures.
    check([s["stack"][0]["function"] for s in d["sites"][:2]] == ["peak_block", "leak_some"],
          f"order: {[s['stack'][0]['function'] for s in d['sites'][:4]]}")
    # Every other site (the C runtime's) is the same in both runs.
    ours = set(EXPECT)
    for s in d["sites"]:
        if s["stack"] and s["stack"][0]["function"] in ours:
            continue
        check(s["status"] == "matched" and all(s[m]["change"] == 0 for m in TOTAL_CHANGE),
              f"a runtime site changed: {s}")
    # The match is not by address: BASE's functions are elsewhere in NEW.
    addr = {}
    for t in (base, new):
        p = analyze(a, ["--format", "json", t])
        r = json.loads(p.stdout)
        addr[t] = {s["stack"][0]["function"]: s["stack"][0]["address"] for s in r["sites"]
                   if s["stack"] and s["stack"][0]["function"] in ours}
    for fn in ("grow_calls", "peak_block", "leak_some"):
        check(addr[base].get(fn) and addr[new].get(fn) and addr[base][fn] != addr[new][fn],
              f"{fn} at the same address in both builds ({addr[base].get(fn)}): the test "
              "does not prove a match by lines")


def section(text, title):
    m = re.search(r"^top \d+ changes? of " + re.escape(title) + r"\n(.*?)(?=^\S|\Z)", text,
                  re.M | re.S)
    return m.group(1) if m else ""


def case_text(a, mk):
    base, new = traces(a)
    p = analyze(a, ["--diff", base, new])
    check(p.returncode == 0, f"--diff exited {p.returncode}: {p.stderr}")
    t = p.stdout
    check("\033[" not in t, "colour codes in output to a pipe")
    check(re.search(r"^  peak heap\s+\S+ \S+\s+\S+ \S+\s+\+512\.2 KiB\s+\+\d+\.\d%$", t, re.M),
          "totals line of peak heap with +512.2 KiB")
    check(re.search(r"^  calls\s+[\d,]+\s+[\d,]+\s+\+48\s+\+\d+\.\d%$", t, re.M),
          "totals line of calls with +48")
    check(re.search(r"^  leaked bytes\s+.*\+200 B", t, re.M), "totals line of leaked +200 B")
    check(re.search(r"sites\s+\d+ in both, 1 new, 1 gone", t), "sites line: 1 new, 1 gone")
    first = {
        "peak heap": (r"\+512\.0 KiB \+50\.0%  1\.0 MiB -> 1\.5 MiB", "peak_block", "PEAK"),
        "calls": (r"\+50 \+50\.0%  100 -> 150", "grow_calls", "GROW"),
        "bytes allocated": (r"\+512\.0 KiB \+50\.0%  1\.0 MiB -> 1\.5 MiB", "peak_block",
                            "PEAK"),
        "leaked bytes": (r"\+200 B \+66\.7%  300 B -> 500 B", "leak_some", "LEAK"),
    }
    for title, (row, fn, mark) in first.items():
        s = section(t, title)
        check(re.match(r"  #1\s+" + row + r"\n", s), f"section {title}: first row {s[:80]!r}")
        check(f"        at {fn} (diff_prog.c:{mk[mark]})\n        at main (diff_prog.c:" in s,
              f"section {title}: stack of {fn} at line {mk[mark]}")
    s = section(t, "calls")
    check(re.search(r"#2\s+-30 -75\.0%  40 -> 10", s), "calls #2: shrink_calls -30")
    check(re.search(r"#3\s+\+20 \+50\.0%  40 -> 60", s), "calls #3: the merged pair +20")
    check(re.search(r"#4\s+\+7 new  0 -> 7  \(new site\)", s), "calls #4: only_new, a new site")
    check(re.search(r"peak 0 B, allocated \+224 B, leaked 0 B", s),
          "other measures' line of only_new")
    # --top and COLUMNS: fewer rows, a narrower layout that still says the same.
    p = analyze(a, ["--diff", "--top", "1", base, new])
    check(p.stdout.count("  #1 ") == 4 and "  #2 " not in p.stdout, "--top 1: one row each")
    p = analyze(a, ["--diff", base, new], {"COLUMNS": "40"})
    n = p.stdout
    check(re.search(r"^  peak heap: \S+ \S+ -> \S+ \S+, \+512\.2 KiB \+\d+\.\d%$", n, re.M),
          "COLUMNS=40: totals one per line")
    check(re.search(r"^        allocated \+512\.0 KiB$", section(n, "peak heap"), re.M),
          "COLUMNS=40: the other measures one per line")
    p = analyze(a, ["--diff", "--color=always", base, new])
    check("\033[31m+512.0 KiB +50.0%\033[0m" in p.stdout, "--color=always: an increase in red")
    check("\033[32m-30 -75.0%\033[0m" in p.stdout, "--color=always: a decrease in green")


def case_budget(a, mk):
    base, new = traces(a)
    d = diff_json(a, base, new)
    for m in ("peak", "calls", "allocated", "leaked"):
        t = d["totals"][m]
        pct = t["change"] * 100 / t["base"]
        for factor, rc in ((0.999999, 3), (1.000001, 0)):
            spec = f"{m}:{pct * factor:.9f}"
            p = analyze(a, ["--diff", "--fail-on-increase", spec, base, new])
            check(p.returncode == rc, f"--fail-on-increase {spec} (change {pct:.9f}%): exit "
                  f"{p.returncode}, expected {rc}; {p.stderr}")
            if rc == 3:
                check(re.search(r"check failed: .* grew by .*--fail-on-increase " + m, p.stderr),
                      f"{spec}: message {p.stderr!r}")
    # peak is the default measure; several budgets in one argument and repeated.
    pct = d["totals"]["peak"]["change"] * 100 / d["totals"]["peak"]["base"]
    p = analyze(a, ["--diff", "--fail-on-increase", f"{pct * 0.999:.6f}", base, new])
    check(p.returncode == 3, f"a bare PERCENT is peak's: exit {p.returncode}")
    p = analyze(a, ["--diff", "--fail-on-increase", "calls:1000,allocated:1000",
                    "--fail-on-increase", "leaked:0", base, new])
    check(p.returncode == 3 and p.stderr.count("check failed") == 1,
          f"leaked:0 fails alone: exit {p.returncode}, {p.stderr!r}")
    # Everything shrinks the other way round: budgets of 0 pass.
    p = analyze(a, ["--diff", "--fail-on-increase", "peak:0,calls:0,allocated:0,leaked:0",
                    new, base])
    check(p.returncode == 0, f"reversed diff, budgets 0: exit {p.returncode}; {p.stderr}")
    # The checks of one run apply to NEW.
    p = analyze(a, ["--diff", "--max-peak", "1200K", base, new])
    check(p.returncode == 3, f"--max-peak 1200K on NEW (1.5 MiB): exit {p.returncode}")
    p = analyze(a, ["--diff", "--max-peak", "1200K", new, base])
    check(p.returncode == 0, f"--max-peak 1200K on BASE as NEW: exit {p.returncode}")


def case_input(a, mk):
    base, new = traces(a)
    missing = os.path.join(a.workdir, "missing.zst")
    junk = os.path.join(a.workdir, "junk.zst")
    with open(junk, "w") as f:
        f.write("this is not a heapprof trace\n")
    for args, where in (([missing, new], missing), ([base, missing], missing),
                        ([junk, new], junk), ([base, junk], junk)):
        p = analyze(a, ["--diff", *args])
        check(p.returncode == 2, f"--diff {args}: exit {p.returncode}, expected 2")
        check(f"'{where}'" in p.stderr, f"--diff {args}: stderr {p.stderr!r} does not name it")
        check(p.stdout == "", f"--diff {args}: a report on stdout")
    for args in (["--diff", base], ["--diff", base, new, new], ["--diff", "--format", "lsan",
                 base, new], ["--fail-on-increase", "5", base],
                 ["--diff", "--fail-on-increase", "size:5", base, new],
                 ["--diff", "--fail-on-increase", "peak:-1", base, new],
                 ["--diff", "--fail-on-increase", "peak:", base, new]):
        p = analyze(a, args)
        check(p.returncode == 1 and p.stderr, f"{args}: exit {p.returncode}, expected 1")


def zstd_runs(a):
    """Two traces of zstd -T4 compressing the same file, or None without zstd."""
    zstd = shutil.which("zstd")
    if not check(zstd, "zstd not found (tools/deps.sh installs it)"):
        return None
    data = os.path.join(a.workdir, "data")
    with open(data, "wb") as f:
        for i in range(40000):
            f.write(b"line %d of the input, %s\n" % (i, b"x" * (i % 61)))
    runs = []
    for i in range(2):
        t = os.path.join(a.workdir, f"zstd{i}.zst")
        record(a, [zstd, "-q", "-f", "-T4", "-19", "--long=20", data, "-o", data + f".{i}"], t)
        runs.append(t)
    return runs


def case_real(a, mk):
    runs = zstd_runs(a)
    if not runs:
        return
    own = [json.loads(analyze(a, ["--format", "json", t]).stdout) for t in runs]
    check(own[0]["summary"]["threads"] > 1, "zstd -T4 ran one thread")
    d = diff_json(a, *runs)
    for m, field in (("peak", "peak_heap_bytes"), ("calls", "allocations"),
                     ("allocated", "allocated_bytes"), ("leaked", "leaked_bytes")):
        t = d["totals"][m]
        check((t["base"], t["new"]) == (own[0]["summary"][field], own[1]["summary"][field]),
              f"totals.{m} {t} are not the runs' own {field}")
        if m == "peak":
            continue
        s = sum(e[m]["change"] for e in d["sites"])
        check(s == t["change"], f"sites' {m} changes sum to {s}, totals change {t['change']}")
    check(sum(e["base_sites"] for e in d["sites"]) == len(own[0]["sites"]) and
          sum(e["new_sites"] for e in d["sites"]) == len(own[1]["sites"]),
          "every site of either run in the diff once")
    check(d["sites_matched"] > 0, "no site matched between two runs of the same program")
    same = diff_json(a, runs[0], runs[0])
    check(same["sites_added"] == 0 and same["sites_removed"] == 0 and
          all(e[m]["change"] == 0 for e in same["sites"] for m in TOTAL_CHANGE),
          "a run diffed with itself changes")
    p = analyze(a, ["--diff", "--fail-on-increase", "peak:0,calls:0,leaked:0", runs[0], runs[0]])
    check(p.returncode == 0, f"a run against itself fails a budget of 0: {p.stderr}")


def diff_page(a, base, new, html, extra=()):
    """Writes the --diff --html page; returns the exit status."""
    p = analyze(a, ["--diff", "--html", html, *extra, base, new])
    check(p.returncode in (0, 3) and os.path.getsize(html) > 0,
          f"--diff --html exited {p.returncode}: {p.stderr}")
    return p.returncode


def open_page(a, html):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "html"))
    from chromium_page import Page, png_pixels
    page = Page(a.chromium, a.workdir, timeout=60)
    url = "file://" + os.path.abspath(html)
    page.navigate(url)
    check(page.eval("!!window.heapprof"), f"{html}: the page did not render: {page.errors[:5]}")
    return page, url, png_pixels


def page_done(page, url, html):
    others = [u for u in page.requests if u != url and not u.startswith("data:")]
    check(not others, f"{html}: network requests {others[:5]}")
    check(not page.errors, f"{html}: console errors {page.errors[:5]}")


def cards(page):
    return page.eval("""Array.from(document.querySelectorAll('.card')).map(function (c) {
        return [c.id, Number(c.dataset.delta), c.dataset.budget]; })""")


def case_html(a, mk):
    base, new = traces(a)
    html = os.path.join(a.workdir, "diff.html")
    rc = diff_page(a, base, new, html, ["--fail-on-increase", "peak:49,calls:26"])
    check(rc == 3, f"--diff --html with a budget exceeded exited {rc}, expected 3")
    page, url, png_pixels = open_page(a, html)
    try:
        # 50.0% more peak exceeds a budget of 49%; 25.9% more calls is within 26%.
        want = {"card-" + m: (c, {"peak": "exceeded", "calls": "within"}.get(m, ""))
                for m, c in TOTAL_CHANGE.items()}
        got = {c[0]: (c[1], c[2]) for c in cards(page)}
        check(got == want, f"cards {got}, expected {want}")
        rows = page.eval("""Array.from(document.querySelectorAll('#diff-table tr.row')).map(
            function (tr) { var o = {}; tr.querySelectorAll('td').forEach(function (td) {
              o[td.dataset.col] = td.dataset.value; }); return o; })""")
        where = {"matched": "both", "added": "new", "removed": "gone"}
        for fn, (status, figures, _, _) in EXPECT.items():
            r = [r for r in rows if r.get("function") == fn]
            if not check(len(r) == 1, f"table: {len(r)} rows of {fn}"):
                continue
            r = r[0]
            check(r["status"] == where[status], f"table: {fn} in {r['status']}")
            check(r["location"].endswith(f"diff_prog.c:{mk[LINES[fn]]} (hp_diff_base)") or
                  r["location"].endswith(f"diff_prog.c:{mk[LINES[fn]]} (hp_diff_new)"),
                  f"table: {fn} at {r['location']}")
            for m, (b, n) in figures.items():
                if m in TOTAL_CHANGE:
                    check(int(r[m]) == n - b, f"table: {fn} {m} change {r[m]}, expected {n - b}")

        def colour(fn):
            """(r, g, b) of the canvas at the middle of fn's frame, None when not drawn."""
            return page.eval("""(function (n) {
                var r = window.heapprof.frameRect(n); if (!r) return null;
                var c = document.getElementById('flame'), d = window.devicePixelRatio || 1;
                var p = c.getContext('2d').getImageData(Math.round(r.cx * d),
                    Math.round(r.cy * d), 1, 1).data;
                return [p[0], p[1], p[2]]; })(%s)""" % json.dumps(fn))
        page.eval("document.getElementById('kind-calls').click()")
        grew, shrank = colour("grow_calls"), colour("shrink_calls")
        check(grew and grew[0] > grew[2] + 40, f"grow_calls (+50 calls) drawn {grew}, not red")
        check(shrank and shrank[2] > shrank[0] + 40,
              f"shrink_calls (-30 calls) drawn {shrank}, not blue")
        check(colour("only_base") is None, "only_base drawn with NEW's widths (it has no calls)")
        page.eval("document.getElementById('width-base').click()")
        gone = colour("only_base")
        check(gone and gone[2] > gone[0] + 40, f"only_base with BASE's widths: {gone}, not blue")
        check(colour("only_new") is None, "only_new drawn with BASE's widths")
        page.eval("document.getElementById('width-new').click()")
        r = page.eval("window.heapprof.frameRect('grow_calls')")
        if check(r, "grow_calls not drawn"):
            page.click(r["x"], r["y"])
            zoom = page.eval("document.getElementById('flame').dataset.zoom")
            check(zoom == "grow_calls", f"a click on grow_calls zoomed to {zoom!r}")
        page.eval("document.getElementById('kind-peak').click()")
        peak = colour("peak_block")
        check(peak and peak[0] > peak[2] + 40, f"peak_block (+512 KiB at the peak) drawn {peak}")
        page.eval("document.querySelector('#diff-table tr.row').click()")
        check(page.eval("!!document.querySelector('#diff-table tr.stack div')"),
              "a click on a site did not show its stack")
        w, h, px, bpp = png_pixels(page.screenshot(height=900, scale=0.5))
        colours = {row[i:i + 3] for row in px for i in range(0, len(row), bpp * 2)}
        check(len(colours) >= 50, f"the screenshot looks blank ({len(colours)} colours)")
        page_done(page, url, html)
    finally:
        page.close()

    # The bundled example, 2,000 requests then 4,000: per request one handle_request
    # allocation of 252 bytes (tests/html's html.example: 20,000 requests, 5,040,000 B).
    if a.example:
        ex = []
        for n in (2000, 4000):
            t = os.path.join(a.workdir, f"example{n}.zst")
            record(a, [a.example, str(n)], t)
            ex.append(t)
        html = os.path.join(a.workdir, "example.html")
        diff_page(a, ex[0], ex[1], html)
        page, url, _ = open_page(a, html)
        try:
            rows = page.eval("""Array.from(document.querySelectorAll('#diff-table tr.row')).map(
                function (tr) { var o = {}; tr.querySelectorAll('td').forEach(function (td) {
                  o[td.dataset.col] = td.dataset.value; }); return o; })""")
            h = [r for r in rows if r.get("function") == "handle_request"]
            check(len(h) == 1 and int(h[0]["calls"]) == 2000 and
                  int(h[0]["allocated"]) == 2000 * 252,
                  f"example page: handle_request rows {h}, expected +2000 calls, +504000 B")
            page_done(page, url, html)
        finally:
            page.close()

    runs = zstd_runs(a)
    if not runs:
        return
    d = diff_json(a, *runs)
    html = os.path.join(a.workdir, "zstd.html")
    diff_page(a, runs[0], runs[1], html)
    page, url, _ = open_page(a, html)
    try:
        got = {c[0]: c[1] for c in cards(page)}
        want = {"card-" + m: d["totals"][m]["change"] for m in TOTAL_CHANGE}
        check(got == want, f"zstd page cards {got}, the JSON's {want}")
        check(page.eval("document.querySelectorAll('#diff-table tr.row').length") > 0 or
              page.eval("!!document.getElementById('diff-none')"), "zstd page: no sites table")
        page_done(page, url, html)
    finally:
        page.close()


def main():
    ap = argparse.ArgumentParser()
    for o in ("preload", "analyzer", "base", "new", "source", "workdir"):
        ap.add_argument("--" + o, required=True)
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--example", help="the bundled example-server (case html)")
    ap.add_argument("case", choices=["sites", "text", "budget", "input", "real", "html"])
    a = ap.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    globals()["case_" + a.case](a, markers(a.source))
    if failures:
        print(f"diff.{a.case}: {len(failures)} failure(s):")
        for f in failures:
            print("  " + f)
        sys.exit(1)
    print(f"diff.{a.case}: ok")


if __name__ == "__main__":
    main()
