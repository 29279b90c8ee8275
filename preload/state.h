/* The preload's bottom layer: the recording state, the per-thread re-entry guard and
 * the fail-once stop. Every other file of the preload may use it; it uses none of them
 * but os.h. Inline where the hot path reads it. */
#ifndef HP_STATE_H
#define HP_STATE_H

#include <stdatomic.h>

enum hp_rec_state {
	HP_STATE_UNINIT,       /* nothing done yet: the first call initializes */
	HP_STATE_INITIALIZING, /* one thread is initializing; the others forward */
	HP_STATE_OFF,	       /* not recording (disabled, failed, setuid) */
	HP_STATE_RECORDING,
	HP_STATE_LATE, /* after the final END: each event is flushed with another END */
};

extern _Atomic int hp_state;

static inline int hp_state_now(void)
{
	return atomic_load_explicit(&hp_state, memory_order_relaxed);
}

/* The calling thread inside the profiler: its allocator calls are forwarded only, and
 * counted as lost unless quiet (the profiler's own). real_quiet is quiet's value during
 * the real call of the entry point being recorded (0 for a leaf: a nested call can only
 * be a signal handler's). One initial-exec TLS block: a few instructions to test. */
struct hp_guard {
	int busy;
	int quiet;
	int real_quiet;
};

extern __thread struct hp_guard hp_guard;

/* Hides the calling thread's allocations until hp_guard_unhide (nests): profiler work
 * done on application threads (flush, exec, init) and the writer thread. */
static inline void hp_guard_hide(void)
{
	hp_guard.busy++;
	hp_guard.quiet++;
}

static inline void hp_guard_unhide(void)
{
	hp_guard.busy--;
	hp_guard.quiet--;
}

/* 1 when the calling thread is inside the profiler or a real allocator call (a signal
 * handler interrupted it there): lifecycle hooks must then not take profiler locks. */
static inline int hp_guard_busy(void)
{
	return hp_guard.busy != 0;
}

/* Stops recording for good and says "heapprof: <what>: <error text>; not recording" once
 * on stderr, then calls the hook (the writer's ERROR record). Every call keeps
 * forwarding to the real allocator. Thread-safe; no lock, no allocation. */
void hp_state_fail(const char *what, int err);

/* The writer's: writes msg as an ERROR record if it can. Set once, at start. */
void hp_state_set_fail_hook(void (*hook)(const char *msg));

#endif
