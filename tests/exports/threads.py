"""The real multi-threaded program of the export tests: CPython, four threads building
and keeping JSON strings (thousands of allocation sites in libpython)."""
import json
import threading


def work(n):
    keep = []
    for i in range(300):
        s = json.dumps(list(range(n + i)))
        if i % 10 == 0:
            keep.append(s)
    return keep


threads = [threading.Thread(target=work, args=(200 + 50 * k,)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
