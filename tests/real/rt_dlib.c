/* rt_dlib: a library that allocates from its constructor, its functions and its
 * destructor; rt_torture dlopens it (1000 times, and once with RTLD_DEEPBIND). */
#include <stdlib.h>
#include <string.h>

#define DLIB_SIZE 3000

static void *ctor_block;

__attribute__((constructor)) static void dlib_init(void)
{
	ctor_block = malloc(DLIB_SIZE + 1);
}

__attribute__((destructor)) static void dlib_fini(void)
{
	free(ctor_block);
	ctor_block = NULL;
}

/* Allocates and frees n blocks; returns the number of allocations made. */
__attribute__((visibility("default"), noinline)) long rt_dlib_work(int n)
{
	long count = 0;
	for (int i = 0; i < n; i++) {
		char *p = malloc(DLIB_SIZE);
		if (!p)
			continue;
		memset(p, i, DLIB_SIZE);
		free(p);
		count++;
	}
	return count;
}

__attribute__((visibility("default"))) void *rt_dlib_alloc(size_t size)
{
	return malloc(size);
}

__attribute__((visibility("default"))) void rt_dlib_free(void *p)
{
	free(p);
}
