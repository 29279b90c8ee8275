/*
 * churn_deep: the churn variant with recursive stacks of varied depth.
 *
 *   churn_deep [THREADS=2] [OPS_PER_THREAD=1000000] [POOL=10000]
 *
 * Each operation recurses 1 to 24 frames deep through one noinline function (so the
 * stacks differ in depth, not in their functions), then frees or reallocs a random
 * block of the thread's pool and allocates anew through malloc (60%), posix_memalign
 * (20%, alignments 16 to 4096) or realloc (20%). Sizes run from 16 B to 64 KiB in
 * steps of 16, skewed to small. A per-thread xorshift PRNG makes two runs issue the same calls.
 *
 * Prints "churn_deep: threads=T ops=N allocs=A frees=F" on stderr at the end.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker {
	pthread_t thread;
	uint64_t seed;
	unsigned long ops, pool_n;
	void **pool;
	unsigned long allocs, frees;
};

static unsigned long g_ops, g_pool;

static inline uint64_t next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* 16 B to 64 KiB, mostly small: a size class drawn first, then a multiple of 16 (with
 * sizes to the byte, heaptrack 1.4's interpreter grows past 18 GiB and aborts with
 * bad_alloc after 800k operations per thread; bench/README.md). */
static size_t size_of(uint64_t r)
{
	static const size_t top[] = {64, 64, 256, 256, 1024, 4096, 16384, 65536};
	size_t max = top[r & 7];
	return 16 * (1 + (size_t)((r >> 3) % (max / 16)));
}

static __attribute__((noinline)) void op(struct worker *w, uint64_t r)
{
	unsigned long i = (unsigned long)((r >> 16) % w->pool_n);
	size_t size = size_of(r >> 24);
	unsigned kind = (unsigned)((r >> 8) % 10);
	if (kind < 2 && w->pool[i]) { /* realloc */
		void *p = realloc(w->pool[i], size);
		if (p) {
			w->pool[i] = p;
			w->allocs++;
			w->frees++;
			((volatile char *)p)[0] = 1;
		}
		return;
	}
	if (w->pool[i]) {
		free(w->pool[i]);
		w->frees++;
	}
	void *p = NULL;
	if (kind < 4) {
		size_t align = (size_t)16 << ((r >> 40) % 9);
		if (posix_memalign(&p, align, size))
			p = NULL;
	} else {
		p = malloc(size);
	}
	if (p) {
		((volatile char *)p)[0] = 1;
		w->allocs++;
	}
	w->pool[i] = p;
}

/* depth frames of this function above op(). */
static __attribute__((noinline)) void descend(struct worker *w, unsigned depth, uint64_t r)
{
	if (depth <= 1)
		op(w, r);
	else
		descend(w, depth - 1, r);
	__asm__ volatile("" ::: "memory"); /* not a tail call */
}

static void *run(void *arg)
{
	struct worker *w = arg;
	for (unsigned long n = 0; n < w->ops; n++) {
		uint64_t r = next(&w->seed);
		descend(w, 1 + (unsigned)(r % 24), r);
	}
	for (unsigned long i = 0; i < w->pool_n; i++)
		if (w->pool[i]) {
			free(w->pool[i]);
			w->frees++;
		}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	g_ops = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000000;
	g_pool = argc > 3 ? strtoul(argv[3], NULL, 0) : 10000;
	if (threads < 1 || threads > 256 || !g_pool)
		return 2;
	struct worker *w = calloc((size_t)threads, sizeof *w);
	for (int t = 0; t < threads; t++) {
		w[t].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
		w[t].ops = g_ops;
		w[t].pool_n = g_pool;
		w[t].pool = calloc(g_pool, sizeof(void *));
		pthread_create(&w[t].thread, NULL, run, &w[t]);
	}
	unsigned long allocs = 0, frees = 0;
	for (int t = 0; t < threads; t++) {
		pthread_join(w[t].thread, NULL);
		allocs += w[t].allocs;
		frees += w[t].frees;
		free(w[t].pool);
	}
	fprintf(stderr, "churn_deep: threads=%d ops=%lu allocs=%lu frees=%lu\n", threads,
		g_ops * (unsigned long)threads, allocs, frees);
	free(w);
	return 0;
}
