#!/usr/bin/env python3
"""The live view: `heapprof-analyze --follow TRACE` and `heapprof top PID` on a program
whose heap grows at a known pace (growprog.c), and the report of a trace whose process
still runs.

    wrapper_follow.py --heapprof WRAPPER --analyzer BIN --prog GROWPROG --workdir DIR

Checks: on a pipe, one key=value line per interval, "running" while the program runs and
"exited" at the end, the heap never shrinking (but for a churn block in flight), the last
line's calls and heap equal to the finished report's; the trace is read incrementally
(the analyzer reads less than twice the trace's size in all, where reading it from the
start at each interval would read it over and over) in bounded memory; on a terminal
the screen is redrawn with the heap, the top sites by live bytes (grow) and by calls/s
(churn); SIGINT ends the view with exit 0; `heapprof top PID` finds the trace and exits
1 for a process not under heapprof; the report of a trace still being written says
"running" (JSON trace.running), and "killed?" once the process is killed. Exit 0 when
every check passes."""

import argparse
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time

A = None
failures = []
LINE = re.compile(r"^t=([0-9.]+) state=(\w+) heap=(\d+) peak=(\d+) rss=(\d+) calls=(\d+) "
                  r"calls_per_s=(\d+) bytes_per_s=(\d+) marks=(\d+)$")


def check(ok, what, expected=None, got=None):
    if not ok:
        msg = what
        if expected is not None or got is not None:
            msg += f"\n    expected: {expected!r}\n    got:      {str(got)[:1500]!r}"
        failures.append(msg)
    return ok


def env(**extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith("HEAPPROF_")
         and k != "LD_PRELOAD"}
    e["LC_ALL"] = "C"
    e.update(extra)
    return e


class Program:
    def __init__(self, name, *args):
        self.work = os.path.join(A.workdir, name)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.p = subprocess.Popen([A.heapprof, "-o", os.path.join(self.work, "t.%p.zst"), "--",
                                   A.prog, *map(str, args)], env=env(), cwd=self.work,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  start_new_session=True)
        line = self.p.stdout.readline()
        self.ok = check(line.startswith("ready"), f"{name}: the program is ready", "ready",
                        line)
        self.pid = self.p.pid
        self.trace = os.path.join(self.work, f"t.{self.pid}.zst")
        for _ in range(100):  # the header frame is written at start
            if os.path.exists(self.trace) and os.path.getsize(self.trace):
                break
            time.sleep(0.02)

    def wait(self, timeout=30):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            return self.p.wait()

    def kill(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()


def report(trace):
    p = subprocess.run([A.analyzer, "--format", "json", "--no-symbols", trace],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    return (json.loads(p.stdout) if p.returncode == 0 else None), p.stderr


def proc_io(pid):
    """(rchar, VmHWM in bytes) of a live process, or None."""
    try:
        io = dict(l.split(": ") for l in open(f"/proc/{pid}/io").read().splitlines())
        hwm = re.search(r"^VmHWM:\s+(\d+) kB", open(f"/proc/{pid}/status").read(), re.M)
        return int(io["rchar"]), int(hwm.group(1)) * 1024
    except (OSError, KeyError, AttributeError, ValueError):
        return None


def case_pipe():
    # 3 s, 2,000 churn pairs every 10 ms: about a million events, sizes varied so that
    # the trace does not compress to nothing.
    prog = Program("pipe", 3, 0, 2000)
    if not prog.ok:
        return prog.kill()
    a = subprocess.Popen([A.analyzer, "--follow", "--interval", "0.25", "--no-symbols",
                          prog.trace], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    io = None
    while a.poll() is None and prog.p.poll() is None:
        io = proc_io(a.pid) or io
        time.sleep(0.05)
    try:
        out, err = a.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        a.kill()
        out, err = a.communicate()
        check(False, "--follow ends within 20 s of the program's exit")
    check(prog.wait() == 0, "growprog exits 0")
    check(a.returncode == 0, f"--follow exits 0 ({err[-300:]})", 0, a.returncode)
    lines = out.splitlines()
    parsed = [LINE.match(l) for l in lines]
    if not check(lines and all(parsed), "--follow on a pipe prints key=value lines only",
                 "t=... state=... heap=...", lines[:3] + [l for l, m in zip(lines, parsed)
                                                          if not m][:3]):
        return
    states = [m.group(2) for m in parsed]
    running = states.count("running")
    check(running >= 6, "a line per interval while the program runs (3 s at 0.25 s)",
          ">= 6", running)
    check(states[-1] == "exited" and running == len(states) - 1,
          "every line 'running' but the last, 'exited'", "running... exited", states)
    heaps = [int(m.group(3)) for m in parsed]
    check(all(b >= a - 100 for a, b in zip(heaps, heaps[1:])),
          "the heap never shrinks (but for a churn block in flight)", "nondecreasing", heaps)
    rep, rerr = report(prog.trace)
    if check(rep is not None, f"the finished trace reports ({rerr[-300:]})"):
        last = parsed[-1]
        check(int(last.group(6)) == rep["summary"]["allocations"],
              "the last line's calls are the report's", rep["summary"]["allocations"],
              int(last.group(6)))
        check(int(last.group(3)) == rep["summary"]["leaked_bytes"],
              "the last line's heap is what the report finds live at the end",
              rep["summary"]["leaked_bytes"], int(last.group(3)))
        check(int(last.group(4)) == rep["summary"]["peak_heap_bytes"],
              "the last line's peak is the report's", rep["summary"]["peak_heap_bytes"],
              int(last.group(4)))
        rate = rep["summary"]["allocations"] / rep["summary"]["duration_s"]
        mid = [int(m.group(7)) for m in parsed[1:-1]]
        check(mid and all(0.5 * rate <= r <= 1.5 * rate for r in mid),
              "calls/s of each interval near the run's average", f"~{rate:.0f}", mid)
    size = os.path.getsize(prog.trace)
    if check(io is not None, "the analyzer's /proc/PID/io could be read"):
        rchar, hwm = io
        # About 70 KiB (format 3): reading it from the start at each of the dozen
        # intervals would read six times that.
        check(size > 48 << 10, "the trace is over 48 KiB", "> 48 KiB", size)
        check(rchar < 2 * size + (32 << 10), "the trace is read incrementally: the "
              "analyzer read less than twice its size", f"< {2 * size + (32 << 10)}",
              rchar)
        check(hwm < 48 << 20, "--follow stays in bounded memory (peak RSS under 48 MiB)",
              "< 48 MiB", hwm)


def case_tty():
    prog = Program("tty", 2)
    if not prog.ok:
        return prog.kill()
    master, slave = pty.openpty()
    a = subprocess.Popen([A.analyzer, "--follow", "--interval", "0.3", prog.trace],
                         stdout=slave, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    os.close(slave)
    screen = b""
    end = time.monotonic() + 30
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            screen += data
        elif a.poll() is not None:
            break
    os.close(master)
    rc = a.wait(timeout=10)
    prog.wait()
    text = screen.decode(errors="replace")
    check(rc == 0, "--follow on a terminal exits 0", 0, rc)
    check(text.count("\033[H\033[2J") >= 4, "the view is redrawn in place every interval",
          ">= 4 redraws", text.count("\033[H\033[2J"))
    for want in ("heapprof live:", "running", "top sites by live bytes",
                 "top sites by calls/s", "exited (status 0)"):
        check(want in text, f"the terminal view shows '{want}'", want, text[-1500:])
    check(re.search(r"in \d+\s+grow \(growprog\.c:\d+\)", text) is not None,
          "grow, which keeps its blocks, is a top site by live bytes", "grow (growprog.c:N)",
          text[-1500:])
    check(re.search(r"/s\s+churn \(growprog\.c:\d+\)", text) is not None,
          "churn is a top site by calls/s", "churn (growprog.c:N)", text[-1500:])


def case_top_and_sigint():
    prog = Program("top", 3, 5)
    if not prog.ok:
        return prog.kill()
    a = subprocess.Popen([A.heapprof, "top", str(prog.pid), "--interval", "0.2",
                          "--no-symbols"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env())
    time.sleep(1.2)
    a.send_signal(signal.SIGINT)
    try:
        out, err = a.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        a.kill()
        out, err = a.communicate()
        check(False, "SIGINT ends heapprof top within 5 s")
    check(a.returncode == 0, f"heapprof top exits 0 on SIGINT ({err[-300:]})", 0,
          a.returncode)
    lines = out.splitlines()
    check(len(lines) >= 3 and all(LINE.match(l) and " state=running " in l for l in lines),
          "heapprof top PID follows the program's trace: running lines", ">= 3", lines)
    # The report of a trace still being written.
    rep, rerr = report(prog.trace)
    if check(rep is not None, f"a trace being written reports ({rerr[-300:]})"):
        check(rep["trace"].get("running") is True and rep["trace"]["complete"] is False,
              "its JSON says running, not complete", {"running": True, "complete": False},
              rep["trace"])
        check("still running" in rerr and "killed" not in rerr,
              "the warning says the process is still running", "still running", rerr)
    prog.kill()
    rep, rerr = report(prog.trace)
    if check(rep is not None, f"a killed process's trace reports ({rerr[-300:]})"):
        check("running" not in rep["trace"] and rep["trace"]["complete"] is False,
              "once killed, no longer running", {"complete": False}, rep["trace"])
        check("killed?" in rerr, "the warning says killed?", "killed?", rerr)
    p = subprocess.run([A.heapprof, "top", "99999999"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=env(), timeout=20)
    check(p.returncode == 1 and "no process" in p.stderr, "heapprof top of no process: exit 1",
          1, (p.returncode, p.stderr))


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("--heapprof", required=True)
    ap.add_argument("--analyzer", required=True)
    ap.add_argument("--prog", required=True)
    ap.add_argument("--workdir", required=True)
    A = ap.parse_args()
    os.makedirs(A.workdir, exist_ok=True)
    case_pipe()
    case_tty()
    case_top_and_sigint()
    if failures:
        print(f"FAIL: {len(failures)} check(s)")
        for i, f in enumerate(failures, 1):
            print(f"  {i}. {f}")
        return 1
    shutil.rmtree(A.workdir, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
