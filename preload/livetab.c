/* The live set replayed by the writer thread: see livetab.h for the contract.
 *
 * Why a last-writer-wins register per address rather than cancelling alloc/free pairs:
 * with a reused address the pairs of two incarnations can arrive crossed (free #2 of
 * thread W, then alloc #1 of X, free #1 of Y, alloc #2 of Z), and a table that drops an
 * entry when a pair cancels forgets the newest time and ends with alloc #2 live. Keeping
 * the newest event per address until the watermark passes it is exact in every order. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mremap, pthread_getattr_np, dl_iterate_phdr */
#endif
#include "livetab.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <heapprof/trace_format.h>

#include "os.h"

struct hp_livetab_slot {
	uint64_t addr;	/* 0: empty */
	uint64_t size;	/* meaningful while live */
	uint64_t stamp; /* time << 1 | STAMP_FREED */
};

struct hp_livetab_tomb {
	uint64_t addr;
	uint64_t time;
};

#define STAMP_FREED 1u
#define INITIAL_CAPACITY 4096u
#define INITIAL_TOMBS 1024u

static inline size_t home(const struct hp_livetab *t, uint64_t addr)
{
	/* Fibonacci hashing: one multiply, high bits depend on every address bit. */
	return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> t->shift);
}

int hp_livetab_init(struct hp_livetab *t)
{
	memset(t, 0, sizeof *t);
	t->slots = hp_os_map(INITIAL_CAPACITY * sizeof *t->slots);
	t->tombs = hp_os_map(INITIAL_TOMBS * sizeof *t->tombs);
	if (!t->slots || !t->tombs) {
		hp_livetab_release(t);
		return -ENOMEM;
	}
	t->mask = INITIAL_CAPACITY - 1;
	t->shift = 64 - (unsigned)__builtin_ctzll(INITIAL_CAPACITY);
	t->tombcap = INITIAL_TOMBS;
	return 0;
}

void hp_livetab_release(struct hp_livetab *t)
{
	if (t->slots)
		munmap(t->slots, (t->mask + 1) * sizeof *t->slots);
	if (t->tombs)
		munmap(t->tombs, t->tombcap * sizeof *t->tombs);
	memset(t, 0, sizeof *t);
}

/* Doubles the capacity: a new mapping and a rehash, about 10 ns per entry. */
static __attribute__((noinline, cold)) int grow(struct hp_livetab *t)
{
	size_t oldcap = t->mask + 1, newcap = oldcap * 2;
	struct hp_livetab_slot *old = t->slots;
	struct hp_livetab_slot *slots = hp_os_map(newcap * sizeof *slots);
	if (!slots)
		return -ENOMEM;
	t->slots = slots;
	t->mask = newcap - 1;
	t->shift--;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].addr)
			continue;
		size_t j = home(t, old[i].addr);
		while (slots[j].addr)
			j = (j + 1) & t->mask;
		slots[j] = old[i];
	}
	munmap(old, oldcap * sizeof *old);
	return 0;
}

static __attribute__((noinline, cold)) int grow_tombs(struct hp_livetab *t)
{
	size_t oldbytes = t->tombcap * sizeof *t->tombs;
	void *p = mremap(t->tombs, oldbytes, oldbytes * 2, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return -ENOMEM;
	t->tombs = p;
	t->tombcap *= 2;
	return 0;
}

/* The slot holding addr, or the empty slot where it belongs. */
static inline size_t probe(const struct hp_livetab *t, uint64_t addr)
{
	size_t i = home(t, addr);
	while (t->slots[i].addr && t->slots[i].addr != addr)
		i = (i + 1) & t->mask;
	return i;
}

/* Backward-shift deletion: no deleted markers, so probes stay as short as the load. */
static void erase(struct hp_livetab *t, size_t i)
{
	struct hp_livetab_slot *s = t->slots;
	size_t j = i;
	for (;;) {
		j = (j + 1) & t->mask;
		if (!s[j].addr)
			break;
		size_t k = home(t, s[j].addr);
		/* s[j] may move to the hole at i unless its home lies in (i, j]. */
		if (((j - k) & t->mask) >= ((j - i) & t->mask)) {
			s[i] = s[j];
			i = j;
		}
	}
	s[i].addr = 0;
	t->used--;
}

/* Room for one more slot at a load factor of at most 3/4; i is re-probed on growth. */
static inline int reserve(struct hp_livetab *t, uint64_t addr, size_t *i)
{
	if (__builtin_expect(t->used + 1 > (t->mask + 1) / 4 * 3, 0)) {
		int err = grow(t);
		if (err)
			return err;
		*i = probe(t, addr);
	}
	return 0;
}

int hp_livetab_alloc(struct hp_livetab *t, uint64_t addr, uint64_t size, uint64_t time)
{
	if (!addr)
		return 0;
	size_t i = probe(t, addr);
	struct hp_livetab_slot *s = &t->slots[i];
	if (s->addr) {
		if ((s->stamp >> 1) > time)
			return 0; /* stale: a newer event for this address is known */
		t->live += s->stamp & STAMP_FREED;
		s->size = size;
		s->stamp = time << 1;
		return 0;
	}
	int err = reserve(t, addr, &i);
	if (err)
		return err;
	s = &t->slots[i];
	s->addr = addr;
	s->size = size;
	s->stamp = time << 1;
	t->used++;
	t->live++;
	return 0;
}

int hp_livetab_free(struct hp_livetab *t, uint64_t addr, uint64_t time)
{
	if (!addr)
		return 0;
	if (__builtin_expect(t->ntombs == t->tombcap, 0)) {
		int err = grow_tombs(t);
		if (err)
			return err;
	}
	size_t i = probe(t, addr);
	struct hp_livetab_slot *s = &t->slots[i];
	if (s->addr) {
		if ((s->stamp >> 1) > time)
			return 0; /* belongs to an older incarnation */
		t->live -= !(s->stamp & STAMP_FREED);
	} else {
		/* Its allocation may still come (another thread's buffer) or predate us. */
		int err = reserve(t, addr, &i);
		if (err)
			return err;
		s = &t->slots[i];
		s->addr = addr;
		s->size = 0;
		t->used++;
	}
	s->stamp = time << 1 | STAMP_FREED;
	t->tombs[t->ntombs++] = (struct hp_livetab_tomb){addr, time};
	return 0;
}

void hp_livetab_gc(struct hp_livetab *t, uint64_t watermark)
{
	size_t keep = 0;
	for (size_t k = 0; k < t->ntombs; k++) {
		struct hp_livetab_tomb tb = t->tombs[k];
		if (tb.time >= watermark) {
			t->tombs[keep++] = tb;
			continue;
		}
		size_t i = probe(t, tb.addr);
		const struct hp_livetab_slot *s = &t->slots[i];
		/* Gone, reused, or freed again later (a newer tomb covers that). */
		if (s->addr && (s->stamp & STAMP_FREED) && (s->stamp >> 1) < watermark)
			erase(t, i);
	}
	t->ntombs = keep;
}

size_t hp_livetab_count(const struct hp_livetab *t)
{
	return t->live;
}

/* A varint of 1 byte (most dt, sizes and deltas) is read inline, longer ones by the
 * shared primitive. */
static inline int get_u(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	if (__builtin_expect(*pp < end && **pp < 0x80, 1)) {
		*v = *(*pp)++;
		return 0;
	}
	return hp_get_varint(pp, end, v);
}

static inline int get_delta(const uint8_t **pp, const uint8_t *end, uint64_t base, uint64_t *addr)
{
	uint64_t z;
	if (get_u(pp, end, &z))
		return -1;
	/* (addr >> 4) = (base >> 4) + delta, modulo 2^64 as the encoder computed it. */
	*addr = ((base >> HP_ADDR_SHIFT) + (uint64_t)hp_unzigzag(z)) << HP_ADDR_SHIFT;
	return 0;
}

int hp_livetab_feed_events(struct hp_livetab *t, struct hp_livetab_thread *state, const uint8_t *p,
			   size_t len)
{
	const uint8_t *end = p + len;
	uint64_t time = state->prev_time, prev = state->prev_addr;
	int err = 0;
	while (p < end) {
		uint64_t head, size, stack, addr, old, ext;
		if (get_u(&p, end, &head))
			goto bad;
		time += head >> HP_OP_BITS;
		switch (head & HP_OP_MASK) {
		case HP_OP_ALLOC:
			if (get_u(&p, end, &size) || get_u(&p, end, &stack) ||
			    get_delta(&p, end, prev, &addr))
				goto bad;
			err = hp_livetab_alloc(t, addr, size, time);
			prev = addr;
			break;
		case HP_OP_FREE:
			if (get_delta(&p, end, prev, &addr))
				goto bad;
			err = hp_livetab_free(t, addr, time);
			prev = addr;
			break;
		case HP_OP_REALLOC:
			if (get_delta(&p, end, prev, &old) || get_u(&p, end, &size) ||
			    get_u(&p, end, &stack) || get_delta(&p, end, old, &addr))
				goto bad;
			err = hp_livetab_free(t, old, time);
			if (!err)
				err = hp_livetab_alloc(t, addr, size, time);
			prev = addr;
			break;
		default: /* HP_OP_EXT */
			if (get_u(&p, end, &ext))
				goto bad;
			switch (ext) {
			case HP_EXT_ALLOC_ABS:
				if (get_u(&p, end, &size) || get_u(&p, end, &stack) ||
				    get_u(&p, end, &addr))
					goto bad;
				err = hp_livetab_alloc(t, addr, size, time);
				break;
			case HP_EXT_FREE_ABS:
				if (get_u(&p, end, &addr))
					goto bad;
				err = hp_livetab_free(t, addr, time);
				break;
			case HP_EXT_REALLOC_ABS:
				if (get_u(&p, end, &old) || get_u(&p, end, &size) ||
				    get_u(&p, end, &stack) || get_u(&p, end, &addr))
					goto bad;
				err = hp_livetab_free(t, old, time);
				if (!err)
					err = hp_livetab_alloc(t, addr, size, time);
				break;
			default:
				goto bad;
			}
			prev = addr;
			break;
		}
		if (err)
			break;
	}
	state->prev_time = time;
	state->prev_addr = prev;
	return err;
bad:
	state->prev_time = time;
	state->prev_addr = prev;
	return -EINVAL;
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
	size_t live = t->live;
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
		const struct hp_livetab_slot *s = &t->slots[i];
		if (s->addr && !(s->stamp & STAMP_FREED))
			a[k++] = (struct hp_block){s->addr, s->size};
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
