/*
 * walk: the cost of one stack capture by the recorder's unwinder (preload/unwind_cfa.c),
 * alone, on the call shapes of bench/workloads: churn's chains of 6 to 30 frames through
 * eight functions, and churn_deep's recursion 1 to 24 frames deep through one.
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
static uint64_t path_bits;
static unsigned long frames;

static __attribute__((noinline)) void capture(void)
{
	if (capturing)
		frames += hp_unwind_cfa(ips, 64);
	__asm__ volatile("" ::: "memory");
}

static void descend(unsigned depth);

#define LEVEL(n)                                                                                   \
	static __attribute__((noinline)) void level##n(unsigned depth)                             \
	{                                                                                          \
		if (depth == 0)                                                                    \
			capture();                                                                 \
		else                                                                               \
			descend(depth - 1);                                                        \
		__asm__ volatile("" ::: "memory");                                                 \
	}
LEVEL(0)
LEVEL(1)
LEVEL(2)
LEVEL(3)
LEVEL(4)
LEVEL(5)
LEVEL(6)
LEVEL(7)

static void (*const levels[8])(unsigned) = {level0, level1, level2, level3,
					    level4, level5, level6, level7};

static __attribute__((noinline)) void descend(unsigned depth)
{
	levels[(path_bits >> ((depth * 3) % 60)) & 7](depth);
	__asm__ volatile("" ::: "memory");
}

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ns per call of the shape, capturing or not: churn's path choice (bench/workloads/
 * churn.c), or churn_deep's depths through level0 alone. */
static double run(int deep, int capture_on)
{
	capturing = capture_on;
	uint64_t r = 88172645463325252ull;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < CALLS; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		uint64_t u = r & 0xffff, h = mix(((u * u * 2048) >> 32) + 1);
		path_bits = deep ? 0 : h;
		descend(deep ? (unsigned)(r % 24) : (unsigned)((h >> 40) % 13));
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
