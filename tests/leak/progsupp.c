/* Leaks 2 x 40 B from lose_known, suppressed by the program's own
 * __lsan_default_suppressions() (the recorder stores it in the trace). */
#include "leakprog.h"

const char *__lsan_default_suppressions(void)
{
	return "# known leak\nleak:lose_known\n";
}

__attribute__((noinline)) void lose_known(void)
{
	leak_sink = leak_alloc(40);
	leak_sink = NULL;
}

int main(void)
{
	lose_known();
	lose_known();
	scrub_stack();
	return 0;
}
