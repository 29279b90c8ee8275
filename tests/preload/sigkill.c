/* SIGKILL mid-run: allocates in a loop, prints "ready" after ~300 ms and goes on until
 * the harness kills it (or 30 s pass). With HEAPPROF_FLUSH_MS=50 the frames written
 * before the kill must decode; the trace has no END record (sigkill.expect). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *volatile ring[1024];

static __attribute__((noinline)) void churn(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned k = i % 1024;
		free(ring[k]);
		ring[k] = malloc(16 + k); /* @CHURN */
	}
}

int main(void)
{
	double start = now_s();
	int ready = 0;
	while (now_s() - start < 30) {
		churn(200);
		if (!ready && now_s() - start >= 0.3) {
			printf("ready\n");
			fflush(stdout);
			ready = 1;
		}
		struct timespec pause = {0, 1000000};
		nanosleep(&pause, NULL);
	}
	return 1; /* never killed: the harness failed */
}
