/* The library of the dlopen test: allocates with known stacks, then is dlclose'd.
 * dlo_build_table: 40 x 4321 bytes, the caller frees them; dlo_leak: 1 x 999, leaked. */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void **dlo_build_table(int n)
{
	void **table = calloc((size_t)n, sizeof *table); /* @DLO_TABLE */
	for (int i = 0; i < n; i++) {
		table[i] = malloc(4321); /* @DLO_ENTRY */
		memset(table[i], i, 4321);
	}
	return table;
}

__attribute__((noinline)) void *dlo_leak(void)
{
	return malloc(999); /* @DLO_LEAK */
}
