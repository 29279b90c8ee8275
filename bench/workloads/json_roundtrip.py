"""python: dict-heavy work and a JSON round trip (CPython's allocator path).

    python3 json_roundtrip.py [ROUNDS=6]

Builds a list of nested dicts, serialises it with json.dumps, parses it back and
aggregates it; deterministic. Small objects go through pymalloc, so malloc sees the
arenas, the large strings and the containers' item arrays.
"""
import json
import sys

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 6
total = 0
for r in range(rounds):
    records = [
        {"id": i, "name": "user%d" % i, "tags": ["t%d" % (i % 7), "g%d" % (i % 13)],
         "score": (i * 2654435761) % 1000 / 10.0, "attrs": {"k%d" % (i % 5): i}}
        for i in range(20000)
    ]
    text = json.dumps(records)
    back = json.loads(text)
    by_tag = {}
    for rec in back:
        for tag in rec["tags"]:
            by_tag.setdefault(tag, []).append(rec["score"])
    total += len(text) + sum(len(v) for v in by_tag.values())
print("python: rounds=%d total=%d" % (rounds, total), file=sys.stderr)
