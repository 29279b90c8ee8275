/* The recorder's own live set, replayed by the writer thread from the EVENTS payloads it
 * drains, so that the leak scan at exit (leakscan.c) knows every live block without the
 * hot path paying for it.
 *
 * Threads' events arrive out of global order (the writer drains one thread buffer after
 * another), so each address keeps the latest event seen for it by time, alive or freed
 * (a last-writer-wins register): the final live set is exact in any arrival order, and
 * a freed address keeps a tombstone until hp_livetab_gc() learns that no older event
 * can still come.
 *
 * Memory comes from mmap only: the recorder's own memory must never be recorded. Not
 * thread-safe: one owner (the writer thread) uses a table. Nothing here is
 * async-signal-safe. */
#ifndef HEAPPROF_PRELOAD_LIVETAB_H
#define HEAPPROF_PRELOAD_LIVETAB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A live heap block. */
struct hp_block {
	uint64_t addr;
	uint64_t size;
};

/* Per-thread decoder state of docs/trace-format.md ("EVENTS"): zero it when the thread
 * starts; it carries across that thread's EVENTS payloads. */
struct hp_livetab_thread {
	uint64_t prev_time;
	uint64_t prev_addr;
};

struct hp_livetab_slot;
struct hp_livetab_tomb;

/* Open addressing with linear probing; treat the fields as private. */
struct hp_livetab {
	struct hp_livetab_slot *slots; /* capacity slots, addr 0 = empty */
	size_t mask;		       /* capacity - 1, capacity a power of two */
	unsigned shift;		       /* 64 - log2(capacity), for Fibonacci hashing */
	size_t used;		       /* live and freed slots */
	size_t live;		       /* live slots */
	struct hp_livetab_tomb *tombs; /* addresses freed since the last gc, unordered */
	size_t ntombs, tombcap;
};

/* Prepares an empty table. Returns 0 or -ENOMEM. */
int hp_livetab_init(struct hp_livetab *t);

/* Unmaps everything; the table may be initialised again. */
void hp_livetab_release(struct hp_livetab *t);

/* Applies one allocation of `size` bytes at `addr` (time in trace units), or one
 * release. An event older than the one already known for the address is ignored; a tie
 * goes to the later call (one thread's events arrive in order). addr 0 is ignored.
 * Return 0 or -ENOMEM (the table could not grow). */
int hp_livetab_alloc(struct hp_livetab *t, uint64_t addr, uint64_t size, uint64_t time);
int hp_livetab_free(struct hp_livetab *t, uint64_t addr, uint64_t time);

/* Decodes one EVENTS payload of one thread (docs/trace-format.md, every op including the
 * EXT *_ABS forms) and applies its events in order; a REALLOC is a release of the old
 * address then an allocation of the new one at the same time. `state` is that thread's
 * decoder state. Returns 0, -EINVAL on a malformed payload (events up to the bad one
 * are applied), or -ENOMEM. */
int hp_livetab_feed_events(struct hp_livetab *t, struct hp_livetab_thread *state, const uint8_t *p,
			   size_t len);

/* Forgets freed addresses whose release is older than `watermark`: every event below
 * it has been fed (the ROUND watermark), so no older event for them can come. Cost is
 * linear in the addresses freed since the last call. */
void hp_livetab_gc(struct hp_livetab *t, uint64_t watermark);

/* Number of live blocks. */
size_t hp_livetab_count(const struct hp_livetab *t);

/* Sets *out to a new mmap'd array of the *n live blocks sorted by address (radix sort;
 * *out is NULL when *n is 0). Free it with hp_block_array_free(). Returns 0 or
 * -ENOMEM. */
int hp_livetab_export_sorted(const struct hp_livetab *t, struct hp_block **out, size_t *n);

void hp_block_array_free(struct hp_block *blocks, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* HEAPPROF_PRELOAD_LIVETAB_H */
