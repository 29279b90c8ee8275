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

/* The calling thread's stack as far as the unwinders may read it: [lo, hi), hi its top
 * and lo the lowest page verified mapped so far (mincore). Found without
 * pthread_getattr_np, which takes the thread's own lock and reads /proc/self/maps
 * through stdio: a first allocation made inside it, as Rust's runtime and the JVM do,
 * would deadlock (docs/preload-safety.md). */
struct hp_thread_stack {
	uintptr_t lo, hi;
	int state;	/* 0 not known yet, 1 known, -1 unavailable */
	unsigned tries; /* walks that could not find the top */
};
extern __thread struct hp_thread_stack hp_thread_stack;

/* Finds the top and verifies [sp's page, lo) as mapped; 0, or -1 when sp cannot be
 * vouched for (this walk must go to libunwind). Lock-free: mincore only. */
int hp_unwind_load_thread_stack(uintptr_t sp);

/* The bounds, valid for a walk starting at sp, or NULL where they cannot be had. */
static inline const struct hp_thread_stack *hp_unwind_thread_stack(uintptr_t sp)
{
	if (HP_UNLIKELY(hp_thread_stack.state <= 0 || sp < hp_thread_stack.lo ||
			sp >= hp_thread_stack.hi) &&
	    (hp_thread_stack.state < 0 || hp_unwind_load_thread_stack(sp)))
		return 0;
	return &hp_thread_stack;
}

#endif
