/* Still reachable: 2 blocks (40 B and 24 B) kept by globals; nothing lost. */
#include "leakprog.h"

void *keep_a;
static void *volatile keep_b;

int main(void)
{
	keep_a = leak_alloc(40);
	keep_b = leak_alloc(24);
	scrub_stack();
	return 0;
}
