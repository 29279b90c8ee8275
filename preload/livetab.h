/* The recorder's own live set: every block the writer thread has seen allocated and not
 * yet freed, by address, with its size and its trace slot (transcode.h). The transcoder
 * keeps it as it rewrites the threads' events, and the leak scan at exit (leakscan.c)
 * reads it, so the hot path pays for neither.
 *
 * The writer looks up a random address an event in a table larger than its caches, so
 * the table is laid out for one cache line a lookup: a bucket is a line of four 16-byte
 * entries, a block lives in its home bucket unless that was full, and the table is at
 * most half full. A lookup compares a whole bucket without a branch per entry; a removal
 * moves nothing.
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

/* A live block; addr 0 never names one. */
struct hp_block {
	uint64_t addr;
	uint64_t size;
	uint64_t slot; /* its slot in the trace (docs/trace-format.md, EVENTS) */
};

/* A live block as the table holds it: read it with hp_livetab_slot() and
 * hp_livetab_size(). */
struct hp_live {
	uint64_t addr; /* 0: an empty entry */
	uint64_t meta; /* the slot in the low HP_LIVE_SLOT_BITS, the size above them */
};

/* Slots go up to HP_MAX_SLOT, 2^40. */
#define HP_LIVE_SLOT_BITS 41
/* Sizes from this one up (8 MiB) are rare and too wide for an entry: its size bits hold
 * this value and the size is kept aside, in hp_livetab.big. */
#define HP_LIVE_SIZE_BIG (((uint64_t)1 << (64 - HP_LIVE_SLOT_BITS)) - 1)

/* Entries a bucket, one cache line. */
#define HP_LIVE_BUCKET 4

/* Buckets of entries by address; treat the fields as private. A block whose home bucket
 * was full lives in the first later bucket with room, and counts in `passed` of each
 * bucket it passed, so a lookup stops at the first bucket nothing passed. A count that
 * reaches 255 stays there (a longer probe, never a wrong answer) until the table
 * grows. */
struct hp_livemap {
	struct hp_live *e; /* buckets * HP_LIVE_BUCKET entries, addr 0 = empty */
	uint8_t *passed;   /* per bucket, in the same mapping */
	size_t mask;	   /* buckets - 1, a power of two */
	unsigned shift;	   /* 64 - log2(buckets), for Fibonacci hashing */
	size_t used;	   /* entries */
};

struct hp_livetab {
	struct hp_livemap blocks;
	struct hp_livemap big; /* the size of each block of a big size (in meta) */
};

/* Prepares an empty table. Returns 0 or -ENOMEM. */
int hp_livetab_init(struct hp_livetab *t);

/* Unmaps everything; the table may be initialised again. */
void hp_livetab_release(struct hp_livetab *t);

/* ---- buckets: inline for the writer's per-event path; use the functions below --------- */

/* addr's home bucket. Fibonacci hashing: one multiply, high bits depend on every
 * address bit. */
static inline size_t hp_livemap_home(const struct hp_livemap *m, uint64_t addr)
{
	return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> m->shift);
}

/* Bit k set where entry k of bucket b holds addr. */
static inline __attribute__((always_inline)) unsigned hp_livemap_match(const struct hp_live *b,
								       uint64_t addr)
{
	return (unsigned)(b[0].addr == addr) | (unsigned)(b[1].addr == addr) << 1 |
	       (unsigned)(b[2].addr == addr) << 2 | (unsigned)(b[3].addr == addr) << 3;
}

struct hp_live *hp_livemap_hole(const struct hp_livemap *m, size_t at);

/* The entry holding addr (nonzero), else the first empty entry from its home bucket on,
 * where it belongs. */
static inline __attribute__((always_inline)) struct hp_live *
hp_livemap_probe(const struct hp_livemap *m, uint64_t addr)
{
	struct hp_live *hole = NULL;
	size_t at = hp_livemap_home(m, addr);
	for (;;) {
		struct hp_live *b = &m->e[at * HP_LIVE_BUCKET];
		unsigned hit = hp_livemap_match(b, addr), empty;
		if (hit)
			return &b[__builtin_ctz(hit)];
		if (!hole && (empty = hp_livemap_match(b, 0)))
			hole = &b[__builtin_ctz(empty)];
		if (!m->passed[at])
			return hole ? hole : hp_livemap_hole(m, at);
		at = (at + 1) & m->mask;
	}
}

/* Adds d to the counts of the buckets from `from` up to `to`, excluded. */
void hp_livemap_pass(struct hp_livemap *m, size_t from, size_t to, int d);

/* Puts addr in the empty entry b that hp_livemap_probe() returned for it. */
static inline __attribute__((always_inline)) void hp_livemap_take(struct hp_livemap *m,
								  struct hp_live *b, uint64_t addr)
{
	size_t at = (size_t)(b - m->e) / HP_LIVE_BUCKET, home = hp_livemap_home(m, addr);
	if (__builtin_expect(at != home, 0))
		hp_livemap_pass(m, home, at, 1);
	b->addr = addr;
	m->used++;
}

/* Empties the entry b. */
static inline __attribute__((always_inline)) void hp_livemap_erase(struct hp_livemap *m,
								   struct hp_live *b)
{
	size_t at = (size_t)(b - m->e) / HP_LIVE_BUCKET, home = hp_livemap_home(m, b->addr);
	if (__builtin_expect(at != home, 0))
		hp_livemap_pass(m, home, at, -1);
	b->addr = 0;
	m->used--;
}

/* Whether one more entry would fill m over half: then probes grow long. */
static inline int hp_livemap_full(const struct hp_livemap *m)
{
	return m->used + 1 > (m->mask + 1) * HP_LIVE_BUCKET / 2;
}

/* Whether b's size is kept aside. */
static inline int hp_live_big(const struct hp_live *b)
{
	return b->meta >> HP_LIVE_SLOT_BITS == HP_LIVE_SIZE_BIG;
}

int hp_livetab_grow(struct hp_livetab *t);
int hp_livetab_put_big(struct hp_livetab *t, uint64_t addr, uint64_t size);
uint64_t hp_livetab_big_size(const struct hp_livetab *t, uint64_t addr);
void hp_livetab_drop_big(struct hp_livetab *t, uint64_t addr);

/* ---- the live set ------------------------------------------------------------------- */

/* Entries move only when the table grows (hp_livetab_reserve(), hp_livetab_insert()):
 * until then a pointer to a live block stays valid, whatever else is added or removed. */

/* The live block at addr, or NULL. */
static inline __attribute__((always_inline)) struct hp_live *
hp_livetab_find(const struct hp_livetab *t, uint64_t addr)
{
	struct hp_live *b = hp_livemap_probe(&t->blocks, addr);
	return addr && b->addr ? b : NULL;
}

/* Room for one more block: call it before hp_livetab_lookup() + hp_livetab_fill().
 * Returns 0 or -ENOMEM. */
static inline __attribute__((always_inline)) int hp_livetab_reserve(struct hp_livetab *t)
{
	return __builtin_expect(hp_livemap_full(&t->blocks), 0) ? hp_livetab_grow(t) : 0;
}

/* The live block at addr (addr != 0), or the empty entry where it belongs (its addr is
 * 0): one probe for "is it live, else add it". The empty entry stays the place for addr
 * until another block is added; a removal keeps it so (or empties the one at addr). */
static inline __attribute__((always_inline)) struct hp_live *
hp_livetab_lookup(const struct hp_livetab *t, uint64_t addr)
{
	return hp_livemap_probe(&t->blocks, addr);
}

/* Fills the empty entry b that hp_livetab_lookup() returned, after hp_livetab_reserve().
 * Returns 0 or -ENOMEM (no room for a big size). */
static inline __attribute__((always_inline)) int hp_livetab_fill(struct hp_livetab *t,
								 struct hp_live *b, uint64_t addr,
								 uint64_t size, uint64_t slot)
{
	hp_livemap_take(&t->blocks, b, addr);
	if (__builtin_expect(size < HP_LIVE_SIZE_BIG, 1)) {
		b->meta = slot | size << HP_LIVE_SLOT_BITS;
		return 0;
	}
	b->meta = slot | HP_LIVE_SIZE_BIG << HP_LIVE_SLOT_BITS;
	return hp_livetab_put_big(t, addr, size);
}

static inline uint64_t hp_livetab_slot(const struct hp_live *b)
{
	return b->meta & (((uint64_t)1 << HP_LIVE_SLOT_BITS) - 1);
}

static inline uint64_t hp_livetab_size(const struct hp_livetab *t, const struct hp_live *b)
{
	return __builtin_expect(!hp_live_big(b), 1) ? b->meta >> HP_LIVE_SLOT_BITS
						    : hp_livetab_big_size(t, b->addr);
}

/* Sets the size of the live block b (realloc in place). Returns 0 or -ENOMEM. */
int hp_livetab_resize(struct hp_livetab *t, struct hp_live *b, uint64_t size);

/* Starts loading addr's bucket into the cache: the writer knows its next addresses a few
 * events ahead. */
static inline void hp_livetab_prefetch(const struct hp_livetab *t, uint64_t addr)
{
	__builtin_prefetch(&t->blocks.e[hp_livemap_home(&t->blocks, addr) * HP_LIVE_BUCKET]);
}

/* Adds a block; addr is nonzero and not live. Returns 0 or -ENOMEM (the table could not
 * grow). */
int hp_livetab_insert(struct hp_livetab *t, uint64_t addr, uint64_t size, uint64_t slot);

/* Removes b, a live block hp_livetab_find() or hp_livetab_lookup() returned. */
static inline __attribute__((always_inline)) void hp_livetab_remove(struct hp_livetab *t,
								    struct hp_live *b)
{
	if (__builtin_expect(hp_live_big(b), 0))
		hp_livetab_drop_big(t, b->addr);
	hp_livemap_erase(&t->blocks, b);
}

/* Number of live blocks. */
size_t hp_livetab_count(const struct hp_livetab *t);

/* Sets *out to a new mmap'd array of the *n live blocks sorted by address, but for the
 * hint blocks (their addresses carry HP_HINT_TAG: they lie inside other blocks) (radix sort;
 * *out is NULL when *n is 0). Free it with hp_block_array_free(). Returns 0 or
 * -ENOMEM. */
int hp_livetab_export_sorted(const struct hp_livetab *t, struct hp_block **out, size_t *n);

void hp_block_array_free(struct hp_block *blocks, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* HEAPPROF_PRELOAD_LIVETAB_H */
