/* The diff of two runs (heapprof-analyze --diff BASE NEW): their sites matched by site key
 * (frame.h: symbolized frames, function + file name + line, never addresses, so two builds
 * of the same code line up), each matched pair's change of peak, calls, bytes allocated
 * and leaked bytes, and the change of the process totals; the --fail-on-increase budgets
 * checked against those totals. The reports (report_diff.c; report_diff_html.c with its
 * differential flame graph) read struct hp_diff and nothing else:
 *
 *   struct hp_diff d;
 *   hp_diff_build(&d, &base_model, &new_model);   both loaded without lazy_symbols
 *   hp_diff_sort(&d, HP_DIFF_PEAK);               largest change of peak first
 *   for each d.sites[i]: its .base and .new sides (site NULL: absent in that run),
 *       hp_diff_delta(&d.sites[i].base, &d.sites[i].new, m), and its stack:
 *       hp_model_stack(d.base, d.sites[i].base.site, ...) or d.new for the new side
 *   hp_diff_release(&d);
 *
 * Sites of one run with the same key (two calls on one line: the same frames reached
 * through different return addresses) are merged into one entry, their figures summed. Pool objects
 * (heapprof_alloc_hint) are not compared. Not thread-safe; the models must outlive the diff. */
#ifndef HP_DIFF_H
#define HP_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a diff compares; also the order in which ties of one measure are broken. */
enum hp_diff_measure {
	HP_DIFF_PEAK,	   /* bytes live at the peak (a site: its bytes at the global peak) */
	HP_DIFF_CALLS,	   /* calls to allocation functions */
	HP_DIFF_ALLOCATED, /* bytes allocated */
	HP_DIFF_LEAKED,	   /* bytes still live at the end */
	HP_DIFF_NMEASURES
};

/* One run's side of an entry: the figures, summed over its merged sites. */
struct hp_diff_side {
	uint64_t value[HP_DIFF_NMEASURES]; /* indexed by enum hp_diff_measure */
	uint64_t leaked_allocations, temporary;
	/* The first of the run's sites merged here (its stack is the entry's stack in that
	 * run), NULL when the entry has no site in this run; nsites: how many were merged.
	 * For the totals: NULL and 0. */
	const struct hp_site *site;
	uint32_t nsites;
};

/* One place in the code: the same site key (and the same frames) in either run. */
struct hp_diff_site {
	uint64_t key;
	struct hp_diff_side base, new;
};

struct hp_diff {
	const struct hp_model *base, *new;	   /* borrowed */
	struct hp_diff_side base_total, new_total; /* the processes' summary figures */
	struct hp_diff_site *sites;		   /* in the order of the last hp_diff_sort() */
	size_t nsites;
	size_t matched, added, removed; /* entries in both runs, only in NEW, only in BASE */
};

/* Matches the sites of two loaded models (hp_model_load() without lazy_symbols: the site
 * keys must be filled) and sorts the entries by the change of peak (hp_diff_sort).
 * Returns 0 or -ENOMEM; call hp_diff_release() in every case. */
int hp_diff_build(struct hp_diff *d, const struct hp_model *base, const struct hp_model *new);

void hp_diff_release(struct hp_diff *d);

/* Orders d->sites by the size of their change of `m`, largest first (increases and
 * decreases alike), ties broken by the other measures in enum order, then by key. */
void hp_diff_sort(struct hp_diff *d, enum hp_diff_measure m);

/* new - base of measure m, saturated to the range of int64_t. */
int64_t hp_diff_delta(const struct hp_diff_side *base, const struct hp_diff_side *new,
		      enum hp_diff_measure m);

/* The change from base to new in percent of base: 0 when both are 0, +INFINITY when only
 * base is 0. */
double hp_diff_percent(uint64_t base, uint64_t new);

/* The measure's name on the command line and in JSON ("peak", "calls", "allocated",
 * "leaked"), and its title in the text report ("peak heap", ...). */
const char *hp_diff_measure_name(enum hp_diff_measure m);
const char *hp_diff_measure_title(enum hp_diff_measure m);

/* --fail-on-increase budgets: the most each total may grow, in percent of BASE. */
struct hp_diff_budget {
	double percent[HP_DIFF_NMEASURES];
	unsigned set; /* bit 1 << m: measure m has a budget */
};

/* Adds the budgets of one --fail-on-increase argument: a comma-separated list of
 * [MEASURE:]PERCENT, MEASURE one of peak (the default), calls, allocated, leaked and
 * PERCENT a number >= 0 with an optional '%' ("peak:10", "calls:5,leaked:0", "2.5").
 * Returns 0, or -EINVAL with a message naming what is wrong in err. */
int hp_diff_budget_parse(struct hp_diff_budget *b, const char *arg, char *err, size_t errsize);

/* 1 when measure m has a budget and d's total of it exceeds it (the rule below). */
int hp_diff_budget_exceeded(const struct hp_diff_budget *b, const struct hp_diff *d,
			    enum hp_diff_measure m);

/* Checks the totals of d against every budget: a total exceeds its budget when it grew
 * by more than PERCENT of its BASE value (from 0, any growth exceeds it). Prints one line
 * "<prog>: check failed: ..." on `err` per budget exceeded and returns how many were. */
unsigned hp_diff_budget_check(const struct hp_diff_budget *b, const struct hp_diff *d,
			      const char *prog, FILE *err);

#ifdef __cplusplus
}
#endif
#endif
