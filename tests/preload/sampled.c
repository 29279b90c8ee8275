/* A known workload for the sampled-trace test (sampled.expect, check_sampled.py).
 *
 * 200,000 allocations, sizes uniform in [16, 65536] from a fixed PRNG (argv[1] seeds
 * it; default 1). Every 10th block is kept to the end (the leak); the others go
 * through a ring of RING slots, each freeing the block it replaces, and the ring is
 * emptied at the end. Prints the exact totals the analyzer must estimate, one
 * "name value" a line. Sizes are uniform in bytes, not in their logarithm: the
 * variance of the estimated call count is about mean * sum(1/size), which small
 * blocks dominate (see check_sampled.py for the resulting margins).
 *
 * The kept blocks are never written, so the 650 MiB they span stay mostly unmapped. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ALLOCATIONS 200000
#define KEEP_EVERY 10
#define RING 256
#define MIN_SIZE 16
#define MAX_SIZE 65536

static uint64_t rng;

static uint64_t next(void)
{
	/* xorshift64*: deterministic for a seed, enough for sizes */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static void *volatile kept[ALLOCATIONS / KEEP_EVERY];

int main(int argc, char **argv)
{
	rng = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	if (!rng)
		rng = 1;
	static void *ring[RING];
	static size_t ring_size[RING];
	uint64_t allocated = 0, live = 0, peak = 0, nkept = 0, leaked = 0;
	size_t r = 0;
	for (int i = 0; i < ALLOCATIONS; i++) {
		size_t size = MIN_SIZE + (size_t)(next() % (MAX_SIZE - MIN_SIZE + 1));
		void *p = malloc(size);
		if (!p)
			return 1;
		allocated += size;
		live += size;
		if (live > peak)
			peak = live;
		if (i % KEEP_EVERY == KEEP_EVERY - 1) {
			kept[nkept++] = p;
			leaked += size;
			continue;
		}
		if (ring[r]) {
			free(ring[r]);
			live -= ring_size[r];
		}
		ring[r] = p;
		ring_size[r] = size;
		r = (r + 1) % RING;
	}
	for (size_t i = 0; i < RING; i++)
		free(ring[i]);
	printf("allocations %d\nallocated_bytes %" PRIu64 "\npeak_heap_bytes %" PRIu64
	       "\nleaked_bytes %" PRIu64 "\nleaked_allocations %" PRIu64 "\nfrees %" PRIu64 "\n",
	       ALLOCATIONS, allocated, peak, leaked, nkept, ALLOCATIONS - nkept);
	return 0;
}
