/* The live set of the writer thread: see livetab.h for the contract. */
#include "livetab.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <heapprof/trace_format.h>

#include "os.h"

#define INITIAL_BUCKETS 1024u /* 64 KiB */
#define INITIAL_BIG 16u

static size_t map_bytes(size_t buckets)
{
	return buckets * (HP_LIVE_BUCKET * sizeof(struct hp_live) + 1);
}

static int map_init(struct hp_livemap *m, size_t buckets)
{
	/* Populated at once: every page of a hash table is touched soon, and a fault each
	 * costs more than the kernel's batch. */
	void *p = mmap(NULL, map_bytes(buckets), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	m->e = p;
	m->passed = (uint8_t *)(m->e + buckets * HP_LIVE_BUCKET);
	m->mask = buckets - 1;
	m->shift = 64 - (unsigned)__builtin_ctzll(buckets);
	m->used = 0;
	return 0;
}

static void map_release(struct hp_livemap *m)
{
	if (m->e)
		munmap(m->e, map_bytes(m->mask + 1));
	memset(m, 0, sizeof *m);
}

int hp_livetab_init(struct hp_livetab *t)
{
	memset(t, 0, sizeof *t);
	if (map_init(&t->blocks, INITIAL_BUCKETS) || map_init(&t->big, INITIAL_BIG)) {
		hp_livetab_release(t);
		return -ENOMEM;
	}
	return 0;
}

void hp_livetab_release(struct hp_livetab *t)
{
	map_release(&t->blocks);
	map_release(&t->big);
}

void hp_livemap_pass(struct hp_livemap *m, size_t from, size_t to, int d)
{
	for (size_t k = from; k != to; k = (k + 1) & m->mask)
		if (m->passed[k] != UINT8_MAX)
			m->passed[k] = (uint8_t)(m->passed[k] + d);
}

/* The first empty entry after bucket `at`: the table is at most half full. */
struct hp_live *hp_livemap_hole(const struct hp_livemap *m, size_t at)
{
	for (;;) {
		at = (at + 1) & m->mask;
		struct hp_live *b = &m->e[at * HP_LIVE_BUCKET];
		unsigned empty = hp_livemap_match(b, 0);
		if (empty)
			return &b[__builtin_ctz(empty)];
	}
}

/* Doubles the capacity: a new mapping and a rehash. A bucket's blocks go to two
 * neighbouring buckets (Fibonacci hashing keeps the top bits), so the rehash walks both
 * tables in order. */
static int grow(struct hp_livemap *m)
{
	struct hp_livemap old = *m;
	if (map_init(m, (old.mask + 1) * 2)) {
		*m = old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < (old.mask + 1) * HP_LIVE_BUCKET; i++) {
		uint64_t addr = old.e[i].addr;
		if (!addr)
			continue;
		struct hp_live *b = hp_livemap_probe(m, addr);
		hp_livemap_take(m, b, addr);
		b->meta = old.e[i].meta;
	}
	map_release(&old);
	return 0;
}

__attribute__((noinline, cold)) int hp_livetab_grow(struct hp_livetab *t)
{
	return grow(&t->blocks);
}

__attribute__((noinline, cold)) int hp_livetab_put_big(struct hp_livetab *t, uint64_t addr,
						       uint64_t size)
{
	struct hp_livemap *m = &t->big;
	if (hp_livemap_full(m) && grow(m))
		return -ENOMEM;
	struct hp_live *b = hp_livemap_probe(m, addr);
	if (!b->addr)
		hp_livemap_take(m, b, addr);
	b->meta = size;
	return 0;
}

__attribute__((noinline, cold)) uint64_t hp_livetab_big_size(const struct hp_livetab *t,
							     uint64_t addr)
{
	return hp_livemap_probe(&t->big, addr)->meta;
}

__attribute__((noinline, cold)) void hp_livetab_drop_big(struct hp_livetab *t, uint64_t addr)
{
	struct hp_live *b = hp_livemap_probe(&t->big, addr);
	if (b->addr)
		hp_livemap_erase(&t->big, b);
}

int hp_livetab_resize(struct hp_livetab *t, struct hp_live *b, uint64_t size)
{
	uint64_t slot = hp_livetab_slot(b);
	if (__builtin_expect(hp_live_big(b), 0))
		hp_livetab_drop_big(t, b->addr);
	if (__builtin_expect(size < HP_LIVE_SIZE_BIG, 1)) {
		b->meta = slot | size << HP_LIVE_SLOT_BITS;
		return 0;
	}
	b->meta = slot | HP_LIVE_SIZE_BIG << HP_LIVE_SLOT_BITS;
	return hp_livetab_put_big(t, b->addr, size);
}

int hp_livetab_insert(struct hp_livetab *t, uint64_t addr, uint64_t size, uint64_t slot)
{
	int err = hp_livetab_reserve(t);
	if (err)
		return err;
	return hp_livetab_fill(t, hp_livetab_lookup(t, addr), addr, size, slot);
}

size_t hp_livetab_count(const struct hp_livetab *t)
{
	return t->blocks.used;
}

/* LSD radix sort on addresses, 8 bits a pass; a pass whose digit is the same in every
 * key (the top bytes of user-space addresses) is skipped, so about 5 passes remain.
 * Returns whichever of a and tmp holds the sorted keys. */
static struct hp_block *radix_sort(struct hp_block *a, struct hp_block *tmp, size_t n)
{
	static size_t count[8][256]; /* writer thread only; 16 KiB kept off its stack */
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

int hp_livetab_export_sorted(const struct hp_livetab *t, struct hp_block **out, size_t *n)
{
	size_t live = 0, all = (t->blocks.mask + 1) * HP_LIVE_BUCKET;
	for (size_t i = 0; i < all; i++)
		live += t->blocks.e[i].addr && !(t->blocks.e[i].addr & HP_HINT_TAG);
	*out = NULL;
	*n = 0;
	if (!live)
		return 0;
	struct hp_block *a = hp_os_map(live * sizeof *a);
	struct hp_block *tmp = hp_os_map(live * sizeof *tmp);
	if (!a || !tmp) {
		hp_block_array_free(a, live);
		hp_block_array_free(tmp, live);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < all; i++) {
		const struct hp_live *b = &t->blocks.e[i];
		if (b->addr && !(b->addr & HP_HINT_TAG))
			a[k++] =
			    (struct hp_block){b->addr, hp_livetab_size(t, b), hp_livetab_slot(b)};
	}
	struct hp_block *sorted = radix_sort(a, tmp, live);
	hp_block_array_free(sorted == a ? tmp : a, live);
	*out = sorted;
	*n = live;
	return 0;
}

void hp_block_array_free(struct hp_block *blocks, size_t n)
{
	if (blocks)
		munmap(blocks, (n ? n : 1) * sizeof *blocks);
}
