/* example-server: a small, deterministic, server-like workload to profile (no network).
 *
 * It "handles" N requests (default 20000). What a heapprof report of it shows:
 *
 *   temporaries  parse_request() copies each request line into a scratch buffer and
 *                tokenizes it into a scratch array freed before any other allocation:
 *                1 temporary per request (the copy is not one: the array was
 *                allocated while it lived).
 *   growing      cache_put() stores every response in a cache that only grows until
 *   cache, peak  the end of the run (CACHE_LIMIT entries at most), so the heap peaks
 *                just before cache_trim() evicts three quarters of it.
 *   leak         handle_request() allocates a session per request and frees it on the
 *                way out, except on the error path taken by every 100th request, which
 *                returns early and loses it: N / 100 sessions leaked.
 *   slow growth  log_request() appends a 40-byte record to the access log every 10th
 *                request, kept for the whole run and freed at the end: always
 *                reachable, so no leak checker flags it, but the heap grows steadily
 *                (what --growth ranks first among the sites that never shrink).
 *
 * Everything is computed from the request number, so the totals are exact. For N a
 * multiple of 100 (and N <= 32000, so the cache never fills), with K = N / 8 + 1 keys:
 *   allocations  3 N (session, line copy, token array) + 0.99 N responses
 *                + K cache keys + N / 10 log records + 1 hash table + 1 stdout buffer
 *   temporaries  N              leaked  N / 100 sessions of 252 bytes
 * Runs in well under 0.1 s natively.
 *
 * Usage: example-server [requests [pause_us]]
 *   pause_us: sleep that long after every 100th request (default 0), so that a run
 *   lasts long enough for growth over time to show (tools/demo: 20000 5000, 1 s). */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_LIMIT 4096
#define MAX_TOKENS 8

struct session {
	unsigned id;
	char user[48];
	char scratch[200];
};

struct entry {
	char *key;
	char *value;
	size_t len;
};

struct cache {
	struct entry *slots; /* open addressing, CACHE_LIMIT * 2 slots */
	size_t used;
};

static unsigned long checksum;

/* The access log: a record per 10 requests, newest first, until the end of the run. */
struct log_entry {
	struct log_entry *next;
	unsigned id;
	char path[28];
};

static struct log_entry *access_log;

static void log_request(unsigned id, const char *line)
{
	struct log_entry *e = malloc(sizeof *e);
	e->id = id;
	snprintf(e->path, sizeof e->path, "%s", line + 4);
	e->next = access_log;
	access_log = e;
}

static void log_release(void)
{
	while (access_log) {
		struct log_entry *next = access_log->next;
		free(access_log);
		access_log = next;
	}
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Temporaries: the token array is freed before anything else is allocated. */
static int parse_request(const char *line, char *key, size_t key_size)
{
	char *copy = strdup(line);
	char **tokens = malloc(MAX_TOKENS * sizeof *tokens);
	int n = 0;
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && n < MAX_TOKENS;
	     t = strtok_r(NULL, " ", &save))
		tokens[n++] = t;
	int ok = n >= 2 && strcmp(tokens[0], "GET") == 0;
	if (ok)
		snprintf(key, key_size, "%s", tokens[1]);
	free(tokens);
	free(copy);
	return ok;
}

/* The cache keeps every new key: it grows for the whole run. */
static void cache_put(struct cache *c, const char *key, char *value, size_t len)
{
	size_t mask = CACHE_LIMIT * 2 - 1, i = hash(key) & mask;
	while (c->slots[i].key && strcmp(c->slots[i].key, key) != 0)
		i = (i + 1) & mask;
	struct entry *e = &c->slots[i];
	if (!e->key) {
		if (c->used == CACHE_LIMIT) {
			free(value); /* full: the response is not kept */
			return;
		}
		e->key = strdup(key);
		c->used++;
	} else {
		free(e->value);
	}
	e->value = value;
	e->len = len;
}

/* Evicts the entries whose hash is not a multiple of 4: about three quarters. */
static void cache_trim(struct cache *c)
{
	for (size_t i = 0; i < CACHE_LIMIT * 2; i++) {
		struct entry *e = &c->slots[i];
		if (e->key && hash(e->key) % 4 != 0) {
			free(e->key);
			free(e->value);
			e->key = NULL;
			e->value = NULL;
			c->used--;
		}
	}
}

static void cache_release(struct cache *c)
{
	for (size_t i = 0; i < CACHE_LIMIT * 2; i++) {
		free(c->slots[i].key);
		free(c->slots[i].value);
	}
	free(c->slots);
}

static char *render_response(unsigned id, const char *key, size_t *len)
{
	size_t size = 64 + (id % 7) * 128; /* responses of 64 .. 832 bytes */
	char *body = malloc(size);
	*len = (size_t)snprintf(body, size, "200 OK %s #%u", key, id);
	memset(body + *len, '.', size - *len - 1);
	body[size - 1] = '\0';
	return body;
}

/* The leak: every 100th request fails validation and returns without freeing. */
static int handle_request(struct cache *c, unsigned id, const char *line)
{
	struct session *s = malloc(sizeof *s);
	s->id = id;
	snprintf(s->user, sizeof s->user, "user%u", id % 97);
	char key[64];
	if (!parse_request(line, key, sizeof key)) {
		free(s);
		return -1;
	}
	if (id % 100 == 99)
		return -1; /* error path: the session is lost */
	size_t len;
	char *response = render_response(id, key, &len);
	checksum += len + s->user[4];
	cache_put(c, key, response, len);
	free(s);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000;
	long pause_us = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	struct cache c = {calloc(CACHE_LIMIT * 2, sizeof(struct entry)), 0};
	unsigned errors = 0;
	char line[128];

	for (unsigned id = 0; id < n; id++) {
		/* Each of the N / 8 + 1 keys is asked for about 8 times: the cache grows. */
		snprintf(line, sizeof line, "GET /item/%u HTTP/1.1", (id * 7919u) % (n / 8 + 1));
		if (handle_request(&c, id, line) != 0)
			errors++;
		if (id % 10 == 0)
			log_request(id, line);
		if (pause_us > 0 && id % 100 == 99) {
			struct timespec ts = {pause_us / 1000000, (pause_us % 1000000) * 1000};
			nanosleep(&ts, NULL);
		}
	}
	size_t peak_entries = c.used;
	cache_trim(&c);
	printf("example-server: %u requests, %u errors, cache %zu entries at the peak, %zu after "
	       "trimming, checksum %lu\n",
	       n, errors, peak_entries, c.used, checksum);
	cache_release(&c);
	log_release();
	return 0; /* what is still live now is the leak: the lost sessions (and stdout's buffer) */
}
