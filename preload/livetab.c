/* The live set of the writer thread: see livetab.h for the contract. */
#include "livetab.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "os.h"

#define INITIAL_CAPACITY 4096u

int hp_livetab_init(struct hp_livetab *t)
{
	memset(t, 0, sizeof *t);
	t->slots = hp_os_map(INITIAL_CAPACITY * sizeof *t->slots);
	if (!t->slots)
		return -ENOMEM;
	t->mask = INITIAL_CAPACITY - 1;
	t->shift = 64 - (unsigned)__builtin_ctzll(INITIAL_CAPACITY);
	return 0;
}

void hp_livetab_release(struct hp_livetab *t)
{
	if (t->slots)
		munmap(t->slots, (t->mask + 1) * sizeof *t->slots);
	memset(t, 0, sizeof *t);
}

/* Doubles the capacity: a new mapping and a rehash, about 10 ns per entry. */
static __attribute__((noinline, cold)) int grow(struct hp_livetab *t)
{
	size_t oldcap = t->mask + 1, newcap = oldcap * 2;
	struct hp_block *old = t->slots;
	struct hp_block *slots = hp_os_map(newcap * sizeof *slots);
	if (!slots)
		return -ENOMEM;
	t->slots = slots;
	t->mask = newcap - 1;
	t->shift--;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].addr)
			continue;
		size_t j = hp_livetab_home(t, old[i].addr);
		while (slots[j].addr)
			j = (j + 1) & t->mask;
		slots[j] = old[i];
	}
	munmap(old, oldcap * sizeof *old);
	return 0;
}

/* The slot holding addr, or the empty slot where it belongs. */
static inline size_t probe(const struct hp_livetab *t, uint64_t addr)
{
	size_t i = hp_livetab_home(t, addr);
	while (t->slots[i].addr && t->slots[i].addr != addr)
		i = (i + 1) & t->mask;
	return i;
}

/* Backward-shift deletion: no deleted markers, so probes stay as short as the load. */
static void erase(struct hp_livetab *t, size_t i)
{
	struct hp_block *s = t->slots;
	size_t j = i;
	for (;;) {
		j = (j + 1) & t->mask;
		if (!s[j].addr)
			break;
		size_t k = hp_livetab_home(t, s[j].addr);
		/* s[j] may move to the hole at i unless its home lies in (i, j]. */
		if (((j - k) & t->mask) >= ((j - i) & t->mask)) {
			s[i] = s[j];
			i = j;
		}
	}
	s[i].addr = 0;
	t->used--;
}

struct hp_block *hp_livetab_find(const struct hp_livetab *t, uint64_t addr)
{
	if (!addr)
		return NULL;
	struct hp_block *b = &t->slots[probe(t, addr)];
	return b->addr ? b : NULL;
}

int hp_livetab_reserve(struct hp_livetab *t)
{
	if (__builtin_expect(t->used + 1 > (t->mask + 1) / 4 * 3, 0))
		return grow(t);
	return 0;
}

struct hp_block *hp_livetab_lookup(const struct hp_livetab *t, uint64_t addr)
{
	return &t->slots[probe(t, addr)];
}

int hp_livetab_insert(struct hp_livetab *t, uint64_t addr, uint64_t size, uint64_t slot)
{
	int err = hp_livetab_reserve(t);
	if (err)
		return err;
	hp_livetab_fill(t, hp_livetab_lookup(t, addr), addr, size, slot);
	return 0;
}

void hp_livetab_remove(struct hp_livetab *t, struct hp_block *b)
{
	erase(t, (size_t)(b - t->slots));
}

size_t hp_livetab_count(const struct hp_livetab *t)
{
	return t->used;
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
	size_t live = t->used;
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
	for (size_t i = 0; i <= t->mask; i++) {
		if (t->slots[i].addr)
			a[k++] = t->slots[i];
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
