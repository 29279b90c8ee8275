/* Exactly known counts for every cost the exports carry (check_exports.py):
 *
 *   alloc_big:    10 x 100000 bytes, all live at once, then freed  <- the peak
 *   alloc_leak:    3 x   4096 bytes, never freed, live at the peak too
 *   use_temp:     50 x     64 bytes, each freed right after: temporaries
 *
 *   peak      1012288 bytes (10 + 3 blocks)   allocated 1015488 bytes
 *   calls     63                              leaked    12288 bytes (3 blocks)
 *   temporary 50
 * The leaks are allocated between the big blocks and their frees, so no free of a big
 * block follows an allocation of its own size and site (heaptrack's temporary test).
 * No stdio: nothing else is allocated. */
#include <stdlib.h>
#include <string.h>

#define BIG 100000
#define NBIG 10
#define LEAK 4096
#define NLEAK 3
#define TEMP 64
#define NTEMP 50

void *volatile big[NBIG];
void *volatile leak[NLEAK];

static __attribute__((noinline)) void *alloc_big(void)
{
	return malloc(BIG); /* @EXP_BIG */
}

static __attribute__((noinline)) void *alloc_leak(void)
{
	return malloc(LEAK); /* @EXP_LEAK */
}

static __attribute__((noinline)) void use_temp(void)
{
	char *p = malloc(TEMP); /* @EXP_TEMP */
	memset(p, 1, TEMP);
	free(p);
}

int main(void)
{
	for (int i = 0; i < NBIG; i++) {
		big[i] = alloc_big();
		memset(big[i], 1, BIG);
	}
	for (int i = 0; i < NLEAK; i++) {
		leak[i] = alloc_leak();
		memset(leak[i], 2, LEAK);
	}
	for (int i = 0; i < NBIG; i++)
		free(big[i]);
	for (int i = 0; i < NTEMP; i++)
		use_temp();
	return 0;
}
