/* Stack capture. One entry point so a frame-pointer unwinder (HEAPPROF_UNWIND=fp) can
 * be added behind it later. */
#ifndef HP_UNWIND_H
#define HP_UNWIND_H

#include <stdint.h>

/* Finds the profiler's own code range; call once at start (no lock held). */
void hp_unwind_init(void);

/* Fills ips with up to max return addresses of the calling thread, innermost first,
 * the profiler's own frames removed. Returns the count. Thread-safe; takes no profiler
 * lock (libunwind may take the loader lock through dl_iterate_phdr). */
unsigned hp_unwind(uintptr_t *ips, unsigned max);

/* The executable segment holding the recorder's own code, whose frames every unwinder
 * drops. Not async-signal-safe the first time (dl_iterate_phdr). */
void hp_unwind_self_range(uintptr_t *lo, uintptr_t *hi);

#endif
