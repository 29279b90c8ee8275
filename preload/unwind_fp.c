/* Frame-pointer stack capture; see unwind_fp.h.
 *
 * Soundness. Reading [rbp] and [rbp+8] of a frame gives the caller's saved rbp and the
 * return address ra into the caller F. The saved rbp is F's frame base only if F keeps
 * rbp as its frame pointer at ra; a function built without frame pointers (all of
 * glibc on Debian, and any -O2 code by default) leaves its own caller's rbp there or
 * uses rbp as a scratch register, and trusting it skips frames or reads garbage. So
 * the walk continues past ra only when F is known to be frame-pointer based at ra:
 * its CFI (through libunwind) says CFA = rbp + 16 with rbp saved at CFA - 16, which is
 * exactly when the frame-pointer step equals libunwind's step. The verdict is a
 * property of the code at ra, cached process-wide, so the cost is one hash probe per
 * frame after the first sight of each return address. At the first frame whose
 * function is not frame-pointer based, libunwind continues from that frame's rip, rsp
 * (the callee's frame base + 16) and rbp (saved at the callee's frame base): the same
 * registers libunwind's own walk would hold there, so the tail is the one it computes.
 * Anything else that looks wrong (a frame pointer outside the thread's stack, not
 * strictly increasing or misaligned, a zero return address) makes the whole stack go to
 * libunwind (hp_unwind).
 *
 * The tail (usually __libc_start_call_main, __libc_start_main, _start, or start_thread
 * and clone3) is memoized per thread with the stack addresses of its return-address
 * slots (CFA - 8 of each frame, read back from libunwind's UNW_REG_SP): it is reused
 * while the tail's starting registers and every one of its slots are unchanged.
 *
 * The unwind cache: the walk is a function of the starting frame address and of the
 * two words it reads at each frame (the tail memo checks its own slots), so when the
 * capture starts at the same frame address and every word read last time still holds
 * the same value, the walk would produce the same return addresses: the previous stack
 * id is reused with 2 loads and compares a frame and no hashing. */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "unwind_fp.h"

#include <link.h>
#include <libunwind.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "os.h"
#include "recorder.h"
#include "stacktab.h"
#include "unwind.h"

#define CACHE_FRAMES 96 /* frames (ours included) the cache remembers */
#define TAIL_FRAMES 16	/* frames of a memoized libunwind tail */

struct fp_tls {
	uintptr_t hi; /* the thread's stack top, for the tail memo */
	/* tail memo: libunwind's frames after the last frame-pointer frame */
	int tail_ok;
	uintptr_t tail_sp, tail_ra, tail_rbp;
	unsigned ntail;
	unsigned tail_misses; /* consecutive tails the memo did not cover */
	uintptr_t tail_slot[TAIL_FRAMES], tail_ip[TAIL_FRAMES];
	/* the last walk: the words read at each frame, and whether it can be reused */
	unsigned nwords;
	int walk_cacheable, walk_tail;
	uintptr_t w_fp[CACHE_FRAMES], w_ra[CACHE_FRAMES];
	int cache_ok, cache_tail;
	uintptr_t cache_fp0;
	unsigned cache_max;
	uint32_t cache_id;
	struct hp_unwind_fp_stats stats;
};

static __thread struct fp_tls tls;

static uintptr_t self_lo, self_hi;

/* Read-only zero pages standing in for the stack above a probed frame (1 MiB, never
 * touched, so it costs no memory). */
#define PROBE_ZEROS (1u << 20)
static const uint8_t *probe_zeros;

#define VERDICT_BITS 17
#define VERDICT_MASK ((1u << VERDICT_BITS) - 1)
/* ra << 1 | frame-pointer based; 0 is empty. 1 MiB of .bss, touched as used. */
static _Atomic uintptr_t verdicts[1u << VERDICT_BITS];

void hp_unwind_fp_init(void)
{
	hp_unwind_self_range(&self_lo, &self_hi);
	if (!probe_zeros) {
		void *z = mmap(NULL, PROBE_ZEROS, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		probe_zeros = z == MAP_FAILED ? NULL : z;
	}
}

/* Tests compare tails frame by frame, so they ask for stepping even when unw_backtrace
 * would be cheaper. */
static int step_every_tail;

void hp_unwind_fp_step_every_tail(int on)
{
	step_every_tail = on;
}

void hp_unwind_fp_set_self(uintptr_t lo, uintptr_t hi)
{
	self_lo = lo;
	self_hi = hi;
}

void hp_unwind_fp_forget(void)
{
	for (size_t i = 0; i <= VERDICT_MASK; i++)
		if (atomic_load_explicit(&verdicts[i], memory_order_relaxed))
			atomic_store_explicit(&verdicts[i], 0, memory_order_relaxed);
}

void hp_unwind_fp_stats(struct hp_unwind_fp_stats *out)
{
	*out = tls.stats;
}

/* Does the function containing the call before ra keep rbp as its frame pointer at
 * ra? Asks libunwind's CFI for that pc directly: one unw_step from rip = ra with rsp
 * pointing into zero pages and rbp at a fake frame {saved rbp, return address}. Only
 * a CFA of rbp + 16 with rbp saved at CFA - 16 yields exactly the fake frame's values
 * (an rsp-based CFA reads zeros, another offset reads the guard words). About a
 * microsecond, once per return address; no decoding of instructions, so any prologue
 * scheduling is fine. */
static HP_COLD int judge(uintptr_t ra)
{
	if (!probe_zeros)
		return 0;
	uintptr_t fake[6] = {0, 0, 0x5a5a5a5a5a5a5a50u, ra ^ 0x1000u, 0, 0};
	uintptr_t b = (uintptr_t)&fake[2];
	unw_context_t uc;
	unw_cursor_t c;
	memset(&uc, 0, sizeof(uc));
	uc.uc_mcontext.gregs[REG_RIP] = (greg_t)ra;
	uc.uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)(probe_zeros + 4096);
	uc.uc_mcontext.gregs[REG_RBP] = (greg_t)b;
	unw_word_t ip = 0, sp = 0, rbp = 0;
	if (unw_init_local(&c, &uc) < 0 || unw_step(&c) <= 0 ||
	    unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || unw_get_reg(&c, UNW_REG_SP, &sp) < 0 ||
	    unw_get_reg(&c, UNW_X86_64_RBP, &rbp) < 0)
		return 0;
	return ip == fake[3] && sp == b + 16 && rbp == fake[2];
}

static inline int frame_based(uintptr_t ra)
{
	size_t i = (size_t)((ra * 0x9e3779b97f4a7c15ull) >> (64 - VERDICT_BITS));
	for (unsigned probe = 0; probe < 8; probe++, i = (i + 1) & VERDICT_MASK) {
		uintptr_t e = atomic_load_explicit(&verdicts[i], memory_order_relaxed);
		if (HP_LIKELY(e >> 1 == ra))
			return (int)(e & 1);
		if (e == 0) {
			int v = judge(ra);
			atomic_compare_exchange_strong_explicit(
			    &verdicts[i], &e, ra << 1 | (uintptr_t)v, memory_order_relaxed,
			    memory_order_relaxed);
			return v;
		}
	}
	return judge(ra); /* a crowded neighbourhood: not cached */
}

static int tail_same(const struct fp_tls *t, uintptr_t sp, uintptr_t ra, uintptr_t rbp)
{
	if (!t->tail_ok || t->tail_sp != sp || t->tail_ra != ra || t->tail_rbp != rbp)
		return 0;
	for (unsigned i = 0; i < t->ntail; i++)
		if (*(const uintptr_t *)t->tail_slot[i] != t->tail_ip[i])
			return 0;
	return 1;
}

/* libunwind from the first frame that is not frame-pointer based: rip = ra (a return
 * address, as unw_init_local expects), rsp and rbp as the callee left them. Fills up
 * to room frames after ra; memoizes them when each one's return address sits at its
 * caller's CFA - 8 (not so across a signal frame). */
static HP_COLD unsigned tail_walk(struct fp_tls *t, uintptr_t sp, uintptr_t ra, uintptr_t rbp,
				  uintptr_t *out, unsigned room)
{
	unw_context_t uc;
	unw_cursor_t c;
	memset(&uc, 0, sizeof(uc));
	uc.uc_mcontext.gregs[REG_RIP] = (greg_t)ra;
	uc.uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
	uc.uc_mcontext.gregs[REG_RBP] = (greg_t)rbp;
	t->tail_ok = 0;
	if (unw_init_local(&c, &uc) < 0)
		return 0;
	unsigned n = 0;
	int memo = 1;
	while (n < room && unw_step(&c) > 0) {
		unw_word_t ip, csp;
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || unw_get_reg(&c, UNW_REG_SP, &csp) < 0)
			break;
		uintptr_t slot = (uintptr_t)csp - 8;
		if (n >= TAIL_FRAMES || (slot & 7) || slot < sp || slot + 8 > t->hi ||
		    *(const uintptr_t *)slot != (uintptr_t)ip)
			memo = 0;
		else
			t->tail_slot[n] = slot;
		out[n++] = (uintptr_t)ip;
	}
	if (n == room && unw_step(&c) > 0)
		memo = 0; /* cut at room: the memo would be short for a larger room */
	if (memo) {
		memcpy(t->tail_ip, out, n * sizeof(*out));
		t->ntail = n;
		t->tail_sp = sp;
		t->tail_ra = ra;
		t->tail_rbp = rbp;
		t->tail_ok = 1;
	}
	return n;
}

/* The walk from our own frame fp; the count, or -1 where libunwind must take the
 * whole stack. Records the words it reads in t->w_* for the cache. */
static int walk(struct fp_tls *t, uintptr_t fp, uintptr_t *ips, unsigned max)
{
	const struct hp_thread_stack *stack = hp_unwind_thread_stack(fp);
	if (!stack)
		return -1;
	uintptr_t lo = stack->lo, hi = stack->hi;
	t->hi = hi;
	unsigned n = 0, nw = 0;
	int leading = 1;
	t->walk_cacheable = 0;
	t->walk_tail = 0;
	for (;;) {
		if ((fp & 7) || fp < lo || fp + 16 > hi)
			return -1;
		const uintptr_t *f = (const uintptr_t *)fp;
		uintptr_t next = f[0], ra = f[1];
		if (!ra)
			return -1;
		if (nw < CACHE_FRAMES) {
			t->w_fp[nw] = next;
			t->w_ra[nw] = ra;
		}
		nw++;
		if (leading && ra >= self_lo && ra < self_hi) {
			if (!frame_based(ra))
				return -1; /* our own code built without frame pointers */
		} else {
			leading = 0;
			ips[n++] = ra;
			if (n == max)
				break;
			if (!frame_based(ra)) {
				uintptr_t sp = fp + 16;
				if (tail_same(t, sp, ra, next) && t->ntail <= max - n) {
					memcpy(ips + n, t->tail_ip, t->ntail * sizeof(*ips));
					n += t->ntail;
					t->tail_misses = 0;
				} else if (t->tail_misses++ < 4 || !(t->tail_misses & 1023) ||
					   step_every_tail) {
					/* Learn (or re-learn) the memo: unw_step is slow, it masks
					 * signals at every step (2 syscalls a frame). */
					n += tail_walk(t, sp, ra, next, ips + n, max - n);
				} else {
					/* Tails that keep changing (throw paths inside
					 * libstdc++): unw_backtrace's cached path is ~30x cheaper
					 * than stepping them. */
					return -1;
				}
				t->walk_tail = 1;
				break;
			}
		}
		if (next <= fp)
			return -1;
		fp = next;
	}
	t->nwords = nw;
	t->walk_cacheable = nw <= CACHE_FRAMES && (!t->walk_tail || t->tail_ok);
	return (int)n;
}

__attribute__((noinline)) unsigned hp_unwind_fp(uintptr_t *ips, unsigned max)
{
	struct fp_tls *t = &tls;
	t->cache_ok = 0;
	t->stats.walks++;
	int n = walk(t, (uintptr_t)__builtin_frame_address(0), ips, max);
	if (n >= 0)
		return (unsigned)n;
	t->stats.fallbacks++;
	return hp_unwind(ips, max);
}

/* Every word the last walk read is unchanged: about 2 loads and compares a frame. */
static inline int words_same(const struct fp_tls *t, uintptr_t fp)
{
	for (unsigned i = 0; i < t->nwords; i++) {
		const uintptr_t *f = (const uintptr_t *)fp;
		if (f[0] != t->w_fp[i] || f[1] != t->w_ra[i])
			return 0;
		fp = f[0];
	}
	return 1;
}

__attribute__((noinline)) uint32_t hp_unwind_fp_stack(uintptr_t *ips, unsigned max, int cache)
{
	struct fp_tls *t = &tls;
	uintptr_t fp0 = (uintptr_t)__builtin_frame_address(0);
	if (cache && t->cache_ok && t->cache_fp0 == fp0 && t->cache_max == max &&
	    words_same(t, fp0)) {
		unsigned last = t->nwords - 1;
		uintptr_t last_fp = last ? t->w_fp[last - 1] : fp0;
		if (!t->cache_tail || tail_same(t, last_fp + 16, t->w_ra[last], t->w_fp[last])) {
			t->stats.cache_hits++;
			return t->cache_id;
		}
	}
	t->cache_ok = 0;
	t->stats.walks++;
	int n = walk(t, fp0, ips, max);
	if (n < 0) {
		t->stats.fallbacks++;
		return hp_stacktab_intern(ips, hp_unwind(ips, max));
	}
	uint32_t id = hp_stacktab_intern(ips, (unsigned)n);
	if (cache && id && t->walk_cacheable) {
		t->cache_ok = 1;
		t->cache_tail = t->walk_tail;
		t->cache_fp0 = fp0;
		t->cache_max = max;
		t->cache_id = id;
	}
	return id;
}
