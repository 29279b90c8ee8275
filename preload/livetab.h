/* The recorder's own live set: every block the writer thread has seen allocated and not
 * yet freed, by address, with its size and its trace slot (transcode.h). The transcoder
 * keeps it as it rewrites the threads' events, and the leak scan at exit (leakscan.c)
 * reads it, so the hot path pays for neither.
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

/* A live heap block; addr 0 never names one. */
struct hp_block {
	uint64_t addr;
	uint64_t size;
	uint64_t slot; /* its slot in the trace (docs/trace-format.md, EVENTS) */
};

/* Open addressing with linear probing; treat the fields as private. */
struct hp_livetab {
	struct hp_block *slots; /* capacity entries, addr 0 = empty */
	size_t mask;		/* capacity - 1, capacity a power of two */
	unsigned shift;		/* 64 - log2(capacity), for Fibonacci hashing */
	size_t used;		/* live blocks */
};

/* Prepares an empty table. Returns 0 or -ENOMEM. */
int hp_livetab_init(struct hp_livetab *t);

/* Unmaps everything; the table may be initialised again. */
void hp_livetab_release(struct hp_livetab *t);

/* The live block at addr, or NULL. The pointer is valid until the next insert or
 * remove. */
struct hp_block *hp_livetab_find(const struct hp_livetab *t, uint64_t addr);

/* Room for one more block: call it before hp_livetab_lookup() + hp_livetab_fill().
 * Returns 0 or -ENOMEM. */
int hp_livetab_reserve(struct hp_livetab *t);

/* The live block at addr (addr != 0), or the empty entry where it belongs (its addr is
 * 0): one probe for "is it live, else add it". Valid until the next change. */
struct hp_block *hp_livetab_lookup(const struct hp_livetab *t, uint64_t addr);

/* Fills the empty entry b that hp_livetab_lookup() returned, after hp_livetab_reserve(). */
static inline void hp_livetab_fill(struct hp_livetab *t, struct hp_block *b, uint64_t addr,
				   uint64_t size, uint64_t slot)
{
	*b = (struct hp_block){addr, size, slot};
	t->used++;
}

/* Where addr's probe starts. Fibonacci hashing: one multiply, high bits depend on every
 * address bit. */
static inline size_t hp_livetab_home(const struct hp_livetab *t, uint64_t addr)
{
	return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> t->shift);
}

/* Starts loading addr's entry into the cache: the writer knows its next addresses a few
 * events ahead, and the table is too large for the cache. */
static inline void hp_livetab_prefetch(const struct hp_livetab *t, uint64_t addr)
{
	__builtin_prefetch(&t->slots[hp_livetab_home(t, addr)]);
}

/* Adds a block; addr is nonzero and not live. Returns 0 or -ENOMEM (the table could not
 * grow). */
int hp_livetab_insert(struct hp_livetab *t, uint64_t addr, uint64_t size, uint64_t slot);

/* Removes b, a pointer hp_livetab_find() returned. */
void hp_livetab_remove(struct hp_livetab *t, struct hp_block *b);

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
