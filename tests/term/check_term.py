#!/usr/bin/env python3
"""The text report on a terminal (README "Reading the report on a terminal").

    check_term.py --preload LIB --analyzer BIN --program hp_term_prog --workdir DIR CASE

CASE is one of:
  command    empty arguments shown as '' in the report's command line (in the middle and
             at the end), arguments with spaces or quotes quoted as a shell reads them
  color      no colour on a pipe; colour on a pseudo-terminal; none there with NO_COLOR
             set, TERM=dumb or --color=never; --color=always (and --color) colours a
             pipe, even with NO_COLOR; a bad --color value is a usage error
  width      100 columns on a pipe (the chart 80 wide); COLUMNS=60 narrows the chart to
             40 and every line but frames fits in 60; a pseudo-terminal of 70 columns
             gives a chart of 50
  debuginfo  the modules without debug info (the program and its two libraries) told in
             ONE warning line, with the -dbgsym package of each module that dpkg-query
             (here a stand-in named by HEAPPROF_DPKG_QUERY) says is packaged; none with
             -q; without the stand-in, dpkg's file lists under DPKG_ADMINDIR are read
             in-process (whole lines, package without its architecture, a FIFO there
             skipped, not waited on), dpkg-query run where they cannot be read; no hint
             when HEAPPROF_DPKG_QUERY is empty; with the real dpkg database, a packaged
             program (zstd) is named with its package
"""

import argparse
import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios

# The environment of a program run under the preload, shared by the report tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from preload_env import preload_env  # noqa: E402

failures = []
ESC = "\033["


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def record(a, args, trace):
    subprocess.run(args, env=preload_env(a.preload, trace), check=True, timeout=60, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL)
    if not os.path.exists(trace):
        sys.exit(f"no trace written at {trace}")


def clean_env(extra=None):
    e = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "TERM")}
    e["TERM"] = "xterm"
    e.update(extra or {})
    return e


def analyze(a, args, env=None):
    return subprocess.run([a.analyzer] + args, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60, env=clean_env(env))


def analyze_pty(a, args, env=None, cols=100):
    """Runs the analyzer with its stdout on a pseudo-terminal of `cols` columns."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    p = subprocess.Popen([a.analyzer] + args, stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=subprocess.PIPE, env=clean_env(env))
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 30)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    p.wait(timeout=30)
    return p.returncode, out.decode(errors="replace").replace("\r\n", "\n")


def trace(a, args=(), name="t"):
    t = os.path.join(a.workdir, name + ".zst")
    record(a, [a.program, *args], t)
    return t


def case_command(a):
    t = trace(a, ["", "a", "", "b c", "it's", ""])
    p = analyze(a, [t])
    line = re.search(r"^  command      (.*)$", p.stdout, re.M)
    want = a.program + " '' a '' 'b c' 'it'\\''s' ''"
    check(line and line.group(1) == want, f"command line {line and line.group(1)!r} != {want!r}")
    t = trace(a, ["x", ""], "last")
    line = re.search(r"^  command      (.*)$", analyze(a, [t]).stdout, re.M)
    check(line and line.group(1) == a.program + " x ''", f"a last empty argument: {line}")
    t = trace(a, [], "none")
    line = re.search(r"^  command      (.*)$", analyze(a, [t]).stdout, re.M)
    check(line and line.group(1) == a.program, f"no arguments: {line}")


def case_color(a):
    t = trace(a)
    p = analyze(a, [t])
    check(p.returncode == 0 and ESC not in p.stdout, "colour on a pipe")
    rc, out = analyze_pty(a, [t])
    check(rc == 0 and f"{ESC}1msummary{ESC}0m" in out, "no bold title on a terminal")
    check(re.search(r"\033\[36m#1 +\033\[0m peak", out), "no coloured rank on a terminal")
    check(re.search(r"leaked +\033\[31m\S+ \S+ in \d+ blocks\033\[0m", out),
          "leaked bytes not red on a terminal")
    for env, args, what in (({"NO_COLOR": "1"}, [], "NO_COLOR=1"), ({"TERM": "dumb"}, [], "TERM=dumb"),
                            ({}, ["--color=never"], "--color=never")):
        rc, out = analyze_pty(a, args + [t], env)
        check(rc == 0 and ESC not in out and "summary" in out, f"colour on a terminal with {what}")
    rc, out = analyze_pty(a, [t], {"NO_COLOR": ""})
    check(ESC in out, "an empty NO_COLOR turned colour off (no-color.org: only a non-empty one)")
    for args, env in ((["--color=always"], {}), (["--color"], {}),
                      (["--color=always"], {"NO_COLOR": "1"})):
        p = analyze(a, args + [t], env)
        check(p.returncode == 0 and f"{ESC}1msummary{ESC}0m" in p.stdout,
              f"{args} {env}: no colour on a pipe")
    p = analyze(a, ["--color=sometimes", t])
    check(p.returncode == 1 and "--color" in p.stderr, f"--color=sometimes: {p.returncode}")


def chart_width(text, title):
    m = re.search("^" + title + r"\n((?:.*\|.*\n)+) +\+(-+)\n", text, re.M)
    return len(m.group(2)) if m else None


def case_width(a):
    t = trace(a)
    wide = analyze(a, [t]).stdout
    check(chart_width(wide, "heap over time") == 80, "not 80 chart columns on a pipe")
    check(re.search(r"^  #1   peak \S+ \S+ +calls \S+ +allocated", wide, re.M),
          "site row not in the 100-column layout")
    narrow = analyze(a, [t], {"COLUMNS": "60"}).stdout
    check(chart_width(narrow, "heap over time") == 40, "COLUMNS=60: chart not 40 wide")
    check(re.search(r"^  #1 peak \S+ \S+, calls \S+, allocated \S+ \S+,\n        leaked", narrow,
                    re.M), "COLUMNS=60: site row not broken before leaked")
    # Frames and the names of files are never cut.
    long_lines = [l for l in narrow.splitlines() if len(l) > 60 and
                  not l.startswith(("        at ", "heapprof report: ", "  command  "))]
    check(not long_lines, f"COLUMNS=60: lines over 60 columns: {long_lines[:3]}")
    check(narrow.count("top ") == wide.count("top "), "COLUMNS=60 dropped sections")
    rc, out = analyze_pty(a, ["--color=never", t], cols=70)
    check(chart_width(out, "heap over time") == 50, f"a terminal of 70 columns: chart "
          f"{chart_width(out, 'heap over time')}")
    rc, out = analyze_pty(a, ["--color=never", t], {"COLUMNS": "120"}, cols=70)
    check(chart_width(out, "heap over time") == 100, "COLUMNS=120 on a terminal of 70 columns: COLUMNS did not win")


FAKE_DPKG = """#!/bin/sh
# A stand-in for dpkg-query -S: libhp_term_a.so belongs to hp-term-a (with its
# architecture, as dpkg-query prints it), libhp_term_b.so to hp-term-b; nothing else.
shift
for p in "$@"; do
  case "$p" in
    *libhp_term_a.so) echo "hp-term-a:amd64: $p" ;;
    *libhp_term_b.so) echo "hp-term-b: $p" ;;
    *) echo "dpkg-query: no path found matching pattern $p" >&2 ;;
  esac
done
"""


def debug_lines(err):
    return [l for l in err.splitlines() if "debug info" in l]


def case_debuginfo(a):
    t = trace(a)
    fake = os.path.join(a.workdir, "fake-dpkg-query")
    with open(fake, "w") as f:
        f.write(FAKE_DPKG)
    os.chmod(fake, 0o755)
    p = analyze(a, [t], {"HEAPPROF_DPKG_QUERY": fake})
    lines = debug_lines(p.stderr)
    if check(len(lines) == 1, f"not one line of no-debug-info warnings: {p.stderr!r}"):
        line = lines[0]
        prog = os.path.basename(a.program)
        m = re.match(r"heapprof-analyze: warning: no debug info for 3 modules \((.*)\): their "
                     r"frames get function names only; install (.*) from Debian's debug "
                     r"archive, or set DEBUGINFOD_URLS$", line)
        if check(m, f"warning line {line!r}"):
            check(sorted(m.group(1).split(", ")) == sorted([prog, "libhp_term_a.so",
                                                              "libhp_term_b.so"]),
                  f"modules named: {m.group(1)}")
            check(sorted(m.group(2).split(", ")) == ["hp-term-a-dbgsym (libhp_term_a.so)",
                                                     "hp-term-b-dbgsym (libhp_term_b.so)"],
                  f"packages named: {m.group(2)}")
    # Without a stand-in, dpkg's own file lists are read (here a made-up admin dir):
    # whole lines only, the package without its architecture, other files ignored. The
    # program's own path is in none of the lists but in every trap (as part of a line, in
    # a .md5sums): a scan falling for one names a package for it.
    dump = analyze(a, ["--dump", t]).stdout
    paths = re.findall(r"^module id=\d+ path=(\S+) ", dump, re.M)
    path = {os.path.basename(p): p for p in paths}
    lib_a, lib_b = path.get("libhp_term_a.so"), path.get("libhp_term_b.so")
    prog = path.get(os.path.basename(a.program))
    info = os.path.join(a.workdir, "dpkg", "info")
    os.makedirs(info)
    lists = {"hp-term-a:amd64.list": f"/.\n/usr\n{lib_a}\n",
             "hp-term-b.list": f"/.\n{lib_b}",
             "hp-term-prefix.list": f"{prog}.old\n",
             "hp-term-suffix.list": f"/.\nx{prog}\n",
             "hp-term-c.md5sums": f"{prog}\n"}
    for name, text in lists.items():
        with open(os.path.join(info, name), "w") as f:
            f.write(text)
    os.mkfifo(os.path.join(info, "hp-term-fifo.list"))  # must not hang the analysis
    want = ["hp-term-a-dbgsym (libhp_term_a.so)", "hp-term-b-dbgsym (libhp_term_b.so)"]

    def hinted(env):
        lines = debug_lines(analyze(a, [t], env).stderr)
        m = re.search(r"install (.*) from Debian's", lines[0]) if len(lines) == 1 else None
        return sorted(m.group(1).split(", ")) if m else lines

    got = hinted({"DPKG_ADMINDIR": os.path.join(a.workdir, "dpkg")})
    check(lib_a and lib_b and prog and got == want, f"dpkg's lists read in-process: {got}")
    # Where the lists cannot be read, dpkg-query (from PATH: the stand-in) answers.
    bindir = os.path.join(a.workdir, "bin")
    os.makedirs(bindir)
    os.symlink(fake, os.path.join(bindir, "dpkg-query"))
    got = hinted({"DPKG_ADMINDIR": os.path.join(a.workdir, "no-dpkg"),
                  "PATH": bindir + os.pathsep + os.environ.get("PATH", "")})
    check(got == want, f"no lists: dpkg-query not run instead: {got}")
    p = analyze(a, [t], {"HEAPPROF_DPKG_QUERY": ""})
    lines = debug_lines(p.stderr)
    check(len(lines) == 1 and "install" not in lines[0] and "3 modules" in lines[0],
          f"HEAPPROF_DPKG_QUERY empty: {lines}")
    p = analyze(a, ["-q", t], {"HEAPPROF_DPKG_QUERY": fake})
    check(p.stderr == "", f"-q printed {p.stderr!r}")
    # The report still names the frames from the symbol tables.
    check("at hp_term_alloc_a" in p.stdout and "at hp_term_alloc_b" in p.stdout,
          "frames of the libraries not named from their symbol tables")
    zstd, dpkg = shutil.which("zstd"), shutil.which("dpkg-query")
    if zstd and dpkg and subprocess.run([dpkg, "-S", zstd], capture_output=True).returncode == 0:
        data = os.path.join(a.workdir, "data")
        with open(data, "wb") as f:
            f.write(b"heapprof " * 100000)
        z = os.path.join(a.workdir, "zstd.zst")
        record(a, [zstd, "-q", "-f", "-T2", data, "-o", data + ".zst"], z)
        p = analyze(a, [z])
        lines = [l for l in debug_lines(p.stderr) if "zstd" in l]
        if lines:  # else zstd has its debug info here: nothing to hint
            check(len(debug_lines(p.stderr)) == 1, f"zstd: {p.stderr!r}")
            check(re.search(r"zstd-dbgsym \(zstd\)", lines[0]),
                  f"the real dpkg-query: zstd's package not named: {lines[0]!r}")


def main():
    ap = argparse.ArgumentParser()
    for o in ("preload", "analyzer", "program", "workdir"):
        ap.add_argument("--" + o, required=True)
    ap.add_argument("case", choices=["command", "color", "width", "debuginfo"])
    a = ap.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    globals()["case_" + a.case](a)
    if failures:
        print(f"term.{a.case}: {len(failures)} failure(s):")
        for f in failures:
            print("  " + f)
        sys.exit(1)
    print(f"term.{a.case}: ok")


if __name__ == "__main__":
    main()
