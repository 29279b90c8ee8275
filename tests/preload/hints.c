/* heapprof_alloc_hint and heapprof_free_hint (hints.expect): a pool allocator that
 * carves objects out of one 64 KiB malloc block and reports them.
 *
 *   pool = malloc(65536)
 *   100 x pool_get:     hint 48 B at pool + 64 i          hints live: 4800 B (the peak)
 *   40 x pool_put:      free the first 40                 2880 B in 60
 *   5 x pool_get_big:   hint 256 B at pool + 8200 + 256 i (not 16-aligned)
 *   5 x pool_put:       free them                         2880 B in 60 at the end
 *   free(pool)
 * The heap is the pool alone (hints are never added to it): peak 65536. Prints what the
 * first hint returned and what a NULL hint returns (-EINVAL); under sampling the hints
 * are refused (-ENODEV). */
#include <heapprof/heapprof.h>
#include <stdio.h>
#include <stdlib.h>

static char *pool;

static __attribute__((noinline)) int pool_get(size_t i)
{
	return heapprof_alloc_hint(pool + 64 * i, 48); /* @HINT_GET */
}

static __attribute__((noinline)) int pool_get_big(size_t i)
{
	return heapprof_alloc_hint(pool + 8200 + 256 * i, 256); /* @HINT_BIG */
}

static __attribute__((noinline)) void pool_put(void *p)
{
	heapprof_free_hint(p);
}

int main(void)
{
	if (!heapprof_alloc_hint) {
		puts("no recorder");
		return 0;
	}
	pool = malloc(65536); /* @HINT_POOL */
	int first = 1;
	for (size_t i = 0; i < 100; i++) {
		int rc = pool_get(i);
		if (i == 0)
			first = rc;
	}
	for (size_t i = 0; i < 40; i++)
		pool_put(pool + 64 * i);
	for (size_t i = 0; i < 5; i++)
		pool_get_big(i);
	for (size_t i = 0; i < 5; i++)
		pool_put(pool + 8200 + 256 * i);
	int null_rc = heapprof_alloc_hint(NULL, 1);
	free(pool);
	printf("first=%d null=%d\n", first, null_rc);
	return 0;
}
