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
    """(released, allocated) block keys of an alloc/free/realloc dump line: version 3
    traces name blocks by a key never reused (block=THREAD:SEQ, a realloc's old=), version
    2 by slot (block=N; addr= only on frees of unknown addresses, which release nothing),
    version 1 by address."""
    if ":" in f.get("block", ""):
        b = "k" + f["block"]
        if kind == "alloc":
            return None, b
        if kind == "free":
            return b, None
        return (None if f.get("unknown") else "k" + f["old"]), b
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


def unique_keys(keys):
    """Whether the keys are version 3's, which are never reused: then which block a
    release names does not depend on the order the events are replayed in."""
    return any(k.startswith("k") for k in keys if k)


def count_sized_unique(events, in_range):
    """replay_sized() for version 3 keys: (op, key, size) with op 0 a release, 1 an
    allocation, 2 a realloc's new block. Counts tagged allocations and the releases of
    tagged blocks, in any order."""
    tagged = {}
    sized = {"alloc": 0, "free": 0, "realloc": 0}
    for op, key, size in events:
        if op:
            t = tagged[key] = in_range(size)
            sized["alloc"] += t
            sized["realloc"] += t and op == 2
    sized["free"] = sum(1 for op, key, _ in events if op == 0 and tagged.get(key, False))
    return sized
