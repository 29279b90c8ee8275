/* Frame shapes for test_unwind_cfa.c, built with -fomit-frame-pointer -O2 (see
 * tests/unit/CMakeLists.txt): each calls back into descend() one level down and uses
 * the result, so none becomes a tail call. */
#include <alloca.h>
#include <string.h>

int descend(int depth, unsigned max);

/* CFA = rsp + a small constant. */
__attribute__((noinline)) int shape_small(int depth, unsigned max)
{
	return descend(depth - 1, max) + 1;
}

/* A 3 KiB frame. */
__attribute__((noinline)) int shape_big(int depth, unsigned max)
{
	volatile char buf[3000];
	buf[depth % 3000] = (char)depth;
	return descend(depth - 1, max) + buf[depth % 3000];
}

/* A frame larger than the probe's fake stack (256 KiB): judged "other", the walk goes
 * to libunwind. */
__attribute__((noinline)) int shape_huge(int depth, unsigned max)
{
	volatile char buf[300000];
	buf[depth] = (char)depth;
	return descend(depth - 1, max) + buf[depth];
}

/* alloca: the CFA is rbp-based even without frame pointers. */
__attribute__((noinline)) int shape_alloca(int depth, unsigned max)
{
	volatile char *p = alloca((size_t)(depth % 7) * 16 + 16);
	p[0] = (char)depth;
	return descend(depth - 1, max) + p[0];
}

/* An over-aligned local: gcc realigns the stack and describes the CFA with an
 * expression. */
__attribute__((noinline)) int shape_aligned(int depth, unsigned max)
{
	volatile int x __attribute__((aligned(64))) = depth;
	return descend(depth - 1, max) + x;
}

/* rbp used as a scratch register: it is saved at a CFA offset and holds garbage
 * during the call. */
__attribute__((noinline)) int shape_clobber(int depth, unsigned max)
{
	__asm__ volatile("movq $0x1234567, %%rbp" ::: "rbp", "memory");
	return descend(depth - 1, max) + 3;
}
