"""The environment the test drivers of the reports (tests/diff, term, time, exports,
html) run a program in under libheapprof.so: the caller's, less its own HEAPPROF_*
settings and LD_PRELOAD (a developer's shell must not change what a test records), in
the C locale, with the preload and the trace's path (HEAPPROF_OUTPUT, %p allowed)."""

import os


def preload_env(preload, output, extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HEAPPROF_") and k != "LD_PRELOAD"}
    env["LC_ALL"] = "C"
    env["LD_PRELOAD"] = os.path.abspath(preload)
    env["HEAPPROF_OUTPUT"] = output
    env.update(extra or {})
    return env
