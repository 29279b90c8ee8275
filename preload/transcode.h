/* The writer thread's event transcoder: rewrites the events the threads put in their
 * rings (docs/trace-format.md, "Version 1 events": heap addresses) into the trace's
 * version 2 events (block slots, no addresses), and keeps the live set (livetab.h) on
 * the way.
 *
 * Why here and not on the hot path: a slot needs the live set, which only the writer
 * has; an address costs ~3 bytes an event, a slot ~1, and an allocation that reuses its
 * thread's last freed slot costs nothing.
 *
 * Causality, not time, decides when an event can be rewritten. A free's block must be
 * known; the allocation that made it was published before the program could hand the
 * pointer to the freeing thread, but the writer snapshots one ring after another, so it
 * can see the free first. Such an event stalls its thread: the writer leaves it in the
 * ring, goes on with the other threads, and retries; an event still stalled after a
 * whole new round is forced out (a free of an address never allocated: before the
 * recorder started, or a lost event). An allocation at an address still live stalls
 * the same way (another thread's free of it is not seen yet).
 *
 * Not thread-safe: the writer owns a transcoder. Memory comes from mmap only. */
#ifndef HEAPPROF_PRELOAD_TRANSCODE_H
#define HEAPPROF_PRELOAD_TRANSCODE_H

#include <stddef.h>
#include <stdint.h>

#include <heapprof/trace_format.h>

#include "livetab.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hp_freed_slot {
	uint64_t slot;
	uint64_t time; /* of its release, in the transcoder's time base */
};

/* Per-thread state: the ring decoder's (v1) and the trace decoder's (v2), as of the
 * last event written. Reset it with hp_transcode_thread_reset() when the thread's ring
 * and trace start. */
struct hp_transcode_thread {
	uint64_t time;	       /* of the thread's last ring event, ring units */
	uint64_t out_time;     /* of its last trace event, trace units (transcode.c) */
	uint32_t id;	       /* this ring's life, among all (hp_transcode_thread_reset) */
	uint64_t prev_addr;    /* ring decoder */
	uint64_t prev_slot;    /* trace decoder */
	uint32_t nfree, first; /* the trace decoder's free list: a ring, oldest at first */
	struct hp_freed_slot free[HP_FREE_LIST_MAX];
	/* The thread's next event had to wait: since which round, at which ring position,
	 * and its time. */
	int stalled;
	uint64_t stall_round, stall_pos, stall_time;
};

/* One ring event of a round, decoded. */
struct hp_transcode_event {
	uint64_t time, size, stack, addr, old;
	uint32_t end; /* ring bytes from the round's tail to the end of this event */
	uint32_t out; /* its ring's trace bytes up to the end of this event's */
	uint8_t op;   /* HP_OP_ALLOC, HP_OP_FREE or HP_OP_REALLOC */
	uint8_t hint; /* an ALLOC or FREE of heapprof_alloc_hint: addr has HP_HINT_TAG */
};

/* The event that gave a slot its block: its trace time and thread id (one line read for
 * both). */
struct hp_slot_giver {
	uint64_t time;
	uint32_t by;
};

/* Slots released long enough ago to be given to any thread, oldest first (a ring). */
struct hp_slot_pool {
	struct hp_freed_slot *v;
	size_t head, len, cap;
};

struct hp_transcoder {
	struct hp_livetab live;
	struct hp_slot_pool pool;
	uint64_t next_slot;	     /* never given yet */
	unsigned out_shift;	     /* a trace time unit is 2^out_shift ring units */
	struct hp_slot_giver *given; /* per slot given (transcode.c, trace times) */
	size_t given_cap;
	uint32_t next_id;
	uint64_t time_base;	       /* added to trace times: keeps them rising across forks */
	struct hp_transcode_event *ev; /* the round's events, ring by ring, and a spare */
	uint8_t *out;		       /* their trace bytes, written as they are rewritten: room for
					* HP_TRANSCODE_EVENT_MAX each */
	size_t ev_cap;
	uint32_t *heap;	   /* rings by their next event, for the merge */
	uint32_t *waiting; /* rings whose next event waits */
	size_t heap_cap, nwaiting;
	uint8_t seam[2 * HP_EVENT_MAX_BYTES]; /* a ring's bytes around its end, contiguous */
};

/* Events one round decodes at most, all rings together (but one a ring at least). */
#define HP_TRANSCODE_ROUND_EVENTS 8192u
/* Largest ring, in bytes. */
#define HP_TRANSCODE_RING_MAX (512u << 10)

/* Prepares an empty transcoder. Returns 0 or -ENOMEM. */
int hp_transcoder_init(struct hp_transcoder *x);

/* A thread's ring and trace start: times from 0, an empty free list (its slots go to
 * the pool). A fork child's trace starts so too; the parent's live blocks keep their
 * slots, which the child never gives out again. Returns 0 or -ENOMEM. */
int hp_transcode_thread_reset(struct hp_transcoder *x, struct hp_transcode_thread *th);

/* One thread's ring in a round. The caller sets th, ring, size (a power of two, at most
 * HP_TRANSCODE_RING_MAX), tail and head (the published bytes); the round sets used (the
 * bytes rewritten, to release) and the rest. */
struct hp_transcode_ring {
	struct hp_transcode_thread *th;
	const uint8_t *ring;
	uint64_t size, tail, head;
	uint64_t used;
	size_t first, n, applied, encoded; /* its events in x->ev */
	size_t made, taken;		   /* its trace bytes in x->out, those encoded */
	int wait;			   /* why its next event waits (transcode.c) */
};

/* Rewrites the events of n rings, those with a time below `cut` (the round's start,
 * read before the heads: every event that caused one of them is published), in time
 * order across the rings, so an address freed by one thread and reused by another is
 * matched to the right block. An event that must wait stalls its ring; it is forced
 * when it has been stalled at the same place since an earlier round (round numbers
 * rise by one per call), or always with force_all (exit, exec). Sets *written_below:
 * every event below it is rewritten, but for late ones. Then call hp_transcode_encode()
 * on every ring. A round takes at most HP_TRANSCODE_ROUND_EVENTS events (the rest stays
 * in the rings for the next one). Returns 0, -EINVAL for a malformed ring (a recorder
 * bug) or -ENOMEM: then recording must stop. */
int hp_transcode_round(struct hp_transcoder *x, struct hp_transcode_ring *r, size_t n, uint64_t cut,
		       uint64_t round, int force_all, uint64_t *written_below);

/* Output room one event may need (a forced allocation writes a release too). */
#define HP_TRANSCODE_EVENT_MAX (2 * HP_EVENT_MAX_BYTES)

/* Writes the next rewritten events of r as version 2 EVENTS payload bytes into
 * out[0..cap), cap >= HP_TRANSCODE_EVENT_MAX; returns the bytes written, 0 once all are
 * written. The round wrote them already: this copies them out. */
size_t hp_transcode_encode(struct hp_transcoder *x, struct hp_transcode_ring *r, uint8_t *out,
			   size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* HEAPPROF_PRELOAD_TRANSCODE_H */
