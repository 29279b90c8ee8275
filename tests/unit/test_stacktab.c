/* preload/stacktab.c: dense ids from 1, one id per distinct stack, growth past the
 * first table, and concurrent interning of the same stacks from several threads. */
#include "check.h"

#include <pthread.h>

#include "stacktab.h"

#define N 20000

static uint32_t ids[4][N];

static void make(uintptr_t *ips, unsigned i, unsigned *n)
{
	*n = 1 + i % 17;
	for (unsigned k = 0; k < *n; k++)
		ips[k] = 0x400000 + (uintptr_t)i * 64 + k * 8;
}

static void *worker(void *arg)
{
	uint32_t *out = arg;
	uintptr_t ips[32];
	unsigned n;
	for (unsigned i = 0; i < N; i++) {
		make(ips, i, &n);
		out[i] = hp_stacktab_intern(ips, n);
	}
	return NULL;
}

int main(void)
{
	CHECK_I64(hp_stacktab_init(), 0);
	CHECK_U64(hp_stacktab_published(), 0);
	uintptr_t a[3] = {1, 2, 3}, b[3] = {1, 2, 4};
	CHECK_U64(hp_stacktab_intern(a, 3), 1);
	CHECK_U64(hp_stacktab_intern(b, 3), 2);
	CHECK_U64(hp_stacktab_intern(a, 3), 1);
	CHECK_U64(hp_stacktab_intern(a, 2), 3); /* a prefix is another stack */
	CHECK_U64(hp_stacktab_intern(a, 0), 4); /* so is the empty one */
	CHECK_U64(hp_stacktab_published(), 4);
	const struct hp_stack *s = hp_stacktab_get(2);
	CHECK_U64(s->id, 2);
	CHECK_U64(s->nframes, 3);
	CHECK_U64(s->ips[2], 4);

	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, ids[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_U64(hp_stacktab_published(), 4 + N);
	unsigned mismatched = 0, bad = 0;
	for (unsigned i = 0; i < N; i++) {
		for (int k = 1; k < 4; k++)
			mismatched += ids[k][i] != ids[0][i];
		uintptr_t ips[32];
		unsigned n;
		make(ips, i, &n);
		const struct hp_stack *st = hp_stacktab_get(ids[0][i]);
		bad += st->nframes != n || memcmp(st->ips, ips, n * sizeof(*ips)) != 0;
	}
	CHECK_U64(mismatched, 0);
	CHECK_U64(bad, 0);
	return check_done();
}
