/* The program of the terminal tests (tests/term/check_term.py), built without debug info:
 * 3 blocks of 1000 B from libhp_term_a.so, 2 of 2000 B from libhp_term_b.so, all leaked;
 * one block of 50 KiB freed, the peak. Its arguments are ignored: the tests give it empty
 * ones to see them quoted in the report's command line. */
#include <stdlib.h>
#include <string.h>

void *hp_term_alloc_a(size_t n);
void *hp_term_alloc_b(size_t n);

void *volatile keep[5];

int main(void)
{
	for (int i = 0; i < 3; i++)
		keep[i] = hp_term_alloc_a(1000);
	for (int i = 0; i < 2; i++)
		keep[3 + i] = hp_term_alloc_b(2000);
	char *p = malloc(50 * 1024);
	memset(p, 1, 50 * 1024);
	free(p);
	return 0;
}
