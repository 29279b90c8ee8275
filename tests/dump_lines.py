"""The lines of `heapprof-analyze --dump` (docs/dump.md), for the test drivers in
tests/preload/check_trace.py and tests/real/run_case.py."""

import re


def parse_dump_line(line):
    """'kind k=v k=v ...' -> (kind, {k: v})."""
    parts = line.split()
    kind = parts[0] if parts else ""
    if kind in ("alloc", "free", "realloc"):  # hot: no regex
        return kind, dict(p.split("=", 1) for p in parts[1:])
    # Values never contain " key=" except exe/cmdline/path/message, which run to the end.
    return kind, {m.group(1): m.group(2) for m in re.finditer(r"(\w+)=(\S*)", line)}


def block_keys(kind, f):
    """(released, allocated) block keys of an alloc/free/realloc dump line: version 2
    traces name blocks by slot (block=N; addr= only on frees of unknown addresses, which
    release nothing), version 1 by address."""
    if "block" in f:
        b = "b" + f["block"]
        if kind == "alloc":
            return None, b
        if kind == "free":
            return b, None
        return (None if f.get("unknown") else b), b
    if kind == "alloc":
        return None, f.get("addr")
    if kind == "free":
        return f.get("addr"), None
    return f.get("old"), f.get("new")
