/* Leaks argv[1] blocks of 32 bytes, each from its own call site in make_leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *make_leak(size_t n)
{
	char *p = malloc(n);
	if (p)
		memset(p, 1, n);
	return p;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	for (int i = 0; i < n; i++) {
		void *volatile p = make_leak(32);
		p = NULL; /* the only pointer is gone: definitely lost */
		(void)p;
	}
	puts("leaky: done");
	return 0;
}
