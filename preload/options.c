/* HEAPPROF_* environment parsing. getenv() is used because it neither allocates nor
 * locks; everything runs once, from the first interposed call or the constructor.
 *
 * Variables:
 *   HEAPPROF_OUTPUT      trace file template; %p pid, %e executable basename, %% a
 *                        percent sign, any other %x kept as is. Default
 *                        "heapprof.%e.%p.zst" in the current directory. An existing
 *                        file is never overwritten: ".1", ".2", ... go before ".zst".
 *   HEAPPROF_MAX_FRAMES  stack depth recorded, 1..1024, default 64.
 *   HEAPPROF_FLUSH_MS    longest time buffered data waits before a zstd frame is
 *                        written, 1..60000 ms, default 100 (a quiet thread's events
 *                        may wait half as long again in its ring: writer.c).
 *   HEAPPROF_WRITERS     threads compressing frames, 1..8, default 1: the writer thread
 *                        compresses itself; with N > 1, N threads compress frames in
 *                        parallel while it stages the next (traceout.c).
 *   HEAPPROF_ZSTD_LEVEL  zstd level, 1..19, default 1 (level 3 costs about twice the
 *                        writer CPU for a few percent smaller traces; see the report).
 *   HEAPPROF_CLOCK       "tsc" or "monotonic"; default: tsc when the kernel clocksource
 *                        is tsc, else CLOCK_MONOTONIC.
 *   HEAPPROF_VERBOSE     1: print "heapprof: writing trace to '<path>'" at start.
 *                        Errors are always printed, one line each.
 *   HEAPPROF_LEAK_SCAN   0: no reachability scan at exit (docs/leak-check.md); any
 *                        other value or unset: scan, LEAK_SCAN/LEAK_BLOCKS records.
 *   HEAPPROF_UNWIND      "cfa" (default): libunwind's frame rules cached per return
 *                        address (unwind_cfa.c); "libunwind": unw_backtrace for every
 *                        stack; "fp": frame-pointer unwinder with libunwind for the
 *                        frames without frame pointers (unwind_fp.c). Other values: cfa.
 *   HEAPPROF_UNWIND_CACHE  0: with fp, unwind every event; default 1: reuse the last
 *                        stack id while its frames are provably unchanged.
 *   HEAPPROF_SAMPLE_BYTES  mean bytes between sampled allocations (Poisson, per thread),
 *                        0..4294967295; default 0: every event recorded.
 *   HEAPPROF_ANNOUNCE    a directory (the heapprof wrapper sets it to its own): when the
 *                        trace gets its END (exit, exec), say "heapprof: trace written
 *                        to <path>" on stderr, the path relative to that directory when
 *                        below it, unless the program replaced its stderr meanwhile.
 *   HEAPPROF_CONTROL     0: no control FIFO (control.h; `heapprof mark PID` and
 *                        `heapprof top PID` then cannot reach the process); default 1.
 *   XDG_RUNTIME_DIR      where the control FIFO goes (else /tmp/heapprof-<euid>). */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <heapprof/trace_format.h>

#include "os.h"

struct hp_options hp_options = {
    .output = HP_DEFAULT_OUTPUT,
    .max_frames = 64,
    .flush_ms = 100,
    .zstd_level = 1,
    .clock = HP_CLOCK_AUTO,
};

/* A copy of an environment value: programs that set their process title (redis,
 * nginx, postgres) overwrite the environment strings in place, and the output template
 * is needed again at every fork. Longer values than buf holds stay where they are. */
static const char *keep(const char *s, char *buf, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		return s;
	memcpy(buf, s, n + 1);
	return buf;
}

unsigned hp_options_parse_uint(const char *s, unsigned min, unsigned max, unsigned def)
{
	if (!s || !*s)
		return def;
	unsigned long v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return def;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return def;
	}
	return v < min ? def : (unsigned)v;
}

void hp_options_init(void)
{
	static char output[PATH_MAX], announce[PATH_MAX], runtime_dir[PATH_MAX];
	const char *s = getenv("HEAPPROF_OUTPUT");
	if (s && *s)
		hp_options.output = keep(s, output, sizeof output);
	hp_options.max_frames =
	    hp_options_parse_uint(getenv("HEAPPROF_MAX_FRAMES"), 1, HP_MAX_FRAMES_PER_STACK, 64);
	hp_options.flush_ms = hp_options_parse_uint(getenv("HEAPPROF_FLUSH_MS"), 1, 60000, 100);
	hp_options.writers = hp_options_parse_uint(getenv("HEAPPROF_WRITERS"), 1, 8, 1);
	hp_options.zstd_level = (int)hp_options_parse_uint(getenv("HEAPPROF_ZSTD_LEVEL"), 1, 19, 1);
	s = getenv("HEAPPROF_CLOCK");
	if (s && strcmp(s, "tsc") == 0)
		hp_options.clock = HP_CLOCK_TSC;
	else if (s && strcmp(s, "monotonic") == 0)
		hp_options.clock = HP_CLOCK_MONOTONIC;
	hp_options.verbose = hp_options_parse_uint(getenv("HEAPPROF_VERBOSE"), 0, 1, 0);
	s = getenv("HEAPPROF_LEAK_SCAN");
	hp_options.leak_scan = !(s && strcmp(s, "0") == 0);
	s = getenv("HEAPPROF_UNWIND");
	hp_options.unwind = !s				  ? HP_UNWIND_CFA
			    : strcmp(s, "fp") == 0	  ? HP_UNWIND_FP
			    : strcmp(s, "libunwind") == 0 ? HP_UNWIND_LIBUNWIND
							  : HP_UNWIND_CFA;
	hp_options.unwind_cache = hp_options_parse_uint(getenv("HEAPPROF_UNWIND_CACHE"), 0, 1, 1);
	hp_options.sample_bytes =
	    hp_options_parse_uint(getenv("HEAPPROF_SAMPLE_BYTES"), 0, 0xffffffffu, 0);
	/* A sampled trace knows only the sampled blocks, so a reachability scan over them
	 * would call most of the heap unknown: sampling turns the scan off. */
	if (hp_options.sample_bytes)
		hp_options.leak_scan = 0;
	s = getenv("HEAPPROF_ANNOUNCE");
	hp_options.announce = s && *s == '/' ? keep(s, announce, sizeof announce) : NULL;
	s = getenv("HEAPPROF_CONTROL");
	hp_options.control = !(s && strcmp(s, "0") == 0);
	s = getenv("XDG_RUNTIME_DIR");
	hp_options.runtime_dir = s && *s == '/' ? keep(s, runtime_dir, sizeof runtime_dir) : NULL;
}

void hp_options_attach(const char *output)
{
	static char attach_output[PATH_MAX];
	hp_options.output = keep(output, attach_output, sizeof attach_output);
	hp_options.leak_scan = 0;
	hp_options.attached = 1;
}

static int put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (n >= cap - *len)
		return -ENAMETOOLONG;
	memcpy(out + *len, s, n);
	*len += n;
	return 0;
}

int hp_options_expand_output(const char *tmpl, long pid, const char *exe, char *out, size_t cap)
{
	size_t len = 0;
	const char *base = exe ? strrchr(exe, '/') : NULL;
	base = base ? base + 1 : (exe ? exe : "");
	if (!*base)
		base = "unknown";
	if (cap == 0)
		return -ENAMETOOLONG;
	for (const char *p = tmpl; *p; p++) {
		int err;
		if (p[0] == '%' && p[1] == 'p') {
			char num[24];
			char *end = hp_os_utoa(num, (uint64_t)(pid < 0 ? 0 : pid));
			err = put(out, cap, &len, num, (size_t)(end - num));
			p++;
		} else if (p[0] == '%' && p[1] == 'e') {
			err = put(out, cap, &len, base, strlen(base));
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			err = put(out, cap, &len, "%", 1);
			p++;
		} else {
			err = put(out, cap, &len, p, 1);
		}
		if (err)
			return err;
	}
	out[len] = '\0';
	return 0;
}

int hp_options_unique_name(const char *path, unsigned n, char *out, size_t cap)
{
	size_t len = strlen(path), stem = len;
	if (len >= 4 && strcmp(path + len - 4, ".zst") == 0)
		stem = len - 4;
	char num[24];
	num[0] = '.';
	char *end = hp_os_utoa(num + 1, n);
	size_t numlen = (size_t)(end - num);
	if (len + numlen >= cap)
		return -ENAMETOOLONG;
	memmove(out, path, stem);
	memcpy(out + stem, num, numlen);
	memcpy(out + stem + numlen, path + stem, len - stem);
	out[len + numlen] = '\0';
	return 0;
}
