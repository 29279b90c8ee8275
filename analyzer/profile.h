/* What one replayed trace is made of: the process, its totals and peak, its modules,
 * the distinct code locations of its stacks, its allocation sites, and its memory over
 * time. replay.c computes it in one streaming pass; model.c completes the fields marked
 * "model" after symbolization (model.h). Every output reads it through struct hp_model. */
#ifndef HP_PROFILE_H
#define HP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"
#include "series.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One MODULE record: a pprof Mapping, whose id is the index here + 1. A module loaded
 * again after dlclose is a new entry. */
struct hp_module_info {
	uint64_t id, bias; /* the trace's module id; load bias */
	const char *path;  /* NUL-terminated copy */
	const uint8_t *build_id;
	size_t build_id_len;
	/* Runtime range of its segments, [start, limit); 0, 0 without segments. The trace
	 * records no file offsets: a pprof writer gives file_offset 0. */
	uint64_t start, limit;
};

/* One distinct code location, (module, module-relative address), of any stack: a pprof
 * Location, whose id is the index here + 1, in order of first appearance in the trace
 * (the same ids for the same trace whatever the analyzer's options). */
struct hp_location {
	uint64_t ip;	  /* runtime address: the return address as recorded */
	uint64_t address; /* module-relative (the ip when module < 0) */
	int32_t module;	  /* index into hp_profile.modules; -1 in no known module */
	/* model: its frames, hp_model.frames[first_frame .. first_frame + nframes), innermost
	 * (inlined callee) first; nframes >= 1 once symbolized, even without symbols. */
	uint32_t first_frame, nframes;
};

/* One distinct allocation stack (identical stacks recorded under several ids merged).
 * Counts and bytes are estimates in a sampled trace (hp_profile.sample_mean). */
struct hp_site {
	uint64_t allocations, allocated_bytes, peak_bytes;
	uint64_t leaked_bytes, leaked_allocations, temporary;
	/* Blocks live at the global peak, of the peak_bytes (pprof inuse_objects there). */
	uint64_t peak_allocations;
	/* The size of every block of the site when all had the same size, else 0 (pprof's
	 * `bytes` label); always 0 for hint sites. */
	uint64_t object_size;
	/* The most bytes of the site live at once, and its blocks live then (DHAT's mb,
	 * mbk); the sum of its blocks' lifetimes in seconds, a block live at the end living
	 * to the end of the trace (DHAT's tl; hp_replay_peek: those freed so far). 0 for
	 * hint sites. */
	uint64_t max_bytes, max_allocations;
	double lifetime_s;
	/* The stack: indices into hp_profile.locations, innermost first, untrimmed; none for
	 * the site of events without a stack. */
	const uint32_t *locations;
	uint32_t nlocations;
	/* Live bytes, calls and bytes allocated over time: hp_profile.series.nbuckets points
	 * (NULL when there are none). */
	const struct hp_site_point *series;
	/* model: every frame of the stack, inlined ones included, is nframes; reports print
	 * frames [trim_lo, trim_hi) (allocator, libc and heapprof frames and those below main
	 * trimmed: docs/json-report.md); key is the site key of those (frame.h). */
	uint32_t nframes, trim_lo, trim_hi;
	uint64_t key;
	/* A site of heapprof_alloc_hint blocks (hp_profile.hint_sites): peak_bytes is the
	 * most of its bytes live at once, leaked_* what is live at the end; no series. */
	int hint;
};

/* A MARK record: a named point in time (heapprof_mark, heapprof mark PID). */
struct hp_mark {
	double t_s;
	uint64_t time;	   /* trace units */
	const char *label; /* NUL-terminated copy; may hold NUL bytes of its own */
	size_t label_len;
	uint64_t heap_bytes; /* live heap when it was taken */
};

struct hp_timeline_point {
	double t_s;
	uint64_t heap_bytes; /* the highest live heap within the interval ending at t_s */
	uint64_t rss_bytes;  /* the last RSS sample at or before t_s */
	int has_rss;	     /* 0 before the first RSS sample */
};

#define HP_TIMELINE_MAX_POINTS 1000

/* The clock of the per-site series: bucket i covers [i * bucket_s, (i + 1) * bucket_s)
 * seconds, i < nbuckets <= the analysis's series_buckets; `process` holds the process's heap and
 * RSS on the same buckets (t_s = the bucket's end, clamped to the duration), so a site's series and
 * the total line up point by point. Each bucket is the union of whole intervals of
 * hp_profile.timeline. */
struct hp_series_info {
	size_t nbuckets;
	double bucket_s;
	const struct hp_timeline_point *process;
};

/* The window of --at/--range/--from (window.h) as the replay met it; active 0 without one. */
struct hp_window_info {
	int active;
	const char *spec;    /* the options as given, "--at one" */
	double from_s, to_s; /* the events counted are those in [from_s, to_s) */
	int closed;	     /* it ended before the trace: live figures are those at to_s */
	int from_missing;    /* its from (to) edge is a mark the trace does not hold */
	int to_missing;
};

/* The busiest window of width_s seconds (1 s) of the allocations counted: the most bytes
 * (calls) allocated within any such window, (end_s - width_s, end_s], exact over the
 * event stream. A run shorter than width_s has one window, the run. */
struct hp_busiest_window {
	double width_s;
	uint64_t bytes, calls;
	double bytes_end_s, calls_end_s;
};

struct hp_profile {
	struct hp_header header; /* exe, cmdline: NUL-terminated copies */
	const char *command;	 /* cmdline with NULs turned into spaces */
	int has_header;
	/* heapprof -p (HP_HDR_ATTACHED): recording began at attached_realtime_ns
	 * (CLOCK_REALTIME), in a running process; blocks allocated before are not counted. */
	int attached;
	uint64_t attached_realtime_ns;
	int has_exit;
	int64_t exit_status;
	const char *exec_path; /* NULL unless the image exec'd */
	const char *error;     /* message of an ERROR record, else NULL */
	uint64_t end_events, end_lost;
	int has_end;

	uint64_t allocations, frees, allocated_bytes;
	uint64_t peak_heap_bytes, peak_rss_bytes;
	uint64_t heap_bytes, rss_bytes; /* at the end (hp_replay_peek: now): the live heap after
					 * the last event applied, the last RSS sample */
	uint64_t leaked_bytes, leaked_allocations, temporary;
	uint64_t threads;
	/* Non-zero when the trace is sampled (HP_HDR_SAMPLED, sample_bytes = this mean):
	 * then every allocation and byte figure here, in sites, series and the timeline is
	 * an estimate, each sampled block weighed by hp_sample_weight() (sampling.h). */
	uint64_t sample_mean;
	double peak_time_s, duration_s, seconds_per_unit;

	struct hp_site *sites; /* sites with at least one allocation, in no order */
	size_t nsites;
	const struct hp_module_info *modules;
	size_t nmodules;
	struct hp_location *locations;
	size_t nlocations;
	/* At most HP_TIMELINE_MAX_POINTS evenly spaced points (docs/json-report.md). */
	const struct hp_timeline_point *timeline;
	size_t ntimeline;
	struct hp_series_info series;

	const struct hp_mark *marks; /* by time */
	size_t nmarks;

	struct hp_window_info window;
	struct hp_busiest_window busiest;

	/* heapprof_alloc_hint blocks: counted apart, never part of the heap figures above
	 * (the malloc family counted their memory already). */
	uint64_t hint_allocations, hint_frees, hint_allocated_bytes, hint_peak_bytes;
	uint64_t hint_live_bytes, hint_live_blocks; /* at the end of the trace */
	struct hp_site *hint_sites;		    /* in no order */
	size_t nhint_sites;
};

#ifdef __cplusplus
}
#endif
#endif
