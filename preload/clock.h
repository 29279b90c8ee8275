/* The trace clock: rdtsc when the kernel trusts the TSC, else CLOCK_MONOTONIC (vDSO,
 * about 25 ns here). Event times are (ticks - start) >> shift, so a time unit is
 * about 16 ns. */
#ifndef HP_CLOCK_H
#define HP_CLOCK_H

#include <stdint.h>
#include <time.h>
#include <x86intrin.h>

#include "options.h"

struct hp_clock {
	int tsc;	      /* ticks are TSC cycles */
	unsigned shift;	      /* a ring time unit is 2^shift ticks */
	unsigned trace_shift; /* a trace time unit is 2^trace_shift ring units */
	uint64_t start;	      /* ticks at the trace's start */
	uint64_t ticks_per_second;
	uint64_t start_mono_ns;
	uint64_t start_real_ns;
};

extern struct hp_clock hp_clock;

/* Chooses and calibrates the clock (about 10 ms for the TSC) and sets the start. */
void hp_clock_init(enum hp_clock_choice choice);

/* Moves the start to now (a forked child starts its own trace). */
void hp_clock_rebase(void);

uint64_t hp_clock_mono_ns(void);
uint64_t hp_clock_real_ns(void);

/* Raw ticks. Thread-safe, async-signal-safe. */
static inline uint64_t hp_clock_ticks(void)
{
	if (hp_clock.tsc)
		return __rdtsc();
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A clock time (hp_clock_now(), about 16 ns) in trace units, about a millisecond. The
 * writer moves the trace's clock once a round (writer.c), so a thread's events carry a
 * TICK only at the front of a record and a loop's events repeat byte for byte. */
static inline uint64_t hp_clock_trace(uint64_t ring_time)
{
	return ring_time >> hp_clock.trace_shift;
}

/* Ring time units since the start. */
static inline uint64_t hp_clock_now(void)
{
	uint64_t t = hp_clock_ticks();
	return t > hp_clock.start ? (t - hp_clock.start) >> hp_clock.shift : 0;
}

#endif
