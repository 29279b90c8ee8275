#!/usr/bin/env python3
"""The heapprof wrapper and signals: `heapprof prog & kill -TERM $!` as scripts stop a
profiled server, with and without --leak-check.

    wrapper_signals.py --heapprof WRAPPER --analyzer BIN --prog SIGPROG --workdir DIR

Without --leak-check the wrapper execs the program: $! is the program's pid and the
signal reaches it directly. With --leak-check it runs the program as a child, passes on
SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2, waits and reports. Either way:
the program's exit status (143 from the shell when SIGTERM killed it), a complete trace
when the program exits by itself after the signal, and no process left behind.
Exit status 0 when every check passes; each failure is listed."""

import argparse
import json
import os
import re
import shutil
import signal
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


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith("HEAPPROF_")
         and k != "LD_PRELOAD"}
    e["LC_ALL"] = "C"
    return e


def wait_for(path, pattern, timeout=20.0):
    """Polls file path until its text matches pattern; returns the match or None."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            m = re.search(pattern, open(path).read(), re.M)
        except FileNotFoundError:
            m = None
        if m:
            return m
        time.sleep(0.02)
    return None


def processes_of(prog, sid):
    """Pids of the live processes running prog in session sid (the run's own: other tests
    run the same program at the same time). Any left over is a failure."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{d}/exe")
            f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if exe == prog and f[0] != "Z" and int(f[3]) == sid:
            pids.append(int(d))
    return pids


def analyze(trace, *args):
    p = subprocess.run([A.analyzer, *args, trace], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


# The shell does what a user's script does: start the wrapper with &, wait until the
# program is ready, send SIGTERM to $!, wait for $! and print its status.
SCRIPT = r'''
"$HEAPPROF" "$@" >"$WORK/out" 2>"$WORK/err" &
pid=$!
echo "$pid" >"$WORK/bang"
i=0
until grep -q '^ready' "$WORK/out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 400 ] || ! kill -0 $pid 2>/dev/null; then
		echo "never ready"; kill -KILL $pid 2>/dev/null; exit 1
	fi
	sleep 0.05
done
sleep 0.2
kill -TERM $pid
# Bounded: a wrapper that neither passes the signal on nor exits must fail, not hang.
i=0
while kill -0 $pid 2>/dev/null && [ "$(cut -d' ' -f3 /proc/$pid/stat)" != Z ]; do
	i=$((i + 1))
	if [ $i -gt 300 ]; then echo "status=still running 15 s after SIGTERM"; exit 1; fi
	sleep 0.05
done
wait $pid
echo "status=$?"
'''


def one(mode, leak_check):
    where = f"{'heapprof --leak-check' if leak_check else 'heapprof'} sigprog {mode} & " \
            "kill -TERM $!"
    before = len(failures)
    work = os.path.join(A.workdir, f"{mode}{'-leak' if leak_check else ''}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    opts = ["-o", os.path.join(work, "t.%p.zst")]
    if leak_check:
        opts.append("--leak-check")
    e = env()
    e.update({"HEAPPROF": A.heapprof, "WORK": work})
    shell = subprocess.Popen(["bash", "-c", SCRIPT, "bash", *opts, "--", A.prog, mode], env=e,
                             cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        sout, serr = shell.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(shell.pid, signal.SIGKILL)
        sout, serr = shell.communicate()
    p = subprocess.CompletedProcess(shell.args, shell.returncode, sout, serr)
    out = open(os.path.join(work, "out")).read()
    err = open(os.path.join(work, "err")).read()
    detail = f"script: {p.stdout!r} {p.stderr!r}\n    program stdout: {out!r}\n" \
             f"    wrapper stderr: {err[-800:]!r}"
    m = re.search(r"^status=(.*)$", p.stdout, re.M)
    status = (int(m.group(1)) if m.group(1).isdigit() else m.group(1)) if m else None
    want = 0 if mode == "handle" else 128 + signal.SIGTERM
    check(status == want, f"{where}: exit status", want, status)
    ready = re.search(r"^ready (\d+)$", out, re.M)
    bang = int(open(os.path.join(work, "bang")).read())
    prog_pid = int(ready.group(1)) if ready else None
    if leak_check:
        check(prog_pid is not None and prog_pid != bang,
              f"{where}: the program runs as the wrapper's child", f"!= {bang}", prog_pid)
    else:
        check(prog_pid == bang, f"{where}: $! is the program's pid (the wrapper execs it)",
              bang, prog_pid)
    left = processes_of(os.path.realpath(A.prog), shell.pid)
    check(left == [], f"{where}: no process left behind", [], left)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    if status is not None and not isinstance(status, int):
        time.sleep(0.2)  # the killed program's wrapper exits too
    traces = sorted(f for f in os.listdir(work) if f.endswith(".zst"))
    if not check(len(traces) == 1, f"{where}: one trace", 1, traces):
        return
    trace = os.path.join(work, traces[0])
    check(traces[0] == f"t.{prog_pid}.zst", f"{where}: the trace is the program's",
          f"t.{prog_pid}.zst", traces[0])
    rc, rep, aerr = analyze(trace, "--format", "json")
    if not check(rc == 0, f"{where}: the trace decodes ({aerr[-300:]})", 0, rc):
        return
    rep = json.loads(rep)
    if mode == "handle":
        check(rep["trace"]["complete"] is True, f"{where}: the trace is complete (END)", True,
              rep["trace"]["complete"])
        check(rep["process"]["exit_status"] == 0, f"{where}: the trace has the exit status",
              0, rep["process"]["exit_status"])
        rc, dump, _ = analyze(trace, "--dump")
        after = len(re.findall(r"^alloc .* size=4321 ", dump, re.M))
        check(after == 1, f"{where}: the allocation made after the signal is recorded", 1,
              after)
        check("got TERM" in out, f"{where}: the program saw SIGTERM", "got TERM", out)
        if not leak_check:
            said = re.findall(r"^heapprof: trace written to (.*)$", err, re.M)
            check(said == [traces[0]], f"{where}: the recorder names the trace at exit",
                  [traces[0]], said)
    else:
        check(rep["trace"]["complete"] is False, f"{where}: killed: no trailer", False,
              rep["trace"]["complete"])
    if len(failures) > before:
        failures.append(f"({where}) {detail}")


def forward_all():
    """--leak-check passes on each of the six signals; the program sees each once."""
    where = "heapprof --leak-check: INT QUIT HUP USR1 USR2 TERM passed on"
    work = os.path.join(A.workdir, "forward")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    out = open(os.path.join(work, "out"), "w")
    # A new session: no terminal, so INT and QUIT are passed on as well.
    p = subprocess.Popen([A.heapprof, "--leak-check", "-o", os.path.join(work, "t.%p.zst"),
                          "--", A.prog, "handle"], env=env(), cwd=work, stdout=out,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    path = os.path.join(work, "out")
    try:
        if not check(wait_for(path, r"^ready") is not None, f"{where}: program ready"):
            return
        for name in ("INT", "QUIT", "HUP", "USR1", "USR2"):
            if p.poll() is not None:
                break
            p.send_signal(getattr(signal, "SIG" + name))
            check(wait_for(path, rf"^got {name}$", 5) is not None,
                  f"{where}: the program got SIG{name}", f"got {name}",
                  open(path).read())
        p.send_signal(signal.SIGTERM)
        try:
            _, err = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            check(False, f"{where}: the wrapper ends within 15 s of SIGTERM")
            return
        check(p.returncode == 0, f"{where}: exit status ({err[-500:]})", 0, p.returncode)
        text = open(path).read()
        for name in ("INT", "QUIT", "HUP", "USR1", "USR2", "TERM"):
            n = len(re.findall(rf"^got {name}$", text, re.M))
            check(n == 1, f"{where}: SIG{name} delivered once", 1, n)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    left = processes_of(os.path.realpath(A.prog), p.pid)
    check(left == [], f"{where}: no process left behind", [], left)


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("--heapprof", required=True)
    ap.add_argument("--analyzer", required=True)
    ap.add_argument("--prog", required=True)
    ap.add_argument("--workdir", required=True)
    A = ap.parse_args()
    for mode in ("handle", "die"):
        for leak_check in (False, True):
            one(mode, leak_check)
    forward_all()
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
