/* HEAPPROF_* environment variables, parsed once at start without malloc. */
#ifndef HP_OPTIONS_H
#define HP_OPTIONS_H

#include <stddef.h>

enum hp_clock_choice { HP_CLOCK_AUTO, HP_CLOCK_TSC, HP_CLOCK_MONOTONIC };

/* HEAPPROF_UNWIND: cached CFA rules (unwind_cfa.c), plain unw_backtrace (unwind.c),
 * frame pointers (unwind_fp.c). */
enum hp_unwinder { HP_UNWIND_CFA, HP_UNWIND_LIBUNWIND, HP_UNWIND_FP };

struct hp_options {
	const char *output;  /* output template (HEAPPROF_OUTPUT) */
	unsigned max_frames; /* 1..1024 */
	unsigned flush_ms;   /* >= 1 */
	int zstd_level;	     /* 1..19 */
	enum hp_clock_choice clock;
	int verbose;   /* print where the trace goes */
	int leak_scan; /* reachability scan at exit (HEAPPROF_LEAK_SCAN) */
	enum hp_unwinder unwind;
	int unwind_cache;	 /* HEAPPROF_UNWIND_CACHE: reuse unchanged stacks (fp only) */
	unsigned sample_bytes;	 /* HEAPPROF_SAMPLE_BYTES: mean sampling interval, 0 off */
	const char *announce;	 /* HEAPPROF_ANNOUNCE: say the trace's name at its END, relative
				  * to this directory; NULL: say nothing */
	int control;		 /* HEAPPROF_CONTROL: the control FIFO (control.h) */
	unsigned writers;	 /* HEAPPROF_WRITERS: threads compressing frames, 1..8 */
	int attached;		 /* recording began in a running process (heapprof -p) */
	const char *runtime_dir; /* $XDG_RUNTIME_DIR when absolute, else NULL */
};

extern struct hp_options hp_options;

#define HP_DEFAULT_OUTPUT "heapprof.%e.%p.zst"

/* Fills hp_options from the environment; invalid values fall back to the defaults.
 * Not thread-safe (runs once at start). */
void hp_options_init(void);

/* heapprof_attach: the wrapper's output template (copied), no leak scan (the blocks from
 * before are unknown), the ATTACHED header flag. After hp_options_init. */
void hp_options_attach(const char *output);

/* Parses a decimal unsigned in [min, max]; returns def for NULL, empty or invalid text. */
unsigned hp_options_parse_uint(const char *s, unsigned min, unsigned max, unsigned def);

/* Expands an output template: %p -> pid, %e -> exe basename, %% -> %; any other %x and
 * a trailing % are kept literally. Writes a NUL-terminated path into out. Returns 0,
 * or -ENAMETOOLONG when the result does not fit in cap bytes. Thread-safe. */
int hp_options_expand_output(const char *tmpl, long pid, const char *exe, char *out, size_t cap);

/* The n-th alternative name of path (n >= 1): "x.zst" -> "x.<n>.zst", else "x.<n>".
 * Returns 0 or -ENAMETOOLONG. Thread-safe. */
int hp_options_unique_name(const char *path, unsigned n, char *out, size_t cap);

#endif
