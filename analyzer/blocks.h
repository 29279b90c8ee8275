/* The replay's live blocks, by key: an address (version 1), a slot's key (version 2) or
 * a (thread, seq) key (version 3, trace_codec.h).
 *
 * Version 3 keys are dense per thread and most blocks are freed soon after they were
 * allocated, so each busy thread gets a window over its latest seqs, indexed by seq: a
 * free of a recent block touches a cache line it touched a moment ago instead of a random
 * one in a table as large as the heap. A block still live when the window moves past it
 * goes to an open-addressing table, where every other key lives. A window starts at
 * HP_BLOCKS_WINDOW seqs and doubles, up to HP_BLOCKS_WINDOW_MAX, while more than a quarter
 * of the slots it moves past still hold a live block: a thread whose blocks live longer
 * (a pool of 10,000 replaced at random) then finds most of them in its window too. Its
 * memory stays within about 3x what those live blocks would take in the table.
 * Not thread-safe. */
#ifndef HP_BLOCKS_H
#define HP_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

/* A live block; key 0 is kept apart (zero), so an empty table entry has key 0. */
struct hp_block_rec {
	uint64_t key, size, time;
	uint32_t site, thread;
};

#define HP_BLOCKS_WINDOW 2048u	    /* seqs a new window holds: 64 KiB */
#define HP_BLOCKS_WINDOW_MAX 65536u /* the most it grows to: 2 MiB */

struct hp_blocks_window {
	uint64_t first; /* the first seq the window holds: older ones are in the table */
	uint64_t top;	/* the latest seq put in the window */
	uint32_t mask;	/* seqs held - 1 (a power of two) */
	/* Since the window last grew or was judged: seqs it moved on by, and how many of
	 * those moves pushed a live block out to the table. */
	uint32_t moves, evicted;
	struct hp_block_rec e[];
};

struct hp_blocks {
	struct hp_block_rec *slot; /* the table: mask + 1 entries */
	size_t mask, count;	   /* count: every live block, windows included */
	struct hp_block_rec zero;
	int has_zero;
	int windows_on;		       /* keys are (thread, seq): windows may be used */
	struct hp_blocks_window **win; /* by thread; NULL until the thread is busy */
	size_t nwin;
};

/* An empty map; windows are used when dense is set (version 3 keys). 0 or -ENOMEM. */
int hp_blocks_init(struct hp_blocks *m, int dense);
void hp_blocks_release(struct hp_blocks *m);

/* The block of key, or NULL. The pointer is valid until the next insert. */
struct hp_block_rec *hp_blocks_find(struct hp_blocks *m, uint64_t key);

/* Starts loading the cache line where key's block would be found, for a find a few
 * events later: the replay's frees land on random lines of a live set larger than the
 * caches, and the events applied in between hide the wait. Changes nothing. */
void hp_blocks_prefetch(const struct hp_blocks *m, uint64_t key);

/* Adds a block whose key is not live. 0 or -ENOMEM. */
int hp_blocks_insert(struct hp_blocks *m, const struct hp_block_rec *b);

/* Removes a block hp_blocks_find() returned. */
void hp_blocks_remove(struct hp_blocks *m, struct hp_block_rec *b);

/* Calls fn once per live block, in no particular order. */
void hp_blocks_foreach(const struct hp_blocks *m,
		       void (*fn)(void *ctx, const struct hp_block_rec *b), void *ctx);

/* As hp_blocks_foreach(), fn may change a block's size, time, site and thread (not its
 * key). */
void hp_blocks_foreach_mut(struct hp_blocks *m, void (*fn)(void *ctx, struct hp_block_rec *b),
			   void *ctx);

#endif
