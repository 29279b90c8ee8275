/*
 * walk: the cost of one stack capture by the recorder's unwinder (preload/unwind_cfa.c),
 * alone, on the call shapes of bench/workloads: churn's own chains (workloads/chain.h),
 * and stacks like churn_deep's, which differ in depth and not in their functions.
 *
 *   cmake --build build --target bench_walk && build/bin/bench_walk
 *
 * Each shape runs 2M times with the capture and 2M times without it, and the difference
 * is the capture's: the program's own descent (indirect calls, mispredicted) is not
 * counted. Built without frame pointers, as the workloads are. Prints ns per capture and
 * frames per capture; the median of 5 runs of each.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <heapprof/trace_format.h>

#include "unwind.h"
#include "unwind_cfa.h"

#define CALLS 2000000
#define RUNS 5

static uintptr_t ips[HP_MAX_FRAMES_PER_STACK + 16];
static int capturing;
static unsigned long frames;

struct worker {
	uint64_t path_bits;
};

static __attribute__((noinline)) void do_op(struct worker *w)
{
	(void)w;
	if (capturing)
		frames += hp_unwind_cfa(ips, 64);
	__asm__ volatile("" ::: "memory");
}

#include "workloads/chain.h"

/* ns per call of the shape, capturing or not: churn's paths (workloads/churn.c), or
 * churn_deep's kind of stack, the same functions at every level (level0 and descend)
 * 2 to 48 frames deep. */
static double run(int deep, int capture_on)
{
	struct worker w = {0};
	capturing = capture_on;
	uint64_t r = 88172645463325252ull;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < CALLS; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		uint64_t h = chain_path(r);
		w.path_bits = deep ? 0 : h;
		descend(&w, deep ? (unsigned)(r % 24) : chain_depth(h));
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / CALLS;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

int main(void)
{
	hp_unwind_cfa_init();
	hp_unwind_cfa_set_self(0, 0); /* linked in: none of this program is the profiler */
	static const char *const names[2] = {"churn", "churn_deep"};
	for (int deep = 0; deep < 2; deep++) {
		double d[RUNS];
		frames = 0;
		for (int k = 0; k < RUNS; k++)
			d[k] = run(deep, 1) - run(deep, 0); /* alternated: drifts hit both */
		qsort(d, RUNS, sizeof d[0], cmp_double);
		printf("%-10s %6.1f ns a capture, %4.1f frames, %4.2f ns a frame\n", names[deep],
		       d[RUNS / 2], (double)frames / (RUNS * (double)CALLS),
		       d[RUNS / 2] * RUNS * (double)CALLS / (double)frames);
	}
	return 0;
}
