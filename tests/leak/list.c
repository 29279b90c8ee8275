/* A lost list of 5 nodes (32 B each): the head definitely lost, 4 nodes indirectly. */
#include "leakprog.h"

struct node {
	struct node *next;
	long payload[3];
};

__attribute__((noinline)) static void lose_list(void)
{
	struct node *volatile head = NULL;
	for (int i = 0; i < 5; i++) {
		struct node *n = leak_alloc(sizeof(*n));
		n->next = head;
		head = n;
	}
	head = NULL;
}

int main(void)
{
	lose_list();
	scrub_stack();
	return 0;
}
