/* A server-shaped loop with known memory over time (tests/time/check_time.py):
 *
 *   startup_table  one block of STARTUP_BYTES before the first mark, never freed
 *   per request    a temporary of TEMP_BYTES, allocated and freed;
 *                  cache_put: one CACHE_BYTES entry into a bounded cache of CACHE_CAP
 *                  entries, the oldest freed when full (it plateaus after CACHE_CAP
 *                  requests);
 *                  history_add: one HISTORY_BYTES node onto a list kept to the end
 *                  (steady growth, still reachable: no leak checker calls it lost)
 *   marks          "warmup" after WARMUP requests (the cache is full by then), "half"
 *                  after REQUESTS / 2, "done" after the last; with "nowarmup" each
 *                  label is prefixed "no-", so that the fit's warm-up is the first 10%
 * Requests are REQUEST_US apart, so the run lasts about 2.4 s. At exit the cache is
 * freed and the history stays reachable from a global. Prints "ok". */
#include <heapprof/heapprof.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQUESTS 1200
#define WARMUP 300
#define REQUEST_US 2000
#define STARTUP_BYTES 50000
#define TEMP_BYTES 512
#define CACHE_BYTES 256
#define CACHE_CAP 200
#define HISTORY_BYTES 96

struct node {
	struct node *next;
	char payload[HISTORY_BYTES - sizeof(struct node *)];
};

static struct node *history;
static void *cache[CACHE_CAP];
static void *startup;
static const char *prefix = "";

static void mark(const char *label)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%s%s", prefix, label);
	if (heapprof_mark && heapprof_mark(buf))
		exit(3);
}

static void nap(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

static void startup_table(void)
{
	startup = malloc(STARTUP_BYTES); /* @STARTUP */
	memset(startup, 1, STARTUP_BYTES);
}

static void cache_put(int i)
{
	int slot = i % CACHE_CAP;
	free(cache[slot]);
	cache[slot] = malloc(CACHE_BYTES); /* @CACHE */
	memset(cache[slot], i & 0xff, CACHE_BYTES);
}

static void history_add(int i)
{
	struct node *n = malloc(sizeof *n); /* @HISTORY */
	memset(n->payload, i & 0xff, sizeof n->payload);
	n->next = history;
	history = n;
}

static void handle(int i)
{
	char *tmp = malloc(TEMP_BYTES); /* @TEMP */
	memset(tmp, i & 0xff, TEMP_BYTES);
	cache_put(i);
	history_add(i);
	free(tmp);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "nowarmup") == 0)
		prefix = "no-";
	startup_table();
	mark("start");
	for (int i = 0; i < REQUESTS; i++) {
		handle(i);
		if (i + 1 == WARMUP)
			mark("warmup");
		if (i + 1 == REQUESTS / 2)
			mark("half");
		nap(REQUEST_US);
	}
	mark("done");
	for (int i = 0; i < CACHE_CAP; i++)
		free(cache[i]);
	free(startup);
	puts("ok");
	return 0;
}
