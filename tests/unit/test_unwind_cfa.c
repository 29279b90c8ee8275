/* hp_unwind_cfa against plain unw_backtrace: the same return addresses for call chains
 * of random frame shapes (tests/unit/unwind_cfa_frames.c, built without frame pointers:
 * small, 3 KiB and 300 KiB frames, alloca, a realigned stack, rbp as a scratch
 * register; and this file's frame-pointer functions), truncated captures, captures in
 * a signal handler on the thread's stack and on an alternate stack, and four threads
 * learning rules at once, and after the rules were forgotten. Also checks that ordinary chains
 * never fall back to libunwind, so the comparison is of the rule walk and not of libunwind with
 * itself. */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "unwind.h"
#include "unwind_cfa.h"

#define MAXF 256
#define NOINLINE __attribute__((noinline))

int shape_small(int depth, unsigned max);
int shape_big(int depth, unsigned max);
int shape_huge(int depth, unsigned max);
int shape_alloca(int depth, unsigned max);
int shape_aligned(int depth, unsigned max);
int shape_clobber(int depth, unsigned max);
int descend(int depth, unsigned max);

static volatile int sink;
static _Atomic unsigned mismatches, compared;

/* Per thread: the chain's shapes and the last capture. */
static __thread uint64_t plan;
static __thread int huge_at = -1;
static __thread uintptr_t last[MAXF + 16];
static __thread unsigned nlast;

/* Both unwinders from here, compared from the return address into capture's caller
 * on (a walk that fell back has one more frame of ours before it). */
static NOINLINE void capture(unsigned max)
{
	uintptr_t *ips = last;
	void *lu[MAXF + 8];
	unsigned n = hp_unwind_cfa(ips, max);
	int m = unw_backtrace(lu, MAXF + 8);
	uintptr_t ret = (uintptr_t)__builtin_return_address(0);
	nlast = n;
	sink++;
	compared++;
	unsigned i = 0;
	int j = 0;
	while (i < n && i < 4 && ips[i] != ret)
		i++;
	while (j < m && j < 4 && (uintptr_t)lu[j] != ret)
		j++;
	unsigned want = i + (unsigned)(m - j);
	if (want > max)
		want = max;
	if (i >= n || j >= m || n != want) {
		if (mismatches++ < 5)
			fprintf(stderr, "frames: cfa %u libunwind %u (max %u)\n", n, want, max);
		return;
	}
	for (unsigned k = i; k < n; k++) {
		if (ips[k] != (uintptr_t)lu[j + (int)(k - i)]) {
			if (mismatches++ < 5)
				fprintf(stderr, "frame %u: cfa %#lx libunwind %#lx\n", k,
					(unsigned long)ips[k], (unsigned long)lu[j + (int)(k - i)]);
			return;
		}
	}
}

/* With frame pointers (this file): CFA = rbp + 16. */
static NOINLINE int shape_fp(int depth, unsigned max)
{
	return descend(depth - 1, max) + 2;
}

enum { SMALL, BIG, ALLOCA, CLOBBER, FP, ALIGNED, NSHAPES };

NOINLINE int descend(int depth, unsigned max)
{
	if (depth <= 0) {
		capture(max);
		return sink;
	}
	if (depth == huge_at)
		return shape_huge(depth, max) + 1;
	switch ((plan >> (depth * 3 % 60)) % NSHAPES) {
	case SMALL:
		return shape_small(depth, max) + 1;
	case BIG:
		return shape_big(depth, max) + 1;
	case ALLOCA:
		return shape_alloca(depth, max) + 1;
	case CLOBBER:
		return shape_clobber(depth, max) + 1;
	case FP:
		return shape_fp(depth, max) + 1;
	default:
		return shape_aligned(depth, max) + 1;
	}
}

/* Does the plan use a shape the rules cannot describe within depth levels? */
static int plan_has_other(int depth)
{
	if (huge_at >= 1 && huge_at <= depth)
		return 1;
	for (int d = 1; d <= depth; d++)
		if (huge_at != d && (plan >> (d * 3 % 60)) % NSHAPES == ALIGNED)
			return 1;
	return 0;
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random chains; returns the fallbacks seen in chains without huge or aligned frames. */
static uint64_t chains(uint64_t seed, unsigned count)
{
	uint64_t rng = seed | 1, unexpected = 0;
	for (unsigned k = 0; k < count; k++) {
		int depth = (int)(next_rand(&rng) % 40) + 1;
		plan = next_rand(&rng);
		huge_at = k % 5 == 0 ? (int)(next_rand(&rng) % (unsigned)depth) + 1 : -1;
		struct hp_unwind_cfa_stats before, after;
		hp_unwind_cfa_stats(&before);
		descend(depth, MAXF);
		hp_unwind_cfa_stats(&after);
		if (!plan_has_other(depth))
			unexpected += after.fallbacks - before.fallbacks;
	}
	return unexpected;
}

static void test_chains(void)
{
	mismatches = 0;
	CHECK_U64(chains(1, 2000), 0);
	CHECK_U64(mismatches, 0);
	struct hp_unwind_cfa_stats st;
	hp_unwind_cfa_stats(&st);
	CHECK(st.fallbacks > 0); /* huge and aligned frames did fall back */
	CHECK(st.walks > st.fallbacks * 2);
}

/* After a dlclose every rule is forgotten and learned again. */
static void test_forget(void)
{
	mismatches = 0;
	plan = 0;
	huge_at = -1;
	descend(1, MAXF);
	int32_t cfa_off = 0, rbp_off = 0;
	CHECK_I64(hp_unwind_cfa_rule(last[2], &cfa_off, &rbp_off), 1);
	/* Pass 0 learns this call site, pass 1 knows everything, pass 2 relearns. */
	uint64_t learned[3];
	for (volatile int pass = 0; pass < 3; pass++) { /* one call site, not unrolled */
		struct hp_unwind_cfa_stats a, b;
		if (pass == 2)
			hp_unwind_cfa_forget();
		hp_unwind_cfa_stats(&a);
		CHECK_U64(chains(3, 200), 0);
		hp_unwind_cfa_stats(&b);
		learned[pass] = b.learned - a.learned;
	}
	CHECK_U64(learned[1], 0);
	CHECK(learned[2] > 10);
	CHECK_U64(mismatches, 0);
}

static void test_truncated(void)
{
	mismatches = 0;
	uint64_t rng = 7;
	for (unsigned max = 2; max <= 45; max++) {
		plan = next_rand(&rng);
		huge_at = -1;
		descend(30, max);
	}
	CHECK_U64(mismatches, 0);
}

/* The rules themselves: descend keeps frame pointers, shape_small does not. */
static void test_rules(void)
{
	plan = 0; /* SMALL at every level */
	huge_at = -1;
	descend(1, MAXF); /* capture <- descend(0) <- shape_small <- descend(1) */
	CHECK(nlast > 3);
	int32_t cfa_off = 0, rbp_off = 0;
	CHECK_I64(hp_unwind_cfa_rule(last[1], &cfa_off, &rbp_off), 2);
	CHECK_I64(cfa_off, 16);
	CHECK_I64(rbp_off, -16);
	CHECK_I64(hp_unwind_cfa_rule(last[2], &cfa_off, &rbp_off), 1);
	CHECK(cfa_off >= 16 && cfa_off % 8 == 0);
	CHECK_I64(rbp_off, 0);
	/* the outermost frame (_start) is the last one */
	CHECK_I64(hp_unwind_cfa_rule(last[nlast - 1], &cfa_off, &rbp_off), 3);
}

static void on_signal(int sig)
{
	(void)sig;
	plan = 0x123456789abcdefull;
	huge_at = -1;
	descend(12, MAXF);
}

/* A signal frame cannot be described by a rule: the walk must hand over to libunwind
 * and still give its answer, on the thread's stack and on an alternate stack (out of
 * the thread's bounds). */
static void test_signal(void)
{
	mismatches = 0;
	unsigned before = compared;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	stack_t alt = {.ss_sp = malloc(1 << 16), .ss_size = 1 << 16};
	CHECK(alt.ss_sp != NULL);
	CHECK_I64(sigaltstack(&alt, NULL), 0);
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	alt.ss_flags = SS_DISABLE;
	sigaltstack(&alt, NULL);
	free(alt.ss_sp);
	CHECK_U64(compared - before, 2);
	CHECK_U64(mismatches, 0);
}

static void *thread_main(void *arg)
{
	return (void *)(uintptr_t)chains((uintptr_t)arg, 500);
}

/* Four threads learning the same return addresses at once. */
static void test_threads(void)
{
	mismatches = 0;
	pthread_t th[4];
	for (uintptr_t i = 0; i < 4; i++)
		CHECK_I64(pthread_create(&th[i], NULL, thread_main, (void *)(i * 977 + 3)), 0);
	for (int i = 0; i < 4; i++) {
		void *unexpected = NULL;
		pthread_join(th[i], &unexpected);
		CHECK_U64((uintptr_t)unexpected, 0);
	}
	CHECK_U64(mismatches, 0);
}

int main(void)
{
	/* the preload core is linked into this executable: none of it is "ours" here */
	hp_unwind_cfa_init();
	hp_unwind_cfa_set_self(0, 0);
	hp_unwind_set_self(0, 0); /* the fallback's too */
	test_rules();
	test_chains();
	test_truncated();
	test_forget();
	test_signal();
	test_threads();
	printf("%u captures compared\n", compared);
	return check_done();
}
