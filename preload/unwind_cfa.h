/* Stack capture by cached CFA rules (HEAPPROF_UNWIND=cfa, the default).
 *
 * On x86-64 almost every frame unwinds by one rule: the canonical frame address is rsp
 * or rbp plus a constant, the return address sits at CFA - 8, and rbp is either kept
 * or saved at a constant offset from the CFA. That rule is a property of the return
 * address, so it is learned once per address from libunwind itself (two unw_step
 * probes over fake stacks) and kept in a process-wide table; a capture is then a loop
 * of one table probe and one or two loads a frame, every load checked against the
 * thread's stack bounds. Any frame the rule cannot describe (signal frames, code
 * without unwind information, CFA expressions) and anything out of bounds hands the
 * whole stack to unw_backtrace, so the result is always the list libunwind gives. */
#ifndef HP_UNWIND_CFA_H
#define HP_UNWIND_CFA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Maps the probe stacks and finds the profiler's own code; call once at start. */
void hp_unwind_cfa_init(void);

/* Like hp_unwind(): up to max return addresses of the calling thread, innermost first,
 * the profiler's own leading frames removed. The caller must have set the recorder's
 * busy flag (learning a rule and the fallback may allocate). Thread-safe, not
 * async-signal-safe. */
unsigned hp_unwind_cfa(uintptr_t *ips, unsigned max);

/* Forgets every learned rule (after a dlclose). Thread-safe: a walk racing it uses the
 * rule it read or learns it again. */
void hp_unwind_cfa_forget(void);

/* Statistics of the calling thread: walks done by rules, walks handed to
 * unw_backtrace, and rules learned. */
struct hp_unwind_cfa_stats {
	uint64_t walks;
	uint64_t fallbacks;
	uint64_t learned;
};
void hp_unwind_cfa_stats(struct hp_unwind_cfa_stats *out);

/* The rule learned for a return address, for tests: 0 other (fallback), 1 CFA = rsp +
 * *cfa_off, 2 CFA = rbp + *cfa_off, 3 last frame; *rbp_off is where rbp is saved
 * relative to the CFA (0: kept). */
int hp_unwind_cfa_rule(uintptr_t ra, int32_t *cfa_off, int32_t *rbp_off);

/* Tests: treat [lo, hi) as the profiler's own code (frames dropped from the result). */
void hp_unwind_cfa_set_self(uintptr_t lo, uintptr_t hi);

#ifdef __cplusplus
}
#endif
#endif
