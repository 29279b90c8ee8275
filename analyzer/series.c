/* Bucket merging for series over time (series.h). */
#include "series.h"

#include <string.h>

size_t hp_series_merge_heap(struct hp_heap_bucket *v, size_t n, unsigned levels)
{
	if (!levels || !n)
		return n;
	size_t group = levels < 63 ? (size_t)1 << levels : SIZE_MAX, m = 0;
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		hi = n - lo > group ? lo + group : n;
		struct hp_heap_bucket r = {0};
		for (size_t i = lo; i < hi; i++) {
			const struct hp_heap_bucket *b = &v[i];
			if (b->has_heap) {
				if (!r.has_heap || b->heap_max > r.heap_max)
					r.heap_max = b->heap_max;
				r.heap_last = b->heap_last;
				r.has_heap = 1;
			}
			if (b->has_rss) {
				r.rss = b->rss;
				r.has_rss = 1;
			}
		}
		v[m++] = r;
	}
	memset(v + m, 0, (n - m) * sizeof *v);
	return m;
}

size_t hp_series_merge_site(struct hp_site_point *v, size_t n, unsigned levels)
{
	if (!levels || !n)
		return n;
	size_t group = levels < 63 ? (size_t)1 << levels : SIZE_MAX, m = 0;
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		hi = n - lo > group ? lo + group : n;
		struct hp_site_point r = {.live_bytes = v[hi - 1].live_bytes};
		for (size_t i = lo; i < hi; i++) {
			r.allocations += v[i].allocations;
			r.allocated_bytes += v[i].allocated_bytes;
		}
		v[m++] = r;
	}
	memset(v + m, 0, (n - m) * sizeof *v);
	return m;
}
