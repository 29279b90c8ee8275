/* Replay of decoded trace items: live set, peak, per-site totals, temporaries, timeline.
 *
 * Feed every item of hp_reader_next() to hp_replay_item() in file order; events of
 * different threads are merged by time internally (released at ROUND watermarks, ties:
 * frees first). hp_replay_finish() then returns the profile the reports print.
 * Not thread-safe; one replay per trace. */
#ifndef HP_REPLAY_H
#define HP_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A frame of a site's stack: `module` indexes hp_profile.modules (-1 when the ip is in
 * no known module; vaddr is then the ip). */
struct hp_frame {
	uint64_t ip, vaddr;
	int32_t module;
};

struct hp_module_info {
	uint64_t id, bias;
	const char *path; /* NUL-terminated copy */
	const uint8_t *build_id;
	size_t build_id_len;
};

/* One distinct allocation stack (identical stacks recorded under several ids merged). */
struct hp_site {
	uint64_t allocations, allocated_bytes, peak_bytes;
	uint64_t leaked_bytes, leaked_allocations, temporary;
	uint32_t nframes; /* innermost first, untrimmed; 0 for "no stack" */
	const struct hp_frame *frames;
	int hint; /* a site of heapprof_alloc_hint blocks (hp_profile.hint_sites): peak_bytes
		   * is the most of its bytes live at once, leaked_* what is live at the end */
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

struct hp_profile {
	struct hp_header header; /* exe, cmdline: NUL-terminated copies */
	const char *command;	 /* cmdline with NULs turned into spaces */
	int has_header;
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
	 * then every allocation and byte figure here, in sites and in the timeline is an
	 * estimate, each sampled block weighed by hp_sample_weight() (sampling.h). */
	uint64_t sample_mean;
	double peak_time_s, duration_s, seconds_per_unit;

	const struct hp_site *sites; /* sites with at least one allocation, in no order */
	size_t nsites;
	const struct hp_module_info *modules;
	size_t nmodules;
	const struct hp_timeline_point *timeline;
	size_t ntimeline;

	const struct hp_mark *marks; /* by time */
	size_t nmarks;

	/* heapprof_alloc_hint blocks: counted apart, never part of the heap figures above
	 * (the malloc family counted their memory already). */
	uint64_t hint_allocations, hint_frees, hint_allocated_bytes, hint_peak_bytes;
	uint64_t hint_live_bytes, hint_live_blocks; /* at the end of the trace */
	const struct hp_site *hint_sites;	    /* in no order */
	size_t nhint_sites;
};

struct hp_replay;

/* Returns a new replay, or NULL with errno set. */
struct hp_replay *hp_replay_new(void);

/* Consumes one item. Returns 0, or -ENOMEM. */
int hp_replay_item(struct hp_replay *rp, const struct hp_item *it);

/* Releases every buffered event, computes the results and returns them; NULL with
 * errno set on allocation failure. The profile is owned by the replay and valid until
 * hp_replay_free(). Call once. */
const struct hp_profile *hp_replay_finish(struct hp_replay *rp);

/* A view of a replay in progress (heapprof-analyze --follow), which goes on afterwards:
 * the figures of the events applied so far (those below the last ROUND watermark).
 * `sites` holds every site seen, each at the same index from one peek to the next, hint
 * sites included (site.hint); a site's leaked_bytes and leaked_allocations are what is
 * live now. No timeline and no marks (nmarks counts them). Valid until the next call
 * of any hp_replay_* function; NULL with errno set on allocation failure. */
const struct hp_profile *hp_replay_peek(struct hp_replay *rp);

/* After hp_replay_finish(): calls fn once per block live at the end of the trace (the
 * leaks), in no particular order, with the site (an element of hp_profile.sites) that
 * allocated it. Hint blocks are not leaks and are left out. */
void hp_replay_foreach_live(const struct hp_replay *rp,
			    void (*fn)(void *ctx, uint64_t addr, uint64_t size,
				       const struct hp_site *site),
			    void *ctx);

void hp_replay_free(struct hp_replay *rp);

#ifdef __cplusplus
}
#endif
#endif
