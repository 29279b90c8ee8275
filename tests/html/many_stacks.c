/* Many distinct stacks for the size bound of the HTML report (tests/html): allocation i
 * of N (argument, default 131072) is made through a chain of LEVELS calls whose function
 * at each level is one of four, chosen by the base-4 digits of i, so every allocation
 * has a stack of its own (4^LEVELS = 262,144 >= N). Each allocation is 16 to 128 bytes;
 * every 16th is kept to the end, the others freed at once. */
#include <stdlib.h>

#define LEVELS 9

static void *volatile keep;
static unsigned long kept;

static void step(unsigned level, unsigned path, unsigned i);

#define CHAIN(k)                                                                                   \
	static __attribute__((noinline)) void f##k(unsigned level, unsigned path, unsigned i)      \
	{                                                                                          \
		step(level, path, i);                                                              \
		kept++; /* not a tail call: the frame stays on the stack */                        \
	}
CHAIN(0)
CHAIN(1)
CHAIN(2)
CHAIN(3)

static __attribute__((noinline)) void leaf(unsigned i)
{
	void *p = malloc(16 + (i % 8) * 16);
	if (i % 16 == 0)
		keep = p; /* lost: a leak of known count */
	else
		free(p);
}

static void step(unsigned level, unsigned path, unsigned i)
{
	if (!level) {
		leaf(i);
		return;
	}
	switch (path & 3) {
	case 0:
		f0(level - 1, path >> 2, i);
		break;
	case 1:
		f1(level - 1, path >> 2, i);
		break;
	case 2:
		f2(level - 1, path >> 2, i);
		break;
	default:
		f3(level - 1, path >> 2, i);
	}
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 131072;
	for (unsigned i = 0; i < n; i++)
		step(LEVELS, i, i);
	return kept == 0; /* every chain counted: 0 */
}
