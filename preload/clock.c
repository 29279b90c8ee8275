/* The trace clock; see clock.h. */
#include "clock.h"

#include <string.h>

#include "os.h"

struct hp_clock hp_clock = {.shift = 4, .trace_shift = 16, .ticks_per_second = 1000000000u};

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t hp_clock_mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

uint64_t hp_clock_real_ns(void)
{
	return read_ns(CLOCK_REALTIME);
}

static int kernel_uses_tsc(void)
{
	char buf[32];
	ssize_t n =
	    hp_os_read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", buf,
			    sizeof(buf) - 1);
	return n >= 3 && memcmp(buf, "tsc", 3) == 0 && (n == 3 || buf[3] == '\n');
}

static void calibrate_tsc(void)
{
	uint64_t m0 = hp_clock_mono_ns(), t0 = __rdtsc();
	hp_os_sleep_ns(10 * 1000 * 1000);
	uint64_t m1 = hp_clock_mono_ns(), t1 = __rdtsc();
	uint64_t dm = m1 - m0 ? m1 - m0 : 1;
	hp_clock.ticks_per_second = (uint64_t)((double)(t1 - t0) * 1e9 / (double)dm);
	/* A unit of about 16 ns: log2(ticks_per_ns * 16). */
	double per16ns = (double)hp_clock.ticks_per_second * 16e-9;
	unsigned shift = 0;
	while (shift < 20 && (double)(2ull << shift) <= per16ns * 1.5)
		shift++;
	hp_clock.shift = shift;
}

void hp_clock_init(enum hp_clock_choice choice)
{
	hp_clock.tsc = choice == HP_CLOCK_TSC || (choice == HP_CLOCK_AUTO && kernel_uses_tsc());
	if (hp_clock.tsc) {
		calibrate_tsc();
	} else {
		hp_clock.ticks_per_second = 1000000000u;
		hp_clock.shift = 4;
	}
	hp_clock_rebase();
}

void hp_clock_rebase(void)
{
	hp_clock.start_real_ns = hp_clock_real_ns();
	hp_clock.start_mono_ns = hp_clock_mono_ns();
	hp_clock.start = hp_clock.tsc ? __rdtsc() : hp_clock.start_mono_ns;
}
