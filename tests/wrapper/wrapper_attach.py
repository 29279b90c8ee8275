#!/usr/bin/env python3
"""`heapprof -p PID`: attaching to a running process and detaching, and every way an
attach is refused.

    wrapper_attach.py --heapprof WRAPPER --analyzer BIN --prog SIGPROG
                      --static-prog SIGPROG_STATIC --api-prog ATTACH_API
                      --attach-lib LIBHEAPPROF_ATTACH --workdir DIR

sigprog handle allocates blocks of 1234 bytes in a loop and keeps the last 16. Checks:
--duration 1 attaches and detaches (exit 0, both said), the program keeps running and
exits 0 on SIGTERM afterwards; the trace is complete, says it was attached, holds the
allocations made while attached and counts the frees of older blocks as unknown; a
second attach, a process under heapprof already, a static binary, a pid that does not
exist, a missing gdb and another user's process are refused with exit 1 and a reason;
Ctrl-C detaches; a process that exits while attached leaves a complete trace with its
exit status; attach_api.c, calling heapprof_attach and heapprof_detach itself, sees its
own GOT slot for malloc point at the recorder while attached and at malloc again after,
and exactly its allocations from in between are in the trace. The real-server version, redis under load, is tests/server (redis_attach).
Exit 0 when every check passes."""

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
    """sigprog handle, native (or under the wrapper with preload=True), ready."""

    def __init__(self, name, prog=None, preload=False):
        self.work = os.path.join(A.workdir, name)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        cmd = [prog or A.prog, "handle"]
        if preload:
            cmd = [A.heapprof, "-o", os.path.join(self.work, "pre.%p.zst"), "--"] + cmd
        self.p = subprocess.Popen(cmd, env=env(), cwd=self.work, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, start_new_session=True)
        line = self.p.stdout.readline()
        self.ok = check(line.startswith("ready"), f"{name}: the program is ready", "ready",
                        line)
        self.pid = self.p.pid

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            out, err = self.p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            out, err = self.p.communicate()
        return self.p.returncode, out, err


def attach(pid, *args, cwd=None, extra_env=None, preexec=None, timeout=60):
    return subprocess.run([A.heapprof, "-p", str(pid), *args], env=env(**(extra_env or {})),
                          cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, preexec_fn=preexec)


def report(trace):
    p = subprocess.run([A.analyzer, "--format", "json", "--no-symbols", trace],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    return (json.loads(p.stdout) if p.returncode == 0 else None), p.stderr


def dump(trace):
    return subprocess.run([A.analyzer, "--dump", trace], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60).stdout


def refused(r, why, where):
    check(r.returncode == 1 and re.search(why, r.stderr) is not None,
          f"{where}: refused with exit 1, saying why", f"1, /{why}/", (r.returncode, r.stderr))


def case_attach_detach():
    prog = Program("attach")
    if not prog.ok:
        return prog.stop()
    time.sleep(0.3)  # blocks allocated before the attach, freed after it
    r = attach(prog.pid, "--duration", "1", "-o", os.path.join(prog.work, "t.%p.zst"),
               cwd=prog.work)
    check(r.returncode == 0, f"heapprof -p --duration 1 exits 0 ({r.stderr[-500:]})", 0,
          r.returncode)
    check(re.search(rf"^heapprof: attached to process {prog.pid}; recording into "
                    rf"t\.{prog.pid}\.zst for 1 s", r.stderr, re.M) and
          re.search(rf"^heapprof: detached from process {prog.pid}; trace written to "
                    rf"t\.{prog.pid}\.zst$", r.stderr, re.M),
          "heapprof -p says where it records, and that it detached", "attached ... detached",
          r.stderr)
    trace = os.path.join(prog.work, f"t.{prog.pid}.zst")
    size = os.path.getsize(trace) if os.path.exists(trace) else -1
    time.sleep(0.3)
    check(prog.p.poll() is None, "the program runs on after the detach", None, prog.p.poll())
    check(os.path.exists(trace) and os.path.getsize(trace) == size,
          "nothing is recorded after the detach", size,
          os.path.getsize(trace) if os.path.exists(trace) else None)
    again = attach(prog.pid, "--duration", "1", cwd=prog.work)
    refused(again, "attached to it before", "a second attach")
    rc, out, _ = prog.stop()
    check(rc == 0 and "got TERM" in out, "the program exits 0 on SIGTERM after the detach", 0,
          (rc, out[-200:]))
    rep, err = report(trace)
    if not check(rep is not None, f"the attached trace reports ({err[-300:]})"):
        return
    check(rep["trace"]["complete"] is True and rep["trace"].get("attached") is True,
          "the trace is complete and says it was attached", {"complete": True, "attached": True},
          rep["trace"])
    check(abs(rep["trace"].get("attached_at_realtime_s", 0) - time.time()) < 60,
          "attached_at_realtime_s is the attach time", "now", rep["trace"])
    d = dump(trace)
    allocs = len(re.findall(r"^alloc .* size=1234 ", d, re.M))
    unknown = len(re.findall(r"^free .* unknown=1$", d, re.M))
    # One block every 2 ms for about a second.
    check(allocs >= 100, "the allocations made while attached are recorded", ">= 100", allocs)
    check(unknown >= 1, "frees of blocks allocated before are FREE_UNKNOWN", ">= 1", unknown)
    check(rep["summary"]["frees"] <= rep["summary"]["allocations"],
          "the report counts no free of a block it never saw", "<= allocations",
          rep["summary"])


def case_api():
    """The program calls heapprof_attach and heapprof_detach itself (attach_api.c)."""
    work = os.path.join(A.workdir, "api")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    p = subprocess.run([A.api_prog, A.attach_lib, os.path.join(work, "t.%p.zst")], env=env(),
                       cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60)
    want = "attach=0 patched=1 detach=0 restored=1 again=-114\n"
    check(p.returncode == 0 and p.stdout == want, "attach_api: attached (its GOT slot for "
          "malloc pointed at the recorder), detached (the slot put back), refused again",
          want, (p.returncode, p.stdout, p.stderr[-300:]))
    traces = [f for f in os.listdir(work) if f.endswith(".zst")]
    if not check(len(traces) == 1, "attach_api: one trace", 1, traces):
        return
    d = dump(os.path.join(work, traces[0]))
    events = [l for l in d.splitlines() if l.startswith(("alloc ", "free "))]
    sized = [l for l in events if re.search(r" size=(20\d\d|21[0-4]\d) ", l)]
    check(len(sized) == 10, "exactly the 10 allocations made while attached are recorded "
          "(none from after the detach)", 10, len(sized))
    blocks = {re.search(r"block=(\d+)", l).group(1) for l in sized}
    frees = [l for l in events if l.startswith("free ") and
             (re.search(r"block=(\d+)", l) or [None, None])[1] in blocks]
    check(len(frees) == 5, "the 5 frees of blocks allocated while attached are recorded", 5,
          len(frees))
    unknown = [l for l in events if "unknown=1" in l]
    check(len(unknown) >= 5, "the 5 frees of blocks from before are FREE_UNKNOWN", ">= 5",
          len(unknown))


def case_refusals():
    pre = Program("preloaded", preload=True)
    if pre.ok:
        refused(attach(pre.pid, "--duration", "1"), "runs under heapprof already",
                "a process under heapprof")
    pre.stop()
    st = Program("static", prog=A.static_prog)
    if st.ok:
        refused(attach(st.pid, "--duration", "1"), "not dynamically linked", "a static binary")
    st.stop()
    refused(attach(99999999), "no such process", "a pid that does not exist")
    prog = Program("refusals")
    if prog.ok:
        refused(attach(prog.pid, extra_env={"HEAPPROF_GDB": "/nonexistent/gdb"}),
                "gdb is not installed", "without gdb")
        if os.geteuid() == 0:
            def nobody():
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            r = attach(prog.pid, "--duration", "1", preexec=nobody, cwd="/tmp")
        else:
            r = attach(1, "--duration", "1")
        refused(r, "belongs to another user", "another user's process")
        check(prog.p.poll() is None, "the refusals leave the program alone", None,
              prog.p.poll())
    prog.stop()


def wait_for_line(f, text, timeout):
    """Reads f (a text pipe) until a line holds `text` or `timeout` seconds pass;
    returns what it read."""
    import select
    got, deadline = "", time.monotonic() + timeout
    while text not in got:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([f], [], [], left)[0]:
            break
        line = f.readline()
        if not line:
            break
        got += line
    return got


def case_interrupt_and_exit():
    prog = Program("interrupt")
    if not prog.ok:
        return prog.stop()
    a = subprocess.Popen([A.heapprof, "-p", str(prog.pid), "-o",
                          os.path.join(prog.work, "t.%p.zst")], env=env(), cwd=prog.work,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Ctrl-C once it says it is attached (a loaded machine takes seconds to inject),
    # then a little later, so that something is recorded.
    said = wait_for_line(a.stderr, "attached to process", 30)
    time.sleep(0.5)
    a.send_signal(signal.SIGINT)
    try:
        _, err = a.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        a.kill()
        _, err = a.communicate()
    err = said + err
    check(a.returncode == 0 and "detached from process" in err,
          "Ctrl-C (SIGINT) detaches, exit 0", 0, (a.returncode, err))
    rc, _, _ = prog.stop()
    check(rc == 0, "the program exits 0 afterwards", 0, rc)
    # A process that exits while attached.
    prog = Program("exits")
    if not prog.ok:
        return prog.stop()
    a = subprocess.Popen([A.heapprof, "-p", str(prog.pid), "-o",
                          os.path.join(prog.work, "t.%p.zst")], env=env(), cwd=prog.work,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    trace = os.path.join(prog.work, f"t.{prog.pid}.zst")
    end = time.monotonic() + 30
    while not os.path.exists(trace) and time.monotonic() < end and a.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    rc, _, _ = prog.stop()
    try:
        _, err = a.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        a.kill()
        _, err = a.communicate()
    check(a.returncode == 0 and "ended" in err, "heapprof -p ends with the process, exit 0",
          0, (a.returncode, err))
    rep, rerr = report(trace)
    if check(rep is not None, f"the trace of a process that exited attached ({rerr[-300:]})"):
        check(rep["trace"]["complete"] is True and rep["process"]["exit_status"] == 0,
              "it is complete, with the exit status", {"complete": True, "exit_status": 0},
              (rep["trace"], rep["process"]))


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("--heapprof", required=True)
    ap.add_argument("--analyzer", required=True)
    ap.add_argument("--prog", required=True)
    ap.add_argument("--static-prog", required=True)
    ap.add_argument("--api-prog", required=True)
    ap.add_argument("--attach-lib", required=True)
    ap.add_argument("--workdir", required=True)
    A = ap.parse_args()
    os.makedirs(A.workdir, exist_ok=True)
    if not shutil.which("gdb"):
        print("FAIL: gdb is not installed (tools/check installs it)")
        return 1
    try:
        scope = int(open("/proc/sys/kernel/yama/ptrace_scope").read())
    except (OSError, ValueError):
        scope = 0
    if not (os.geteuid() == 0 and scope < 3 or scope == 0):
        print(f"SKIP: heapprof -p needs ptrace of a sibling process: run as root, or with "
              f"/proc/sys/kernel/yama/ptrace_scope 0 (it is {scope})")
        return 77
    case_attach_detach()
    case_api()
    case_refusals()
    case_interrupt_and_exit()
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
