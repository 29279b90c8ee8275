/* Definitely lost: 3 x 16 B from lose_small, 1 x 100 B from lose_big. */
#include "leakprog.h"

__attribute__((noinline)) static void lose_small(void)
{
	leak_sink = leak_alloc(16);
	leak_sink = NULL;
}

__attribute__((noinline)) static void lose_big(void)
{
	leak_sink = leak_alloc(100);
	leak_sink = NULL;
}

int main(void)
{
	for (int i = 0; i < 3; i++)
		lose_small();
	lose_big();
	free(leak_alloc(50)); /* not a leak */
	scrub_stack();
	return 0;
}
