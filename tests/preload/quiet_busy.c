/* A busy thread and a quiet one, for check_rounds.py: the writer keeps a quiet thread's
 * events in its ring for a while (preload/writer.c, DEFER_BYTES) and holds the ROUND
 * watermark back meanwhile.
 *
 *   busy:  malloc(64) + free in a loop until the quiet thread is done
 *   quiet: QUIET_BLOCKS x (malloc(777), 1 ms sleep, free): 200 blocks in ~0.25 s
 *
 * The quiet thread's blocks are tagged by their size; it prints its count. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define QUIET_BLOCKS 200
#define QUIET_SIZE 777

static atomic_int done;

static void *busy(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		void *volatile p = malloc(64);
		free(p);
	}
	return NULL;
}

static void *quiet(void *arg)
{
	(void)arg;
	struct timespec ms = {0, 1000000};
	for (int i = 0; i < QUIET_BLOCKS; i++) {
		void *volatile p = malloc(QUIET_SIZE);
		nanosleep(&ms, NULL);
		free(p);
	}
	return NULL;
}

int main(void)
{
	pthread_t b, q;
	if (pthread_create(&b, NULL, busy, NULL) || pthread_create(&q, NULL, quiet, NULL))
		return 1;
	pthread_join(q, NULL);
	atomic_store(&done, 1);
	pthread_join(b, NULL);
	printf("quiet_blocks %d\n", QUIET_BLOCKS);
	return 0;
}
