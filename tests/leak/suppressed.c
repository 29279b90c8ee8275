/* Leaks 3 x 24 B from lose_me (suppressed by tests/leak/lose_me.supp) and 1 x 8 B from
 * keep_me (not suppressed, unless argv[1] is "all"). */
#include <string.h>

#include "leakprog.h"

__attribute__((noinline)) void lose_me(void)
{
	leak_sink = leak_alloc(24);
	leak_sink = NULL;
}

__attribute__((noinline)) void keep_me(void)
{
	leak_sink = leak_alloc(8);
	leak_sink = NULL;
}

int main(int argc, char **argv)
{
	for (int i = 0; i < 3; i++)
		lose_me();
	if (argc < 2 || strcmp(argv[1], "all") != 0)
		keep_me();
	scrub_stack();
	return 0;
}
