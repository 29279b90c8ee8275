/* Poisson sampling by bytes; see sampler.h.
 *
 * The sampled-address set: 256 stripes, each an open-addressing table of addresses
 * (linear probing, backward-shift deletion, duplicates allowed so that a realloc's
 * late forget of its old address cannot remove another thread's new block at the same
 * address) behind a spinlock. In front of it, a counting filter of 2^16 bytes indexed
 * by the address hash: a zero count proves the address was not sampled, so a free of
 * an unsampled block takes no lock. A counter belongs to one stripe (the top bits of
 * its index) and changes under that stripe's lock; 255 is sticky. Sampled blocks are
 * rare (one per N bytes allocated, plus most blocks larger than N), so the stripes
 * stay small; their memory comes from mmap. */
#define _GNU_SOURCE
#include "sampler.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <x86intrin.h>

uint64_t hp_sampler_mean;
_Atomic uint8_t hp_sampler_filter[1u << HP_SAMPLER_FILTER_BITS];
__thread struct hp_sampler_state hp_sampler_tls;

#define STRIPE_BITS 8
#define STRIPES (1u << STRIPE_BITS)
#define STRIPE_MIN 512u /* slots in a stripe's first table: one page */

struct stripe {
	_Alignas(64) atomic_flag lock; /* a cache line each */
	uint32_t used;
	size_t mask; /* capacity - 1; 0 with no table */
	uintptr_t *slots;
};

static struct stripe stripes[STRIPES];

void hp_sampler_init(uint64_t mean)
{
	hp_sampler_mean = mean;
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* -ln(u) for u in (0, 1]: u = m 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh(z), z = (m - 1) / (m + 1), |z| < 0.172: 10 odd terms reach 1e-17. */
static double neg_log(double u)
{
	uint64_t bits;
	memcpy(&bits, &u, sizeof(bits));
	int e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & 0xfffffffffffffull) | 0x3ff0000000000000ull;
	double m;
	memcpy(&m, &bits, sizeof(m));
	if (m > 1.4142135623730951) {
		m *= 0.5;
		e++;
	}
	double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
	for (int k = 1; k <= 19; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return -(e * 0.69314718055994531 + 2 * sum);
}

int64_t hp_sampler_interval(struct hp_sampler_state *s, uint64_t mean)
{
	/* u in (0, 1] with 53 random bits; -ln(u) <= 36.8, so no overflow below 2^57. */
	double u = (double)((splitmix64(&s->rng) >> 11) + 1) * (1.0 / 9007199254740992.0);
	double v = neg_log(u) * (double)mean;
	if (v >= 4.0e18)
		return INT64_MAX / 2;
	/* ceil: an allocation of n bytes reaches the point when left <= n, which must
	 * happen with probability exactly 1 - exp(-n/mean) (floor would double it at n = 1) */
	return (int64_t)v + 1;
}

void hp_sampler_seed(struct hp_sampler_state *s, uint64_t seed, uint64_t mean)
{
	s->rng = seed ? seed : 1;
	s->left = hp_sampler_interval(s, mean);
}

static void lock(struct stripe *st)
{
	while (atomic_flag_test_and_set_explicit(&st->lock, memory_order_acquire))
		sched_yield();
}

static void unlock(struct stripe *st)
{
	atomic_flag_clear_explicit(&st->lock, memory_order_release);
}

static void place(uintptr_t *slots, size_t mask, uintptr_t a)
{
	size_t i = (size_t)hp_sampler_hash((void *)a) & mask;
	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = a;
}

static int grow(struct stripe *st)
{
	size_t cap = st->mask ? (st->mask + 1) * 2 : STRIPE_MIN;
	uintptr_t *slots = hp_os_map(cap * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	if (st->mask) {
		for (size_t i = 0; i <= st->mask; i++)
			if (st->slots[i])
				place(slots, cap - 1, st->slots[i]);
		hp_os_unmap(st->slots, (st->mask + 1) * sizeof(*slots));
	}
	st->slots = slots;
	st->mask = cap - 1;
	return 0;
}

/* The filter counter of hash h and the stripe that owns it. */
static struct stripe *stripe_of(uint64_t h, size_t *f)
{
	*f = (size_t)(h >> (64 - HP_SAMPLER_FILTER_BITS));
	return &stripes[*f >> (HP_SAMPLER_FILTER_BITS - STRIPE_BITS)];
}

/* Adds delta to filter counter f, under its stripe's lock; 255 is sticky. */
static void count(size_t f, int delta)
{
	uint8_t c = atomic_load_explicit(&hp_sampler_filter[f], memory_order_relaxed);
	if (c < 255)
		atomic_store_explicit(&hp_sampler_filter[f], (uint8_t)(c + delta),
				      memory_order_relaxed);
}

static HP_COLD int remember(const void *p)
{
	size_t f;
	struct stripe *st = stripe_of(hp_sampler_hash(p), &f);
	int ok = 1, saved = errno;
	lock(st);
	if ((size_t)(st->used + 1) * 4 > (st->mask + 1) * 3 && grow(st))
		ok = 0;
	if (ok) {
		place(st->slots, st->mask, (uintptr_t)p);
		st->used++;
		count(f, 1);
	}
	unlock(st);
	errno = saved;
	return ok;
}

/* Backward-shift deletion of slot i: keeps every probe chain unbroken. */
static void erase(struct stripe *st, size_t i)
{
	size_t mask = st->mask;
	st->slots[i] = 0;
	for (size_t j = (i + 1) & mask; st->slots[j]; j = (j + 1) & mask) {
		size_t home = (size_t)hp_sampler_hash((void *)st->slots[j]) & mask;
		/* move slots[j] into the hole at i unless its home lies in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			st->slots[i] = st->slots[j];
			st->slots[j] = 0;
			i = j;
		}
	}
	st->used--;
}

int hp_sampler_forget(const void *p)
{
	uint64_t h = hp_sampler_hash(p);
	size_t f;
	struct stripe *st = stripe_of(h, &f);
	int found = 0;
	lock(st);
	for (size_t i = (size_t)h & st->mask; st->mask && st->slots[i]; i = (i + 1) & st->mask) {
		if (st->slots[i] == (uintptr_t)p) {
			erase(st, i);
			count(f, -1);
			found = 1;
			break;
		}
	}
	unlock(st);
	return found;
}

int hp_sampler_hit(void *p, size_t size)
{
	struct hp_sampler_state *s = &hp_sampler_tls;
	if (HP_UNLIKELY(!s->rng)) {
		/* per-thread seed: the TLS block's address and the TSC */
		uint64_t seed = (uint64_t)(uintptr_t)s ^ __rdtsc() * 0x9e3779b97f4a7c15ull;
		hp_sampler_seed(s, seed, hp_sampler_mean);
		if (!hp_sampler_decide(s, size, hp_sampler_mean))
			return 0;
	} else {
		s->left = hp_sampler_interval(s, hp_sampler_mean);
	}
	return remember(p);
}

int hp_sampler_realloc(void **old, void **p, size_t *size)
{
	/* old is released when the call succeeded, or realloc(old, 0) freed it */
	int was = *old && (*p || *size == 0) && hp_sampler_drop(*old);
	int is = *p && hp_sampler_take(*p, *size);
	if (was && is)
		return 1;
	if (was) {
		*p = NULL; /* a release of old */
		*size = 0;
		return 1;
	}
	if (is) {
		*old = NULL; /* an allocation of p */
		return 1;
	}
	return 0;
}

void hp_sampler_lock(void)
{
	for (unsigned i = 0; i < STRIPES; i++)
		lock(&stripes[i]);
}

void hp_sampler_unlock(void)
{
	for (unsigned i = 0; i < STRIPES; i++)
		unlock(&stripes[i]);
}

uint64_t hp_sampler_live(void)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < STRIPES; i++) {
		lock(&stripes[i]);
		n += stripes[i].used;
		unlock(&stripes[i]);
	}
	return n;
}
