/* Poisson sampling by bytes (HEAPPROF_SAMPLE_BYTES=N), as tcmalloc and jemalloc do.
 *
 * Sample points fall on the stream of allocated bytes of each thread as a Poisson
 * process of mean interval N: each thread counts down the bytes to its next point,
 * drawn from an exponential distribution. An allocation of s bytes that reaches the
 * point is sampled (with probability 1 - exp(-s/N)) and the next interval is drawn
 * afresh from its end (memorylessness makes that exact). Only sampled blocks are
 * recorded; their addresses go into a set so that only their release is recorded.
 * The analyzer weighs each sampled allocation by 1 / (1 - exp(-s/N))
 * (analyzer/sampling.h).
 *
 * Cost when on: an allocation that is not sampled is a subtraction and a branch; a
 * free is a hash and one load of a counting filter (64 KiB), plus a striped-lock lookup
 * only when the filter says the address may be sampled. */
#ifndef HP_SAMPLER_H
#define HP_SAMPLER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "os.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A thread's countdown; zero-initialized means "not seeded yet". */
struct hp_sampler_state {
	int64_t left; /* bytes before the next sample point */
	uint64_t rng; /* splitmix64 state; 0 until seeded */
};

/* Mean bytes between samples; 0 when sampling is off (every event recorded). */
extern uint64_t hp_sampler_mean;

#define HP_SAMPLER_FILTER_BITS 16 /* 64 KiB: stays in L2 on the free path */
extern _Atomic uint8_t hp_sampler_filter[1u << HP_SAMPLER_FILTER_BITS];
extern __thread struct hp_sampler_state hp_sampler_tls;

/* Turns sampling on with the given mean (0: off). Start only, not thread-safe. */
void hp_sampler_init(uint64_t mean);

/* Seeds s and draws its first interval. Thread-safe for distinct s. */
void hp_sampler_seed(struct hp_sampler_state *s, uint64_t seed, uint64_t mean);

/* A draw from the exponential distribution of the given mean, in bytes (>= 1);
 * advances s's generator. No libm: about 30 ns, once per sample. */
int64_t hp_sampler_interval(struct hp_sampler_state *s, uint64_t mean);

/* The sampling decision for one allocation of size bytes on a seeded state: 1 when it
 * is sampled. A size of 0 counts as 1 byte (hp_sample_weight does the same). */
static inline int64_t hp_sampler_bytes(uint64_t size)
{
	return size == 0 ? 1 : size > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)size;
}

static inline int hp_sampler_decide(struct hp_sampler_state *s, uint64_t size, uint64_t mean)
{
	int64_t n = hp_sampler_bytes(size);
	if (HP_LIKELY(s->left > n)) {
		s->left -= n;
		return 0;
	}
	s->left = hp_sampler_interval(s, mean);
	return 1;
}

/* The sampled path of hp_sampler_take: seeds the thread on first use, decides, and
 * remembers p when sampled. 1 to record. */
int hp_sampler_hit(void *p, size_t size);

/* p was sampled: forgets it and returns 1, else 0. */
int hp_sampler_forget(const void *p);

static inline uint64_t hp_sampler_hash(const void *p)
{
	return ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull;
}

/* Allocation of size bytes at p (not NULL): 1 when it must be recorded (sampling off,
 * or sampled, in which case p is remembered). Thread-safe; errno preserved. */
static inline int hp_sampler_take(void *p, size_t size)
{
	if (HP_LIKELY(!hp_sampler_mean))
		return 1;
	struct hp_sampler_state *s = &hp_sampler_tls;
	int64_t n = hp_sampler_bytes(size);
	if (HP_LIKELY(s->left > n)) {
		s->left -= n;
		return 0;
	}
	return hp_sampler_hit(p, size);
}

/* Release of p (not NULL): 1 when it must be recorded (sampling off, or p was sampled,
 * which forgets it). Thread-safe; errno preserved. */
static inline int hp_sampler_drop(const void *p)
{
	if (HP_LIKELY(!hp_sampler_mean))
		return 1;
	size_t i = (size_t)(hp_sampler_hash(p) >> (64 - HP_SAMPLER_FILTER_BITS));
	if (HP_LIKELY(!atomic_load_explicit(&hp_sampler_filter[i], memory_order_relaxed)))
		return 0;
	return hp_sampler_forget(p);
}

/* A realloc(old, size) that returned p, with sampling on: rewrites the arguments so the
 * recorder records what the sample set needs (old sampled and p not: a release of old;
 * p sampled and old not: an allocation of p) and returns 1, or 0 when nothing is to
 * be recorded. Thread-safe; errno preserved. */
int hp_sampler_realloc(void **old, void **p, size_t *size);

/* fork(): prepare takes every stripe lock, parent and child release them. */
void hp_sampler_lock(void);
void hp_sampler_unlock(void);

/* Sampled blocks currently remembered (tests, diagnostics). */
uint64_t hp_sampler_live(void);

#ifdef __cplusplus
}
#endif
#endif
