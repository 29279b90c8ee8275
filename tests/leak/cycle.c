/* A lost cycle of 3 blocks (48 B each): one definitely lost, two indirectly. */
#include "leakprog.h"

struct ring {
	struct ring *next;
	long pad[5];
};

__attribute__((noinline)) static void lose_ring(void)
{
	struct ring *a = leak_alloc(sizeof(*a)), *b = leak_alloc(sizeof(*b));
	struct ring *c = leak_alloc(sizeof(*c));
	a->next = b;
	b->next = c;
	c->next = a;
}

int main(void)
{
	lose_ring();
	scrub_stack();
	return 0;
}
