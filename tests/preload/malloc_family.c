/* Every function of the malloc family, edge cases included, with exactly known totals.
 *
 * The program checks return values, errno, alignment and malloc_usable_size itself and
 * exits 1 on any difference, so it is its own control without the preload. No stdio is
 * used: a failure is reported with write(2), so run_tests() makes no allocation other
 * than the ones counted below (malloc_family.expect holds the same totals).
 *
 *   call                          allocations  frees  bytes
 *   malloc(100), free                   1        1      100
 *   calloc(10, 20), free                1        1      200
 *   malloc(0), free                     1        1        0
 *   realloc(NULL, 50)                   1        0       50
 *   realloc grow to 5000                1        1     5000
 *   realloc shrink to 10                1        1       10
 *   realloc(p, 0)                       0        1        0
 *   reallocarray(NULL, 4, 25)           1        0      100
 *   reallocarray(p, 8, 25), free        1        2      200
 *   posix_memalign(64, 300), free       1        1      300
 *   aligned_alloc(128, 256), free       1        1      256
 *   memalign(256, 1000), free           1        1     1000
 *   valloc(1000), free                  1        1     1000
 *   pvalloc(1000), free                 1        1     1000   (the requested size)
 *   malloc(777), calloc(3, 11) leaked   2        0      810
 *   not counted: free(NULL) x3, calloc and reallocarray overflow, malloc(SIZE_MAX),
 *   posix_memalign with alignment 3 and 0 (EINVAL)
 *   total                              15       13    10026, leaked 2 blocks, 810 bytes */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
static volatile size_t huge = SIZE_MAX / 2; /* volatile: no compile-time overflow warnings */
void *volatile leaked[2];

static void fail(const char *what)
{
	static const char prefix[] = "malloc_family: check failed: ";
	(void)!write(2, prefix, sizeof prefix - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, "\n", 1);
	failures++;
}

#define EXPECT(cond)                                                                               \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fail(#cond);                                                               \
	} while (0)

static int aligned(const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

static void usable(void *p, size_t n)
{
	EXPECT(p != NULL);
	EXPECT(malloc_usable_size(p) >= n);
	if (p && n)
		memset(p, 0xab, n); /* the block really has n bytes */
}

__attribute__((noinline)) void run_tests(void)
{
	void *p, *q;
	long page = sysconf(_SC_PAGESIZE);

	p = malloc(100); /* @MALLOC */
	usable(p, 100);
	free(p);

	p = calloc(10, 20); /* @CALLOC */
	EXPECT(p && ((unsigned char *)p)[0] == 0 && ((unsigned char *)p)[199] == 0);
	usable(p, 200);
	free(p);

	p = malloc(0); /* glibc returns a unique pointer: counted, size 0 */
	EXPECT(p != NULL);
	free(p);

	p = realloc(NULL, 50); /* @REALLOC_NULL */
	usable(p, 50);
	p = realloc(p, 5000); /* @REALLOC_GROW */
	usable(p, 5000);
	p = realloc(p, 10); /* @REALLOC_SHRINK */
	usable(p, 10);
	errno = 0;
	q = realloc(p, 0); /* frees p and returns NULL in glibc */
	EXPECT(q == NULL);

	p = reallocarray(NULL, 4, 25); /* @REALLOCARRAY */
	usable(p, 100);
	errno = 0;
	q = reallocarray(p, huge, 4); /* overflow: NULL, ENOMEM, p untouched */
	EXPECT(q == NULL && errno == ENOMEM);
	p = reallocarray(p, 8, 25);
	usable(p, 200);
	free(p);

	p = NULL;
	EXPECT(posix_memalign(&p, 64, 300) == 0); /* @POSIX_MEMALIGN */
	EXPECT(aligned(p, 64));
	usable(p, 300);
	free(p);
	q = (void *)1;
	EXPECT(posix_memalign(&q, 3, 10) == EINVAL); /* not a power of two */
	EXPECT(posix_memalign(&q, 0, 10) == EINVAL);
	EXPECT(q == (void *)1);

	p = aligned_alloc(128, 256); /* @ALIGNED_ALLOC */
	EXPECT(aligned(p, 128));
	usable(p, 256);
	free(p);

	p = memalign(256, 1000); /* @MEMALIGN */
	EXPECT(aligned(p, 256));
	usable(p, 1000);
	free(p);

	p = valloc(1000); /* @VALLOC */
	EXPECT(aligned(p, (size_t)page));
	usable(p, 1000);
	free(p);

	p = pvalloc(1000); /* @PVALLOC */
	EXPECT(aligned(p, (size_t)page));
	usable(p, (size_t)page); /* pvalloc rounds the block up to a whole page */
	free(p);

	free(NULL);
	free(NULL);
	free(NULL);

	errno = 0;
	p = calloc(huge, 4); /* overflow: NULL, ENOMEM, not counted */
	EXPECT(p == NULL && errno == ENOMEM);
	errno = 0;
	p = malloc(huge * 2 + 1); /* SIZE_MAX: cannot succeed */
	EXPECT(p == NULL && errno == ENOMEM);

	leaked[0] = malloc(777); /* @LEAK_MALLOC */
	usable(leaked[0], 777);
	leaked[1] = calloc(3, 11); /* @LEAK_CALLOC */
	usable(leaked[1], 33);
}

int main(void)
{
	run_tests();
	return failures ? 1 : 0;
}
