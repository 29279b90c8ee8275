#!/usr/bin/env python3
"""Runs a program under libheapprof.so, writes its HTML report (and SVG pictures) with
heapprof-analyze, and checks them in the real consumers: the page in headless chromium
(no console error, no network request, the expected elements with the expected numbers,
a click on a frame zooms, a drag on the timeline re-scopes the flame graph, a screenshot
that is not blank), the SVG with xml.etree (well-formed, widths proportional to bytes).

Expected numbers are exact (--peak, --site FUNC:COLUMN=N) or, for a real program whose
counts are not known beforehand, those of the analyzer's own JSON report of the same trace
(--from-json). Prints the report's size and load time."""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from chromium_page import ChromiumError, Page, png_pixels  # noqa: E402
from preload_env import preload_env  # noqa: E402

FAILS = []


T0 = time.monotonic()


def log(msg):
    print("check_html: [%5.1f s] %s" % (time.monotonic() - T0, msg), flush=True)


def fail(msg):
    FAILS.append(msg)
    log("FAIL: " + msg)


def record(a):
    if os.path.isdir(a.workdir):
        shutil.rmtree(a.workdir)
    os.makedirs(a.workdir)
    env = preload_env(a.preload, os.path.join(a.workdir, "trace.%p.zst"))
    t0 = time.monotonic()
    r = subprocess.run(a.program, env=env, stdout=subprocess.DEVNULL, timeout=a.timeout)
    log("ran %s in %.2f s, exit %d" % (" ".join(a.program),
                                                    time.monotonic() - t0, r.returncode))
    if r.returncode != 0:
        fail("program exit status %d" % r.returncode)
    traces = sorted(glob.glob(os.path.join(a.workdir, "trace.*.zst")), key=os.path.getsize)
    if not traces:
        sys.exit("check_html: no trace written")
    return traces[-1]  # the largest: the process itself, not a child it ran


def analyze(a, args, want_rc=0, **kw):
    t0 = time.monotonic()
    r = subprocess.run([a.analyzer, "-q"] + args, capture_output=True, timeout=a.timeout, **kw)
    if want_rc is not None and r.returncode != want_rc:
        sys.exit("check_html: heapprof-analyze %s: exit %d: %s" % (
            " ".join(args), r.returncode, r.stderr.decode(errors="replace")))
    return r.stdout, time.monotonic() - t0


def first_function(site):
    """The name the page and the SVG give a site's innermost frame: its function, else
    its module's file name."""
    if not site["stack"]:
        return None
    f = site["stack"][0]
    return f["function"] or (os.path.basename(f["module"]) if f["module"] else "??")


def check_checklist(page, want):
    """The checklist card and section: every item's verdict as want says (key -> pass,
    fail or na), the card's number the failures."""
    got = page.eval("""Array.from(document.querySelectorAll('#checklist-table tbody tr')).map(
        function (tr) { return [tr.dataset.key, tr.dataset.verdict]; })""")
    got = dict(got or [])
    if got != want:
        fail("checklist verdicts %s, expected %s" % (got, want))
    failed = page.eval("(function(e){return e && e.dataset.value})"
                       "(document.getElementById('card-checklist'))")
    nfail = sum(v == "fail" for v in want.values())
    if failed is None or int(failed) != nfail:
        fail("#card-checklist: data-value %s, expected %d" % (failed, nfail))
    else:
        log("checklist: %d failed, as --check says" % nfail)


def check_page(a, html, want_cards, want_sites, click, want_checklist=None):
    page = Page(a.chromium, a.workdir, timeout=a.timeout)
    try:
        url = "file://" + os.path.abspath(html)
        t0 = time.monotonic()
        page.navigate(url)
        load_s = time.monotonic() - t0
        rendered = page.eval("window.heapprof ? window.heapprof.renderedMs : null")
        log("%s: %d bytes, loaded in %.2f s (rendered %.0f ms after navigation "
              "start)" % (html, os.path.getsize(html), load_s, rendered or -1))
        if rendered is None:
            fail("the page did not render (window.heapprof missing): %s" % page.errors[:5])
            return
        if a.max_load_s and load_s > a.max_load_s:
            fail("load took %.2f s, over %.1f s" % (load_s, a.max_load_s))
        for sel in ("#timeline", "#timeline .heap-line", "#peak-marker", "canvas#flame",
                    "#sites-table", "#flame-search", "#flame-invert", "#kind-peak",
                    "#kind-calls", "#kind-allocated", "#kind-leaked", "#kind-temporary"):
            if not page.eval("!!document.querySelector(%s)" % json.dumps(sel)):
                fail("no element %s" % sel)
        for sel, want in want_cards.items():
            got = page.eval("(function(e){return e && e.dataset.value})"
                            "(document.querySelector(%s))" % json.dumps(sel))
            if got is None or int(got) != want:
                fail("%s: data-value %s, expected %d" % (sel, got, want))
        rows = page.eval("""Array.from(document.querySelectorAll('#sites-table tr.row')).map(
            function (tr) { var o = {}; tr.querySelectorAll('td').forEach(function (td) {
              o[td.dataset.col] = td.dataset.value; }); return o; })""")
        for fn, col, want in want_sites:
            # Several sites may share a name (unsymbolized frames): one of them has it.
            got = [int(r.get(col)) for r in rows if r.get("function") == fn]
            if want not in got:
                fail("sites table: %s %s = %s, expected %d" % (fn, col, got, want))
        # Every frame in the flame graph of the kind is drawn at its share: the root is
        # the total, and the clicked frame fills the width once zoomed.
        if click:
            r = page.eval("window.heapprof.frameRect(%s)" % json.dumps(click))
            if not r:
                fail("flame graph: no frame %s drawn" % click)
            else:
                page.click(r["x"], r["y"])
                zoom = page.eval("document.getElementById('flame').dataset.zoom")
                path = page.eval("document.getElementById('flame-path').textContent")
                r2 = page.eval("window.heapprof.frameRect(%s)" % json.dumps(click))
                width = page.eval("document.getElementById('flame').clientWidth")
                if zoom != click or click not in path:
                    fail("click on %s did not zoom: data-zoom %r, path %r" % (click, zoom, path))
                elif not r2 or r2["width"] < width - 30:
                    fail("zoomed frame %s is %s px wide, the graph %s" % (click, r2, width))
                else:
                    log("click on %s zoomed: %s" % (click, path))
                page.eval("document.getElementById('flame-reset').click()")
        # A drag across the middle of the timeline scopes the flame graph to it.
        box = page.eval("(function(b){return [b.left,b.top,b.width,b.height]})"
                        "(document.getElementById('timeline').getBoundingClientRect())")
        page.call("Runtime.evaluate", {"expression": "window.scrollTo(0,0)"}, session=True)
        page.drag(box[0] + box[2] * 0.3, box[1] + box[3] / 2, box[0] + box[2] * 0.9)
        scope = page.eval("document.getElementById('flame-scope').className")
        if scope != "on":
            fail("a drag on the timeline did not scope the flame graph")
        else:
            log("drag scoped: " +
                  page.eval("document.getElementById('flame-scope').textContent")[:90])
        page.eval("document.getElementById('flame-unscope').click()")
        if page.eval("document.getElementById('flame-scope').className") == "on":
            fail("the scope did not clear")
        # A click on a column's header sorts the table by it, largest first.
        page.eval("document.querySelector('#sites-table th[data-col=calls]').click()")
        calls = page.eval("""Array.from(document.querySelectorAll(
            '#sites-table tr.row td[data-col=calls]')).map(function (td) {
              return Number(td.dataset.value); })""")
        if not calls or calls != sorted(calls, reverse=True):
            fail("the sites table is not sorted by calls after a click: %s" % calls[:10])
        # A click on a row opens its stack.
        page.eval("document.querySelector('#sites-table tr.row').click()")
        if not page.eval("!!document.querySelector('#sites-table tr.stack div')"):
            fail("a click on a site did not show its stack")
        # The search totals the frames matching it: the clicked function's own frames.
        if click:
            page.eval("""(function(){var s=document.getElementById('flame-search');
                s.value=%s;s.dispatchEvent(new Event('input'));})()""" % json.dumps(
                "^" + re.escape(click) + "$"))
            st = page.eval("document.getElementById('flame-status').textContent")
            if "search: " not in st or "search: 0 " in st:
                fail("searching %s matched nothing: %s" % (click, st))
        # The inverted view and the search run without error.
        page.eval("""(function(){var c=document.getElementById('flame-invert');c.click();
            var s=document.getElementById('flame-search');s.value='a';
            s.dispatchEvent(new Event('input'));c.click();s.value='';
            s.dispatchEvent(new Event('input'));})()""")
        if want_checklist is not None:
            check_checklist(page, want_checklist)
        png = page.screenshot(height=1100, scale=0.5)
        w, h, px, bpp = png_pixels(png)
        colours, counts = set(), {}
        for row in px:
            for i in range(0, len(row), bpp * 2):
                c = row[i:i + 3]
                colours.add(c)
                counts[c] = counts.get(c, 0) + 1
        top = max(counts.values()) / sum(counts.values())
        log("screenshot %dx%d: %d colours, the most common %.0f%% of pixels" % (
            w, h, len(colours), top * 100))
        if len(colours) < 50 or top > 0.9:
            fail("the screenshot looks blank")
        if a.screenshot:
            with open(a.screenshot, "wb") as f:
                f.write(page.screenshot(height=a.screenshot_height, scale=1))
        others = [u for u in page.requests if u != url and not u.startswith("data:")]
        if others:
            fail("the page made network requests: %s" % others[:5])
        if page.errors:
            fail("console errors: %s" % page.errors[:5])
    finally:
        page.close()


def check_svg(a, trace, want_sites):
    # Flame graphs: each kind parses; a frame's width over the root's is its share.
    for kind in ("peak", "calls", "allocated", "leaked", "temporary"):
        out, _ = analyze(a, ["--svg-flamegraph", kind, trace])
        try:
            root = ET.fromstring(out)
        except ET.ParseError as e:
            fail("--svg-flamegraph %s: not well-formed XML: %s" % (kind, e))
            continue
        ns = "{http://www.w3.org/2000/svg}"
        frames = []
        boxes = []
        for g in root.iter(ns + "g"):
            t, r = g.find(ns + "title"), g.find(ns + "rect")
            frames.append((t.text, float(r.get("width")), int(r.get("data-value"))))
            boxes.append((float(r.get("x")), float(r.get("y")), float(r.get("height"))))
        if not frames or not frames[0][0].startswith("all"):
            fail("--svg-flamegraph %s: no root frame" % kind)
            continue
        _, root_w, total = frames[0]
        for title, w, v in frames:
            if total and abs(w - root_w * v / total) > 0.02:
                fail("--svg-flamegraph %s: %s is %.2f px, expected %.2f" % (
                    kind, title, w, root_w * v / total))
                break
        # A site's value is what its innermost frame holds less the frames drawn right
        # under it (its callees), whose widths are theirs.
        def self_value(i):
            x, y, h = boxes[i]
            under = sum(frames[j][2] for j in range(len(frames))
                        if abs(boxes[j][1] - (y + h + 1)) < 0.01 and
                        x - 0.01 <= boxes[j][0] < x + frames[i][1] - 0.01)
            return frames[i][2] - under
        for fn, col, want in want_sites:
            if col != kind:
                continue
            got = [(frames[i][1], self_value(i)) for i in range(len(frames))
                   if frames[i][0].startswith(fn + " ")]
            ok = [w for w, v in got if v == want]
            if not ok:
                fail("--svg-flamegraph %s: %s frames (width, self value) %s, expected %d" % (
                    kind, fn, got, want))
            else:
                log("svg %s: %s holds %d itself, in a frame %.2f of %.2f px wide" % (
                    kind, fn, want, ok[0], root_w))
    out, _ = analyze(a, ["--svg-timeline", trace])
    try:
        root = ET.fromstring(out)
        ns = "{http://www.w3.org/2000/svg}"
        if root.find(".//%spath[@class='heap']" % ns) is None:
            fail("--svg-timeline: no heap line")
        if root.find(".//%sscript" % ns) is not None:
            fail("--svg-timeline: holds a script")
    except ET.ParseError as e:
        fail("--svg-timeline: not well-formed XML: %s" % e)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--preload", required=True)
    p.add_argument("--analyzer", required=True)
    p.add_argument("--chromium", default="chromium")
    p.add_argument("--workdir", required=True)
    p.add_argument("--peak", type=int, help="the exact peak heap")
    p.add_argument("--site", action="append", default=[],
                   help="FUNC:COLUMN=N: the site allocating in FUNC has N in COLUMN "
                        "(peak, calls, allocated, leaked, temporary)")
    p.add_argument("--from-json", action="store_true",
                   help="expect the numbers of the analyzer's JSON report")
    p.add_argument("--click", help="the function whose frame to click (default: the top "
                                   "site's)")
    p.add_argument("--max-bytes", type=int, help="bound on the HTML file's size")
    p.add_argument("--max-load-s", type=float)
    p.add_argument("--sites", type=int,
                   help="the exact number of sites (then the JSON report checked is of the "
                        "top 10 sites only: all of 100k stacks would be 600 MB)")
    p.add_argument("--svg", action="store_true", help="check the SVG outputs too")
    p.add_argument("--screenshot", help="also save a screenshot of the page there")
    p.add_argument("--screenshot-height", type=int, default=1500)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--check-arg", action="append", default=[],
                   help="an option of --check's (--max-peak=N): given to --html too, whose "
                        "exit status is then that of --check")
    p.add_argument("--checklist", action="append", default=[],
                   help="KEY=VERDICT: the checklist item KEY is pass, fail or na")
    p.add_argument("program", nargs="+")
    a = p.parse_args()

    trace = record(a)
    html = os.path.join(a.workdir, "report.html")
    # The page shows the checklist --check computes: each verdict, and as the exit
    # status only when --check is given.
    ck = json.loads(analyze(a, ["--format", "json", "--check"] + a.check_arg + [trace],
                            want_rc=None)[0])["checks"]
    want_checklist = {it["key"]: it["verdict"].lower().replace("/", "")
                      for it in ck["items"]}
    for spec in a.checklist:
        key, verdict = spec.split("=")
        if want_checklist.get(key) != verdict:
            fail("--check: %s is %s, expected %s" % (key, want_checklist.get(key), verdict))
    check_args = ["--check"] + a.check_arg if a.check_arg else []
    _, secs = analyze(a, ["--html", html] + check_args + [trace],
                      want_rc=3 if check_args and ck["failed"] else 0)
    log("heapprof-analyze --html took %.2f s" % secs)
    json_top = ["--top", "10"] if a.sites is not None else []
    rep = json.loads(analyze(a, ["--format", "json"] + json_top + [trace])[0])
    s = rep["summary"]
    nsites = a.sites if a.sites is not None else len(rep["sites"])
    log("%d sites, peak %d bytes, %d threads" % (nsites, s["peak_heap_bytes"],
                                                             s["threads"]))
    if a.max_bytes and os.path.getsize(html) > a.max_bytes:
        fail("report of %d bytes, over the bound of %d" % (os.path.getsize(html), a.max_bytes))

    want_cards = {"#card-peak": s["peak_heap_bytes"], "#card-calls": s["allocations"],
                  "#card-allocated": s["allocated_bytes"], "#card-sites": nsites}
    if a.peak is not None:
        if s["peak_heap_bytes"] != a.peak:
            fail("JSON peak %d, expected %d" % (s["peak_heap_bytes"], a.peak))
        want_cards["#card-peak"] = a.peak
    want_sites = []
    for spec in a.site:
        m = re.fullmatch(r"([^:]+):(\w+)=(\d+)", spec)
        want_sites.append((m.group(1), m.group(2), int(m.group(3))))
    if a.from_json and rep["sites"]:
        top = rep["sites"][0]
        want_sites.append((first_function(top), "peak", top["peak_bytes"]))
    click = a.click or (first_function(rep["sites"][0]) if rep["sites"] else None)
    check_page(a, html, want_cards, want_sites, click, want_checklist)
    if a.svg:
        check_svg(a, trace, want_sites)
    if FAILS:
        log("%d failure(s)" % len(FAILS))
        return 1
    log("ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ChromiumError as e:
        sys.exit("check_html: chromium: %s" % e)
