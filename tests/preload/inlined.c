/* An allocation in an always_inline function (this file is built -O2 -g): the site's
 * innermost frame is make_buf with "inlined": true, followed by the function it was
 * inlined into, fill_buffers, at the line of the call (inlined.expect). */
#include <stdlib.h>
#include <string.h>

#define NBUF 10

void *volatile bufs[NBUF];
volatile int nbuf = NBUF; /* unknown to the optimizer: the loop is not unrolled */

static inline __attribute__((always_inline)) void *make_buf(size_t n)
{
	void *p = malloc(n); /* @INLINE_ALLOC */
	if (p)
		memset(p, 0x5a, n);
	return p;
}

__attribute__((noinline)) void fill_buffers(void)
{
	int n = nbuf;
	for (int i = 0; i < n; i++)
		bufs[i] = make_buf(123); /* @INLINE_CALL */
}

__attribute__((noinline)) void release_buffers(void)
{
	int n = nbuf;
	for (int i = 0; i < n; i++)
		free(bufs[i]);
}

int main(void)
{
	fill_buffers();
	release_buffers();
	return 0;
}
