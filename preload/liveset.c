/* The live set; see liveset.h.
 *
 * An entry is {addr, size | epoch << 56, key}; a shard's table is at most half full,
 * probed linearly, and a removal shifts the following entries back, so there are no
 * tombstones and a probe ends at the first empty entry. A shard grows by doubling into
 * a new mapping under its lock. */
#define _GNU_SOURCE
#include "liveset.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "os.h"

#define SHARD_BITS 8
#define SHARDS (1u << SHARD_BITS)
#define INITIAL_ENTRIES 64u /* 384 KiB in all: small heaps stay in cache */
#define EPOCH_SHIFT 56
#define SIZE_MASK (((uint64_t)1 << EPOCH_SHIFT) - 1)

struct entry {
	uint64_t addr;
	uint64_t size_epoch;
	uint64_t key;
};

/* The table's place and size change only when it grows, under the lock; they are kept
 * apart from the lock's cache line, which the threads take from each other on every
 * event, so that the unlocked prefetch's read of them stays a cache hit. */
struct shard {
	struct entry *e; /* mask + 1 entries, mmap'd */
	size_t mask;
};

struct shard_lock {
	atomic_int lock;
	size_t used;
	char pad[64 - sizeof(atomic_int) - sizeof(size_t)];
};

static struct shard shards[SHARDS] __attribute__((aligned(64)));
static struct shard_lock locks[SHARDS] __attribute__((aligned(64)));
static uint64_t epoch; /* of blocks allocated by this process (fork children: +1) */

/* Fibonacci hashing: the high bits pick the shard, the next ones the entry. */
static inline uint64_t hash(uint64_t addr)
{
	return addr * 0x9e3779b97f4a7c15ull;
}

static inline struct shard *shard_of(uint64_t h)
{
	return &shards[h >> (64 - SHARD_BITS)];
}

static inline size_t home(const struct shard *s, uint64_t h)
{
	return (size_t)(h >> (64 - SHARD_BITS - 24)) & s->mask; /* tables stay under 2^24 */
}

static inline struct shard_lock *lock_of(const struct shard *s)
{
	return &locks[s - shards];
}

/* Uncontended: one exchange. A holder is never preempted for long with the recorder's
 * short critical sections, but on a loaded machine it can be: then yield. */
static inline void lock(const struct shard *s)
{
	atomic_int *l = &lock_of(s)->lock;
	for (unsigned spins = 0; atomic_exchange_explicit(l, 1, memory_order_acquire);) {
		while (atomic_load_explicit(l, memory_order_relaxed)) {
			if (++spins < 64)
				__builtin_ia32_pause();
			else
				sched_yield();
		}
	}
}

static inline void unlock(const struct shard *s)
{
	atomic_store_explicit(&lock_of(s)->lock, 0, memory_order_release);
}

static size_t slot_of(const struct shard *s, uint64_t addr)
{
	size_t i = home(s, hash(addr));
	while (s->e[i].addr && s->e[i].addr != addr)
		i = (i + 1) & s->mask;
	return i;
}

/* A table too large for home()'s 24 bits would still work, with longer probes. */
static int grow(struct shard *s)
{
	size_t n = s->e ? (s->mask + 1) * 2 : INITIAL_ENTRIES;
	struct entry *e = hp_os_map_populated(n * sizeof *e);
	if (!e)
		return -ENOMEM;
	struct entry *old = s->e;
	size_t old_n = old ? s->mask + 1 : 0;
	s->e = e;
	s->mask = n - 1;
	for (size_t i = 0; i < old_n; i++)
		if (old[i].addr)
			s->e[slot_of(s, old[i].addr)] = old[i];
	hp_os_unmap(old, old_n * sizeof *old);
	return 0;
}

int hp_liveset_init(void)
{
	for (unsigned i = 0; i < SHARDS; i++)
		if (!shards[i].e && grow(&shards[i]))
			return -ENOMEM;
	return 0;
}

static void fill(struct hp_block *out, const struct entry *e)
{
	out->addr = e->addr;
	out->size = e->size_epoch & SIZE_MASK;
	out->key = e->size_epoch >> EPOCH_SHIFT == epoch ? e->key : HP_LIVESET_INHERITED;
}

int hp_liveset_insert(uint64_t addr, uint64_t size, uint64_t key, struct hp_block *stale)
{
	uint64_t h = hash(addr);
	struct shard *s = shard_of(h);
	lock(s);
	if ((lock_of(s)->used + 1) * 2 > s->mask + 1 && grow(s)) {
		unlock(s);
		return -ENOMEM;
	}
	struct entry *e = &s->e[slot_of(s, addr)];
	int replaced = e->addr != 0;
	if (replaced)
		fill(stale, e);
	else
		lock_of(s)->used++;
	*e = (struct entry){addr, (size & SIZE_MASK) | epoch << EPOCH_SHIFT, key};
	unlock(s);
	return replaced;
}

/* Backward shift: every later entry of the run that may sit at i moves up. */
static void erase(struct shard *s, size_t i)
{
	for (size_t j = (i + 1) & s->mask; s->e[j].addr; j = (j + 1) & s->mask) {
		size_t k = home(s, hash(s->e[j].addr));
		/* j's entry may move to i when its home is not in (i, j] (cyclically). */
		if (((j - k) & s->mask) >= ((j - i) & s->mask)) {
			s->e[i] = s->e[j];
			i = j;
		}
	}
	s->e[i].addr = 0;
	lock_of(s)->used--;
}

void hp_liveset_prefetch(uint64_t addr)
{
	uint64_t h = hash(addr);
	const struct shard *s = shard_of(h);
	__builtin_prefetch(&s->e[home(s, h)], 1);
}

int hp_liveset_remove(uint64_t addr, struct hp_block *out)
{
	uint64_t h = hash(addr);
	struct shard *s = shard_of(h);
	lock(s);
	size_t i = slot_of(s, addr);
	int found = s->e[i].addr != 0;
	if (found) {
		fill(out, &s->e[i]);
		erase(s, i);
	}
	unlock(s);
	return found;
}

/* LSD radix sort on addresses, 8 bits a pass; a pass whose digit is the same in every
 * key (the top bytes of user-space addresses) is skipped, so about 5 passes remain.
 * Returns whichever of a and tmp holds the sorted keys. */
static struct hp_block *radix_sort(struct hp_block *a, struct hp_block *tmp, size_t n)
{
	static size_t count[8][256]; /* the exiting thread only; 16 KiB kept off its stack */
	memset(count, 0, sizeof count);
	for (size_t i = 0; i < n; i++)
		for (unsigned d = 0; d < 8; d++)
			count[d][(a[i].addr >> (8 * d)) & 0xff]++;
	for (unsigned d = 0; d < 8; d++) {
		size_t *c = count[d];
		if (c[(a[0].addr >> (8 * d)) & 0xff] == n)
			continue;
		size_t sum = 0;
		for (unsigned b = 0; b < 256; b++) {
			size_t k = c[b];
			c[b] = sum;
			sum += k;
		}
		for (size_t i = 0; i < n; i++)
			tmp[c[(a[i].addr >> (8 * d)) & 0xff]++] = a[i];
		struct hp_block *swap = a;
		a = tmp;
		tmp = swap;
	}
	return a;
}

/* An array of cap blocks in its own mapping, whose size the element before it keeps. */
static struct hp_block *block_array(size_t cap)
{
	size_t bytes = (cap + 1) * sizeof(struct hp_block);
	struct hp_block *base = hp_os_map(bytes);
	if (!base)
		return NULL;
	base->addr = bytes;
	return base + 1;
}

int hp_liveset_export_sorted(struct hp_block **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t live = 0;
	for (unsigned k = 0; k < SHARDS; k++) {
		struct shard *s = &shards[k];
		lock(s);
		for (size_t i = 0; s->e && i <= s->mask; i++)
			live += s->e[i].addr && !(s->e[i].addr & HP_HINT_TAG);
		unlock(s);
	}
	if (!live)
		return 0;
	/* Room for blocks added while the shards are read again. */
	size_t cap = live + live / 8 + 64;
	struct hp_block *a = block_array(cap), *tmp = block_array(cap);
	if (!a || !tmp) {
		hp_block_array_free(a, cap);
		hp_block_array_free(tmp, cap);
		return -ENOMEM;
	}
	size_t m = 0;
	for (unsigned k = 0; k < SHARDS; k++) {
		struct shard *s = &shards[k];
		lock(s);
		for (size_t i = 0; s->e && i <= s->mask && m < cap; i++)
			if (s->e[i].addr && !(s->e[i].addr & HP_HINT_TAG))
				fill(&a[m++], &s->e[i]);
		unlock(s);
	}
	struct hp_block *sorted = m ? radix_sort(a, tmp, m) : a;
	hp_block_array_free(sorted == a ? tmp : a, cap);
	*out = sorted;
	*n = m;
	return 0;
}

void hp_block_array_free(struct hp_block *blocks, size_t n)
{
	(void)n; /* the mapping's size is kept before the array */
	if (blocks)
		hp_os_unmap(blocks - 1, (size_t)blocks[-1].addr);
}

size_t hp_liveset_count(void)
{
	size_t n = 0;
	for (unsigned k = 0; k < SHARDS; k++) {
		lock(&shards[k]);
		n += locks[k].used;
		unlock(&shards[k]);
	}
	return n;
}

void hp_liveset_lock(void)
{
	for (unsigned k = 0; k < SHARDS; k++)
		lock(&shards[k]);
}

void hp_liveset_unlock(void)
{
	for (unsigned k = SHARDS; k-- > 0;)
		unlock(&shards[k]);
}

void hp_liveset_fork_child(void)
{
	for (unsigned k = 0; k < SHARDS; k++)
		atomic_store_explicit(&locks[k].lock, 0, memory_order_relaxed);
	epoch = (epoch + 1) & 0xff;
}

void hp_liveset_reset(void)
{
	for (unsigned k = 0; k < SHARDS; k++) {
		struct shard *s = &shards[k];
		if (s->e)
			memset(s->e, 0, (s->mask + 1) * sizeof *s->e);
		locks[k].used = 0;
	}
}
