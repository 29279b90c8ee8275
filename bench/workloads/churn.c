/*
 * churn: the allocation-heavy workload with full stacks.
 *
 *   churn [THREADS=2] [OPS_PER_THREAD=1000000] [POOL=10000]
 *
 * Each thread keeps a pool of live blocks; every operation picks a random slot, frees
 * what is there (or reallocs it) and allocates anew through malloc, calloc, realloc or
 * memalign. Sizes run from 16 B to 64 KiB, skewed to small. Each operation is issued
 * from a call chain 6 to 30 frames deep made of noinline functions chosen by a "path";
 * there are NPATHS paths, so the number of distinct stacks is bounded (a few thousand)
 * while most events come from a few hot ones. Everything is driven by a per-thread
 * xorshift PRNG, so two runs make the same calls in the same order on each thread.
 *
 * Prints "churn: threads=T ops=N allocs=A frees=F" on stderr at the end.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op_kind { OP_MALLOC, OP_CALLOC, OP_REALLOC, OP_MEMALIGN };

struct worker {
	pthread_t thread;
	unsigned index;
	unsigned long ops;
	unsigned pool_size;
	void **pool;
	uint64_t rng;
	uint64_t path_bits; /* selects the function at each level of the current chain */
	enum op_kind kind;
	size_t size;
	unsigned long allocs, frees;
};

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/*
 * Size: a class 16 B << k (k in 0..12, 64 KiB at most) fixed per path with P(k) halving
 * each step, times one of 4 variants picked per call: mostly tiny blocks, a few sizes
 * per call site as in real programs. (Byte-granular random sizes per site also drive
 * heaptrack 1.4's interpreter into a hash-table blow-up: GBs of RSS, no progress.)
 */
static size_t pick_size(uint64_t path_hash, uint64_t r)
{
	unsigned k = (unsigned)__builtin_ctzll((path_hash >> 20) | (1ULL << 12));
	size_t base = (size_t)16 << k;
	size_t size = base + (base / 4) * (size_t)(r % 4);
	size &= ~(size_t)15;
	return size > 65536 ? 65536 : size;
}

static __attribute__((noinline)) void do_op(struct worker *w)
{
	unsigned slot = (unsigned)(next_rand(&w->rng) % w->pool_size);
	void *old = w->pool[slot], *p;

	if (w->kind == OP_REALLOC && old) {
		p = realloc(old, w->size);
		if (!p)
			abort();
		w->allocs++;
		w->frees++;
		*(volatile char *)p = 1;
		w->pool[slot] = p;
		return;
	}
	if (old) {
		free(old);
		w->frees++;
	}
	switch (w->kind) {
	case OP_MALLOC:
		p = malloc(w->size);
		break;
	case OP_CALLOC:
		p = calloc(1, w->size);
		break;
	case OP_REALLOC:
		p = realloc(NULL, w->size);
		break;
	default:
		p = memalign(64, w->size);
		break;
	}
	if (!p)
		abort();
	*(volatile char *)p = 1;
	w->allocs++;
	w->pool[slot] = p;
}

#include "chain.h"

static void *run(void *arg)
{
	struct worker *w = arg;
	static const enum op_kind kinds[20] = {
	    OP_MALLOC, OP_MALLOC, OP_MALLOC,  OP_MALLOC,  OP_MALLOC,  OP_MALLOC,  OP_MALLOC,
	    OP_MALLOC, OP_MALLOC, OP_MALLOC,  OP_MALLOC,  OP_MALLOC,  OP_MALLOC,  OP_MALLOC,
	    OP_CALLOC, OP_CALLOC, OP_REALLOC, OP_REALLOC, OP_REALLOC, OP_MEMALIGN};

	for (unsigned long i = 0; i < w->ops; i++) {
		uint64_t r = next_rand(&w->rng);
		uint64_t h = chain_path(r);
		w->path_bits = h;
		w->kind = kinds[(h >> 56) % 20];
		w->size = pick_size(h, next_rand(&w->rng));
		/* 6..30 frames with run() and the thread entry frames below it. */
		descend(w, chain_depth(h));
	}
	for (unsigned i = 0; i < w->pool_size; i++) {
		if (w->pool[i]) {
			free(w->pool[i]);
			w->frees++;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned nthreads = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2;
	unsigned long ops = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	unsigned pool = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 10000;
	if (nthreads < 1 || pool < 1) {
		fprintf(stderr, "usage: churn [THREADS] [OPS_PER_THREAD] [POOL]\n");
		return 2;
	}

	struct worker *ws = calloc(nthreads, sizeof(*ws));
	if (!ws)
		return 1;
	for (unsigned t = 0; t < nthreads; t++) {
		ws[t].index = t;
		ws[t].ops = ops;
		ws[t].pool_size = pool;
		ws[t].pool = calloc(pool, sizeof(void *));
		ws[t].rng = mix(0x9e3779b97f4a7c15ULL * (t + 1)) | 1;
		if (!ws[t].pool)
			return 1;
	}
	/* Thread 0 is the main thread, so one thread means no pthread_create at all. */
	for (unsigned t = 1; t < nthreads; t++)
		if (pthread_create(&ws[t].thread, NULL, run, &ws[t]) != 0)
			return 1;
	run(&ws[0]);
	unsigned long allocs = ws[0].allocs, frees = ws[0].frees;
	for (unsigned t = 1; t < nthreads; t++) {
		pthread_join(ws[t].thread, NULL);
		allocs += ws[t].allocs;
		frees += ws[t].frees;
	}
	fprintf(stderr, "churn: threads=%u ops=%lu allocs=%lu frees=%lu\n", nthreads,
		ops * nthreads, allocs, frees);
	for (unsigned t = 0; t < nthreads; t++)
		free(ws[t].pool);
	free(ws);
	return 0;
}
