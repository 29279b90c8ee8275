/* heapprof_attach and heapprof_detach called by the program itself, as gdb calls them
 * for heapprof -p (wrapper_attach.py):  attach_api LIB TEMPLATE
 *
 *   5 blocks of 3000 + 16 i bytes          before the attach: unknown to the trace
 *   dlopen(LIB), heapprof_attach(TEMPLATE)
 *   10 blocks of 2000 + 16 k bytes, 5 freed  recorded
 *   the 5 older blocks freed                 FREE_UNKNOWN
 *   heapprof_detach(), and a wait until the slot is back
 *   10 more blocks of 2000 + 16 k bytes      not recorded
 * and says whether its own GOT slot for malloc pointed at the recorder while attached
 * and at the original malloc again after the detach. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The GOT slot itself, read anew each time (the compiler takes a function's address for
 * a constant). */
static void *got_malloc(void)
{
	void *p;
#if defined(__x86_64__)
	__asm__ volatile("movq malloc@GOTPCREL(%%rip), %0" : "=r"(p));
#else
	p = (void *)malloc;
#endif
	return p;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	void *old[5], *kept[10];
	for (int i = 0; i < 5; i++)
		old[i] = malloc(3000 + 16 * (size_t)i);
	void *orig = got_malloc();
	void *h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	int (*attach)(const char *) = (int (*)(const char *))dlsym(h, "heapprof_attach");
	int (*detach)(void) = (int (*)(void))dlsym(h, "heapprof_detach");
	void *ours = dlsym(h, "malloc");
	int a = attach(argv[2]);
	int patched = got_malloc() == ours;
	for (int k = 0; k < 10; k++)
		kept[k] = malloc(2000 + 16 * (size_t)k);
	for (int k = 0; k < 5; k++)
		free(kept[k]);
	for (int i = 0; i < 5; i++)
		free(old[i]);
	int d = detach();
	/* The writer thread puts the slots back within a round. */
	int restored = 0;
	for (int i = 0; i < 5000 && !restored; i++) {
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
		restored = got_malloc() == orig;
	}
	for (int k = 0; k < 10; k++)
		free(malloc(2000 + 16 * (size_t)k));
	int again = attach(argv[2]);
	printf("attach=%d patched=%d detach=%d restored=%d again=%d\n", a, patched, d, restored,
	       again);
	return 0;
}
