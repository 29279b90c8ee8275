"""A real multi-threaded program for the HTML report (html.python): CPython itself,
4 threads each building and dropping dicts, lists and strings, under the preload."""
import json
import threading


def work(n):
    for i in range(200):
        rows = [{"id": j, "name": "row-%d-%d" % (n, j), "tags": list(range(j % 7))}
                for j in range(300)]
        json.dumps(rows)


threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
