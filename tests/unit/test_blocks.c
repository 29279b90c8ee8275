/* The replay's live blocks (analyzer/blocks.c): found wherever they live (table, a
 * thread's window, evicted from it), removed from each, all visited once; a window grown
 * to its thread's block lifetime. */
#include <stdint.h>
#include <stdlib.h>

#include <heapprof/trace_codec.h>

#include "blocks.h"
#include "check.h"

static void count_one(void *ctx, const struct hp_block_rec *b)
{
	(void)b;
	++*(size_t *)ctx;
}

static void test_dense(int windows)
{
	struct hp_blocks m;
	CHECK(hp_blocks_init(&m, windows) == 0);
	enum { N = 20000 };
	int bad = 0;
	/* Two threads; every third block lives long (it outlasts the window). */
	for (uint64_t s = 1; s <= N; s++)
		for (uint32_t t = 1; t <= 2; t++) {
			struct hp_block_rec b = {hp_ev3_key(t, s), s * t, s, (uint32_t)s, t};
			bad |= hp_blocks_insert(&m, &b) != 0;
			if (s > 5 && (s - 5) % 3) { /* a short-lived one, 5 allocations old */
				struct hp_block_rec *f = hp_blocks_find(&m, hp_ev3_key(t, s - 5));
				bad |= !f || f->size != (s - 5) * t;
				if (f)
					hp_blocks_remove(&m, f);
			}
		}
	CHECK(!bad);
	for (uint64_t s = 1; s <= N; s++)
		for (uint32_t t = 1; t <= 2; t++) {
			int live = s % 3 == 0 || s > N - 5; /* freed: s - 5 with (s - 5) % 3 */
			struct hp_block_rec *f = hp_blocks_find(&m, hp_ev3_key(t, s));
			bad |= live ? !f || f->size != s * t || f->thread != t : f != NULL;
		}
	CHECK(!bad);
	size_t visited = 0;
	hp_blocks_foreach(&m, count_one, &visited);
	CHECK_U64(visited, m.count);
	for (uint64_t s = 1; s <= N; s++)
		for (uint32_t t = 1; t <= 2; t++) {
			struct hp_block_rec *f = hp_blocks_find(&m, hp_ev3_key(t, s));
			if (f)
				hp_blocks_remove(&m, f);
		}
	CHECK_U64(m.count, 0);
	visited = 0;
	hp_blocks_foreach(&m, count_one, &visited);
	CHECK_U64(visited, 0);
	CHECK(!windows || (m.nwin > 2 && m.win[1] && m.win[2]));
	hp_blocks_release(&m);
}

/* A window grows to the lifetime of a thread's blocks and no further: thread 1 frees
 * each block 5,000 allocations after it (every move of a 2,048- or 4,096-seq window
 * evicts a live block; of an 8,192 one none), thread 2 after 5 (its window stays). Every
 * block is found, in the window or in the table, before, during and after growing. */
static void test_growth(void)
{
	struct hp_blocks m;
	CHECK(hp_blocks_init(&m, 1) == 0);
	enum { N = 60000, LIFE1 = 5000, LIFE2 = 5 };
	int bad = 0;
	for (uint64_t s = 1; s <= N; s++)
		for (uint32_t t = 1; t <= 2; t++) {
			uint64_t life = t == 1 ? LIFE1 : LIFE2;
			struct hp_block_rec b = {hp_ev3_key(t, s), s + t, s, 0, t};
			bad |= hp_blocks_insert(&m, &b) != 0;
			if (s > life) {
				struct hp_block_rec *f =
				    hp_blocks_find(&m, hp_ev3_key(t, s - life));
				bad |= !f || f->size != s - life + t;
				if (f)
					hp_blocks_remove(&m, f);
			}
		}
	CHECK(!bad);
	CHECK(m.nwin > 2 && m.win[1] && m.win[2]);
	CHECK_U64(m.win[1]->mask + 1, 8192);
	CHECK_U64(m.win[2]->mask + 1, HP_BLOCKS_WINDOW);
	CHECK_U64(m.count, LIFE1 + LIFE2);
	for (uint64_t s = 1; s <= N; s++) {
		struct hp_block_rec *f = hp_blocks_find(&m, hp_ev3_key(1, s));
		bad |= s > N - LIFE1 ? !f || f->size != s + 1 : f != NULL;
	}
	CHECK(!bad);
	size_t visited = 0;
	hp_blocks_foreach(&m, count_one, &visited);
	CHECK_U64(visited, LIFE1 + LIFE2);
	hp_blocks_release(&m);
}

/* Keys of any shape (addresses, v2 slots' keys) and key 0. */
static void test_sparse(void)
{
	struct hp_blocks m;
	CHECK(hp_blocks_init(&m, 0) == 0);
	struct hp_block_rec z = {0, 7, 0, 0, 0}, a = {0x7f0012345670ull, 8, 0, 0, 0};
	CHECK(hp_blocks_insert(&m, &z) == 0 && hp_blocks_insert(&m, &a) == 0);
	CHECK(hp_blocks_find(&m, 0) && hp_blocks_find(&m, 0)->size == 7);
	CHECK(hp_blocks_find(&m, a.key) && hp_blocks_find(&m, a.key)->size == 8);
	CHECK(!hp_blocks_find(&m, a.key + 16));
	hp_blocks_remove(&m, hp_blocks_find(&m, 0));
	CHECK(!hp_blocks_find(&m, 0));
	CHECK_U64(m.count, 1);
	hp_blocks_release(&m);
}

int main(void)
{
	test_dense(1);
	test_dense(0);
	test_growth();
	test_sparse();
	return check_done();
}
