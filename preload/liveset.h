/* The live set: every block the recorder has seen allocated and not yet freed, by
 * address, with its size and its trace key (trace_codec.h: allocating thread and seq).
 * Application threads keep it themselves as they record, so a free names its block in
 * the trace without any thread doing per-event work for all the others; the leak scan
 * at exit reads it.
 *
 * 256 shards by address, each an open-addressing table under its own spinlock: an
 * operation touches the lock's cache line and the entry's (the table's place and size,
 * read by every probe, live apart from the lock, so they stay cached), and two threads
 * meet on a lock only when their addresses hash to the same shard. Memory comes from
 * mmap only. The functions are thread-safe; none is async-signal-safe (the recorder's
 * busy flag keeps a signal handler's allocations out). */
#ifndef HEAPPROF_PRELOAD_LIVESET_H
#define HEAPPROF_PRELOAD_LIVESET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A live block; addr 0 never names one. */
struct hp_block {
	uint64_t addr;
	uint64_t size;
	uint64_t key; /* hp_ev3_key(thread, seq) */
};

/* Hint blocks (heapprof_alloc_hint) are kept under their address with this bit set, so
 * a hint never meets the malloc block that holds it. */
#define HP_HINT_TAG ((uint64_t)1 << 63)

/* Maps the first shards; 0 or -ENOMEM. */
int hp_liveset_init(void);

/* Adds a block. When addr was live already (its release was not recorded: a call the
 * recorder could not see), *stale receives that block and 1 is returned; 0 when addr
 * was not live; -ENOMEM when the table cannot grow (the block is not added). */
int hp_liveset_insert(uint64_t addr, uint64_t size, uint64_t key, struct hp_block *stale);

/* Starts loading the cache line addr's entry is in: a free's lookup is a cache miss
 * that the real free's own (the block's header) can overlap, and an allocation's insert
 * one that its unwind hides. A hint, never a fault. */
void hp_liveset_prefetch(uint64_t addr);

/* Takes addr's block out: 1 and *out filled, or 0 when addr is not live. A block of an
 * earlier epoch (allocated in the parent before a fork) is taken out too and reported
 * with out->key = HP_LIVESET_INHERITED. */
int hp_liveset_remove(uint64_t addr, struct hp_block *out);
#define HP_LIVESET_INHERITED UINT64_MAX

/* Every live block but hint blocks, sorted by address, in one mmap'd array (*out is
 * NULL when *n is 0), inherited blocks with key HP_LIVESET_INHERITED. Free it with
 * hp_block_array_free(). The caller stops other recording threads or accepts that
 * blocks allocated meanwhile may be missing. Returns 0 or -ENOMEM. */
int hp_liveset_export_sorted(struct hp_block **out, size_t *n);
void hp_block_array_free(struct hp_block *blocks, size_t n);

/* Live blocks, hint blocks included (tests). */
size_t hp_liveset_count(void);

/* fork(): lock every shard in prepare, unlock in the parent; in the child, reset the
 * locks and start a new epoch: every block now live is the parent's. */
void hp_liveset_lock(void);
void hp_liveset_unlock(void);
void hp_liveset_fork_child(void);

/* Tests: forget every block. Not thread-safe. */
void hp_liveset_reset(void);

#ifdef __cplusplus
}
#endif
#endif
