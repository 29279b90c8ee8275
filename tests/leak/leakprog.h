/* Helpers of the leak test programs: allocation behind a call the optimizer keeps, and a
 * stack scrub so no stale copy of a "lost" pointer survives in a dead frame (both
 * valgrind and heapprof scan the exiting thread's stack conservatively). */
#ifndef HP_LEAKPROG_H
#define HP_LEAKPROG_H

#include <stdlib.h>
#include <string.h>

/* Holds a block for a moment before it is dropped: "x = leak_alloc(n); x = NULL". */
static void *volatile leak_sink __attribute__((unused));

__attribute__((noinline)) static void *leak_alloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		abort();
	memset(p, 0, n);
	return p;
}

__attribute__((noinline)) static void scrub_stack(void)
{
	volatile char buf[64 << 10];
	memset((char *)buf, 0, sizeof(buf));
	__asm__ volatile("" : : "r"(buf) : "memory");
}

#endif
