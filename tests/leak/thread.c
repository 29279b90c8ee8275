/* A thread still blocked in pause() when main exits: it lost one 72 B block (definitely
 * lost) and holds a 56 B block on its stack (still reachable: a live thread's stack is a
 * root). */
#include <pthread.h>
#include <unistd.h>

#include "leakprog.h"

static volatile int ready;

__attribute__((noinline)) static void lose_in_thread(void)
{
	leak_sink = leak_alloc(72);
	leak_sink = NULL;
}

static void *worker(void *arg)
{
	(void)arg;
	void *volatile held = leak_alloc(56);
	lose_in_thread();
	scrub_stack();
	__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
	return (void *)held;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL))
		return 1;
	while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		usleep(1000);
	scrub_stack();
	return 0; /* exit() with the worker still in pause() */
}
