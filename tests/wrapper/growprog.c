/* A program whose heap grows at a known pace, for the live view's tests
 * (wrapper_follow.py):
 *
 *   growprog SECONDS [LINGER [CHURN]]
 *
 * says "ready <pid>" once running, then every 10 ms keeps one block of GROW_SIZE bytes
 * (grow) and allocates and frees CHURN (default 200) blocks of CHURN_SIZE bytes (churn, CHURN_SIZE
 * to CHURN_SIZE + 976 bytes), for SECONDS seconds; then waits LINGER more seconds (default 0)
 * without allocating, frees nothing and exits 0. The heap at the end is SECONDS * 100 * GROW_SIZE
 * plus stdio's buffer. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define GROW_SIZE 1000
#define CHURN_SIZE 100

void *volatile sink;

static __attribute__((noinline)) void *grow(void)
{
	return malloc(GROW_SIZE);
}

static __attribute__((noinline)) void churn(long i)
{
	sink = malloc(CHURN_SIZE + (size_t)(i * 7919 % 977));
	free(sink);
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	long secs = argc > 1 ? atol(argv[1]) : 2, linger = argc > 2 ? atol(argv[2]) : 0;
	long n = argc > 3 ? atol(argv[3]) : 200;
	printf("ready %ld\n", (long)getpid());
	fflush(stdout);
	for (long t = 0; t < secs * 100; t++) {
		sink = grow();
		for (long i = 0; i < n; i++)
			churn(t * n + i);
		nap_ms(10);
	}
	nap_ms(linger * 1000);
	return 0;
}
