#!/usr/bin/env python3
"""`heapprof mark PID LABEL`: a marker into the trace of a running process, through its
control FIFO, without any signal.

    wrapper_mark.py --heapprof WRAPPER --analyzer BIN --prog SIGPROG --workdir DIR

The program (sigprog handle) runs under the wrapper with XDG_RUNTIME_DIR pointing at a
private directory; the marks are sent from an environment without it (the FIFO is
found through /proc/PID/fd). Checks: the FIFO is $XDG_RUNTIME_DIR/heapprof/PID.ctl, a
FIFO of mode 0600 owned by us in a directory of mode 0700, with PID.trace linking to the
trace; both marks land in the trace in order with their labels; the names are gone after
the program exits; exit status 1 for a process not under heapprof, a pid that does not
exist, a process run with HEAPPROF_CONTROL=0 and one whose control directory others
could enter (it gets no FIFO), 2 for a usage error. Exit 0 when every check passes."""

import argparse
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

A = None
failures = []


def check(ok, what, expected=None, got=None):
    if not ok:
        msg = what
        if expected is not None or got is not None:
            msg += f"\n    expected: {expected!r}\n    got:      {got!r}"
        failures.append(msg)
    return ok


def env(**extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith("HEAPPROF_")
         and k not in ("LD_PRELOAD", "XDG_RUNTIME_DIR")}
    e["LC_ALL"] = "C"
    e.update(extra)
    return e


def wait_for(path, pattern, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            m = re.search(pattern, open(path).read(), re.M)
            if m:
                return m
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    return None


def mark(pid, label):
    p = subprocess.run([A.heapprof, "mark", str(pid), label], env=env(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=20)
    return p.returncode, p.stderr


class Program:
    """sigprog handle under the wrapper, ready."""

    def __init__(self, name, **extra):
        self.work = os.path.join(A.workdir, name)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.out = os.path.join(self.work, "out")
        self.p = subprocess.Popen([A.heapprof, "-o", os.path.join(self.work, "t.%p.zst"), "--",
                                   A.prog, "handle"], env=env(**extra), cwd=self.work,
                                  stdout=open(self.out, "w"), stderr=subprocess.PIPE,
                                  text=True, start_new_session=True)
        self.ready = wait_for(self.out, r"^ready (\d+)$") is not None
        check(self.ready, f"{name}: the program is ready")
        self.pid = self.p.pid

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            _, err = self.p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            _, err = self.p.communicate()
        return self.p.returncode, err

    def trace(self):
        files = [f for f in os.listdir(self.work) if f.endswith(".zst")]
        return os.path.join(self.work, files[0]) if len(files) == 1 else None


def case_marks():
    xdg = os.path.join(A.workdir, "xdg")
    shutil.rmtree(xdg, ignore_errors=True)
    os.makedirs(xdg, mode=0o700)
    os.chmod(xdg, 0o700)
    prog = Program("marks", XDG_RUNTIME_DIR=xdg)
    if not prog.ready:
        prog.stop()
        return
    fifo = os.path.join(xdg, "heapprof", f"{prog.pid}.ctl")
    link = os.path.join(xdg, "heapprof", f"{prog.pid}.trace")
    try:
        st = os.lstat(fifo)
        check(stat.S_ISFIFO(st.st_mode), "the control FIFO is a FIFO", True,
              stat.filemode(st.st_mode))
        check(stat.S_IMODE(st.st_mode) == 0o600, "the control FIFO has mode 0600", "0o600",
              oct(stat.S_IMODE(st.st_mode)))
        check(st.st_uid == os.geteuid(), "the control FIFO is ours", os.geteuid(), st.st_uid)
        dmode = stat.S_IMODE(os.lstat(os.path.dirname(fifo)).st_mode)
        check(dmode == 0o700, "the control directory has mode 0700", "0o700", oct(dmode))
    except FileNotFoundError:
        check(False, f"the control FIFO {fifo} exists")
    want_trace = os.path.join(prog.work, f"t.{prog.pid}.zst")
    got_link = os.readlink(link) if os.path.islink(link) else None
    check(got_link == want_trace, "PID.trace links to the trace", want_trace, got_link)
    labels = ["from outside 1", "load test: 100 clients"]
    for label in labels:
        rc, err = mark(prog.pid, label)
        check(rc == 0, f"heapprof mark {prog.pid} '{label}' exits 0 ({err.strip()})", 0, rc)
        time.sleep(0.1)
    rc, err = prog.stop()
    check(rc == 0, "the program exits 0 on SIGTERM", 0, rc)
    check(not os.path.lexists(fifo) and not os.path.lexists(link),
          "the FIFO and the link are removed at exit", [],
          [f for f in (fifo, link) if os.path.lexists(f)])
    trace = prog.trace()
    if not check(trace is not None, "one trace"):
        return
    p = subprocess.run([A.analyzer, "--format", "json", "--no-symbols", trace],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    if not check(p.returncode == 0, f"the trace decodes ({p.stderr[-300:]})", 0, p.returncode):
        return
    rep = json.loads(p.stdout)
    check(rep["trace"]["complete"] is True, "the trace is complete", True,
          rep["trace"]["complete"])
    got = [m["label"] for m in rep.get("marks", [])]
    check(got == labels, "the trace holds both marks, in order", labels, got)
    times = [m["t_s"] for m in rep.get("marks", [])]
    check(times == sorted(times) and all(0 < t < rep["summary"]["duration_s"] for t in times),
          "the marks' times lie within the run, in order", "0 < t1 <= t2 < duration",
          (times, rep["summary"]["duration_s"]))


def case_errors():
    rc, err = mark(99999999, "x")
    check(rc == 1 and "no process" in err, "a pid that does not exist: exit 1", 1, (rc, err))
    p = subprocess.Popen(["sleep", "30"], env=env())
    try:
        rc, err = mark(p.pid, "x")
        check(rc == 1 and "not running under heapprof" in err,
              "a process not under heapprof: exit 1", 1, (rc, err))
    finally:
        p.kill()
        p.wait()
    r = subprocess.run([A.heapprof, "mark", "12"], env=env(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=20)
    check(r.returncode == 2 and "usage" in r.stderr, "a usage error: exit 2", 2,
          (r.returncode, r.stderr))
    # HEAPPROF_CONTROL=0: no FIFO.
    prog = Program("nocontrol", HEAPPROF_CONTROL="0")
    if prog.ready:
        rc, err = mark(prog.pid, "x")
        check(rc == 1, "HEAPPROF_CONTROL=0: heapprof mark exits 1", 1, (rc, err))
    prog.stop()
    # A control directory others can enter is not used.
    xdg = os.path.join(A.workdir, "xdg-open")
    shutil.rmtree(xdg, ignore_errors=True)
    os.makedirs(os.path.join(xdg, "heapprof"))
    os.chmod(os.path.join(xdg, "heapprof"), 0o755)
    prog = Program("opendir", XDG_RUNTIME_DIR=xdg)
    if prog.ready:
        check(os.listdir(os.path.join(xdg, "heapprof")) == [],
              "no FIFO in a control directory of mode 0755", [],
              os.listdir(os.path.join(xdg, "heapprof")))
        rc, err = mark(prog.pid, "x")
        check(rc == 1, "a process without a FIFO: heapprof mark exits 1", 1, (rc, err))
    rc, _ = prog.stop()
    check(rc == 0, "without a FIFO the program runs as usual", 0, rc)


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("--heapprof", required=True)
    ap.add_argument("--analyzer", required=True)
    ap.add_argument("--prog", required=True)
    ap.add_argument("--workdir", required=True)
    A = ap.parse_args()
    os.makedirs(A.workdir, exist_ok=True)
    case_marks()
    case_errors()
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
