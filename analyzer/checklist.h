/* The memory checklist of --check (docs/time-analysis.md): each item a measured value, a
 * threshold and a verdict, computed from one model:
 *
 *   heap_stable      no site's fitted growth (growth.h) above --max-growth bytes/s
 *                    (default: 10% of the peak heap per hour)
 *   no_leaks         no definitely or indirectly lost bytes (the leak scan; N/A without)
 *   peak_heap        the peak heap under --max-peak (default --budget, else 500 MB)
 *   peak_rss         the peak RSS under --max-rss (default --budget, else 500 MB)
 *   alloc_rate       bytes allocated in the busiest 1-second window under
 *                    --max-alloc-rate (default 100 MB/s)
 *   alloc_calls      calls in the busiest 1-second window under --max-alloc-calls
 *                    (default 1,000,000/s)
 *   fragmentation    RSS the heap does not use, an estimate from RSS and the live heap,
 *                    under --max-fragmentation (default 20%)
 * Not thread-safe to compute; a computed checklist is read-only. */
#ifndef HP_CHECKLIST_H
#define HP_CHECKLIST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hp_model;

#define HP_TIME_UNSET UINT64_MAX
#define HP_CHECK_DEFAULT_BUDGET 500000000ull	 /* 500 MB */
#define HP_CHECK_DEFAULT_ALLOC_RATE 100000000ull /* 100 MB/s */
#define HP_CHECK_DEFAULT_ALLOC_CALLS 1000000ull	 /* 1 M/s */
#define HP_CHECK_DEFAULT_FRAGMENTATION 0.20	 /* of the heap's share of RSS */
#define HP_CHECK_DEFAULT_GROWTH_PER_HOUR 0.10	 /* of the peak heap */

/* What --growth, --check and their thresholds ask (checks.c parses them). */
struct hp_time_options {
	int growth;	 /* 1 --growth, -1 --no-growth, 0 when the trace is long (growth.h) */
	int check;	 /* --check */
	uint64_t budget; /* --budget bytes; 0 none */
	/* Thresholds; HP_TIME_UNSET (max_growth, max_fragmentation < 0): the default. */
	double max_growth; /* bytes/s */
	uint64_t max_peak, max_rss, max_alloc_rate, max_alloc_calls;
	double max_fragmentation; /* a fraction */
	unsigned timeline_sites;  /* sites stacked in the timelines; 0: 3 */
};

void hp_time_options_init(struct hp_time_options *o);

enum hp_verdict { HP_VERDICT_NA, HP_VERDICT_PASS, HP_VERDICT_FAIL };

enum hp_check_id {
	HP_CHECK_HEAP_STABLE,
	HP_CHECK_NO_LEAKS,
	HP_CHECK_PEAK_HEAP,
	HP_CHECK_PEAK_RSS,
	HP_CHECK_ALLOC_RATE,
	HP_CHECK_ALLOC_CALLS,
	HP_CHECK_FRAGMENTATION,
	HP_CHECK_NITEMS
};

struct hp_check_item {
	const char *key;    /* JSON key: "heap_stable" */
	const char *title;  /* "heap stable under load" */
	const char *option; /* its threshold's option: "--max-growth" */
	const char *unit;   /* "B/s", "B", "calls/s", "%" (measured and threshold in %) */
	double measured, threshold;
	int verdict;	/* enum hp_verdict */
	char note[200]; /* how it was measured, or why N/A */
};

struct hp_checklist {
	struct hp_check_item item[HP_CHECK_NITEMS];
	unsigned failed;
};

/* Computes the checklist of m (whose growth, m->growth, must be computed). Returns 0, or
 * -ENOMEM. *out is freed with free(). */
int hp_checklist_compute(const struct hp_model *m, const struct hp_time_options *o,
			 struct hp_checklist **out);

/* "12.5 MB/s", "850,000 calls/s", "3.2%", "1.2 MiB": a value of an item, into buf (48
 * bytes). */
const char *hp_checklist_value(const struct hp_check_item *it, double v, char *buf);

#ifdef __cplusplus
}
#endif
#endif
