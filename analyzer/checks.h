/* Leak-check and budget options of heapprof-analyze, and their evaluation: the checks
 * that make a test fail (exit status 3).
 *
 *   --leaks                    report only the leak check
 *   --suppressions FILE        LSan-format suppressions (repeatable)
 *   --no-default-suppressions  drop the built-in list of one-time runtime allocations
 *   --print-suppressions       list the suppressions that matched, with bytes and blocks
 *   --fail-on-leaks[=KINDS]    fail when blocks of KINDS remain (definite,indirect,
 *                              possible,reachable; default definite,indirect)
 *   --max-peak SIZE            fail when the peak heap exceeds SIZE
 *   --max-leaked SIZE          fail when leaked bytes exceed SIZE
 *   --max-allocations N        fail when there were more than N allocations
 *   --check                    the memory checklist (checklist.h), its thresholds
 *                              --max-growth RATE, --max-rss SIZE, --max-alloc-rate
 *                              RATE, --max-alloc-calls N, --max-fragmentation P (and
 *                              --max-peak, --budget SIZE)
 *   --growth, --no-growth      growth over time (growth.h); --timeline-sites N
 *   --at T, --range A..B, --from MARK   the window of time (window.h)
 *
 * RATE is a SIZE per second, optionally written with "/s", "/min" or "/h".
 * SIZE is bytes, or a number with K, M, G, T (or KiB, MiB, ...: powers of 1024) or KB,
 * MB, GB, TB (powers of 1000), an optional fraction and an optional B ("1.5M", "512KiB").
 * Not thread-safe. */
#ifndef HP_CHECKS_H
#define HP_CHECKS_H

#include <stdint.h>
#include <stdio.h>

#include "checklist.h"
#include "leaks.h"
#include "suppress.h"
#include "window.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exit status of heapprof-analyze when a check failed (0 ok, 1 usage, 2 unreadable). */
#define HP_EXIT_CHECK_FAILED 3

#define HP_CHECK_UNSET UINT64_MAX

struct hp_checks {
	int leaks_only;		/* --leaks */
	int print_suppressions; /* --print-suppressions */
	int no_default_supp;	/* --no-default-suppressions */
	unsigned fail_kinds;	/* --fail-on-leaks: bit (1 << enum hp_leak_class); 0 off */
	uint64_t max_peak;	/* HP_CHECK_UNSET when not given */
	uint64_t max_leaked;
	uint64_t max_allocations;
	const char **supp_files; /* --suppressions, in order (argv strings) */
	size_t nsupp_files;
	struct hp_suppressions supp; /* files, then the built-ins; hp_leaks_init() takes it */
	unsigned failed;	     /* checks failed so far, over all traces */
	struct hp_window window;     /* --at, --range, --from; window.set 0: none */
	struct hp_time_options time; /* --check, --growth and the checklist's thresholds */
};

/* What the checks need from one replayed trace besides its leak report. */
struct hp_check_input {
	const char *name;	  /* trace file, named in messages when not NULL */
	uint64_t peak_heap_bytes; /* summary.peak_heap_bytes */
	uint64_t allocations;	  /* summary.allocations */
	uint64_t leaked_bytes;	  /* summary.leaked_bytes: live at the end of the trace */
	uint64_t leaked_allocations;
	int exec_replaced; /* the trace ended with EXEC: the image never exited */
	/* --check's items (model.h: m->checklist); NULL without --check. Its FAIL items
	 * fail, and --max-peak is then one of them. */
	const struct hp_checklist *checklist;
};

void hp_checks_init(struct hp_checks *c);
void hp_checks_release(struct hp_checks *c);

/* Parses one option. `arg` is argv[i], `next` argv[i+1] (or NULL). Returns the number of
 * arguments used (1 or 2), 0 when `arg` is not one of these options, or -1 after printing
 * "heapprof-analyze: ..." on stderr for a bad value (exit status 1). */
int hp_checks_parse_option(struct hp_checks *c, const char *arg, const char *next);

/* Removes every option above from argv (up to a "--"), keeping the others in order, and
 * loads the suppression files and built-ins. Call before getopt_long(). Returns 0, or the
 * exit status to return after the message has been printed: 1 for a bad option value,
 * 2 for an unreadable or invalid suppression file. Updates *argc; argv stays
 * NULL-terminated. */
int hp_checks_take_options(struct hp_checks *c, int *argc, char **argv);

/* Prints the help lines of these options (for --help). */
void hp_checks_usage(FILE *out);

/* Evaluates every requested check on one trace, prints one line per failure on stderr
 * ("heapprof-analyze: check failed: ..."), adds them to c->failed and returns how many
 * failed. `lk` may be NULL (no leak report was built). */
unsigned hp_checks_evaluate(struct hp_checks *c, const struct hp_check_input *in,
			    const struct hp_leaks *lk);

/* Parses SIZE as described above. Returns 0 or -EINVAL. */
int hp_checks_parse_size(const char *s, uint64_t *out);

/* Formats a byte count for messages: "512 B", "1.5 KiB", "12.0 MiB"; with `exact`,
 * whole multiples print without a fraction ("10 MiB"). Returns buf. */
const char *hp_checks_format_size(uint64_t bytes, int exact, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
