/* Possibly lost: a 64 B block known only by a pointer 16 bytes into it. */
#include "leakprog.h"

char *volatile inside;

int main(void)
{
	char *p = leak_alloc(64);
	inside = p + 16;
	p = NULL;
	scrub_stack();
	return 0;
}
