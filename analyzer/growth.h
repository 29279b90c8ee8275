/* Growth over time (docs/time-analysis.md): for each site, its live bytes at the end of
 * each bucket of the per-site series (series.h) after warm-up, a robust linear fit, its
 * quality, the share of intervals in which it grew, and whether it is still growing at
 * the end; the sites ranked by slope, aggregated by function, and the heap projected.
 *
 * Warm-up: up to the last mark labelled "warmup" in the window, else the first
 * HP_GROWTH_WARMUP_SHARE of the window. The fit: the Theil-Sen line (the median of the
 * slopes of every pair of points) picks the points, all but the tenth farthest from it
 * (a spike, the cleanup at exit); the slope and R^2 are those of the least-squares line
 * through the points kept (accurate where the recorder's clock advances in steps). A
 * site is growing when both slopes are positive, the Theil-Sen slope of the second
 * half of its points is at least half of the slope (a cache that fills then plateaus
 * is not), R^2 >= 0.5 and its fit rises by HP_GROWTH_MIN_BYTES or more. A site's
 * projection starts from its fit's value at the end (a structure freed at exit
 * projects from what it held), the heap's from the live heap at the end plus what the
 * growing sites' fits hold above their live bytes there.
 * Not thread-safe (it reads stacks of a lazily symbolized model). */
#ifndef HP_GROWTH_H
#define HP_GROWTH_H

#include <stddef.h>
#include <stdint.h>

#include "checklist.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hp_model;

#define HP_GROWTH_AUTO_MIN_S 5.0    /* the default report shows growth from this duration */
#define HP_GROWTH_WARMUP_SHARE 0.10 /* of the window */
#define HP_GROWTH_MIN_POINTS 4
#define HP_GROWTH_MIN_BYTES 1024

struct hp_growth_site {
	size_t site;	     /* index in m->prof->sites */
	double slope;	     /* bytes per second */
	double late_slope;   /* of the second half of the points */
	double r2;	     /* of the line of `slope` through the median intercept */
	double grew_share;   /* intervals in which its live bytes rose, of all */
	uint64_t live_bytes; /* at the end of the window */
	double fitted_end;   /* the fit's value at the end: where projections start (a
			      * structure freed at exit projects from what it held) */
	int growing;
};

struct hp_growth_function {
	const char *function; /* innermost reported frame's function, "??" when unknown */
	double slope;	      /* the sum of its growing sites' */
	uint64_t live_bytes;
	size_t nsites;
};

struct hp_growth {
	int enough;	     /* HP_GROWTH_MIN_POINTS points or more after warm-up */
	int warmup_mark;     /* warm-up ended at a "warmup" mark */
	double warmup_end_s; /* the fit uses points from here ... */
	double fit_to_s;     /* ... to here */
	size_t npoints;
	struct hp_growth_site *sites; /* every fitted site: growing first, by slope */
	size_t nsites, ngrowing;
	struct hp_growth_function *functions; /* by slope */
	size_t nfunctions;
	double growing_slope;	  /* the sum over growing sites, bytes per second */
	uint64_t heap_bytes;	  /* live heap at the end of the window */
	double heap_base;	  /* where the heap's projection starts (above) */
	double heap_1h, heap_24h; /* projected */
	uint64_t budget;	  /* --budget, 0 none */
	double budget_s;	  /* seconds from the end to reach it; < 0: never; 0: reached */
};

/* Whether m's reports show growth: --growth, or a long trace unless --no-growth. */
int hp_growth_wanted(const struct hp_model *m, const struct hp_time_options *o);

/* Computes the growth of m's sites. Returns 0, or -ENOMEM. hp_growth_free() it. */
int hp_growth_compute(const struct hp_model *m, const struct hp_time_options *o,
		      struct hp_growth **out);
void hp_growth_free(struct hp_growth *g);

#ifdef __cplusplus
}
#endif
#endif
