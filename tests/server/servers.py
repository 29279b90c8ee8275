#!/usr/bin/env python3
"""Real servers under heapprof, as a user profiles them: Debian's redis-server under
redis-benchmark, memcached (4 worker threads) under memcaslap and nginx under wrk.

    servers.py --case redis|memcached|nginx --heapprof WRAPPER --analyzer BIN --work DIR

Each server runs natively and under the wrapper, on a free loopback port picked here,
started the way scripts start a profiled server and stopped the same way:

    heapprof -o DIR/t.%p.zst SERVER ARGS... &   ...   kill -TERM $!; wait $!

and the runs must agree: the same replies to a fixed sequence of requests (a digest of
every reply), the load tool's run complete and error-free, the same exit status, no
process of the run left behind; under heapprof every trace decodes, is complete (it ends
with END) and has plausible calls and peak. redis is also run under heaptrack on the
same sequence: heapprof's call count must be within 1% of heaptrack's. Under heapprof
`heapprof mark $! LABEL` marks the start and the end of the load: both marks must be in
the server's trace, in order, inside the run. Every step has a
timeout, so a hang fails in seconds. Exit status 0 when every check passes, 1 otherwise
(each failed check listed with what was expected and what came back). A missing tool is
a failure: tools/check installs them all (tools/deps.sh).
"""

import argparse
import gzip
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

A = None
failures = []


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def ptrace_allowed():
    """Whether we may ptrace a process that is not our descendant (heapprof -p runs gdb
    on the server, its sibling): root, or Yama's ptrace_scope 0 (or no Yama)."""
    try:
        scope = int(open("/proc/sys/kernel/yama/ptrace_scope").read())
    except (OSError, ValueError):
        scope = 0
    return os.geteuid() == 0 and scope < 3 or scope == 0


def check(ok, what, expected=None, got=None, detail=None):
    if not ok:
        msg = what
        if expected is not None or got is not None:
            msg += f"\n    expected: {expected!r}\n    got:      {got!r}"
        if detail:
            msg += "\n    " + detail.rstrip().replace("\n", "\n    ")
        failures.append(msg)
    return ok


def tool(name):
    # nginx is in /usr/sbin, which a user's PATH may lack.
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin") or \
        (name if os.access(name, os.X_OK) else None)
    if not path:
        raise Fail(f"required tool '{name}' is not installed (tools/check installs it)")
    return os.path.abspath(path)  # not realpath: redis-server is a link that argv[0] picks


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env():
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("HEAPPROF_") and k not in ("LD_PRELOAD", "LD_LIBRARY_PATH")}
    e.update({"LC_ALL": "C", "LANG": "C"})
    return e


def run(argv, timeout, **kw):
    """A client command, bounded."""
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, env=base_env(), **kw)
    except subprocess.TimeoutExpired as ex:
        raise Fail(f"timed out after {timeout}s: {' '.join(argv)}\n"
                   f"    output tail: {(ex.output or b'')[-800:]!r}")
    return p.returncode, p.stdout.decode(errors="replace")


# The shell does what a user's script does. It starts the command in the background,
# writes $! and waits for the test's "stop" file; then sends SIGTERM to the pid the file
# names, or to $! when it is empty, waits (bounded) and writes the exit status.
SERVE = r'''
"$@" >"$WORK/out" 2>"$WORK/err" &
bang=$!
echo $bang >"$WORK/bang"
i=0
until [ -e "$WORK/stop" ]; do
	i=$((i + 1))
	if [ $i -gt 2400 ]; then echo "never told to stop" >"$WORK/status"; exit 1; fi
	sleep 0.05
done
target=$(cat "$WORK/stop")
kill -TERM ${target:-$bang}
i=0
while kill -0 $bang 2>/dev/null && [ "$(cut -d' ' -f3 /proc/$bang/stat)" != Z ]; do
	i=$((i + 1))
	if [ $i -gt 400 ]; then echo "still running 20 s after SIGTERM" >"$WORK/status"; exit 1; fi
	sleep 0.05
done
wait $bang
echo "$?" >"$WORK/status"
'''


def session_processes(sid):
    """Live processes of session sid (the serve shell's, started with a new session)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(f[3]) == sid and f[0] != "Z":
            pids.append(int(d))
    return pids


def children_of(pid, exe):
    """Pids of pid's children running exe (heaptrack's script runs the server as one)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
            if int(f[1]) == pid and os.readlink(f"/proc/{d}/exe") == os.path.realpath(exe):
                out.append(int(d))
        except OSError:
            continue
    return out


class Run:
    """One server run: the serve shell, its work dir, what came back."""

    def __init__(self, server, tool_name):
        self.server, self.tool = server, tool_name
        self.where = f"{server.name} ({tool_name})"
        self.work = os.path.join(A.work, server.name, tool_name)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.status = None
        self.results = {}

    def path(self, name):
        return os.path.join(self.work, name)

    def start(self):
        for attempt in range(3):
            self.port = free_port()
            cmd = self.server.command(self.port, self.work)
            if self.tool == "heapprof":
                cmd = [A.heapprof, "-o", self.path("t.%p.zst"), "--"] + cmd
            elif self.tool == "heaptrack":
                cmd = [tool("heaptrack"), "-o", self.path("ht")] + cmd
            for f in ("stop", "status", "bang"):
                if os.path.exists(self.path(f)):
                    os.unlink(self.path(f))
            e = base_env()
            e["WORK"] = self.work
            self.shell = subprocess.Popen(["bash", "-c", SERVE, "bash"] + cmd, env=e,
                                          cwd=self.work, stdin=subprocess.DEVNULL,
                                          start_new_session=True)
            if self.wait_ready():
                self.bang = int(open(self.path("bang")).read())
                return
            self.kill()
            log = self.log()
            if "Address already in use" not in log and "in use" not in log:
                raise Fail(f"{self.where}: the server never became ready on port "
                           f"{self.port}\n    output: {log[-1500:]!r}")
        raise Fail(f"{self.where}: no free port after 3 tries")

    def wait_ready(self, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.shell.poll() is not None:
                return False
            if self.server.ready(self.port):
                return True
            time.sleep(0.05)
        return False

    def log(self):
        text = ""
        for f in ("out", "err"):
            try:
                text += open(self.path(f), errors="replace").read()
            except OSError:
                pass
        return text

    def stop(self):
        target = ""
        if self.tool == "heaptrack":
            # heaptrack's script runs the server in the foreground and does not pass
            # SIGTERM on: stop the server itself.
            kids = children_of(self.bang, self.server.exe)
            target = str(kids[0]) if kids else ""
        # Written whole, then renamed: the shell polls for the file, and one it found
        # created but not yet written would send SIGTERM to $! instead of the target
        # (under load, heaptrack's script then died and left the server behind).
        with open(self.path("stop.new"), "w") as f:
            f.write(target)
        os.rename(self.path("stop.new"), self.path("stop"))
        try:
            self.shell.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.kill()
        text = open(self.path("status")).read().strip() if os.path.exists(
            self.path("status")) else "no status"
        self.status = int(text) if text.isdigit() else text
        left = session_processes(self.shell.pid)
        check(left == [], f"{self.where}: no process left behind after kill -TERM $!", [],
              [(p, open(f"/proc/{p}/cmdline").read().replace("\0", " ")) for p in left
               if os.path.exists(f"/proc/{p}")])
        self.kill()

    def kill(self):
        try:
            os.killpg(self.shell.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.shell.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def traces(self):
        return sorted(os.path.join(self.work, f) for f in os.listdir(self.work)
                      if f.startswith("t.") and f.endswith(".zst"))


def analyze(trace, *args, timeout=120):
    try:
        p = subprocess.run([A.analyzer, *args, trace], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail(f"heapprof-analyze {' '.join(args)} {trace}: timed out after {timeout}s")
    return p.returncode, p.stdout, p.stderr


def report(trace, where):
    """The JSON report of a trace that must decode and be complete, or None."""
    rc, out, err = analyze(trace, "--format", "json", "--no-symbols", "-q")
    name = os.path.basename(trace)
    if not check(rc == 0, f"{where}: heapprof-analyze {name} exits 0", 0, rc, err[-800:]):
        return None
    rep = json.loads(out)
    check(rep["trace"]["complete"] is True, f"{where}: {name} is complete (ends with END)",
          True, rep["trace"]["complete"], f"warnings: {rep['trace']['warnings']}")
    s = rep["summary"]
    check(0 <= s["frees"] <= s["allocations"], f"{where}: {name}: frees <= allocations",
          f"<= {s['allocations']}", s["frees"])
    return rep


def heaptrack_summary(run):
    files = [f for f in os.listdir(run.work) if f.startswith("ht.")]
    if not check(len(files) == 1, f"{run.where}: one heaptrack file", 1, files):
        return None
    rc, text = run_text([tool("heaptrack_print"), "-p", "0", "-a", "0", "-T", "0", "-l", "0",
                         "-s", "0", os.path.join(run.work, files[0])], 120)
    m = re.search(r"^calls to allocation functions: (\d+)", text, re.M)
    p = re.search(r"^peak heap memory consumption: ([0-9.]+)([BKMG])", text, re.M)
    if not check(rc == 0 and m and p, f"{run.where}: heaptrack_print gives calls and peak",
                 detail=text[-1500:]):
        return None
    unit = {"B": 1, "K": 1e3, "M": 1e6, "G": 1e9}[p.group(2)]
    return {"allocations": int(m.group(1)), "peak": float(p.group(1)) * unit}


def run_text(argv, timeout):
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=base_env())
    except subprocess.TimeoutExpired:
        raise Fail(f"timed out after {timeout}s: {' '.join(argv)}")
    return p.returncode, p.stdout.decode(errors="replace")


def heapprof_lines_ok(run):
    """Under heapprof the only heapprof lines are the recorder's 'trace written to'."""
    lines = [l for l in run.log().splitlines() if "heapprof" in l.lower()
             and not re.match(r"^heapprof: trace written to t\.\d+\.zst$", l)]
    check(lines == [], f"{run.where}: no heapprof line but 'trace written to'", [], lines)


# --- the servers ------------------------------------------------------------------

class Redis:
    name = "redis"

    def __init__(self):
        self.exe = tool("redis-server")
        self.benchmark = tool("redis-benchmark")

    def command(self, port, work):
        return [self.exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", work, "--logfile", "", "--daemonize", "no"]

    def ready(self, port):
        try:
            with RespClient(port, timeout=1) as c:
                return c.call("PING") == b"+PONG\r\n"
        except OSError:
            return False

    def transcript(self, port, n=2000, db=None):
        """A fixed sequence of commands, one at a time: the digest of every reply (in
        database db when given, away from redis-benchmark's keys)."""
        h = hashlib.sha256()
        with RespClient(port) as c:
            if db is not None:
                c.call("SELECT", db)
            for i in range(n):
                h.update(c.call("SET", f"key:{i}", "v" * (i % 200)))
                h.update(c.call("GET", f"key:{i // 2}"))
                h.update(c.call("INCR", "counter"))
                h.update(c.call("LPUSH", "list", i))
                h.update(c.call("HSET", f"h:{i % 50}", f"f{i}", i * 3))
                if i % 10 == 0:
                    h.update(c.call("LRANGE", "list", 0, 9))
                    h.update(c.call("DEL", f"key:{i - 5}"))
                    h.update(c.call("HGETALL", f"h:{i % 50}"))
            h.update(c.call("DBSIZE"))
        return h.hexdigest()

    TESTS = ("SET", "GET", "INCR", "LPUSH", "LPOP", "HSET")
    REQUESTS = 20000

    def load(self, port):
        """redis-benchmark: every test completes all its requests."""
        rc, out = run([self.benchmark, "-h", "127.0.0.1", "-p", str(port), "-n",
                       str(self.REQUESTS), "-c", "10", "--csv", "-t",
                       ",".join(t.lower() for t in self.TESTS)], 120)
        done = re.findall(r'^"([A-Z]+)","[0-9.]+"', out, re.M)
        return rc == 0 and sorted(done) == sorted(self.TESTS), f"rc={rc} tests={done}", out

    def bgsave(self, port):
        """A BGSAVE: redis forks a child that writes the dump and exits."""
        with RespClient(port) as c:
            reply = c.call("BGSAVE")
            for _ in range(200):
                info = c.call("INFO", "persistence").decode()
                if "rdb_bgsave_in_progress:0" in info and "rdb_last_bgsave_status:ok" in info:
                    return reply
                time.sleep(0.05)
        return b"never finished"


class RespClient:
    """A minimal RESP client: one command, one reply (kept raw, for the digest)."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.s.makefile("rb")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()
        self.s.close()

    def call(self, *args):
        msg = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            msg += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(msg)
        return self.reply()

    def reply(self):
        line = self.f.readline()
        if not line:
            raise OSError("connection closed")
        kind = line[:1]
        if kind in b"+-:":
            return line
        n = int(line[1:])
        if kind == b"$":
            return line + (self.f.read(n + 2) if n >= 0 else b"")
        out = line
        for _ in range(max(n, 0)):
            out += self.reply()
        return out


class Memcached:
    name = "memcached"
    MEMORY_MB = 64

    def __init__(self):
        self.exe = tool("memcached")
        self.slap = tool("memcaslap")  # Debian 12's name for libmemcached's memslap

    def command(self, port, work):
        # 4 worker threads; as root memcached wants a user to switch to.
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        return [self.exe, "-t", "4", "-p", str(port), "-l", "127.0.0.1", "-U", "0", "-m",
                str(self.MEMORY_MB), "-c", "256"] + user

    def ready(self, port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"version\r\n")
                return s.recv(100).startswith(b"VERSION ")
        except OSError:
            return False

    def transcript(self, port, n=2000):
        h = hashlib.sha256()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            f = s.makefile("rb")

            def call(line, data=None, lines=1):
                s.sendall(line.encode() + b"\r\n" + (data + b"\r\n" if data is not None
                                                      else b""))
                out = b""
                for _ in range(lines):
                    out += f.readline()
                return out

            def get(keys):
                s.sendall(f"get {keys}\r\n".encode())
                out = b""
                while True:
                    line = f.readline()
                    out += line
                    if line in (b"END\r\n", b"") or line.startswith(b"ERROR"):
                        return out
                    if line.startswith(b"VALUE "):
                        out += f.readline()

            for i in range(n):
                v = (b"value-%d-" % i) * (1 + i % 40)
                h.update(call(f"set k{i} {i % 7} 0 {len(v)}", v))
                h.update(get(f"k{i} k{i // 2} missing{i}"))
                h.update(call(f"add k{i} 0 0 1", b"x"))
                h.update(call(f"append k{i} 0 0 3", b"abc"))
                h.update(call(f"set n{i % 10} 0 0 1", b"5") if i < 10 else b"")
                h.update(call(f"incr n{i % 10} {i}"))
                if i % 5 == 0:
                    h.update(call(f"delete k{i // 3}"))
            h.update(get(" ".join(f"k{i}" for i in range(0, n, 97))))
        return h.hexdigest()

    OPS = 100000

    def load(self, port):
        """memcaslap: a fixed number of operations, 10% of them verified."""
        rc, out = run([self.slap, "-s", f"127.0.0.1:{port}", "-x", str(self.OPS), "-c", "16",
                       "-T", "2", "-v", "0.1"], 120)
        ops = re.search(r"Ops: (\d+)", out)
        bad = re.findall(r"^(get_misses|verify_misses|verify_failed): ([1-9]\d*)", out, re.M)
        ok = rc == 0 and ops and int(ops.group(1)) == self.OPS and not bad
        return ok, f"rc={rc} ops={ops.group(1) if ops else None} errors={bad}", out


class Nginx:
    name = "nginx"
    WORKERS = 2
    PAGES = {"index.html": b"hello from nginx\n",
             "a.txt": bytes(range(256)) * 40,
             "b.txt": b"".join(b"line %06d of b.txt\n" % i for i in range(4000))}

    def __init__(self):
        self.exe = tool("nginx")
        self.wrk = tool("wrk")
        self.requests = 0

    def command(self, port, work):
        html = os.path.join(A.work, "nginx", "html")
        if not os.path.isdir(html):
            os.makedirs(html)
            for name, body in self.PAGES.items():
                with open(os.path.join(html, name), "wb") as f:
                    f.write(body)
            os.chmod(html, 0o755)
        tmp = os.path.join(work, "tmp")
        os.makedirs(tmp, exist_ok=True)
        conf = os.path.join(work, "nginx.conf")
        temps = "".join(f"  {k}_temp_path {tmp};\n"
                        for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(conf, "w") as f:
            f.write(f"""worker_processes {self.WORKERS};
pid {work}/nginx.pid;
error_log {work}/error.log notice;
daemon off;
events {{ worker_connections 256; }}
http {{
  access_log off;
{temps}  server {{
    listen 127.0.0.1:{port};
    root {html};
    location /gz/ {{ alias {html}/; gzip on; gzip_types *; gzip_min_length 1; }}
  }}
}}
""")
        return [self.exe, "-p", work, "-e", os.path.join(work, "error.log"), "-c", conf]

    def ready(self, port):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/index.html")
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except (OSError, http.client.HTTPException):
            return False

    def transcript(self, port, n=300):
        h = hashlib.sha256()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        paths = ["/index.html", "/a.txt", "/b.txt", "/missing.txt", "/gz/b.txt"]
        for i in range(n):
            path = paths[i % len(paths)]
            c.request("GET", path, headers={"Accept-Encoding": "gzip"} if "gz" in path else {})
            r = c.getresponse()
            body = r.read()
            if r.getheader("Content-Encoding") == "gzip":
                body = b"gzip:" + gzip.decompress(body)
            h.update(b"%d %s %s\n" % (r.status, (r.getheader("Content-Type") or "").encode(),
                                      hashlib.sha256(body).hexdigest().encode()))
        c.close()
        return h.hexdigest()

    def load(self, port):
        """wrk for 2 s: every response 2xx, no socket error."""
        rc, out = run([self.wrk, "-t", "2", "-c", "10", "-d", "2s",
                       f"http://127.0.0.1:{port}/b.txt"], 60)
        m = re.search(r"^\s*(\d+) requests in", out, re.M)
        self.requests = int(m.group(1)) if m else 0
        bad = re.findall(r"^\s*(Non-2xx or 3xx responses|Socket errors):.*$", out, re.M)
        return rc == 0 and self.requests > 0 and not bad, f"rc={rc} requests={self.requests} " \
            f"errors={bad}", out


# --- the cases --------------------------------------------------------------------

def serve(server, tool_name, extra=None):
    """Starts, drives (transcript, load, extra), stops; returns the Run."""
    r = Run(server, tool_name)
    r.start()
    try:
        r.results["transcript"] = server.transcript(r.port)
        if tool_name == "heapprof":
            mark(r, MARKS[0])
        ok, summary, out = server.load(r.port)
        if tool_name == "heapprof":
            mark(r, MARKS[1])
        check(ok, f"{r.where}: the load run completes without errors", True, summary,
              out[-1500:])
        r.results["load"] = summary
        if extra:
            r.results["extra"] = extra(r)
    finally:
        r.stop()
    return r


MARKS = ("load starts", "load ends")


def mark(run, label):
    """heapprof mark $! LABEL, as a user marks the phases of a load test."""
    rc, out = run_text([A.heapprof, "mark", str(run.bang), label], 20)
    check(rc == 0, f"{run.where}: heapprof mark {run.bang} '{label}' exits 0", 0, rc, out)
    time.sleep(0.05)  # the writer reads the FIFO every 10 ms


def check_marks(rep, where):
    """The two marks around the load, in order, inside the run."""
    marks = rep.get("marks") or []
    check([m["label"] for m in marks] == list(MARKS), f"{where}: the marks sent with "
          "heapprof mark, in order", list(MARKS), [m["label"] for m in marks])
    if len(marks) == 2:
        check(0 < marks[0]["t_s"] < marks[1]["t_s"] < rep["summary"]["duration_s"],
              f"{where}: the marks lie inside the run", "0 < t1 < t2 < duration",
              (marks[0]["t_s"], marks[1]["t_s"], rep["summary"]["duration_s"]))
        check(marks[0]["heap_bytes"] > 0, f"{where}: the heap at the first mark is known",
              "> 0", marks[0]["heap_bytes"])


def compare(native, other):
    check(other.results.get("transcript") == native.results.get("transcript"),
          f"{other.where}: the same replies as natively", native.results.get("transcript"),
          other.results.get("transcript"))
    check(other.status == native.status, f"{other.where}: the same exit status as natively",
          native.status, other.status, other.log()[-1500:])


def the_trace(run, where):
    """The server's own trace (t.<pid of $!>.zst) and the others."""
    traces = run.traces()
    main = os.path.join(run.work, f"t.{run.bang}.zst")
    check(main in traces, f"{where}: the server's trace t.{run.bang}.zst exists",
          os.path.basename(main), [os.path.basename(t) for t in traces])
    return main if main in traces else None, [t for t in traces if t != main]


def case_redis():
    s = Redis()
    native = serve(s, "native", lambda r: s.bgsave(r.port))
    check(native.status == 0, "redis (native): exits 0 on SIGTERM", 0, native.status)
    hp = serve(s, "heapprof", lambda r: s.bgsave(r.port))
    compare(native, hp)
    heapprof_lines_ok(hp)
    ht = serve(s, "heaptrack", lambda r: s.bgsave(r.port))
    compare(native, ht)
    main, others = the_trace(hp, hp.where)
    rep = report(main, hp.where) if main else None
    if rep:
        check_marks(rep, hp.where)
    # The BGSAVE child writes its own trace, named by the template (the template must
    # survive redis writing its process title over the environment).
    check(len(others) == 1, f"{hp.where}: one more trace, the BGSAVE child's", 1,
          [os.path.basename(t) for t in others])
    for t in others:
        child = report(t, hp.where + " BGSAVE child")
        if child:
            check(child["process"]["ppid"] == hp.bang, f"{hp.where}: the BGSAVE child's "
                  "trace names redis as its parent", hp.bang, child["process"]["ppid"])
    want = heaptrack_summary(ht)
    if rep and want:
        got = rep["summary"]["allocations"]
        check(abs(got - want["allocations"]) <= 0.01 * want["allocations"],
              f"{hp.where}: calls to allocation functions within 1% of heaptrack's "
              "on the same requests", want["allocations"], got)
        peak = rep["summary"]["peak_heap_bytes"]
        check(abs(peak - want["peak"]) <= 0.1 * want["peak"] + 20000,
              f"{hp.where}: peak heap within 10% of heaptrack's", want["peak"], peak)
        # Every request allocates: at least one call per benchmark request.
        check(got >= len(s.TESTS) * s.REQUESTS, f"{hp.where}: at least one call per request",
              f">= {len(s.TESTS) * s.REQUESTS}", got)
        print(f"redis: heapprof {got} calls, peak {peak} B; heaptrack {want['allocations']} "
              f"calls, peak {want['peak']:.0f} B")


def case_memcached():
    s = Memcached()
    native = serve(s, "native")
    check(native.status == 0, "memcached (native): exits 0 on SIGTERM", 0, native.status)
    hp = serve(s, "heapprof")
    compare(native, hp)
    heapprof_lines_ok(hp)
    main, others = the_trace(hp, hp.where)
    check(others == [], f"{hp.where}: no other trace", [], others)
    rep = report(main, hp.where) if main else None
    if rep:
        check_marks(rep, hp.where)
        sm = rep["summary"]
        # memcached takes its item memory from its slab allocator in 1 MiB pages, and
        # the transcript and memcaslap store megabytes: at least a few pages, never much
        # over the -m limit plus the hash table and the connection buffers.
        check(2 << 20 <= sm["peak_heap_bytes"] <= (s.MEMORY_MB + 32) << 20,
              f"{hp.where}: peak heap between 2 MiB and -m {s.MEMORY_MB} MiB + 32 MiB",
              f"[{2 << 20}, {(s.MEMORY_MB + 32) << 20}]", sm["peak_heap_bytes"])
        check(sm["allocations"] >= 100, f"{hp.where}: at least 100 calls", ">= 100",
              sm["allocations"])
        # main, 4 workers, and the maintenance threads (LRU crawler and maintainer,
        # hash expansion, slab rebalancer)
        check(sm["threads"] >= 6, f"{hp.where}: the worker threads are in the trace", ">= 6",
              sm["threads"])
        print(f"memcached: {sm['allocations']} calls, peak {sm['peak_heap_bytes']} B, "
              f"{sm['threads']} threads")


def case_nginx():
    s = Nginx()
    native = serve(s, "native")
    check(native.status == 0, "nginx (native): exits 0 on SIGTERM", 0, native.status)
    hp = serve(s, "heapprof")
    compare(native, hp)
    heapprof_lines_ok(hp)
    main, workers = the_trace(hp, hp.where)
    rep = report(main, hp.where + " master") if main else None
    check(len(workers) == s.WORKERS, f"{hp.where}: one trace per worker", s.WORKERS,
          [os.path.basename(t) for t in workers])
    calls = 0
    for t in workers:
        w = report(t, hp.where + " worker")
        if w:
            check(w["process"]["ppid"] == hp.bang, f"{hp.where}: a worker's trace names "
                  "the master as its parent", hp.bang, w["process"]["ppid"])
            check(0 < w["summary"]["peak_heap_bytes"] < 64 << 20,
                  f"{hp.where}: a worker's peak heap is above 0 and below 64 MiB",
                  "(0, 64 MiB)", w["summary"]["peak_heap_bytes"])
            calls += w["summary"]["allocations"]
    if rep:
        check_marks(rep, hp.where + " master")
        check(rep["summary"]["allocations"] > 100, f"{hp.where}: the master's calls > 100",
              "> 100", rep["summary"]["allocations"])
    # A request's pools come from malloc or posix_memalign: at least one call each.
    check(calls >= s.requests, f"{hp.where}: the workers make a call per request at least",
          f">= {s.requests}", calls)
    print(f"nginx: workers {calls} calls for {s.requests} wrk requests")


def case_redis_attach():
    """heapprof -p on a redis under redis-benchmark load: redis answers every request
    before, during and after the attach, and the trace holds what it did in between."""
    if not ptrace_allowed():
        raise Skip("heapprof -p needs ptrace: run as root, or with "
                   "/proc/sys/kernel/yama/ptrace_scope 0")
    s = Redis()
    r = Run(s, "attach")
    r.start()
    where = "redis (heapprof -p under load)"
    bench = None
    try:
        want = s.transcript(r.port, 1000, db=3)
        # Long enough to outlast the attach: about 6 s natively here.
        bench = subprocess.Popen([s.benchmark, "-h", "127.0.0.1", "-p", str(r.port), "-n",
                                  "80000", "-c", "10", "--csv", "-t", "set,get,lpush,incr"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, env=base_env())
        time.sleep(0.5)
        att = subprocess.Popen([A.heapprof, "-p", str(r.bang), "--duration", "3", "-o",
                                r.path("a.%p.zst")], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=base_env(), cwd=r.work)
        trace = r.path(f"a.{r.bang}.zst")
        end = time.monotonic() + 30
        while not os.path.exists(trace) and att.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        during = s.transcript(r.port, 1000, db=1)
        mark(r, "while attached")
        try:
            _, aerr = att.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            att.kill()
            _, aerr = att.communicate()
            check(False, f"{where}: heapprof -p --duration 3 ends")
        check(att.returncode == 0, f"{where}: heapprof -p exits 0", 0, att.returncode, aerr)
        check(re.search(r"^heapprof: attached to process \d+", aerr, re.M) and
              re.search(r"^heapprof: detached from process \d+; trace written to", aerr, re.M),
              f"{where}: heapprof -p says it attached and detached", "attached ... detached",
              aerr)
        size = os.path.getsize(trace) if os.path.exists(trace) else -1
        after = s.transcript(r.port, 1000, db=2)
        check(during == want and after == want, f"{where}: the same replies before, during "
              "and after the attach", [want] * 2, [during, after])
        time.sleep(0.5)
        check(os.path.exists(trace) and os.path.getsize(trace) == size,
              f"{where}: nothing is recorded after the detach (the trace stops growing)",
              size, os.path.getsize(trace) if os.path.exists(trace) else None)
        try:
            out, _ = bench.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            bench.kill()
            out, _ = bench.communicate()
        done = re.findall(r'^"([A-Z]+)","[0-9.]+"', out.decode(errors="replace"), re.M)
        check(bench.returncode == 0 and sorted(done) == ["GET", "INCR", "LPUSH", "SET"],
              f"{where}: redis-benchmark, running throughout, completes every test",
              ["GET", "INCR", "LPUSH", "SET"], (bench.returncode, done))
        bench = None
    finally:
        if bench:
            bench.kill()
            bench.wait()
        r.stop()
    check(r.status == 0, f"{where}: redis exits 0 on SIGTERM after the detach", 0, r.status,
          r.log()[-1500:])
    rep = report(trace, where) if os.path.exists(trace) else None
    if not check(rep is not None, f"{where}: the trace {os.path.basename(trace)} exists"):
        return
    check(rep["trace"].get("attached") is True, f"{where}: the trace says it was attached",
          True, rep["trace"].get("attached"))
    calls = rep["summary"]["allocations"]
    # The transcript alone makes 1000 SETs and 1000 LPUSHes during the attach.
    check(calls >= 2000, f"{where}: the requests made while attached are in the trace",
          ">= 2000", calls)
    check([m["label"] for m in rep.get("marks", [])] == ["while attached"],
          f"{where}: the mark sent while attached is in the trace", ["while attached"],
          rep.get("marks"))
    rc, text, _ = analyze(trace, "--no-symbols", "-q")
    check(re.search(r"^  attached     at .* blocks allocated before are not counted$", text,
                    re.M) is not None, f"{where}: the report says when it attached",
          "attached at T; blocks allocated before are not counted", text[:800])
    rc, dump, _ = analyze(trace, "--dump")
    unknown = len(re.findall(r"^free .* unknown=1$", dump, re.M))
    check(unknown > 0, f"{where}: frees of blocks from before the attach are FREE_UNKNOWN",
          "> 0", unknown)
    print(f"redis attach: {calls} calls while attached, {unknown} frees of older blocks")


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}


def main():
    global A
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--heapprof", required=True)
    ap.add_argument("--analyzer", required=True)
    ap.add_argument("--work", required=True)
    A = ap.parse_args()
    A.heapprof, A.analyzer = os.path.abspath(A.heapprof), os.path.abspath(A.analyzer)
    A.work = os.path.join(os.path.abspath(A.work), A.case)
    shutil.rmtree(A.work, ignore_errors=True)
    os.makedirs(A.work)
    t0 = time.monotonic()
    try:
        CASES[A.case]()
    except Skip as ex:
        print(f"SKIP {A.case}: {ex}")
        return 77
    except Fail as ex:
        failures.append(str(ex))
    took = time.monotonic() - t0
    if failures:
        print(f"FAIL {A.case} ({took:.1f}s): {len(failures)} check(s) failed")
        for i, f in enumerate(failures, 1):
            print(f"  {i}. {f}")
        print(f"  work dir kept: {A.work}")
        return 1
    print(f"PASS {A.case} ({took:.1f}s)")
    shutil.rmtree(A.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
