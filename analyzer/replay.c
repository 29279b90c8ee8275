/* Replay: merges the threads' events by time and computes the profile in one pass.
 *
 * Costs per event: one append to the thread's queue, one heap step when several threads
 * have events pending at a ROUND, one open-addressing probe in the live set, O(1) site
 * and timeline updates. Per-site peak bytes use a lazy snapshot keyed by a peak epoch,
 * so reaching a new peak costs O(1) instead of a pass over every site.
 *
 * Per-site series (series.h) cost one compare per event: a site sums its calls in its
 * open bucket (that of its latest event) and closes it into its points only when an
 * event of a later bucket touches it, or at the end; its points are merged to a coarser
 * clock only then too, so a doubling of the width costs nothing for the sites that are
 * not touched again. */
#include "replay.h"

#include "blocks.h"

#include <heapprof/trace_codec.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "sampling.h"
#include "series.h"

#define TL_BUCKETS HP_TIMELINE_BUCKETS
#define NO_SITE UINT32_MAX
#define NO_LOC UINT32_MAX
#define NO_KEY UINT64_MAX
/* The site of a block allocated before the window opened: neither it nor its free counts. */
#define OUT_SITE (UINT32_MAX - 1)
#define SIZE_MIXED UINT64_MAX

enum { EV_FREE, EV_ALLOC, EV_HINT, EV_MARK };

/* A buffered event; the thread is the queue's. 32 bytes, two per cache line: a REALLOC is
 * queued as its FREE of the old block then its ALLOC, which is the order apply() gave them. */
struct ev {
	uint64_t time, addr, size;
	uint32_t stack;
	uint32_t kind;
};

struct queue {
	struct ev *v;
	size_t head, len, cap;
};

struct thread {
	struct queue q;
	uint64_t last_size; /* (size, site) of the thread's latest allocation: heaptrack's */
	uint32_t last_site; /* temporary test; NO_SITE after any free */
	int known;
};

struct site {
	uint64_t allocations, allocated_bytes, live_bytes, live_blocks, at_peak, temporary;
	uint64_t at_peak_blocks;	/* live_blocks when at_peak was taken */
	uint64_t max_bytes, max_blocks; /* the most bytes live at once, and the blocks then */
	double lifetime;		/* sum of its blocks' lifetimes: units x count weight */
	uint64_t one_size; /* the size of every block so far; SIZE_MIXED once two differ */
	uint64_t epoch;
	uint32_t first_loc, nlocs; /* in hp_replay.stack_locs */
	uint64_t hash;
	uint64_t max_live; /* hint sites: the most bytes live at once */
	int hint;	   /* a site of heapprof_alloc_hint blocks */
	/* Series: the open bucket, (clock generation << 32) | index, NO_KEY before the first
	 * event; the totals when the last bucket closed (the open bucket's sums are the
	 * totals since, so an event adds nothing for the series); the closed points
	 * [0, filled) at generation pts_gen, allocated when the first bucket closes. */
	uint64_t open_key, closed_allocs, closed_bytes;
	struct hp_site_point *pts;
	uint32_t filled;
	uint8_t pts_gen;
};

struct mark {
	struct hp_mark m;
	int settled;   /* heap_bytes is set */
	int in_stream; /* among a thread's events: settled when the merge reaches it */
};

struct range {
	uint64_t start, end;
	int32_t module;
};

/* What one event adds to (and its free takes from) the totals: its size and one call
 * when the trace is complete; in a sampled trace, weighted bytes rounded per block and
 * weighted calls in units of 1/COUNT_ONE, both recomputed from the block's size at its
 * free so that the free subtracts exactly what the allocation added. */
struct weight {
	uint64_t bytes, count;
};

#define COUNT_SHIFT 16
#define COUNT_ONE ((uint64_t)1 << COUNT_SHIFT)

/* The allocations of the last second, one entry per time unit, for the busiest window:
 * a ring of at most one entry per time unit of a second (a few MiB at worst). */
struct busy_ev {
	uint64_t time, bytes, count;
};

struct busy {
	struct busy_ev *v;
	size_t head, n, mask;  /* mask + 1 entries, a power of two */
	uint64_t width;	       /* one second in time units */
	uint64_t bytes, count; /* in the ring */
	uint64_t max_bytes, max_count, max_bytes_t, max_count_t;
};

struct hp_replay {
	struct hp_profile prof;
	uint64_t sample_mean; /* 0: every event recorded, counts in calls */

	struct thread *thr;
	size_t nthr;
	uint32_t *heapv; /* merge heap of thread indices */

	struct hp_blocks live;
	/* Version 3 names blocks by keys never reused, so a release of another thread's
	 * block that the merge meets before the block's allocation (the writer put that in
	 * a later round) waits here for it; capped, as only a corrupt trace keeps them. */
	int keys_unique;
	struct hp_blocks pending;
	uint64_t heap, peak, peak_time, peak_epoch, max_time;
	uint64_t applied_time; /* of the last event applied */
	uint64_t last_rss;
	struct hp_profile view; /* hp_replay_peek() */
	struct hp_site *view_sites;
	size_t view_sites_cap;
	uint64_t hint_heap;

	struct mark *marks;
	size_t nmarks, marks_cap, first_unsettled;
	uint64_t mark_min; /* the earliest time of an unsettled mark; UINT64_MAX: none */
	struct hp_mark *out_marks;
	uint32_t *id_hint_site; /* trace stack id -> hint site (NO_SITE: none yet) */
	size_t id_hint_site_cap;
	struct hp_site *out_hint_sites;

	struct site *sites;
	size_t nsites, sites_cap;
	uint32_t *id_site; /* trace stack id -> site */
	size_t id_site_cap;
	uint32_t *site_hash; /* open addressing over sites by frame content */
	size_t site_hash_mask;
	uint32_t *stack_locs; /* every site's stack, location indices */
	size_t nstack_locs, stack_locs_cap;
	struct hp_location *locs;
	size_t nlocs, locs_cap;
	uint32_t *loc_hash; /* open addressing over locs by (module, address) */
	size_t loc_hash_mask;

	struct hp_module_info *mods;
	size_t nmods, mods_cap;
	uint8_t *mod_framed; /* per module: a location of it was seen (on_framed called) */
	size_t mod_framed_cap;
	void (*on_framed)(void *ctx, const struct hp_module_info *m);
	void *on_framed_ctx;
	struct range *ranges;
	size_t nranges, ranges_cap;

	struct hp_heap_bucket *tl;
	size_t tl_n;	   /* buckets in use */
	uint64_t tl_width; /* time units per bucket */
	size_t tl_cur;	   /* the last bucket used, which starts at tl_cur_lo */
	uint64_t tl_cur_lo;
	unsigned tl_gen; /* doublings of tl_width since the header */
	/* The sites' clock: buckets 2^(ser_gen - tl_gen) times as wide as the timeline's,
	 * ser_buckets of them; ser_key is the bucket of tl_cur on it. */
	unsigned ser_gen, ser_buckets;
	uint64_t ser_key;

	int nsync;
	uint64_t sync_ticks0, sync_mono0, sync_ticks1, sync_mono1;

	char *exe, *cmdline, *command, *exec_path, *error;
	struct hp_site *out_sites;
	uint32_t *site_out; /* site -> index in out_sites */
	struct hp_timeline_point *out_tl, *out_series;
	int oom;

	/* The window (window.h): state 0 before it opens, 1 open, 2 closed. An event at or
	 * after win_next goes through window_time(): UINT64_MAX without a window, 0 once
	 * closed (every later event is dropped). */
	struct hp_window win;
	int win_on, win_state, win_from_found, win_to_found;
	uint64_t win_next, win_lo, win_hi; /* time edges, UINT64_MAX: none (yet) */
	uint64_t win_event;		   /* the ordinal of an event edge; 0 none */
	uint64_t win_opened, win_closed;
	uint64_t napplied, peak_event;
	struct busy busy;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	return hp_array_reserve(p, cap, need, elem, 16);
}

struct hp_replay *hp_replay_new(unsigned series_buckets)
{
	struct hp_replay *rp = calloc(1, sizeof *rp);
	if (!rp)
		return NULL;
	rp->ser_buckets = !series_buckets			   ? HP_SERIES_BUCKETS
			  : series_buckets < 2			   ? 2
			  : series_buckets > HP_SERIES_MAX_BUCKETS ? HP_SERIES_MAX_BUCKETS
								   : series_buckets;
	int live_err = hp_blocks_init(&rp->live, 0) | hp_blocks_init(&rp->pending, 0);
	rp->site_hash_mask = 1023;
	rp->site_hash = malloc((rp->site_hash_mask + 1) * sizeof *rp->site_hash);
	rp->loc_hash_mask = 1023;
	rp->loc_hash = malloc((rp->loc_hash_mask + 1) * sizeof *rp->loc_hash);
	rp->tl = calloc(TL_BUCKETS + 1, sizeof *rp->tl);
	rp->sites_cap = 1024;
	rp->sites = calloc(rp->sites_cap, sizeof *rp->sites);
	if (live_err || !rp->site_hash || !rp->loc_hash || !rp->tl || !rp->sites) {
		hp_replay_free(rp);
		errno = ENOMEM;
		return NULL;
	}
	memset(rp->site_hash, 0xff, (rp->site_hash_mask + 1) * sizeof *rp->site_hash);
	memset(rp->loc_hash, 0xff, (rp->loc_hash_mask + 1) * sizeof *rp->loc_hash);
	rp->sites[0].open_key = NO_KEY;
	rp->nsites = 1; /* site 0: events without a stack */
	rp->mark_min = UINT64_MAX;
	rp->win_next = rp->win_lo = rp->win_hi = UINT64_MAX;
	rp->win_state = 1;
	rp->busy.width = 1000000000; /* 1 s at 1 ns per unit until the header says otherwise */
	rp->tl_width = 1000000;	     /* 1 ms at 1 ns per unit until the header says otherwise */
	rp->prof.seconds_per_unit = 1e-9;
	return rp;
}

void hp_replay_on_framed(struct hp_replay *rp,
			 void (*fn)(void *ctx, const struct hp_module_info *m), void *ctx)
{
	rp->on_framed = fn;
	rp->on_framed_ctx = ctx;
}

void hp_replay_free(struct hp_replay *rp)
{
	if (!rp)
		return;
	for (size_t i = 0; i < rp->nthr; i++)
		free(rp->thr[i].q.v);
	free(rp->thr);
	free(rp->heapv);
	hp_blocks_release(&rp->live);
	hp_blocks_release(&rp->pending);
	for (size_t i = 0; i < rp->nsites; i++)
		free(rp->sites[i].pts);
	free(rp->sites);
	free(rp->id_site);
	free(rp->site_hash);
	free(rp->stack_locs);
	free(rp->locs);
	free(rp->loc_hash);
	for (size_t i = 0; i < rp->nmods; i++) {
		free((void *)rp->mods[i].path);
		free((void *)rp->mods[i].build_id);
	}
	free(rp->mods);
	free(rp->mod_framed);
	free(rp->ranges);
	free(rp->tl);
	free(rp->exe);
	free(rp->cmdline);
	free(rp->command);
	free(rp->exec_path);
	free(rp->error);
	free(rp->out_sites);
	free(rp->site_out);
	free(rp->out_tl);
	for (size_t i = 0; i < rp->nmarks; i++)
		free((void *)rp->marks[i].m.label);
	free(rp->marks);
	free(rp->out_marks);
	free(rp->id_hint_site);
	free(rp->out_hint_sites);
	free(rp->out_series);
	free(rp->view_sites);
	free(rp->busy.v);
	free(rp);
}

/* ---- live set ---- */

/* ---- timeline ---- */

static void tl_merge(struct hp_replay *rp)
{
	rp->tl_n = hp_series_merge_heap(rp->tl, rp->tl_n, 1);
	rp->tl_width *= 2;
	rp->tl_gen++;
	/* The sites' buckets stay unions of the timeline's. */
	if (rp->ser_gen < rp->tl_gen)
		rp->ser_gen = rp->tl_gen;
	rp->tl_cur = 0;
	rp->tl_cur_lo = 0;
}

/* The sites' bucket of tl_cur, the clock coarsened until it fits. */
static void series_clock(struct hp_replay *rp)
{
	while ((rp->tl_cur >> (rp->ser_gen - rp->tl_gen)) >= rp->ser_buckets)
		rp->ser_gen++;
	rp->ser_key = ((uint64_t)rp->ser_gen << 32) | (rp->tl_cur >> (rp->ser_gen - rp->tl_gen));
}

/* The bucket of time t. Most events fall in the bucket of the previous one: a range
 * check replaces the 64-bit division (about 30 cycles) on that path. */
static inline struct hp_heap_bucket *tl_bucket(struct hp_replay *rp, uint64_t t)
{
	if (t - rp->tl_cur_lo < rp->tl_width && rp->tl_n)
		return &rp->tl[rp->tl_cur];
	uint64_t i = t / rp->tl_width;
	while (i >= TL_BUCKETS) {
		tl_merge(rp);
		i = t / rp->tl_width;
	}
	if (i >= rp->tl_n)
		rp->tl_n = (size_t)i + 1;
	rp->tl_cur = (size_t)i;
	rp->tl_cur_lo = i * rp->tl_width;
	series_clock(rp);
	return &rp->tl[i];
}

static inline void tl_heap(struct hp_heap_bucket *b, uint64_t heap)
{
	if (!b->has_heap || heap > b->heap_max)
		b->heap_max = heap;
	b->heap_last = heap;
	b->has_heap = 1;
}

/* ---- the busiest second ---- */

static __attribute__((noinline)) int busy_grow(struct busy *b)
{
	size_t cap = b->v ? (b->mask + 1) * 2 : 1024;
	struct busy_ev *v = malloc(cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < b->n; i++)
		v[i] = b->v[(b->head + i) & b->mask];
	free(b->v);
	b->v = v;
	b->head = 0;
	b->mask = cap - 1;
	return 0;
}

/* An allocation at time t: the window (t - width, t] is the one ending at it, and the
 * busiest window of all ends at an allocation, so its maximum is exact. */
static inline void busy_add(struct hp_replay *rp, uint64_t t, uint64_t bytes, uint64_t count)
{
	struct busy *b = &rp->busy;
	struct busy_ev *last = b->n ? &b->v[(b->head + b->n - 1) & b->mask] : NULL;
	if (last && last->time == t) {
		last->bytes += bytes;
		last->count += count;
	} else {
		if (b->v == NULL || b->n > b->mask) {
			if (busy_grow(b)) {
				rp->oom = 1;
				return;
			}
		}
		b->v[(b->head + b->n) & b->mask] = (struct busy_ev){t, bytes, count};
		b->n++;
	}
	b->bytes += bytes;
	b->count += count;
	/* Never the entry just put (a corrupt trace's times may go back or wrap). */
	while (b->n > 1 && t - b->v[b->head].time >= b->width) {
		b->bytes -= b->v[b->head].bytes;
		b->count -= b->v[b->head].count;
		b->head = (b->head + 1) & b->mask;
		b->n--;
	}
	if (b->bytes > b->max_bytes) {
		b->max_bytes = b->bytes;
		b->max_bytes_t = t;
	}
	if (b->count > b->max_count) {
		b->max_count = b->count;
		b->max_count_t = t;
	}
}

/* ---- events ---- */

/* A bucket index on a clock `levels` doublings coarser. Corrupt traces' times can make
 * the clock coarsen past 32 levels. */
static inline uint32_t coarser(uint32_t index, unsigned levels)
{
	return levels < 32 ? index >> levels : 0;
}

/* Closes the site's open bucket, index ob at generation gen, into its points: merges
 * them to gen first, carries the live bytes over the buckets without events, and adds
 * the open sums. Returns 0 or -ENOMEM. */
static int series_close(const struct hp_replay *rp, struct site *s, unsigned gen, uint32_t ob)
{
	if (!s->pts) {
		s->pts = calloc(rp->ser_buckets, sizeof *s->pts);
		if (!s->pts)
			return -ENOMEM;
		s->pts_gen = (uint8_t)gen;
	}
	if (s->pts_gen < gen) {
		s->filled = (uint32_t)hp_series_merge_site(s->pts, s->filled, gen - s->pts_gen);
		s->pts_gen = (uint8_t)gen;
	}
	uint64_t carry = s->filled ? s->pts[s->filled - 1].live_bytes : 0;
	for (uint32_t k = s->filled; k < ob; k++)
		s->pts[k] = (struct hp_site_point){.live_bytes = carry};
	if (ob >= s->filled) {
		s->pts[ob] = (struct hp_site_point){0};
		s->filled = ob + 1;
	}
	/* Else ob is the last closed bucket: the clock coarsened in between. */
	s->pts[ob].live_bytes = s->live_bytes;
	s->pts[ob].allocations += s->allocations - s->closed_allocs;
	s->pts[ob].allocated_bytes += s->allocated_bytes - s->closed_bytes;
	s->closed_allocs = s->allocations;
	s->closed_bytes = s->allocated_bytes;
	return 0;
}

/* The site's first event in another bucket than its open one (cold: once per site and
 * bucket). An event earlier than the open bucket (out of order) stays in it. */
static __attribute__((noinline)) void series_roll(struct hp_replay *rp, struct site *s)
{
	uint64_t now = rp->ser_key;
	if (s->open_key == NO_KEY) {
		s->open_key = now;
		return;
	}
	unsigned gen = (unsigned)(now >> 32), ogen = (unsigned)(s->open_key >> 32);
	uint32_t b = (uint32_t)now, ob = coarser((uint32_t)s->open_key, gen - ogen);
	if (ob >= b) {
		s->open_key = ((uint64_t)gen << 32) | ob;
		return;
	}
	if (series_close(rp, s, gen, ob))
		rp->oom = 1;
	s->open_key = now;
}

/* Before any change of a site's live bytes. */
static inline void site_touch(struct hp_replay *rp, struct site *s)
{
	if (s->epoch < rp->peak_epoch) {
		s->at_peak = s->live_bytes;
		s->at_peak_blocks = s->live_blocks;
		s->epoch = rp->peak_epoch;
	}
	if (__builtin_expect(s->open_key != rp->ser_key, 0))
		series_roll(rp, s);
}

/* Rounded; clamped below 2^63 since a corrupt header's mean can be anything. */
static uint64_t to_u64(double v)
{
	return v < 9.0e18 ? (uint64_t)(v + 0.5) : (uint64_t)9.0e18;
}

/* Sampled traces only: an expm1 and a division, paid per sampled event. */
static __attribute__((noinline)) struct weight sampled_weight(uint64_t size, uint64_t mean)
{
	double w = hp_sample_weight(size, mean);
	return (struct weight){to_u64((double)size * w), to_u64(w * (double)COUNT_ONE)};
}

static inline struct weight weigh(const struct hp_replay *rp, uint64_t size)
{
	if (__builtin_expect(rp->sample_mean != 0, 0))
		return sampled_weight(size, rp->sample_mean);
	return (struct weight){size, 1};
}

static inline void release_block(struct hp_replay *rp, struct hp_block_rec *b, struct weight w)
{
	if (__builtin_expect(b->site == OUT_SITE, 0)) {
		hp_blocks_remove(&rp->live, b);
		return;
	}
	struct site *s = &rp->sites[b->site];
	if (__builtin_expect(s->hint, 0)) {
		rp->hint_heap -= w.bytes; /* no peak share, no series: not the heap */
	} else {
		site_touch(rp, s);
		rp->heap -= w.bytes;
		/* A double add per free: DHAT's total lifetime (report_dhat.c). */
		if (rp->applied_time > b->time)
			s->lifetime += (double)(rp->applied_time - b->time) * (double)w.count;
	}
	s->live_bytes -= w.bytes;
	s->live_blocks -= w.count;
	hp_blocks_remove(&rp->live, b);
}

#define PENDING_MAX (1u << 20)

static void do_free(struct hp_replay *rp, uint32_t tidx, struct thread *th, uint64_t addr)
{
	struct hp_block_rec *b = hp_blocks_find(&rp->live, addr);
	if (!b) {
		/* Allocated before recording, or in the parent before fork; or, in version 3,
		 * another thread's block whose allocation the merge has not reached. */
		if (rp->keys_unique && addr && hp_ev3_key_thread(addr) != tidx &&
		    rp->pending.count < PENDING_MAX) {
			struct hp_block_rec wait = {.key = addr, .thread = tidx};
			if (hp_blocks_insert(&rp->pending, &wait))
				rp->oom = 1;
		}
		return;
	}
	if (__builtin_expect(b->site == OUT_SITE, 0)) {
		th->last_site = NO_SITE;
		hp_blocks_remove(&rp->live, b);
		return;
	}
	struct weight w = weigh(rp, b->size);
	if (__builtin_expect(rp->sites[b->site].hint, 0)) {
		rp->prof.hint_frees++;
		release_block(rp, b, w);
		return;
	}
	if (th->last_site == b->site && th->last_size == b->size) {
		rp->sites[b->site].temporary += w.count;
		rp->prof.temporary += w.count;
	}
	th->last_site = NO_SITE;
	rp->prof.frees += w.count;
	release_block(rp, b, w);
}

/* A release that waited for the block just allocated (version 3): applied now, by the
 * thread that made it. */
static __attribute__((noinline)) void settle_pending(struct hp_replay *rp, uint64_t key)
{
	struct hp_block_rec *w = hp_blocks_find(&rp->pending, key);
	if (!w)
		return;
	uint32_t tidx = w->thread;
	hp_blocks_remove(&rp->pending, w);
	do_free(rp, tidx, &rp->thr[tidx], key);
}

/* The hint site of stack id (its site's stack, counted apart), made on first use;
 * NO_SITE when out of memory. */
static __attribute__((noinline)) uint32_t hint_site(struct hp_replay *rp, uint32_t stack)
{
	size_t cap = rp->id_hint_site_cap;
	if (stack >= cap) {
		if (grow((void **)&rp->id_hint_site, &cap, (size_t)stack + 1,
			 sizeof *rp->id_hint_site))
			return NO_SITE;
		memset(rp->id_hint_site + rp->id_hint_site_cap, 0xff,
		       (cap - rp->id_hint_site_cap) * sizeof *rp->id_hint_site);
		rp->id_hint_site_cap = cap;
	}
	if (rp->id_hint_site[stack] != NO_SITE)
		return rp->id_hint_site[stack];
	if (grow((void **)&rp->sites, &rp->sites_cap, rp->nsites + 1, sizeof *rp->sites))
		return NO_SITE;
	uint32_t base = stack < rp->id_site_cap ? rp->id_site[stack] : 0;
	uint32_t site = (uint32_t)rp->nsites++;
	struct site *s = &rp->sites[site];
	memset(s, 0, sizeof *s);
	/* It shares its base's stack: keep_used_locations() renumbers each stack once. */
	s->first_loc = rp->sites[base].first_loc;
	s->nlocs = rp->sites[base].nlocs;
	s->epoch = rp->peak_epoch;
	s->open_key = NO_KEY; /* no series: hint blocks are not part of the heap */
	s->hint = 1;
	rp->id_hint_site[stack] = site;
	return site;
}

/* A missed free: an allocation at a key still live (a slot or an address given again;
 * version 3 keys never are) releases the block there first. */
static inline void release_missed(struct hp_replay *rp, uint64_t key)
{
	struct hp_block_rec *old = rp->keys_unique ? NULL : hp_blocks_find(&rp->live, key);
	if (old)
		release_block(rp, old, weigh(rp, old->size));
}

/* heapprof_alloc_hint: a block of the program's own allocator, counted apart. */
static int do_hint(struct hp_replay *rp, uint32_t tidx, const struct ev *e)
{
	uint32_t site = hint_site(rp, e->stack);
	if (site == NO_SITE)
		return -ENOMEM;
	release_missed(rp, e->addr);
	struct site *s = &rp->sites[site];
	s->live_bytes += e->size;
	s->live_blocks++;
	s->allocations++;
	s->allocated_bytes += e->size;
	if (s->live_bytes > s->max_live)
		s->max_live = s->live_bytes;
	rp->hint_heap += e->size;
	rp->prof.hint_allocations++;
	rp->prof.hint_allocated_bytes += e->size;
	if (rp->hint_heap > rp->prof.hint_peak_bytes)
		rp->prof.hint_peak_bytes = rp->hint_heap;
	struct hp_block_rec b = {e->addr, e->size, e->time, site, tidx};
	int rc = hp_blocks_insert(&rp->live, &b);
	if (__builtin_expect(rp->pending.count != 0, 0) && !rc)
		settle_pending(rp, e->addr);
	return rc;
}

/* Marks taken before time t get the heap as it is before the events of t: events of a
 * mark's own time unit (about 1 us) count as before it. */
static __attribute__((noinline)) void settle_marks(struct hp_replay *rp, uint64_t t)
{
	uint64_t min = UINT64_MAX;
	for (size_t i = rp->first_unsettled; i < rp->nmarks; i++) {
		struct mark *m = &rp->marks[i];
		if (m->settled || m->in_stream)
			continue;
		if (m->m.time < t) {
			m->m.heap_bytes = rp->heap;
			m->settled = 1;
		} else if (m->m.time < min) {
			min = m->m.time;
		}
	}
	while (rp->first_unsettled < rp->nmarks && rp->marks[rp->first_unsettled].settled)
		rp->first_unsettled++;
	rp->mark_min = min;
}

static int push_mark(struct hp_replay *rp, uint32_t thread, uint64_t time, size_t index);
static int window_time(struct hp_replay *rp, uint64_t t);
static void window_event(struct hp_replay *rp, uint64_t t);
static void window_mark(struct hp_replay *rp, struct mark *m, int now);

static int add_mark(struct hp_replay *rp, const struct hp_item *it)
{
	if (grow((void **)&rp->marks, &rp->marks_cap, rp->nmarks + 1, sizeof *rp->marks))
		return -ENOMEM;
	struct mark *m = &rp->marks[rp->nmarks];
	char *label = malloc(it->u.mark.label_len + 1);
	if (!label)
		return -ENOMEM;
	memcpy(label, it->u.mark.label, it->u.mark.label_len);
	label[it->u.mark.label_len] = 0;
	*m = (struct mark){
	    .m = {.time = it->u.mark.time, .label = label, .label_len = it->u.mark.label_len}};
	rp->nmarks++;
	if (it->u.mark.thread != HP_ITEM_NO_THREAD) {
		/* Settled by the merge, in its place among the thread's events. */
		m->in_stream = 1;
		return push_mark(rp, it->u.mark.thread, it->u.mark.time, rp->nmarks - 1);
	}
	/* Its time passed already (a mark written after later events): the heap now. */
	if (m->m.time < rp->applied_time) {
		m->m.heap_bytes = rp->heap;
		m->settled = 1;
	} else if (m->m.time < rp->mark_min) {
		rp->mark_min = m->m.time;
	}
	if (rp->win_on)
		window_mark(rp, m, m->settled);
	return 0;
}

static int do_alloc(struct hp_replay *rp, uint32_t tidx, struct thread *th, const struct ev *e)
{
	if (__builtin_expect(e->kind == EV_HINT, 0))
		return do_hint(rp, tidx, e);
	uint32_t site = 0;
	if (e->stack < rp->id_site_cap)
		site = rp->id_site[e->stack];
	release_missed(rp, e->addr);
	struct weight w = weigh(rp, e->size);
	struct site *s = &rp->sites[site];
	site_touch(rp, s);
	/* One compare per allocation: pprof's `bytes` label holds a site's block size only
	 * when every block of the site had that size. */
	if (__builtin_expect(s->one_size != e->size, 0))
		s->one_size = s->allocations ? SIZE_MIXED : e->size;
	s->live_bytes += w.bytes;
	s->live_blocks += w.count;
	s->allocations += w.count;
	s->allocated_bytes += w.bytes;
	if (s->live_bytes > s->max_bytes) {
		s->max_bytes = s->live_bytes;
		s->max_blocks = s->live_blocks;
	}
	rp->heap += w.bytes;
	rp->prof.allocations += w.count;
	rp->prof.allocated_bytes += w.bytes;
	if (rp->heap > rp->peak) {
		rp->peak = rp->heap;
		rp->peak_time = e->time;
		rp->peak_epoch++;
		rp->peak_event = rp->napplied;
	}
	busy_add(rp, e->time, w.bytes, w.count);
	th->last_site = site;
	th->last_size = e->size;
	struct hp_block_rec b = {e->addr, e->size, e->time, site, tidx};
	int rc = hp_blocks_insert(&rp->live, &b);
	/* A window ending at this event (the peak) ends before the release that waited. */
	if (__builtin_expect(rp->pending.count != 0, 0) && !rc && rp->napplied != rp->win_event)
		settle_pending(rp, e->addr);
	return rc;
}

static int apply(struct hp_replay *rp, uint32_t tidx, const struct ev *e)
{
	struct thread *th = &rp->thr[tidx];
	if (__builtin_expect(e->time >= rp->win_next, 0) && window_time(rp, e->time))
		return 0;
	rp->napplied++;
	if (__builtin_expect(e->time > rp->mark_min, 0))
		settle_marks(rp, e->time);
	rp->applied_time = e->time;
	struct hp_heap_bucket *bk = tl_bucket(rp, e->time);
	tl_heap(bk, rp->heap);
	if (e->time > rp->max_time)
		rp->max_time = e->time;
	int rc = 0;
	if (e->kind == EV_FREE) {
		do_free(rp, tidx, th, e->addr);
	} else if (__builtin_expect(e->kind == EV_MARK, 0)) {
		struct mark *m = &rp->marks[e->addr];
		m->m.heap_bytes = rp->heap;
		m->settled = 1;
		if (rp->win_on)
			window_mark(rp, m, 1);
	} else {
		rc = do_alloc(rp, tidx, th, e);
	}
	tl_heap(bk, rp->heap);
	if (__builtin_expect(rp->napplied == rp->win_event, 0))
		window_event(rp, e->time);
	return rc;
}

/* ---- the window (window.h) ---- */

static void out_block(void *ctx, struct hp_block_rec *b)
{
	(void)ctx;
	b->site = OUT_SITE;
}

/* The window opens at time t: what was counted so far is forgotten, and the blocks live
 * now are outside it. Once: a pass over the sites and the live set. */
static __attribute__((noinline, cold)) void window_open(struct hp_replay *rp, uint64_t t)
{
	struct hp_profile *p = &rp->prof;
	rp->win_state = 1;
	rp->win_opened = t;
	hp_blocks_foreach_mut(&rp->live, out_block, NULL);
	for (size_t i = 0; i < rp->nsites; i++) {
		struct site *s = &rp->sites[i];
		s->allocations = s->allocated_bytes = s->live_bytes = s->live_blocks = 0;
		s->at_peak = s->temporary = s->max_live = s->epoch = 0;
		s->open_key = NO_KEY;
		s->closed_allocs = s->closed_bytes = 0;
		s->filled = 0;
	}
	for (size_t i = 0; i < rp->nthr; i++)
		rp->thr[i].last_site = NO_SITE;
	for (size_t i = 0; i < rp->tl_n; i++) {
		rp->tl[i].has_heap = 0;
		rp->tl[i].heap_max = rp->tl[i].heap_last = 0;
	}
	rp->heap = rp->peak = 0;
	rp->peak_time = t;
	rp->peak_epoch++;
	rp->peak_event = rp->napplied;
	p->allocations = p->frees = p->allocated_bytes = p->temporary = 0;
	p->hint_allocations = p->hint_frees = p->hint_allocated_bytes = p->hint_peak_bytes = 0;
	rp->hint_heap = 0;
	struct busy *b = &rp->busy;
	b->head = b->n = 0;
	b->bytes = b->count = b->max_bytes = b->max_count = b->max_bytes_t = b->max_count_t = 0;
	rp->win_next = rp->win_hi;
}

static void window_close(struct hp_replay *rp, uint64_t t)
{
	rp->win_state = 2;
	rp->win_closed = t;
	rp->win_next = 0; /* every later event is dropped */
}

/* An event at or after win_next. Returns 1 when it falls after the window. */
static __attribute__((noinline)) int window_time(struct hp_replay *rp, uint64_t t)
{
	if (rp->win_state == 0 && t >= rp->win_lo)
		window_open(rp, rp->win_lo);
	if (rp->win_state == 1 && t >= rp->win_hi)
		window_close(rp, rp->win_hi);
	if (rp->win_state == 2)
		return 1;
	rp->win_next = rp->win_state == 0 ? rp->win_lo : rp->win_hi;
	return 0;
}

/* The win_event-th event was applied at time t: an event edge (the peak) ends there. */
static __attribute__((noinline)) void window_event(struct hp_replay *rp, uint64_t t)
{
	if (rp->win_state == 1)
		window_close(rp, t);
}

static int label_is(const struct mark *m, const char *label)
{
	size_t n = strlen(label);
	return m->m.label_len == n && memcmp(m->m.label, label, n) == 0;
}

/* A mark: an edge when its label is the window's. `now`: the merge is at it (its thread's
 * events before it applied, none after), else it falls at its time, events of its own
 * time unit counting as before it (as for its heap). */
static __attribute__((noinline)) void window_mark(struct hp_replay *rp, struct mark *m, int now)
{
	if (rp->win_state == 0 && rp->win.from.kind == HP_EDGE_MARK && !rp->win_from_found &&
	    label_is(m, rp->win.from.label)) {
		rp->win_from_found = 1;
		if (now) {
			window_open(rp, m->m.time);
			m->m.heap_bytes = 0;
		} else {
			rp->win_lo = m->m.time + 1;
			if (rp->win_lo < rp->win_next)
				rp->win_next = rp->win_lo;
		}
		return;
	}
	if (rp->win_state <= 1 && rp->win.to.kind == HP_EDGE_MARK && !rp->win_to_found &&
	    label_is(m, rp->win.to.label)) {
		rp->win_to_found = 1;
		if (now && rp->win_state == 1) {
			window_close(rp, m->m.time);
		} else {
			rp->win_hi = m->m.time + 1;
			if (rp->win_state == 1 && rp->win_hi < rp->win_next)
				rp->win_next = rp->win_hi;
		}
	}
}

void hp_replay_set_window(struct hp_replay *rp, const struct hp_window *w)
{
	rp->win = *w;
	rp->win_on = w->set;
	if (!w->set)
		return;
	rp->win_state = w->from.kind == HP_EDGE_NONE ? 1 : 0;
	if (w->to.kind == HP_EDGE_EVENT)
		rp->win_event = w->to.event ? w->to.event : 1;
}

uint64_t hp_replay_peak_event(const struct hp_replay *rp)
{
	return rp->peak_event;
}

/* Seconds to trace units, once the header gives the clock. */
static uint64_t to_units(double seconds, double spu)
{
	double u = seconds / spu;
	return u < 1.8e19 ? (uint64_t)(u + 0.5) : UINT64_MAX - 1;
}

static void window_clock(struct hp_replay *rp, double spu)
{
	rp->busy.width = to_units(1.0, spu);
	if (!rp->busy.width)
		rp->busy.width = 1;
	if (!rp->win_on)
		return;
	if (rp->win.from.kind == HP_EDGE_SECONDS)
		rp->win_lo = to_units(rp->win.from.seconds, spu);
	if (rp->win.to.kind == HP_EDGE_SECONDS)
		rp->win_hi = to_units(rp->win.to.seconds, spu);
	rp->win_next = rp->win_state == 0 ? rp->win_lo : rp->win_hi;
}

/* Merge key: time, then frees before allocations, then thread index. */
static inline int ev_before(const struct hp_replay *rp, uint32_t a, uint32_t b)
{
	const struct ev *x = &rp->thr[a].q.v[rp->thr[a].q.head];
	const struct ev *y = &rp->thr[b].q.v[rp->thr[b].q.head];
	if (x->time != y->time)
		return x->time < y->time;
	/* Version 3's time units hold many events of a thread: each thread's run in turn. */
	if (!rp->keys_unique && (x->kind != EV_FREE) != (y->kind != EV_FREE))
		return x->kind == EV_FREE;
	return a < b;
}

static void sift_down(struct hp_replay *rp, size_t n, size_t i)
{
	uint32_t *h = rp->heapv;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && ev_before(rp, h[l], h[m]))
			m = l;
		if (l + 1 < n && ev_before(rp, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		uint32_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Moves nothing: the room of released events is reused when the queue is full. */
static void queue_compact(struct queue *q)
{
	if (q->head == q->len)
		q->head = q->len = 0;
}

/* How many events ahead of the one applied a free's block is prefetched: frees land on
 * random lines of a live set larger than the caches, and the events in between hide the
 * wait (churn's replay: hp_blocks_find 23% -> 4% of the analyzer's time). Prefetching the
 * sites too (a second stage, 4 ahead) measured no better. */
#define PREFETCH_AHEAD 8

static inline void prefetch_ahead(const struct hp_replay *rp, const struct queue *q)
{
	size_t i = q->head + PREFETCH_AHEAD;
	if (i < q->len && q->v[i].kind == EV_FREE)
		hp_blocks_prefetch(&rp->live, q->v[i].addr);
}

/* Applies, in time order, every buffered event with time < watermark. */
static int release(struct hp_replay *rp, uint64_t watermark)
{
	size_t n = 0;
	for (size_t i = 0; i < rp->nthr; i++) {
		struct queue *q = &rp->thr[i].q;
		if (q->head < q->len && q->v[q->head].time < watermark)
			rp->heapv[n++] = (uint32_t)i;
	}
	if (n == 1) { /* one thread: no merge */
		uint32_t t = rp->heapv[0];
		struct queue *q = &rp->thr[t].q;
		while (q->head < q->len && q->v[q->head].time < watermark) {
			prefetch_ahead(rp, q);
			if (apply(rp, t, &q->v[q->head++]))
				return -ENOMEM;
		}
		queue_compact(q);
		return 0;
	}
	for (size_t i = n / 2; i-- > 0;)
		sift_down(rp, n, i);
	while (n) {
		uint32_t t = rp->heapv[0];
		struct queue *q = &rp->thr[t].q;
		/* The thread on top applies its whole run, up to the next thread's head (the
		 * least of the top's children): a time unit of version 3 holds many events of
		 * one thread, and the heap is sifted once a run instead of once an event. */
		uint32_t o = UINT32_MAX;
		if (n > 1)
			o = n > 2 && ev_before(rp, rp->heapv[2], rp->heapv[1]) ? rp->heapv[2]
									       : rp->heapv[1];
		do {
			prefetch_ahead(rp, q);
			if (apply(rp, t, &q->v[q->head++]))
				return -ENOMEM;
		} while (q->head < q->len && q->v[q->head].time < watermark &&
			 (o == UINT32_MAX || ev_before(rp, t, o)));
		if (q->head == q->len || q->v[q->head].time >= watermark) {
			queue_compact(q);
			rp->heapv[0] = rp->heapv[--n];
		}
		sift_down(rp, n, 0);
	}
	return 0;
}

static int thread_slot(struct hp_replay *rp, uint64_t idx)
{
	if (idx < rp->nthr)
		return 0;
	size_t cap = rp->nthr, n = (size_t)idx + 1;
	if (grow((void **)&rp->thr, &cap, n, sizeof *rp->thr))
		return -ENOMEM;
	uint32_t *h = realloc(rp->heapv, cap * sizeof *h);
	if (!h)
		return -ENOMEM;
	rp->heapv = h;
	for (size_t i = rp->nthr; i < cap; i++)
		rp->thr[i].last_site = NO_SITE;
	rp->nthr = cap;
	return 0;
}

static __attribute__((noinline, cold)) int queue_room(struct queue *q, size_t n)
{
	if (q->head) {
		/* Released events at the front: reuse their room (amortized). */
		memmove(q->v, q->v + q->head, (q->len - q->head) * sizeof *q->v);
		q->len -= q->head;
		q->head = 0;
	}
	if (q->len + n <= q->cap)
		return 0;
	size_t cap = q->cap ? q->cap * 2 : 256;
	struct ev *v = realloc(q->v, cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	q->v = v;
	q->cap = cap;
	return 0;
}

/* A mark among a thread's events (version 3): a queue entry of its own. */
static int push_mark(struct hp_replay *rp, uint32_t thread, uint64_t time, size_t index)
{
	if (thread >= rp->nthr && thread_slot(rp, thread))
		return -ENOMEM;
	struct queue *q = &rp->thr[thread].q;
	if (q->len + 1 > q->cap && queue_room(q, 1))
		return -ENOMEM;
	q->v[q->len++] = (struct ev){.time = time, .addr = index, .kind = EV_MARK};
	return 0;
}

static int push_event(struct hp_replay *rp, const struct hp_item *it)
{
	if (__builtin_expect(it->u.ev.thread >= rp->nthr, 0) && thread_slot(rp, it->u.ev.thread))
		return -ENOMEM;
	struct queue *q = &rp->thr[it->u.ev.thread].q;
	if (__builtin_expect(q->len + 2 > q->cap, 0) && queue_room(q, 2))
		return -ENOMEM;
	/* Scalar loads: a 16-byte load of two fields the decoder has just stored 8 bytes at a
	 * time stalls on store forwarding (a third of this function's time). */
	uint64_t t = it->u.ev.time, addr = it->u.ev.addr, size = it->u.ev.size;
	__asm__("" : "+r"(t), "+r"(addr), "+r"(size));
	struct ev *e = &q->v[q->len];
	if (it->kind == HP_ITEM_REALLOC) {
		e->time = t;
		e->addr = it->u.ev.old;
		e->size = 0;
		e->stack = 0;
		e->kind = EV_FREE;
		e++;
		q->len++;
	}
	e->time = t;
	e->addr = addr;
	e->size = size;
	e->stack = it->u.ev.stack;
	e->kind = it->kind == HP_ITEM_FREE ? EV_FREE : it->u.ev.hint ? EV_HINT : EV_ALLOC;
	q->len++;
	return 0;
}

/* ---- modules and stacks ---- */

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static char *dup_n(const void *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		if (n)
			memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static int add_module(struct hp_replay *rp, const struct hp_item *it)
{
	if (grow((void **)&rp->mods, &rp->mods_cap, rp->nmods + 1, sizeof *rp->mods) ||
	    grow((void **)&rp->mod_framed, &rp->mod_framed_cap, rp->nmods + 1, 1))
		return -ENOMEM;
	rp->mod_framed[rp->nmods] = 0;
	struct hp_module_info *m = &rp->mods[rp->nmods];
	m->id = it->u.module.id;
	m->bias = it->u.module.bias;
	m->path = dup_n(it->u.module.path, it->u.module.path_len);
	m->build_id = (const uint8_t *)dup_n(it->u.module.build_id, it->u.module.build_id_len);
	m->build_id_len = it->u.module.build_id_len;
	if (!m->path || !m->build_id)
		return -ENOMEM;
	int32_t idx = (int32_t)rp->nmods++;
	/* A new module replaces any (unloaded) one overlapping it. */
	for (uint32_t s = 0; s < it->u.module.nseg; s++) {
		uint64_t lo = m->bias + it->u.module.seg[s].vaddr;
		uint64_t hi = lo + it->u.module.seg[s].memsz;
		if (hi <= lo)
			continue;
		if (!m->limit || lo < m->start)
			m->start = lo;
		if (hi > m->limit)
			m->limit = hi;
		size_t k = 0;
		for (size_t i = 0; i < rp->nranges; i++)
			if (rp->ranges[i].end <= lo || rp->ranges[i].start >= hi)
				rp->ranges[k++] = rp->ranges[i];
		rp->nranges = k;
		if (grow((void **)&rp->ranges, &rp->ranges_cap, rp->nranges + 1,
			 sizeof *rp->ranges))
			return -ENOMEM;
		rp->ranges[rp->nranges++] = (struct range){lo, hi, idx};
	}
	if (rp->nranges > 1)
		qsort(rp->ranges, rp->nranges, sizeof *rp->ranges, cmp_range);
	return 0;
}

static int32_t find_module(const struct hp_replay *rp, uint64_t ip)
{
	size_t lo = 0, hi = rp->nranges;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (rp->ranges[mid].start <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || ip >= rp->ranges[lo - 1].end)
		return -1;
	return rp->ranges[lo - 1].module;
}

static int site_hash_grow(struct hp_replay *rp)
{
	size_t n = (rp->site_hash_mask + 1) * 2;
	uint32_t *h = malloc(n * sizeof *h);
	if (!h)
		return -ENOMEM;
	memset(h, 0xff, n * sizeof *h);
	for (size_t s = 1; s < rp->nsites; s++) {
		size_t i = rp->sites[s].hash & (n - 1);
		while (h[i] != NO_SITE)
			i = (i + 1) & (n - 1);
		h[i] = (uint32_t)s;
	}
	free(rp->site_hash);
	rp->site_hash = h;
	rp->site_hash_mask = n - 1;
	return 0;
}

static size_t loc_slot(int32_t module, uint64_t address, size_t mask)
{
	uint64_t h = (address ^ ((uint64_t)(uint32_t)module << 40)) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 24) & mask;
}

static int loc_hash_grow(struct hp_replay *rp)
{
	size_t n = (rp->loc_hash_mask + 1) * 2;
	uint32_t *h = malloc(n * sizeof *h);
	if (!h)
		return -ENOMEM;
	memset(h, 0xff, n * sizeof *h);
	for (size_t k = 0; k < rp->nlocs; k++) {
		size_t i = loc_slot(rp->locs[k].module, rp->locs[k].address, n - 1);
		while (h[i] != NO_LOC)
			i = (i + 1) & (n - 1);
		h[i] = (uint32_t)k;
	}
	free(rp->loc_hash);
	rp->loc_hash = h;
	rp->loc_hash_mask = n - 1;
	return 0;
}

/* The location of an ip, added on first sight. Returns its index, or NO_LOC on OOM. */
static uint32_t intern_location(struct hp_replay *rp, uint64_t ip)
{
	int32_t m = find_module(rp, ip);
	uint64_t address = m >= 0 ? ip - rp->mods[m].bias : ip;
	size_t i = loc_slot(m, address, rp->loc_hash_mask);
	for (; rp->loc_hash[i] != NO_LOC; i = (i + 1) & rp->loc_hash_mask) {
		const struct hp_location *l = &rp->locs[rp->loc_hash[i]];
		if (l->address == address && l->module == m)
			return rp->loc_hash[i];
	}
	if (rp->nlocs >= NO_LOC - 1 ||
	    grow((void **)&rp->locs, &rp->locs_cap, rp->nlocs + 1, sizeof *rp->locs))
		return NO_LOC;
	uint32_t k = (uint32_t)rp->nlocs++;
	rp->locs[k] = (struct hp_location){.ip = ip, .address = address, .module = m};
	rp->loc_hash[i] = k;
	if (m >= 0 && !rp->mod_framed[m]) {
		rp->mod_framed[m] = 1;
		if (rp->on_framed)
			rp->on_framed(rp->on_framed_ctx, &rp->mods[m]);
	}
	if (rp->nlocs * 2 > rp->loc_hash_mask + 1 && loc_hash_grow(rp))
		return NO_LOC;
	return k;
}

static int add_stack(struct hp_replay *rp, const struct hp_item *it)
{
	uint32_t n = it->u.stack.nframes;
	uint64_t id = it->u.stack.id;
	/* + 1: the array is never NULL, even for a stack of no frames. */
	if (grow((void **)&rp->stack_locs, &rp->stack_locs_cap, rp->nstack_locs + n + 1,
		 sizeof *rp->stack_locs))
		return -ENOMEM;
	uint32_t *f = rp->stack_locs + rp->nstack_locs;
	uint64_t h = 0xcbf29ce484222325ull ^ n;
	for (uint32_t i = 0; i < n; i++) {
		f[i] = intern_location(rp, it->u.stack.ips[i]);
		if (f[i] == NO_LOC)
			return -ENOMEM;
		h = (h ^ f[i]) * 0x100000001b3ull;
	}
	h ^= h >> 29;
	/* Same frames under another id (e.g. after fork): the same site. */
	uint32_t site = NO_SITE;
	size_t i = h & rp->site_hash_mask;
	for (; rp->site_hash[i] != NO_SITE; i = (i + 1) & rp->site_hash_mask) {
		struct site *s = &rp->sites[rp->site_hash[i]];
		if (s->hash != h || s->nlocs != n)
			continue;
		if (!n || memcmp(rp->stack_locs + s->first_loc, f, n * sizeof *f) == 0) {
			site = rp->site_hash[i];
			break;
		}
	}
	if (site == NO_SITE) {
		if (grow((void **)&rp->sites, &rp->sites_cap, rp->nsites + 1, sizeof *rp->sites))
			return -ENOMEM;
		site = (uint32_t)rp->nsites++;
		struct site *s = &rp->sites[site];
		s->first_loc = (uint32_t)rp->nstack_locs;
		s->nlocs = n;
		s->hash = h;
		s->epoch = rp->peak_epoch;
		s->open_key = NO_KEY;
		rp->nstack_locs += n;
		rp->site_hash[i] = site;
		if (rp->nsites * 2 > rp->site_hash_mask + 1 && site_hash_grow(rp))
			return -ENOMEM;
	}
	size_t cap = rp->id_site_cap;
	if (grow((void **)&rp->id_site, &cap, (size_t)id + 1, sizeof *rp->id_site))
		return -ENOMEM;
	rp->id_site_cap = cap;
	rp->id_site[id] = site;
	return 0;
}

static void set_header(struct hp_replay *rp, const struct hp_header *h)
{
	struct hp_profile *p = &rp->prof;
	p->header = *h;
	rp->exe = dup_n(h->exe, h->exe_len);
	rp->cmdline = dup_n(h->cmdline, h->cmdline_len);
	size_t n = h->cmdline_len;
	while (n && h->cmdline[n - 1] == 0)
		n--;
	rp->command = dup_n(h->cmdline, n);
	if (!rp->exe || !rp->cmdline || !rp->command) {
		rp->oom = 1;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!rp->command[i])
			rp->command[i] = ' ';
	p->header.exe = rp->exe;
	p->header.cmdline = rp->cmdline;
	p->command = rp->command;
	p->has_header = 1;
	p->attached = (h->flags & HP_HDR_ATTACHED) != 0;
	p->attached_realtime_ns = p->attached ? h->start_realtime_ns : 0;
	rp->keys_unique = h->version >= 3;
	rp->live.windows_on = rp->keys_unique; /* dense (thread, seq) keys */
	/* A flag without a mean cannot be scaled: its figures stay the sampled ones. */
	if (h->sample_bytes)
		rp->sample_mean = p->sample_mean = h->sample_bytes;
	double tps = h->ticks_per_second ? (double)h->ticks_per_second : 1e9;
	unsigned shift = h->time_shift < 63 ? (unsigned)h->time_shift : 63;
	p->seconds_per_unit = (double)((uint64_t)1 << shift) / tps;
	double w = 1e-3 / p->seconds_per_unit;
	rp->tl_width = w < 1 ? 1 : w > 1e15 ? (uint64_t)1e15 : (uint64_t)w;
	rp->tl_cur = 0;
	rp->tl_cur_lo = 0;
	window_clock(rp, p->seconds_per_unit);
}

static inline void seen_time(struct hp_replay *rp, uint64_t t)
{
	if (t > rp->max_time)
		rp->max_time = t;
}

int hp_replay_item(struct hp_replay *rp, const struct hp_item *it)
{
	int rc = 0;
	switch (it->kind) {
	case HP_ITEM_ALLOC:
	case HP_ITEM_FREE:
	case HP_ITEM_REALLOC:
		return push_event(rp, it);
	case HP_REC_ROUND:
		rc = release(rp, it->u.round.watermark);
		break;
	case HP_REC_HEADER:
		set_header(rp, &it->u.header);
		break;
	case HP_REC_MODULE:
		rc = add_module(rp, it);
		break;
	case HP_REC_STACK:
		rc = add_stack(rp, it);
		break;
	case HP_REC_THREAD:
		rc = thread_slot(rp, it->u.thread.index);
		if (!rc && !rp->thr[it->u.thread.index].known) {
			rp->thr[it->u.thread.index].known = 1;
			rp->prof.threads++;
		}
		seen_time(rp, it->u.thread.time);
		break;
	case HP_REC_THREAD_EXIT:
		seen_time(rp, it->u.thread_exit.time);
		break;
	case HP_REC_RSS: {
		if (__builtin_expect(rp->win_on, 0) &&
		    (rp->win_state == 2 ? it->u.rss.time >= rp->win_closed
					: it->u.rss.time >= rp->win_hi))
			break; /* after the window */
		struct hp_heap_bucket *b = tl_bucket(rp, it->u.rss.time);
		b->rss = it->u.rss.bytes;
		b->has_rss = 1;
		if (it->u.rss.bytes > rp->prof.peak_rss_bytes)
			rp->prof.peak_rss_bytes = it->u.rss.bytes;
		rp->last_rss = it->u.rss.bytes;
		seen_time(rp, it->u.rss.time);
		break;
	}
	case HP_REC_CLOCK_SYNC:
		if (rp->nsync++ == 0) {
			rp->sync_ticks0 = it->u.clock_sync.ticks;
			rp->sync_mono0 = it->u.clock_sync.mono_ns;
		}
		rp->sync_ticks1 = it->u.clock_sync.ticks;
		rp->sync_mono1 = it->u.clock_sync.mono_ns;
		break;
	case HP_REC_EXEC:
		free(rp->exec_path);
		rp->exec_path = dup_n(it->u.exec.path, it->u.exec.path_len);
		rp->oom |= !rp->exec_path;
		seen_time(rp, it->u.exec.time);
		break;
	case HP_REC_EXIT:
		rp->prof.has_exit = 1;
		rp->prof.exit_status = it->u.exit.status;
		seen_time(rp, it->u.exit.time);
		break;
	case HP_REC_END:
		rp->prof.has_end = 1;
		rp->prof.end_events = it->u.end.events;
		rp->prof.end_lost = it->u.end.lost;
		seen_time(rp, it->u.end.time);
		rc = release(rp, UINT64_MAX);
		break;
	case HP_REC_ERROR:
		if (!rp->error) {
			rp->error = dup_n(it->u.error.message, it->u.error.message_len);
			rp->oom |= !rp->error;
		}
		seen_time(rp, it->u.error.time);
		break;
	case HP_REC_FORK:
		seen_time(rp, it->u.fork.time);
		break;
	case HP_REC_MODULE_UNLOAD:
		/* Ranges stay for the stacks already read; a later MODULE replaces them. */
		break;
	case HP_REC_MARK:
		rc = add_mark(rp, it);
		seen_time(rp, it->u.mark.time);
		break;
	default:
		break;
	}
	if (rp->oom)
		return -ENOMEM;
	return rc;
}

/* Timeline points of buckets v[0..n) of `width` time units each: each closes its
 * bucket; a bucket without events keeps the last heap, one without RSS the last RSS. */
static void to_points(const struct hp_heap_bucket *v, size_t n, double width, double spu,
		      double duration, struct hp_timeline_point *out)
{
	uint64_t heap = 0, rss = 0;
	int has_rss = 0;
	for (size_t i = 0; i < n; i++) {
		const struct hp_heap_bucket *b = &v[i];
		struct hp_timeline_point *o = &out[i];
		if (b->has_heap) {
			o->heap_bytes = b->heap_max;
			heap = b->heap_last;
		} else {
			o->heap_bytes = heap;
		}
		if (b->has_rss) {
			rss = b->rss;
			has_rss = 1;
		}
		o->rss_bytes = rss;
		o->has_rss = has_rss;
		o->t_s = (double)(i + 1) * width * spu;
		if (o->t_s > duration)
			o->t_s = duration;
	}
}

/* The window at the end: one that never opened opens (empty) at the end; one that closed
 * ends the trace there, its timeline cut. */
static void window_finish(struct hp_replay *rp, double spu)
{
	struct hp_profile *p = &rp->prof;
	if (rp->win_state == 0)
		window_open(rp, rp->max_time);
	int closed = rp->win_state == 2 && rp->win_closed < rp->max_time;
	if (rp->win_state == 2 && rp->win_closed < rp->max_time) {
		rp->max_time = rp->win_closed;
		size_t nb = (size_t)(rp->win_closed / rp->tl_width) + 1;
		if (nb < rp->tl_n) {
			memset(rp->tl + nb, 0, (rp->tl_n - nb) * sizeof *rp->tl);
			rp->tl_n = nb;
		}
	}
	/* The peak RSS of the window's buckets, starting from the RSS it opened with: the
	 * last sample before it holds until the next (a recorder writes a sample only when
	 * the RSS changed). */
	p->peak_rss_bytes = 0;
	size_t first = (size_t)(rp->win_opened / rp->tl_width);
	for (size_t i = first < rp->tl_n ? first : rp->tl_n; i-- > 0;)
		if (rp->tl[i].has_rss) {
			p->peak_rss_bytes = rp->tl[i].rss;
			break;
		}
	for (size_t i = first; i < rp->tl_n; i++)
		if (rp->tl[i].has_rss && rp->tl[i].rss > p->peak_rss_bytes)
			p->peak_rss_bytes = rp->tl[i].rss;
	p->window = (struct hp_window_info){
	    .active = 1,
	    .spec = rp->win.spec,
	    .from_s = (double)rp->win_opened * spu,
	    .to_s = (double)rp->max_time * spu,
	    .closed = closed,
	    .from_missing = rp->win.from.kind == HP_EDGE_MARK && !rp->win_from_found,
	    .to_missing = rp->win.to.kind == HP_EDGE_MARK && !rp->win_to_found,
	};
}

/* The sites' clock at the end: coarse enough for every bucket of the timeline. Closes
 * each site's open bucket, carries its live bytes to the last bucket, rounds sampled
 * counts; then the process's heap and RSS on the same buckets. Returns 0 or -ENOMEM. */
static int finish_series(struct hp_replay *rp, unsigned cs)
{
	struct hp_profile *p = &rp->prof;
	unsigned gen = rp->ser_gen;
	while (rp->tl_n && ((rp->tl_n - 1) >> (gen - rp->tl_gen)) >= rp->ser_buckets)
		gen++;
	unsigned levels = gen - rp->tl_gen;
	size_t nb = rp->tl_n ? ((rp->tl_n - 1) >> levels) + 1 : 0;
	uint64_t half = ((uint64_t)1 << cs) >> 1;
	for (size_t i = 0; i < rp->nsites; i++) {
		struct site *s = &rp->sites[i];
		if (!s->allocations || s->open_key == NO_KEY || s->hint)
			continue;
		unsigned ogen = (unsigned)(s->open_key >> 32);
		if (series_close(rp, s, gen, coarser((uint32_t)s->open_key, gen - ogen)))
			return -ENOMEM;
		for (uint32_t k = s->filled; k < nb; k++)
			s->pts[k] = (struct hp_site_point){.live_bytes = s->live_bytes};
		for (size_t k = 0; cs && k < nb; k++)
			s->pts[k].allocations = (s->pts[k].allocations + half) >> cs;
	}

	struct hp_heap_bucket *tmp = malloc((rp->tl_n ? rp->tl_n : 1) * sizeof *tmp);
	rp->out_series = calloc(nb ? nb : 1, sizeof *rp->out_series);
	if (!tmp || !rp->out_series) {
		free(tmp);
		return -ENOMEM;
	}
	if (rp->tl_n)
		memcpy(tmp, rp->tl, rp->tl_n * sizeof *tmp);
	hp_series_merge_heap(tmp, rp->tl_n, levels);
	double width = (double)rp->tl_width * (double)((uint64_t)1 << levels);
	to_points(tmp, nb, width, p->seconds_per_unit, p->duration_s, rp->out_series);
	free(tmp);
	p->series.nbuckets = nb;
	p->series.bucket_s = width * p->seconds_per_unit;
	p->series.process = rp->out_series;
	return 0;
}

/* Drops the locations no reported site uses (stacks of no allocation), keeping the
 * others in order, and renumbers the sites' stacks: symbolization and the pprof tables
 * then cover what is reported and nothing else. Returns 0 or -ENOMEM. */
static int keep_used_locations(struct hp_replay *rp)
{
	uint32_t *map = malloc((rp->nlocs ? rp->nlocs : 1) * sizeof *map);
	if (!map)
		return -ENOMEM;
	memset(map, 0xff, rp->nlocs * sizeof *map);
	const struct hp_profile *p = &rp->prof;
	for (size_t i = 0; i < p->nsites; i++)
		for (uint32_t k = 0; k < p->sites[i].nlocations; k++)
			map[p->sites[i].locations[k]] = 0;
	for (size_t i = 0; i < p->nhint_sites; i++)
		for (uint32_t k = 0; k < p->hint_sites[i].nlocations; k++)
			map[p->hint_sites[i].locations[k]] = 0;
	size_t n = 0;
	for (size_t i = 0; i < rp->nlocs; i++) {
		if (map[i] == NO_LOC)
			continue;
		map[i] = (uint32_t)n;
		rp->locs[n++] = rp->locs[i];
	}
	rp->nlocs = n;
	/* Each stack once: a stack is a range of stack_locs of its own site (hint sites share
	 * their base's), and an unreported one is renumbered too, to NO_LOC, unread. */
	for (size_t i = 0; i < rp->nsites; i++) {
		const struct site *s = &rp->sites[i];
		if (s->hint || !s->nlocs)
			continue;
		uint32_t *v = rp->stack_locs + s->first_loc;
		for (uint32_t k = 0; k < s->nlocs; k++)
			v[k] = map[v[k]];
	}
	free(map);
	return 0;
}

/* The header's rate, or better the one measured between the first and last CLOCK_SYNC. */
static double seconds_per_unit(const struct hp_replay *rp)
{
	const struct hp_profile *p = &rp->prof;
	if (rp->nsync >= 2 && rp->sync_mono1 > rp->sync_mono0 + 1000000 &&
	    rp->sync_ticks1 > rp->sync_ticks0) {
		double tps = (double)(rp->sync_ticks1 - rp->sync_ticks0) * 1e9 /
			     (double)(rp->sync_mono1 - rp->sync_mono0);
		unsigned shift = p->header.time_shift < 63 ? (unsigned)p->header.time_shift : 63;
		return (double)((uint64_t)1 << shift) / tps;
	}
	return p->seconds_per_unit;
}

/* A site's figures as the profile gives them: the counts of a sampled trace (cs =
 * COUNT_SHIFT) rounded from 1/COUNT_ONE calls, here once; hint sites count calls. */
static struct hp_site out_site(const struct hp_replay *rp, const struct site *s, unsigned cs)
{
	uint64_t half = ((uint64_t)1 << cs) >> 1;
	const uint32_t *locs = rp->stack_locs ? rp->stack_locs + s->first_loc : NULL;
	if (s->hint)
		return (struct hp_site){
		    .allocations = s->allocations,
		    .allocated_bytes = s->allocated_bytes,
		    .peak_bytes = s->max_live,
		    .leaked_bytes = s->live_bytes,
		    .leaked_allocations = s->live_blocks,
		    .locations = locs,
		    .nlocations = s->nlocs,
		    .hint = 1,
		};
	return (struct hp_site){
	    .allocations = (s->allocations + half) >> cs,
	    .allocated_bytes = s->allocated_bytes,
	    .peak_bytes = s->epoch < rp->peak_epoch ? s->live_bytes : s->at_peak,
	    .peak_allocations =
		((s->epoch < rp->peak_epoch ? s->live_blocks : s->at_peak_blocks) + half) >> cs,
	    .object_size = s->one_size == SIZE_MIXED ? 0 : s->one_size,
	    .max_bytes = s->max_bytes,
	    .max_allocations = (s->max_blocks + half) >> cs,
	    .lifetime_s = s->lifetime / (double)((uint64_t)1 << cs) * rp->prof.seconds_per_unit,
	    .leaked_bytes = s->live_bytes,
	    .leaked_allocations = (s->live_blocks + half) >> cs,
	    .temporary = (s->temporary + half) >> cs,
	    .locations = locs,
	    .nlocations = s->nlocs,
	    .series = s->pts,
	};
}

const struct hp_profile *hp_replay_peek(struct hp_replay *rp)
{
	struct hp_profile *v = &rp->view;
	if (rp->oom) {
		errno = ENOMEM;
		return NULL;
	}
	if (rp->nsites > rp->view_sites_cap) {
		struct hp_site *vs = realloc(rp->view_sites, rp->sites_cap * sizeof *vs);
		if (!vs) {
			errno = ENOMEM;
			return NULL;
		}
		rp->view_sites = vs;
		rp->view_sites_cap = rp->sites_cap;
	}
	*v = rp->prof;
	unsigned cs = rp->sample_mean ? COUNT_SHIFT : 0;
	uint64_t half = ((uint64_t)1 << cs) >> 1;
	double spu = seconds_per_unit(rp);
	v->seconds_per_unit = spu;
	v->allocations = (v->allocations + half) >> cs;
	v->frees = (v->frees + half) >> cs;
	v->temporary = (v->temporary + half) >> cs;
	v->peak_heap_bytes = rp->peak;
	v->peak_time_s = (double)rp->peak_time * spu;
	v->duration_s = (double)rp->max_time * spu;
	v->heap_bytes = rp->heap;
	v->rss_bytes = rp->last_rss;
	v->hint_live_bytes = rp->hint_heap;
	/* A site's series is complete only at the end: none here. */
	for (size_t i = 0; i < rp->nsites; i++) {
		rp->view_sites[i] = out_site(rp, &rp->sites[i], cs);
		rp->view_sites[i].series = NULL;
	}
	v->sites = rp->view_sites;
	v->nsites = rp->nsites;
	v->modules = rp->mods;
	v->nmodules = rp->nmods;
	v->locations = rp->locs;
	v->nlocations = rp->nlocs;
	v->timeline = NULL;
	v->ntimeline = 0;
	v->series = (struct hp_series_info){0};
	v->marks = NULL;
	v->nmarks = rp->nmarks;
	v->exec_path = rp->exec_path;
	v->error = rp->error;
	return v;
}

/* A block live at the end lives until the end of the trace. */
static void end_lifetime(void *ctx, const struct hp_block_rec *b)
{
	struct hp_replay *rp = ctx;
	if (b->site == OUT_SITE) /* allocated before the window: not counted */
		return;
	struct site *s = &rp->sites[b->site];
	if (!s->hint && rp->max_time > b->time)
		s->lifetime += (double)(rp->max_time - b->time) * (double)weigh(rp, b->size).count;
}

struct hp_profile *hp_replay_finish(struct hp_replay *rp)
{
	struct hp_profile *p = &rp->prof;
	if (release(rp, UINT64_MAX) || rp->oom) {
		errno = ENOMEM;
		return NULL;
	}
	p->seconds_per_unit = seconds_per_unit(rp);
	double spu = p->seconds_per_unit;
	hp_blocks_foreach(&rp->live, end_lifetime, rp);
	if (rp->win_on)
		window_finish(rp, spu);
	p->heap_bytes = rp->heap;
	p->rss_bytes = rp->last_rss;
	p->peak_heap_bytes = rp->peak;
	p->peak_time_s = (double)rp->peak_time * spu;
	p->duration_s = (double)rp->max_time * spu;
	p->exec_path = rp->exec_path;
	p->error = rp->error;

	settle_marks(rp, UINT64_MAX);
	/* Counts of a sampled trace are in 1/COUNT_ONE calls: rounded here, once. */
	unsigned cs = rp->sample_mean ? COUNT_SHIFT : 0;
	uint64_t half = ((uint64_t)1 << cs) >> 1;
	rp->out_sites = calloc(rp->nsites, sizeof *rp->out_sites);
	rp->site_out = calloc(rp->nsites, sizeof *rp->site_out);
	rp->out_hint_sites = calloc(rp->nsites, sizeof *rp->out_hint_sites);
	rp->out_marks = calloc(rp->nmarks ? rp->nmarks : 1, sizeof *rp->out_marks);
	if (!rp->out_sites || !rp->site_out || !rp->out_hint_sites || !rp->out_marks ||
	    finish_series(rp, cs)) {
		errno = ENOMEM;
		return NULL;
	}
	uint64_t leaked_allocations = 0, site_allocations = 0, site_temporary = 0, site_leaked = 0;
	size_t n = 0, nh = 0;
	for (size_t i = 0; i < rp->nsites; i++) {
		struct site *s = &rp->sites[i];
		if (s->hint) {
			rp->out_hint_sites[nh++] = out_site(rp, s, cs);
			p->hint_live_bytes += s->live_bytes;
			p->hint_live_blocks += s->live_blocks;
			continue;
		}
		p->leaked_bytes += s->live_bytes;
		leaked_allocations += s->live_blocks;
		if (!s->allocations)
			continue;
		rp->site_out[i] = (uint32_t)n;
		rp->out_sites[n] = out_site(rp, s, cs);
		site_allocations += rp->out_sites[n].allocations;
		site_temporary += rp->out_sites[n].temporary;
		site_leaked += rp->out_sites[n].leaked_allocations;
		n++;
	}
	p->leaked_allocations = (leaked_allocations + half) >> cs;
	p->busiest = (struct hp_busiest_window){
	    .width_s = (double)rp->busy.width * spu,
	    .bytes = rp->busy.max_bytes,
	    .calls = (rp->busy.max_count + half) >> cs,
	    .bytes_end_s = (double)rp->busy.max_bytes_t * spu,
	    .calls_end_s = (double)rp->busy.max_count_t * spu,
	};
	p->allocations = (p->allocations + half) >> cs;
	p->frees = (p->frees + half) >> cs;
	p->temporary = (p->temporary + half) >> cs;
	if (cs) {
		/* Estimates, rounded per site: the totals are the sums of what the sites show,
		 * so a report's (and pprof's) sites add up to its summary. */
		p->allocations = site_allocations;
		p->temporary = site_temporary;
		p->leaked_allocations = site_leaked;
	}
	p->sites = rp->out_sites;
	p->nsites = n;
	p->hint_sites = rp->out_hint_sites;
	p->nhint_sites = nh;
	size_t nm = 0;
	for (size_t i = 0; i < rp->nmarks; i++) {
		const struct hp_mark *m = &rp->marks[i].m;
		if (rp->win_on && (m->time < rp->win_opened || m->time > rp->max_time))
			continue; /* outside the window */
		rp->out_marks[nm] = *m;
		rp->out_marks[nm++].t_s = (double)m->time * spu;
	}
	/* By time; insertion sort, as marks come nearly in order. */
	for (size_t i = 1; i < nm; i++)
		for (size_t j = i; j > 0 && rp->out_marks[j].time < rp->out_marks[j - 1].time;
		     j--) {
			struct hp_mark t = rp->out_marks[j];
			rp->out_marks[j] = rp->out_marks[j - 1];
			rp->out_marks[j - 1] = t;
		}
	p->marks = rp->out_marks;
	p->nmarks = nm;
	p->modules = rp->mods;
	p->nmodules = rp->nmods;
	if (keep_used_locations(rp)) {
		errno = ENOMEM;
		return NULL;
	}
	p->locations = rp->locs;
	p->nlocations = rp->nlocs;

	/* Timeline: at most HP_TIMELINE_MAX_POINTS evenly spaced points. */
	while (rp->tl_n > HP_TIMELINE_MAX_POINTS)
		tl_merge(rp);
	rp->out_tl = calloc(rp->tl_n ? rp->tl_n : 1, sizeof *rp->out_tl);
	if (!rp->out_tl) {
		errno = ENOMEM;
		return NULL;
	}
	to_points(rp->tl, rp->tl_n, (double)rp->tl_width, spu, p->duration_s, rp->out_tl);
	p->timeline = rp->out_tl;
	p->ntimeline = rp->tl_n;
	return p;
}

struct foreach_ctx {
	const struct hp_replay *rp;
	void (*fn)(void *ctx, uint64_t addr, uint64_t size, const struct hp_site *site);
	void *ctx;
};

static void foreach_one(void *arg, const struct hp_block_rec *b)
{
	const struct foreach_ctx *c = arg;
	if (b->site != OUT_SITE && !c->rp->sites[b->site].hint)
		c->fn(c->ctx, b->key, b->size, &c->rp->out_sites[c->rp->site_out[b->site]]);
}

void hp_replay_foreach_live(const struct hp_replay *rp,
			    void (*fn)(void *ctx, uint64_t addr, uint64_t size,
				       const struct hp_site *site),
			    void *ctx)
{
	if (!rp->site_out)
		return;
	struct foreach_ctx c = {rp, fn, ctx};
	hp_blocks_foreach(&rp->live, foreach_one, &c);
}
