/* Series over time with bounded memory: buckets of equal width from time 0 whose width
 * doubles when the run outgrows them, merging neighbours in pairs (so a bucket of any
 * generation is the exact union of 2^k buckets of an earlier one, and the process's
 * fine timeline and every site's coarse series line up).
 *
 * Two kinds of bucket, each with its merge rule:
 *   - a process bucket (struct hp_heap_bucket): the highest and the last live heap in
 *     the bucket, the last RSS sample; merging keeps maxima and last values exact.
 *   - a site bucket (struct hp_site_point): the site's live bytes at the end of the
 *     bucket, and the calls and bytes it allocated in the bucket; merging keeps the sums
 *     and the live bytes at each boundary exact.
 * Pure functions; thread-safe on distinct arrays. */
#ifndef HP_SERIES_H
#define HP_SERIES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Buckets of each site's series, unless the analysis asks for another count (2 to
 * HP_SERIES_MAX_BUCKETS: hp_analysis_options.series_buckets). Memory: buckets *
 * sizeof(struct hp_site_point) per site that allocated, 768 bytes at 32 (96 MiB for
 * 131072 sites), allocated when a site's events reach a second bucket or at the end.
 * The process's fine timeline keeps HP_TIMELINE_BUCKETS of its own (64 KiB). */
#define HP_SERIES_BUCKETS 32u
#define HP_SERIES_MAX_BUCKETS 1024u
#define HP_TIMELINE_BUCKETS 2000u

struct hp_heap_bucket {
	uint64_t heap_max, heap_last, rss;
	uint8_t has_heap, has_rss; /* 0: no event (no RSS sample) in the bucket */
};

struct hp_site_point {
	uint64_t live_bytes;	  /* live at the end of the bucket */
	uint64_t allocations;	  /* calls in the bucket */
	uint64_t allocated_bytes; /* bytes those calls allocated */
};

/* Merges v[0..n) in groups of 2^levels (the last group may be short) into v[0..m),
 * m = ceil(n / 2^levels), and zeroes v[m..n). Returns m. */
size_t hp_series_merge_heap(struct hp_heap_bucket *v, size_t n, unsigned levels);
size_t hp_series_merge_site(struct hp_site_point *v, size_t n, unsigned levels);

#ifdef __cplusplus
}
#endif
#endif
