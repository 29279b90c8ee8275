/* The trace clock; see clock.h. */
#include "clock.h"

#include <cpuid.h>
#include <string.h>

#include "os.h"

struct hp_clock hp_clock = {.shift = 4, .ticks_per_second = 1000000000u};

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

static int clocksource_is(const char *buf, ssize_t n, const char *name)
{
	size_t len = strlen(name);
	return n >= (ssize_t)len && memcmp(buf, name, len) == 0 &&
	       (n == (ssize_t)len || buf[len] == '\n');
}

/* The TSC is safe to read directly when the kernel reads it too: as its clocksource,
 * or through kvm-clock (which scales the TSC) on a CPU whose TSC the hypervisor
 * declares invariant (constant rate, running in every state, the same on all vCPUs).
 * The vDSO's kvm-clock read costs ~28 ns here against ~11 ns for rdtsc, on every
 * event. */
static int tsc_trusted(void)
{
	char buf[32];
	ssize_t n =
	    hp_os_read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", buf,
			    sizeof(buf) - 1);
	if (clocksource_is(buf, n, "tsc"))
		return 1;
	unsigned a, b, c, d;
	return clocksource_is(buf, n, "kvm-clock") && __get_cpuid(0x80000007, &a, &b, &c, &d) &&
	       (d >> 8 & 1);
}

static void calibrate_tsc(void)
{
	uint64_t m0 = hp_clock_mono_ns(), t0 = __rdtsc();
	struct timespec nap = {0, 10 * 1000 * 1000};
	while (nanosleep(&nap, &nap))
		;
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
	hp_clock.tsc = choice == HP_CLOCK_TSC || (choice == HP_CLOCK_AUTO && tsc_trusted());
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
