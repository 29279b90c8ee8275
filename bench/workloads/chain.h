/*
 * churn's call chains, shared by bench/workloads/churn.c and bench/walk.c (which times
 * the recorder's unwinder on them): each operation is issued from a chain of noinline
 * functions, one of NFUNCS at each level, chosen by a "path" out of NPATHS.
 *
 * The includer defines `struct worker` with a `uint64_t path_bits` member and, before
 * the #include, `static void do_op(struct worker *w)`: the call at the chain's end.
 */
#ifndef HP_BENCH_CHAIN_H
#define HP_BENCH_CHAIN_H

#include <stdint.h>

#define NPATHS 2048
#define NFUNCS 8

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The path's hash from a random draw r: path p = NPATHS * u^2, so hot paths first and a
 * long tail of rare ones. Its bits pick the function at each level (path_bits) and the
 * chain's depth (chain_depth()). */
static inline uint64_t chain_path(uint64_t r)
{
	uint64_t u = r & 0xffff;
	unsigned path = (unsigned)((u * u * NPATHS) >> 32);
	return mix(path + 1);
}

/* d in 0..12 gives 2d+4 frames from the caller of descend() to do_op(). */
static inline unsigned chain_depth(uint64_t path_hash)
{
	return (unsigned)((path_hash >> 40) % 13);
}

static void descend(struct worker *w, unsigned depth);

/* Distinct functions so each level of a chain can have one of NFUNCS return addresses.
 * The empty asm after the call keeps the compiler from turning it into a tail call. */
#define LEVEL(n)                                                                                   \
	static __attribute__((noinline)) void level##n(struct worker *w, unsigned depth)           \
	{                                                                                          \
		if (depth == 0)                                                                    \
			do_op(w);                                                                  \
		else                                                                               \
			descend(w, depth - 1);                                                     \
		__asm__ volatile("" ::: "memory");                                                 \
	}
LEVEL(0)
LEVEL(1)
LEVEL(2)
LEVEL(3)
LEVEL(4)
LEVEL(5)
LEVEL(6)
LEVEL(7)
#undef LEVEL

static void (*const levels[NFUNCS])(struct worker *, unsigned) = {level0, level1, level2, level3,
								  level4, level5, level6, level7};

static __attribute__((noinline)) void descend(struct worker *w, unsigned depth)
{
	levels[(w->path_bits >> ((depth * 3) % 60)) & (NFUNCS - 1)](w, depth);
	__asm__ volatile("" ::: "memory");
}

#endif
