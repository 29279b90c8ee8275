/* Unwritable output: the recorder cannot create its file. The program must behave
 * exactly as without the preload (same stdout, stderr and exit status 3) and heapprof
 * says so once on stderr (unwritable.expect). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *blocks[1000];
	size_t total = 0;
	for (int i = 0; i < 1000; i++) {
		blocks[i] = malloc((size_t)i + 1);
		memset(blocks[i], 'x', (size_t)i + 1);
		total += (size_t)i + 1;
	}
	for (int i = 0; i < 1000; i++)
		free(blocks[i]);
	printf("allocated %zu bytes in 1000 blocks\n", total);
	printf("done\n");
	fprintf(stderr, "unwritable: a line of the program's own on stderr\n");
	return 3;
}
