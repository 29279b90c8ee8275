#!/usr/bin/env python3
"""Server throughput natively, under heapprof and under heaptrack.

    bench/servers.py [--runs N] [--quick] [--only redis,memcached,nginx]
                     [--tools native,heapprof,heaptrack] [--results FILE]

Each server (Debian's redis-server, memcached -t 4, nginx with 2 workers) is started on
a free loopback port, warmed up, loaded by its usual tool, and stopped with SIGTERM:

- redis: `redis-benchmark -n 200000 -c 50 -t set,get,lpush,lpop --csv` (requests/s per test);
- memcached: `memcaslap -t 10s -c 64 -T 2` (operations/s, 90% get, 10% set);
- nginx: `wrk -t 2 -c 64 -d 10s` on a 78 KiB file (requests/s).

heapprof is its wrapper (`build/bin/heapprof SERVER ...`, which execs the server);
heaptrack is `heaptrack -o FILE SERVER ...` (its interpreter and zstd run beside the
server, as they do for a user). Runs alternate native, heapprof, heaptrack, native, ...
so load drifts hit all three; the table gives medians and ratios. The load tool shares
the machine with the server: on few cores the figures say how much of it the profiler
takes as well as how much it slows the server. Writes Markdown to stdout and to
bench/SERVERS.md (`--results -` for none). Needs the packages of tools/deps.sh.
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
TOOLS = ("native", "heapprof", "heaptrack")
SERVERS = ("redis", "memcached", "nginx")


def die(msg):
    print("bench/servers: " + msg, file=sys.stderr)
    sys.exit(1)


def note(msg):
    print("bench/servers: " + msg, file=sys.stderr, flush=True)


def need(name):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not path:
        die(f"'{name}' is not installed (tools/deps.sh lists the packages)")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def can_connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def output(argv, timeout):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace")


class Redis:
    name = "redis"
    TESTS = ("SET", "GET", "LPUSH", "LPOP")

    def command(self, port, work):
        return [need("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save",
                "", "--appendonly", "no", "--dir", work, "--logfile", ""]

    def load(self, port, quick):
        n = 20000 if quick else 200000
        rc, out = output([need("redis-benchmark"), "-h", "127.0.0.1", "-p", str(port), "-n",
                          str(n), "-c", "50", "--csv", "-t",
                          ",".join(t.lower() for t in self.TESTS)], 600)
        rps = {m.group(1): float(m.group(2))
               for m in re.finditer(r'^"([A-Z]+)","([0-9.]+)"', out, re.M)}
        if rc or sorted(rps) != sorted(self.TESTS):
            return None, out
        return {f"{t} requests/s": rps[t] for t in self.TESTS}, out

    def warm(self, port):
        output([need("redis-benchmark"), "-h", "127.0.0.1", "-p", str(port), "-n", "5000",
                "-q", "-t", "set,get"], 60)


class Memcached:
    name = "memcached"

    def command(self, port, work):
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        return [need("memcached"), "-t", "4", "-p", str(port), "-l", "127.0.0.1", "-U", "0",
                "-m", "256", "-c", "1024"] + user

    def load(self, port, quick):
        rc, out = output([need("memcaslap"), "-s", f"127.0.0.1:{port}", "-t",
                          "2s" if quick else "10s", "-c", "64", "-T", "2"], 600)
        m = re.search(r"Ops: (\d+) TPS: (\d+)", out)
        if rc or not m:
            return None, out
        return {"operations/s": float(m.group(2))}, out

    def warm(self, port):
        output([need("memcaslap"), "-s", f"127.0.0.1:{port}", "-x", "20000", "-c", "16",
                "-T", "2"], 60)


class Nginx:
    name = "nginx"

    def command(self, port, work):
        html = os.path.join(work, "html")
        os.makedirs(html, exist_ok=True)
        with open(os.path.join(html, "page.txt"), "wb") as f:
            f.write(b"".join(b"line %06d of a 78 KiB page\n" % i for i in range(3000)))
        for d in (work, html):
            os.chmod(d, 0o755)
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/error.log;
daemon off;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work};
  server {{ listen 127.0.0.1:{port}; root {html}; }}
}}
""")
        return [need("nginx"), "-p", work, "-e", os.path.join(work, "error.log"), "-c", conf]

    def load(self, port, quick):
        rc, out = output([need("wrk"), "-t", "2", "-c", "64", "-d", "2s" if quick else "10s",
                          f"http://127.0.0.1:{port}/page.txt"], 120)
        m = re.search(r"^Requests/sec:\s+([0-9.]+)", out, re.M)
        if rc or not m or "Non-2xx" in out or "Socket errors" in out:
            return None, out
        return {"requests/s": float(m.group(1))}, out

    def warm(self, port):
        output([need("wrk"), "-t", "1", "-c", "4", "-d", "1s",
                f"http://127.0.0.1:{port}/page.txt"], 60)


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1]) \
                    == pid:
                out.append(int(d))
        except OSError:
            pass
    return out


def one_run(server, tool, heapprof, quick):
    work = tempfile.mkdtemp(prefix=f"heapprof-bench-{server.name}-")
    port = free_port()
    cmd = server.command(port, work)
    if tool == "heapprof":
        cmd = [heapprof, "-o", os.path.join(work, "t.%p.zst"), "--"] + cmd
    elif tool == "heaptrack":
        cmd = [need("heaptrack"), "-o", os.path.join(work, "ht")] + cmd
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEAPPROF_")}
    log = open(os.path.join(work, "log"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env, cwd=work, start_new_session=True)
    try:
        end = time.monotonic() + 30
        while not can_connect(port):
            if p.poll() is not None or time.monotonic() > end:
                return None, f"{server.name} never listened: " + open(log.name).read()[-500:]
            time.sleep(0.05)
        server.warm(port)
        figures, out = server.load(port, quick)
        # heaptrack's script does not pass SIGTERM on: stop the server itself.
        target = [c for c in children(p.pid)] if tool == "heaptrack" else [p.pid]
        for pid in target:
            os.kill(pid, signal.SIGTERM)
        p.wait(timeout=120)
        return figures, out
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="short loads, 1 run")
    ap.add_argument("--only", default=",".join(SERVERS))
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--results", default=os.path.join(BENCH, "SERVERS.md"))
    args = ap.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    tools = [t for t in args.tools.split(",") if t]
    names = [s for s in args.only.split(",") if s]
    if set(tools) - set(TOOLS) or set(names) - set(SERVERS):
        die(f"tools are {','.join(TOOLS)}, servers {','.join(SERVERS)}")
    build = os.path.abspath(os.environ.get("HEAPPROF_BUILD") or os.path.join(ROOT, "build"))
    heapprof = os.path.join(build, "bin", "heapprof")
    if "heapprof" in tools and not os.access(heapprof, os.X_OK):
        die(f"no {heapprof}: build heapprof first (cmake -S . -B build && cmake --build build)")
    servers = [{"redis": Redis, "memcached": Memcached, "nginx": Nginx}[n]() for n in names]
    load_before = os.getloadavg()[0]
    t0 = time.monotonic()
    results = {}
    for s in servers:
        for r in range(runs):
            for t in tools:
                note(f"{s.name}: {t}, run {r + 1}/{runs}")
                figures, out = one_run(s, t, heapprof, args.quick)
                if figures is None:
                    note(f"{s.name} under {t} failed; left out:\n{out[-800:]}")
                    continue
                for k, v in figures.items():
                    results.setdefault((s.name, k), {}).setdefault(t, []).append(v)
    took = time.monotonic() - t0
    lines = ["# heapprof server benchmark", "",
             f"- machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
             f"kernel {platform.release()}, load average before the run "
             f"{load_before:.2f}",
             f"- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC",
             f"- command: `bench/servers.py {' '.join(sys.argv[1:])}` ({runs} run(s) per tool, "
             f"alternated; medians; {took:.0f} s in all)", "",
             "Throughput of each server natively, under heapprof and under heaptrack, with the "
             "load tool on the same machine (see the header of bench/servers.py for the "
             "commands).", "",
             "| server | metric | " + " | ".join(tools) + " | " +
             " | ".join(f"{t}/native" for t in tools if t != "native") + " |",
             "|---|---|" + "---|" * (2 * len(tools) - (1 if "native" in tools else 0))]
    for (name, metric), per in results.items():
        med = {t: statistics.median(per[t]) for t in tools if per.get(t)}
        cells = [f"{med[t]:,.0f}" if t in med else "–" for t in tools]
        ratios = [f"{med[t] / med['native']:.2f}x" if t in med and med.get("native") else "–"
                  for t in tools if t != "native"]
        lines.append(f"| {name} | {metric} | " + " | ".join(cells) + " | " +
                     " | ".join(ratios) + " |")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.results != "-":
        with open(args.results, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
