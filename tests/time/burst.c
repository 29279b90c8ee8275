/* A known burst, alone in its second (tests/time/check_time.py): after 1.2 s of
 * nothing, BURST blocks of BURST_BYTES in a few milliseconds, then every other one
 * freed (the heap keeps half of what it took from the system: fragmentation), then
 * 1.2 s of nothing before exit. The busiest 1-second window holds exactly the burst:
 * BURST calls and BURST * BURST_BYTES bytes. The blocks left stay reachable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BURST 20000
#define BURST_BYTES 1000

static void *blocks[BURST];

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

int main(void)
{
	puts("start");
	fflush(stdout);
	nap_ms(1200);
	for (int i = 0; i < BURST; i++) {
		blocks[i] = malloc(BURST_BYTES); /* @BURST */
		memset(blocks[i], 1, BURST_BYTES);
	}
	for (int i = 0; i < BURST; i += 2) {
		free(blocks[i]);
		blocks[i] = NULL;
	}
	nap_ms(1200);
	puts("ok");
	return 0;
}
