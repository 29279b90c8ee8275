/* The live set (preload/liveset.c): insert, remove, stale entries, growth, the fork
 * epoch, the sorted export, and four threads working it at once against a model. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "liveset.h"

/* Addresses spread like malloc's: 16-byte aligned, clustered. */
static uint64_t addr_of(uint64_t i)
{
	return 0x7f0000000000ull + i * 48;
}

static void test_basic(void)
{
	CHECK(hp_liveset_init() == 0);
	hp_liveset_reset();
	struct hp_block b, stale;
	CHECK(hp_liveset_remove(addr_of(1), &b) == 0);
	CHECK(hp_liveset_insert(addr_of(1), 100, 7, &stale) == 0);
	CHECK(hp_liveset_insert(addr_of(2), 200, 8, &stale) == 0);
	/* A second insert at a live address: the missed release comes back as stale. */
	CHECK(hp_liveset_insert(addr_of(1), 300, 9, &stale) == 1);
	CHECK_U64(stale.size, 100);
	CHECK_U64(stale.key, 7);
	CHECK_U64(hp_liveset_count(), 2);
	CHECK(hp_liveset_remove(addr_of(1), &b) == 1);
	CHECK_U64(b.addr, addr_of(1));
	CHECK_U64(b.size, 300);
	CHECK_U64(b.key, 9);
	CHECK(hp_liveset_remove(addr_of(1), &b) == 0);
	/* A hint block at the same address as a malloc block is another entry. */
	CHECK(hp_liveset_insert(addr_of(2) | HP_HINT_TAG, 16, 10, &stale) == 0);
	CHECK(hp_liveset_remove(addr_of(2), &b) == 1 && b.key == 8);
	CHECK(hp_liveset_remove(addr_of(2) | HP_HINT_TAG, &b) == 1 && b.key == 10);
	CHECK_U64(hp_liveset_count(), 0);
}

/* Growth and backward-shift removal: a million blocks, every other one removed, then
 * the export is exactly the rest, sorted. */
static void test_many(void)
{
	hp_liveset_reset();
	enum { N = 1000000 };
	struct hp_block stale, b;
	int bad = 0;
	for (uint64_t i = 1; i <= N; i++)
		bad |= hp_liveset_insert(addr_of(i * 7919 % N + 1), i, i, &stale) != 0;
	CHECK(!bad);
	CHECK_U64(hp_liveset_count(), N);
	for (uint64_t i = 1; i <= N; i += 2)
		bad |= hp_liveset_remove(addr_of(i * 7919 % N + 1), &b) != 1 || b.key != i;
	CHECK(!bad);
	struct hp_block *all;
	size_t n;
	CHECK(hp_liveset_export_sorted(&all, &n) == 0);
	CHECK_U64(n, N / 2);
	for (size_t i = 0; i < n; i++) {
		bad |= i && all[i].addr <= all[i - 1].addr;
		bad |= all[i].key % 2 != 0 || all[i].size != all[i].key;
		bad |= all[i].addr != addr_of(all[i].key * 7919 % N + 1);
	}
	CHECK(!bad);
	hp_block_array_free(all, n);
	for (uint64_t i = 2; i <= N; i += 2)
		bad |= hp_liveset_remove(addr_of(i * 7919 % N + 1), &b) != 1 || b.key != i;
	CHECK(!bad);
	CHECK_U64(hp_liveset_count(), 0);
}

/* After a fork, every block live then is the parent's: inherited, whatever its key. */
static void test_fork_epoch(void)
{
	hp_liveset_reset();
	struct hp_block stale, b;
	CHECK(hp_liveset_insert(addr_of(1), 10, 5, &stale) == 0);
	hp_liveset_lock();
	hp_liveset_fork_child();
	CHECK(hp_liveset_insert(addr_of(2), 20, 6, &stale) == 0);
	struct hp_block *all;
	size_t n;
	CHECK(hp_liveset_export_sorted(&all, &n) == 0 && n == 2);
	CHECK(n == 2 && all[0].key == HP_LIVESET_INHERITED && all[1].key == 6);
	hp_block_array_free(all, n);
	CHECK(hp_liveset_remove(addr_of(1), &b) == 1 && b.key == HP_LIVESET_INHERITED);
	CHECK(hp_liveset_remove(addr_of(2), &b) == 1 && b.key == 6);
}

/* Four threads, each inserting and removing its own addresses, and taking over ranges
 * another thread released: every remove finds exactly what was put there. */
enum { THREADS = 4, OPS = 300000, RANGE = 4096 };

struct worker {
	unsigned id;
	int bad;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct hp_block stale, b;
	uint64_t x = 0x9e3779b97f4a7c15ull * (w->id + 1);
	uint64_t *mine = calloc(RANGE, sizeof *mine); /* key of each live address, 0: free */
	for (unsigned i = 0; i < OPS; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned slot = (unsigned)(x % RANGE);
		uint64_t a = addr_of((uint64_t)slot * THREADS + w->id + 1);
		if (mine[slot]) {
			w->bad |= hp_liveset_remove(a, &b) != 1 || b.key != mine[slot] ||
				  b.size != mine[slot] % 1000;
			mine[slot] = 0;
		} else {
			uint64_t key = ((uint64_t)w->id << 40) | (i + 1);
			w->bad |= hp_liveset_insert(a, key % 1000, key, &stale) != 0;
			mine[slot] = key;
		}
	}
	for (unsigned slot = 0; slot < RANGE; slot++)
		if (mine[slot])
			w->bad |= hp_liveset_remove(addr_of((uint64_t)slot * THREADS + w->id + 1),
						    &b) != 1;
	free(mine);
	return NULL;
}

static void test_threads(void)
{
	hp_liveset_reset();
	pthread_t th[THREADS];
	struct worker w[THREADS];
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){i, 0};
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK(!w[i].bad);
	}
	CHECK_U64(hp_liveset_count(), 0);
}

int main(void)
{
	test_basic();
	test_many();
	test_fork_epoch();
	test_threads();
	return check_done();
}
