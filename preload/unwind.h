/* Stack capture. One entry point so a frame-pointer unwinder (HEAPPROF_UNWIND=fp) can
 * be added behind it later. */
#ifndef HP_UNWIND_H
#define HP_UNWIND_H

#include <stdint.h>

#include "os.h"

/* Finds the profiler's own code range; call once at start (no lock held). */
void hp_unwind_init(void);

/* Fills ips with up to max return addresses of the calling thread, innermost first,
 * the profiler's own frames removed. Returns the count. Thread-safe; takes no profiler
 * lock (libunwind may take the loader lock through dl_iterate_phdr). */
unsigned hp_unwind(uintptr_t *ips, unsigned max);

/* The executable segment holding the recorder's own code, whose frames every unwinder
 * drops. Not async-signal-safe the first time (dl_iterate_phdr). */
void hp_unwind_self_range(uintptr_t *lo, uintptr_t *hi);

/* Forgets what every unwinder learned about return addresses (code was unloaded). */
void hp_unwind_forget(void);

/* Tests: treat [lo, hi) as the profiler's own code (frames dropped from the result). */
void hp_unwind_set_self(uintptr_t lo, uintptr_t hi);

/* The calling thread's stack [lo, hi), read once per thread: the bounds every
 * unwinder of ours checks a stack read against. */
struct hp_thread_stack {
	uintptr_t lo, hi;
	int state; /* 0 not read yet, 1 known, -1 unavailable */
};
extern __thread struct hp_thread_stack hp_thread_stack;

/* Reads the bounds (pthread_getattr_np, hidden from the recorder); 0 or -1. */
int hp_unwind_load_thread_stack(void);

/* The bounds, or NULL where they cannot be had. */
static inline const struct hp_thread_stack *hp_unwind_thread_stack(void)
{
	if (HP_UNLIKELY(hp_thread_stack.state <= 0) &&
	    (hp_thread_stack.state < 0 || hp_unwind_load_thread_stack()))
		return 0;
	return &hp_thread_stack;
}

#endif
