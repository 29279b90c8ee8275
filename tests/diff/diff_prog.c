/* The two runs of the diff tests (tests/diff/check_diff.py): this file is built twice, as
 * hp_diff_base and as hp_diff_new (-DHP_DIFF_NEW). NEW inserts a function before all the
 * others, so every function of NEW is at another address than in BASE, while every line
 * stays where it is (the #ifdef'd lines count in both builds): the sites must match by
 * function, file and line. The counts differ by exactly:
 *
 *   site          BASE                     NEW                      change
 *   grow_calls    100 x 64 B, freed        150 x 64 B, freed        calls +50, bytes +3200
 *   shrink_calls  40 x 1000 B, freed       10 x 1000 B, freed       calls -30, bytes -30000
 *   two_per_line  20 x 2 x 16 B, freed     30 x 2 x 16 B, freed     calls +20, bytes +320
 *                 (two calls on one line: two stacks of one key, merged)
 *   leak_some     3 x 100 B, leaked        5 x 100 B, leaked        calls +2, bytes +200,
 *                                                                   leaked +200, peak +200
 *   peak_block    1 MiB, freed: the peak   1.5 MiB, freed: the peak calls 0, bytes +512 KiB,
 *                                                                   peak +512 KiB
 *   only_base     1 x 4096 B, freed        -                        gone: calls -1
 *   only_new      -                        7 x 32 B, freed          new: calls +7, bytes +224
 *
 *   totals: calls +48, bytes allocated +494136, peak +524488, leaked +200
 * No stdio, so the C runtime allocates the same in both runs. */
#include <stdlib.h>
#include <string.h>

#ifdef HP_DIFF_NEW
#define N_GROW 150
#define N_SHRINK 10
#define N_PAIRS 30
#define N_LEAK 5
#define PEAK_BYTES (1536 * 1024)
#else
#define N_GROW 100
#define N_SHRINK 40
#define N_PAIRS 20
#define N_LEAK 3
#define PEAK_BYTES (1024 * 1024)
#endif

void *volatile sink;

#ifdef HP_DIFF_NEW
static __attribute__((noinline)) void only_new(void)
{
	for (int i = 0; i < 7; i++) {
		void *p = malloc(32); /* @ONLY_NEW */
		memset(p, 7, 32);
		free(p);
	}
}
#else
static __attribute__((noinline)) void only_base(void)
{
	void *p = malloc(4096); /* @ONLY_BASE */
	memset(p, 1, 4096);
	free(p);
}
#endif

static __attribute__((noinline)) void grow_calls(void)
{
	for (int i = 0; i < N_GROW; i++)
		free(malloc(64)); /* @GROW */
}

static __attribute__((noinline)) void shrink_calls(void)
{
	for (int i = 0; i < N_SHRINK; i++)
		free(malloc(1000)); /* @SHRINK */
}

static __attribute__((noinline)) void two_per_line(void)
{
	for (int i = 0; i < N_PAIRS; i++) {
		void *a = malloc(16), *b = malloc(16); /* @PAIRS */
		free(a);
		free(b);
	}
}

static __attribute__((noinline)) void leak_some(void)
{
	for (int i = 0; i < N_LEAK; i++)
		sink = malloc(100); /* @LEAK */
}

static __attribute__((noinline)) void peak_block(void)
{
	char *p = malloc(PEAK_BYTES); /* @PEAK */
	memset(p, 2, PEAK_BYTES);
	sink = p;
	free(p);
}

int main(void)
{
#ifdef HP_DIFF_NEW
	only_new();
#else
	only_base();
#endif
	grow_calls();
	shrink_calls();
	two_per_line();
	leak_some();
	peak_block();
	return 0;
}
