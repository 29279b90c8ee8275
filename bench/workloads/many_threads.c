/*
 * many_threads: scalability of the recorder's per-thread path.
 *
 *   many_threads [THREADS=16] [OPS_PER_THREAD=200000]
 *
 * Every thread allocates and frees small blocks from a short call chain (a 64-slot live
 * pool per thread, so frees stay local), starting together at a barrier. Each thread
 * times itself; the program prints one line on stdout:
 *
 *   many_threads: threads=T events=E wall_s=W per_thread_events_per_s=R
 *                 per_thread_events_per_cpu_s=C
 *
 * R is the mean over threads of 2*OPS / the thread's elapsed time: with more threads
 * than cores it falls for reasons that have nothing to do with the recorder, so the
 * ">= 70% of the 1-thread rate at 16 threads" target needs >= 16 idle cores. C uses each
 * thread's CPU time instead (CLOCK_THREAD_CPUTIME_ID), which shows lock and cache-line
 * contention even on a small machine (it leaves out a writer thread's own CPU).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define POOL 64

struct worker {
	pthread_t thread;
	unsigned long ops;
	uint64_t rng;
	double wall_s, cpu_s;
};

static pthread_barrier_t start;

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static __attribute__((noinline)) void *alloc_small(uint64_t r)
{
	void *p = malloc(16 + (size_t)(r % 16) * 16);
	if (!p)
		abort();
	*(volatile char *)p = 1;
	return p;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	void *pool[POOL] = {0};

	pthread_barrier_wait(&start);
	double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	for (unsigned long i = 0; i < w->ops; i++) {
		uint64_t x = w->rng;
		x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
		w->rng = x;
		uint64_t r = x * 0x2545F4914F6CDD1DULL;
		unsigned slot = (unsigned)(r >> 58);
		free(pool[slot]);
		pool[slot] = alloc_small(r >> 8);
	}
	for (unsigned i = 0; i < POOL; i++)
		free(pool[i]);
	w->wall_s = clock_s(CLOCK_MONOTONIC) - t0;
	w->cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 16;
	unsigned long ops = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
	if (n < 1 || ops < 1) {
		fprintf(stderr, "usage: many_threads [THREADS] [OPS_PER_THREAD]\n");
		return 2;
	}
	struct worker *ws = calloc(n, sizeof(*ws));
	if (!ws)
		return 1;
	pthread_barrier_init(&start, NULL, n);
	double t0 = clock_s(CLOCK_MONOTONIC);
	for (unsigned t = 0; t < n; t++) {
		ws[t].ops = ops;
		ws[t].rng = 0x9e3779b97f4a7c15ULL * (t + 1) | 1;
		if (pthread_create(&ws[t].thread, NULL, run, &ws[t]) != 0)
			return 1;
	}
	double rate = 0, cpu_rate = 0;
	for (unsigned t = 0; t < n; t++) {
		pthread_join(ws[t].thread, NULL);
		/* Each op is one malloc and one free (free(NULL) of a still empty slot is not
		 * an event, but the final loop frees the slots left live: 2*ops in all). */
		double events = 2.0 * ops;
		rate += events / ws[t].wall_s;
		cpu_rate += events / (ws[t].cpu_s > 0 ? ws[t].cpu_s : 1e-9);
	}
	printf("many_threads: threads=%u events=%.0f wall_s=%.6f per_thread_events_per_s=%.0f "
	       "per_thread_events_per_cpu_s=%.0f\n",
	       n, 2.0 * ops * n, clock_s(CLOCK_MONOTONIC) - t0, rate / n, cpu_rate / n);
	free(ws);
	return 0;
}
