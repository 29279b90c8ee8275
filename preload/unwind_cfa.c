/* Stack capture by cached CFA rules; see unwind_cfa.h.
 *
 * Soundness. unw_backtrace walks the same way: per return address it caches a frame
 * type (CFA = rsp or rbp + offset, ra at CFA - 8, rbp kept or at CFA + offset) and
 * applies it; frames of any other type send it to unw_step for the whole stack. Here
 * the rule of a return address is read off libunwind's own unw_step, run twice from
 * that address over a fake stack whose every word holds its own address (xor a tag),
 * with rsp and rbp moved by different amounts between the two runs: the rule is
 * accepted only when both runs say the CFA is the same register plus the same
 * constant, the new rip came from CFA - 8 and the new rbp is the old one or came from
 * the same CFA offset. Whatever else unw_step does (a CFA from another register or an
 * expression, a signal frame, a register rule) cannot produce that picture, so it
 * becomes "other", and a walk meeting "other" is redone by unw_backtrace. Every read
 * of the real stack is checked against the thread's stack bounds first; a read out of
 * bounds also goes to unw_backtrace, which decides as it always would.
 *
 * The table is process-wide; a dlclose empties it, since other code may be loaded
 * where the closed object's was. */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "unwind_cfa.h"

#include <libunwind.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "os.h"
#include "unwind.h"

enum rule_kind { RULE_OTHER, RULE_RSP, RULE_RBP, RULE_LAST };

/* A rule in 64 bits: kind in bits 0-1, rbp's save slot (CFA-relative, 0: kept) in bits
 * 16-31, the CFA offset in bits 32-63. */
#define RULE(kind, cfa_off, rbp_off)                                                               \
	((uint64_t)(uint32_t)(cfa_off) << 32 | (uint64_t)(uint16_t)(rbp_off) << 16 | (kind))

#define TABLE_BITS 16
#define TABLE_MASK ((1u << TABLE_BITS) - 1)
#define LEARNING ((uintptr_t)1 << 63) /* key bit: the rule is being written */

/* ra -> rule, open addressing; a key is published after its rule. 1 MiB of .bss,
 * touched as used. */
static struct {
	_Atomic uintptr_t key;
	_Atomic uint64_t rule;
} table[1u << TABLE_BITS];

static uintptr_t self_lo, self_hi;

/* The fake stack: PATTERN bytes whose words hold their address ^ TAG, between read-only
 * zero pages (a frame larger than the pattern reads zeros and is judged "other"). */
#define GUARD (64u << 10)
#define PATTERN (256u << 10)
#define BEYOND (64u << 20)
#define TAG 0x5a5a000000000000ull
static const uint8_t *pattern;

static __thread struct hp_unwind_cfa_stats stats;

void hp_unwind_cfa_init(void)
{
	hp_unwind_self_range(&self_lo, &self_hi);
	if (pattern)
		return;
	uint8_t *m = mmap(NULL, GUARD + PATTERN + BEYOND, PROT_READ,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return;
	uint8_t *p = m + GUARD;
	if (mprotect(p, PATTERN, PROT_READ | PROT_WRITE) != 0) {
		munmap(m, GUARD + PATTERN + BEYOND);
		return;
	}
	for (uintptr_t *w = (uintptr_t *)p; (uint8_t *)w < p + PATTERN; w++)
		*w = (uintptr_t)w ^ TAG;
	mprotect(p, PATTERN, PROT_READ); /* shared by concurrent probes: never written again */
	pattern = p;
}

void hp_unwind_cfa_set_self(uintptr_t lo, uintptr_t hi)
{
	self_lo = lo;
	self_hi = hi;
}

void hp_unwind_cfa_stats(struct hp_unwind_cfa_stats *out)
{
	*out = stats;
}

/* The address a pattern word came from, or 0. */
static uintptr_t pattern_source(uintptr_t v)
{
	uintptr_t a = v ^ TAG;
	if (!pattern || (a & 7) || a < (uintptr_t)pattern || a >= (uintptr_t)pattern + PATTERN)
		return 0;
	return a;
}

struct probe {
	int step; /* unw_step's result */
	uintptr_t rsp, rbp;
	uintptr_t ip1, sp1, rbp1;
};

static int run_probe(uintptr_t ra, struct probe *p)
{
	unw_context_t uc;
	unw_cursor_t c;
	unw_proc_info_t pi;
	memset(&uc, 0, sizeof(uc));
	uc.uc_mcontext.gregs[REG_RIP] = (greg_t)ra;
	uc.uc_mcontext.gregs[REG_RSP] = (greg_t)p->rsp;
	uc.uc_mcontext.gregs[REG_RBP] = (greg_t)p->rbp;
	unw_word_t ip = 0, sp = 0, rbp = 0;
	/* No unwind information: unw_step guesses from rbp with checks on the values it
	 * reads, which no constant rule reproduces. */
	if (unw_init_local(&c, &uc) < 0 || unw_get_proc_info(&c, &pi) < 0 ||
	    unw_is_signal_frame(&c) > 0)
		return -1;
	p->step = unw_step(&c);
	if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || unw_get_reg(&c, UNW_REG_SP, &sp) < 0 ||
	    (p->step > 0 && unw_get_reg(&c, UNW_X86_64_RBP, &rbp) < 0))
		return -1;
	p->ip1 = ip;
	p->sp1 = sp;
	p->rbp1 = rbp;
	return 0;
}

/* The rule one probe shows for a CFA based on base; 0 when it shows none. */
static uint64_t rule_seen(const struct probe *p, enum rule_kind kind)
{
	uintptr_t base = kind == RULE_RSP ? p->rsp : p->rbp;
	int64_t cfa_off = (int64_t)(p->sp1 - base);
	if (cfa_off != (int32_t)cfa_off || (kind == RULE_RSP && cfa_off <= 0))
		return 0;
	if (pattern_source(p->ip1) != p->sp1 - 8)
		return 0; /* the return address did not come from CFA - 8 */
	int64_t rbp_off = 0;
	if (p->rbp1 != p->rbp) {
		uintptr_t from = pattern_source(p->rbp1);
		rbp_off = (int64_t)(from - p->sp1);
		if (!from || !rbp_off || rbp_off != (int16_t)rbp_off)
			return 0;
	}
	return RULE(kind, cfa_off, rbp_off);
}

/* About 2 microseconds, once per return address. */
static HP_COLD uint64_t judge(uintptr_t ra)
{
	stats.learned++;
	if (!pattern)
		return RULE_OTHER;
	/* rsp and rbp move by different amounts between the probes, so a CFA that follows
	 * one register cannot look like the other's. */
	struct probe a = {.rsp = (uintptr_t)pattern + 4096,
			  .rbp = (uintptr_t)pattern + PATTERN / 2};
	struct probe b = {.rsp = a.rsp + 4096 + 8, .rbp = a.rbp - 8192 - 24};
	if (run_probe(ra, &a) || run_probe(ra, &b))
		return RULE_OTHER;
	/* unw_step also ends at a return address of 0; the zeros beyond the pattern (a
	 * frame larger than it) must not pass for the end of the stack. */
	if (a.step == 0 && b.step == 0)
		return pattern_source((a.sp1 - 8) ^ TAG) && pattern_source((b.sp1 - 8) ^ TAG)
			   ? RULE_LAST
			   : RULE_OTHER;
	if (a.step <= 0 || b.step <= 0)
		return RULE_OTHER;
	for (enum rule_kind kind = RULE_RSP; kind <= RULE_RBP; kind++) {
		uint64_t ra_rule = rule_seen(&a, kind);
		if (ra_rule && ra_rule == rule_seen(&b, kind))
			return ra_rule;
	}
	return RULE_OTHER;
}

static HP_COLD uint64_t learn(size_t i, uintptr_t ra)
{
	uintptr_t expected = 0;
	if (!atomic_compare_exchange_strong_explicit(&table[i].key, &expected, ra | LEARNING,
						     memory_order_relaxed, memory_order_relaxed))
		return judge(ra); /* another thread took the slot: not cached this time */
	uint64_t rule = judge(ra);
	atomic_store_explicit(&table[i].rule, rule, memory_order_relaxed);
	atomic_store_explicit(&table[i].key, ra, memory_order_release);
	return rule;
}

static inline uint64_t rule_of(uintptr_t ra)
{
	/* The address's own low bits, nothing mixed in: this is on every frame's dependency
	 * chain, and return addresses' low bits are spread already (a multiply cost churn
	 * ~4% of its CPU; folding in bits 16-31 a walk 13%, in a microbenchmark). */
	size_t i = (size_t)ra & TABLE_MASK;
	for (unsigned probe = 0; probe < 8; probe++, i = (i + 1) & TABLE_MASK) {
		uintptr_t key = atomic_load_explicit(&table[i].key, memory_order_acquire);
		if (HP_LIKELY(key == ra))
			return atomic_load_explicit(&table[i].rule, memory_order_relaxed);
		if (key == 0)
			return learn(i, ra);
	}
	return RULE_OTHER; /* a crowded neighbourhood: unw_backtrace is cheaper than judging */
}

void hp_unwind_cfa_forget(void)
{
	for (size_t i = 0; i <= TABLE_MASK; i++)
		if (atomic_load_explicit(&table[i].key, memory_order_relaxed))
			atomic_store_explicit(&table[i].key, 0, memory_order_relaxed);
}

int hp_unwind_cfa_rule(uintptr_t ra, int32_t *cfa_off, int32_t *rbp_off)
{
	uint64_t rule = rule_of(ra);
	*cfa_off = (int32_t)(rule >> 32);
	*rbp_off = (int16_t)(rule >> 16);
	return (int)(rule & 3);
}

/* The walk starts from this function's own frame (the preload keeps frame pointers):
 * rip is its return address, rsp its frame base + 16, rbp the caller's saved rbp. */
__attribute__((noinline)) unsigned hp_unwind_cfa(uintptr_t *ips, unsigned max)
{
	const uintptr_t *frame = __builtin_frame_address(0);
	const struct hp_thread_stack *stack = hp_unwind_thread_stack((uintptr_t)frame);
	if (HP_UNLIKELY(!stack || !max))
		goto fallback;
	const uintptr_t lo = stack->lo, hi = stack->hi;
	uintptr_t ip = frame[1], sp = (uintptr_t)(frame + 2), rbp = frame[0];
	unsigned n = 0;
	stats.walks++;
	/* unw_backtrace stops at a return address below 0x4000 (nothing is mapped there). */
	for (unsigned steps = 0; ip >= 0x4000; steps++) {
		if (n || ip < self_lo || ip >= self_hi) {
			ips[n++] = ip;
			if (n == max)
				return n;
		}
		uint64_t rule = rule_of(ip);
		unsigned kind = (unsigned)(rule & 3);
		if (kind == RULE_LAST)
			return n;
		if (HP_UNLIKELY(kind == RULE_OTHER || steps > max + 64))
			goto fallback;
		uintptr_t cfa =
		    (kind == RULE_RSP ? sp : rbp) + (uintptr_t)(int64_t)(int32_t)(rule >> 32);
		if (HP_UNLIKELY((cfa & 7) || cfa - 8 < lo || cfa > hi))
			goto fallback;
		int16_t rbp_off = (int16_t)(rule >> 16);
		if (rbp_off) {
			uintptr_t slot = cfa + (uintptr_t)(intptr_t)rbp_off;
			if (HP_UNLIKELY(slot < lo || slot > hi - 8))
				goto fallback;
			rbp = *(const uintptr_t *)slot;
		}
		ip = *(const uintptr_t *)(cfa - 8);
		sp = cfa;
	}
	return n;
fallback:
	stats.fallbacks++;
	return hp_unwind(ips, max);
}
