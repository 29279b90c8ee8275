/* Allocates and frees everything. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	void *p[16];
	for (int i = 0; i < 16; i++)
		p[i] = malloc((size_t)(i + 1) * 16);
	for (int i = 0; i < 16; i++)
		free(p[i]);
	puts("tidy: done");
	return 0;
}
