/* Frame-pointer stack capture (HEAPPROF_UNWIND=fp) with a per-thread unwind cache.
 *
 * The rbp chain is followed only through frames whose function is known to keep rbp as
 * its frame pointer (a per-return-address verdict, cached process-wide); where it
 * reaches any other function (glibc is built without frame pointers, so this is at
 * least __libc_start_call_main or start_thread) libunwind continues from that frame's
 * registers, and that tail is memoized per thread. The result is the same list of
 * return addresses unw_backtrace gives. Everything in the preload is compiled with
 * -fno-omit-frame-pointer so the chain starts from our own frame. */
#ifndef HP_UNWIND_FP_H
#define HP_UNWIND_FP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Finds the profiler's own code range; call once at start (no lock held). */
void hp_unwind_fp_init(void);

/* Like hp_unwind(): up to max return addresses of the calling thread, innermost first,
 * the profiler's own frames removed. Falls back to libunwind for the whole stack where
 * the rbp chain cannot be trusted (a frame pointer out of the thread's stack, not
 * increasing or misaligned; a signal stack). The caller must have set the recorder's
 * busy flag (libunwind and pthread_getattr_np may allocate). Thread-safe, not
 * async-signal-safe. */
unsigned hp_unwind_fp(uintptr_t *ips, unsigned max);

/* The interned stack id of the calling thread's stack (hp_unwind_fp, then
 * hp_stacktab_intern), reusing the previous capture's id without unwinding when the
 * calling frame is at the same address and every frame-pointer and return-address slot
 * the previous walk read still holds the same value (with cache 1). ips is scratch
 * space for max + 16 entries. Same conditions as hp_unwind_fp. */
uint32_t hp_unwind_fp_stack(uintptr_t *ips, unsigned max, int cache);

/* Forgets every frame-pointer verdict (after a dlclose). */
void hp_unwind_fp_forget(void);

/* Statistics of the calling thread: captures answered by the cache, walks done, and
 * walks that fell back to libunwind for the whole stack. */
struct hp_unwind_fp_stats {
	uint64_t cache_hits;
	uint64_t walks;
	uint64_t fallbacks;
};
void hp_unwind_fp_stats(struct hp_unwind_fp_stats *out);

/* Tests: treat [lo, hi) as the profiler's own code (frames dropped from the result). */
void hp_unwind_fp_set_self(uintptr_t lo, uintptr_t hi);

/* For tests: walk every changing tail with libunwind's unw_step, never handing the whole
 * stack to unw_backtrace (the faster choice once a thread's tails keep changing). */
void hp_unwind_fp_step_every_tail(int on);

#ifdef __cplusplus
}
#endif
#endif
