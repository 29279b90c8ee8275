/* analyzer/series.c: merging buckets keeps sums, maxima and last values exact, by pairs
 * or by 2^k at once, with a short last group. (tests/unit/test_replay.c checks the
 * series a known event sequence yields.) */
#include "check.h"

#include <stdlib.h>

#include "series.h"

static void test_site(void)
{
	/* live at each end, calls, bytes */
	struct hp_site_point v[7] = {{10, 1, 10}, {10, 0, 0}, {30, 2, 20}, {5, 0, 0},
				     {5, 1, 7},	  {0, 0, 0},  {8, 3, 8}};
	struct hp_site_point w[7];
	memcpy(w, v, sizeof v);
	CHECK_U64(hp_series_merge_site(w, 7, 0), 7); /* 0 levels: nothing */
	CHECK(memcmp(w, v, sizeof v) == 0);

	CHECK_U64(hp_series_merge_site(w, 7, 1), 4);
	const struct hp_site_point pairs[4] = {{10, 1, 10}, {5, 2, 20}, {0, 1, 7}, {8, 3, 8}};
	for (int i = 0; i < 4; i++) {
		CHECK_U64(w[i].live_bytes, pairs[i].live_bytes);
		CHECK_U64(w[i].allocations, pairs[i].allocations);
		CHECK_U64(w[i].allocated_bytes, pairs[i].allocated_bytes);
	}
	for (int i = 4; i < 7; i++)
		CHECK(w[i].live_bytes == 0 && w[i].allocations == 0 && w[i].allocated_bytes == 0);

	/* Twice by pairs is once by four. */
	struct hp_site_point x[7];
	memcpy(x, v, sizeof v);
	CHECK_U64(hp_series_merge_site(x, 7, 2), 2);
	CHECK_U64(hp_series_merge_site(w, 4, 1), 2);
	CHECK(memcmp(w, x, 2 * sizeof *x) == 0);
	CHECK_U64(x[0].live_bytes, 5);
	CHECK_U64(x[0].allocations, 3);
	CHECK_U64(x[0].allocated_bytes, 30);
	CHECK_U64(x[1].live_bytes, 8);
	CHECK_U64(x[1].allocations, 4);
	CHECK_U64(x[1].allocated_bytes, 15);
	/* Everything into one bucket. */
	CHECK_U64(hp_series_merge_site(x, 2, 40), 1);
	CHECK_U64(x[0].allocations, 7);
	CHECK_U64(x[0].live_bytes, 8);
	CHECK_U64(hp_series_merge_site(x, 0, 1), 0);
}

static void test_heap(void)
{
	/* heap_max, heap_last, rss, has_heap, has_rss */
	struct hp_heap_bucket v[5] = {
	    {100, 50, 0, 1, 0},	   {0, 0, 4096, 0, 1}, {70, 70, 0, 1, 0},
	    {900, 20, 8192, 1, 1}, {0, 0, 0, 0, 0},
	};
	struct hp_heap_bucket w[5];
	memcpy(w, v, sizeof v);
	CHECK_U64(hp_series_merge_heap(w, 5, 1), 3);
	/* A bucket without events keeps the other's heap; RSS is the last sample. */
	CHECK(w[0].has_heap && w[0].heap_max == 100 && w[0].heap_last == 50);
	CHECK(w[0].has_rss && w[0].rss == 4096);
	CHECK(w[1].has_heap && w[1].heap_max == 900 && w[1].heap_last == 20);
	CHECK(w[1].rss == 8192);
	CHECK(!w[2].has_heap && !w[2].has_rss);
	CHECK_U64(hp_series_merge_heap(w, 3, 1), 2);
	CHECK(w[0].heap_max == 900 && w[0].heap_last == 20 && w[0].rss == 8192);
	CHECK(!w[1].has_heap);

	/* Random runs: merging by 2^k keeps the maximum and the sums whatever k. */
	srand(7);
	for (int round = 0; round < 200; round++) {
		struct hp_heap_bucket h[64], g[64];
		struct hp_site_point s[64];
		size_t n = 1 + (size_t)(rand() % 64);
		uint64_t max = 0, calls = 0, last_live = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t m = (uint64_t)rand();
			h[i] = (struct hp_heap_bucket){m, m / 2, 0, (uint8_t)(rand() & 1), 0};
			if (h[i].has_heap && m > max)
				max = m;
			s[i] = (struct hp_site_point){(uint64_t)rand(), (uint64_t)(rand() % 5), 1};
			calls += s[i].allocations;
			last_live = s[i].live_bytes;
		}
		unsigned k = (unsigned)(rand() % 7);
		memcpy(g, h, sizeof h);
		size_t m = hp_series_merge_heap(g, n, k);
		CHECK_U64(m, (n + ((size_t)1 << k) - 1) >> k);
		uint64_t gmax = 0, gcalls = 0;
		for (size_t i = 0; i < m; i++)
			if (g[i].has_heap && g[i].heap_max > gmax)
				gmax = g[i].heap_max;
		CHECK_U64(gmax, max);
		m = hp_series_merge_site(s, n, k);
		for (size_t i = 0; i < m; i++)
			gcalls += s[i].allocations;
		CHECK_U64(gcalls, calls);
		CHECK_U64(s[m - 1].live_bytes, last_live);
	}
}

int main(void)
{
	test_site();
	test_heap();
	return check_done();
}
