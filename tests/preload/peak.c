/* Known peak at a known function and line (peak.expect).
 *
 *   alloc_ten:  10 MiB, then freed          <- the peak: 10 MiB live
 *   alloc_two:   2 MiB, kept
 *   alloc_four:  4 MiB, kept                 6 MiB live, below the peak
 * No stdio and nothing else live at the peak, so peak_heap_bytes is exactly 10 MiB and
 * the site with the biggest peak_bytes is alloc_ten's. */
#include <stdlib.h>
#include <string.h>

#define MiB (1024 * 1024)

void *volatile live[2];

static __attribute__((noinline)) void *alloc_ten(void)
{
	void *p = malloc(10 * MiB); /* @PEAK_TEN */
	memset(p, 1, 10 * MiB);
	return p;
}

static __attribute__((noinline)) void *alloc_two(void)
{
	return malloc(2 * MiB); /* @PEAK_TWO */
}

static __attribute__((noinline)) void *alloc_four(void)
{
	return malloc(4 * MiB); /* @PEAK_FOUR */
}

int main(void)
{
	free(alloc_ten());
	live[0] = alloc_two();
	memset(live[0], 2, 2 * MiB);
	live[1] = alloc_four();
	memset(live[1], 4, 4 * MiB);
	return 0;
}
