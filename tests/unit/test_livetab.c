/* preload/livetab.c: EVENTS payloads of several threads fed in adversarial orders give
 * the exact live set; tombstones are collected below the watermark; 1M random
 * operations with reuse across threads, fed out of order, match a reference model; a
 * benchmark prints ns per event on a warm table. */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <heapprof/trace_format.h>

#include "../../preload/livetab.h"

/* An EVENTS payload encoder of one thread, as the recorder's hot path writes them. */
struct enc {
	uint8_t *buf, *p;
	size_t cap;
	uint64_t prev_time, prev_addr;
};

static void enc_init(struct enc *e, size_t cap)
{
	e->buf = e->p = malloc(cap);
	e->cap = cap;
	e->prev_time = e->prev_addr = 0;
}

static void enc_head(struct enc *e, uint64_t time, unsigned op)
{
	e->p = hp_put_varint(e->p, (time - e->prev_time) << HP_OP_BITS | op);
	e->prev_time = time;
}

static int64_t d16(uint64_t to, uint64_t from)
{
	return (int64_t)((to >> HP_ADDR_SHIFT) - (from >> HP_ADDR_SHIFT));
}

static void enc_alloc(struct enc *e, uint64_t time, uint64_t addr, uint64_t size, int abs)
{
	if (abs || (addr & 15)) {
		enc_head(e, time, HP_OP_EXT);
		e->p = hp_put_varint(e->p, HP_EXT_ALLOC_ABS);
		e->p = hp_put_varint(e->p, size);
		e->p = hp_put_varint(e->p, 7);
		e->p = hp_put_varint(e->p, addr);
	} else {
		enc_head(e, time, HP_OP_ALLOC);
		e->p = hp_put_varint(e->p, size);
		e->p = hp_put_varint(e->p, 7);
		e->p = hp_put_svarint(e->p, d16(addr, e->prev_addr));
	}
	e->prev_addr = addr;
}

static void enc_free(struct enc *e, uint64_t time, uint64_t addr, int abs)
{
	if (abs || (addr & 15)) {
		enc_head(e, time, HP_OP_EXT);
		e->p = hp_put_varint(e->p, HP_EXT_FREE_ABS);
		e->p = hp_put_varint(e->p, addr);
	} else {
		enc_head(e, time, HP_OP_FREE);
		e->p = hp_put_svarint(e->p, d16(addr, e->prev_addr));
	}
	e->prev_addr = addr;
}

static void enc_realloc(struct enc *e, uint64_t time, uint64_t old, uint64_t addr, uint64_t size,
			int abs)
{
	if (abs || (addr & 15) || (old & 15)) {
		enc_head(e, time, HP_OP_EXT);
		e->p = hp_put_varint(e->p, HP_EXT_REALLOC_ABS);
		e->p = hp_put_varint(e->p, old);
		e->p = hp_put_varint(e->p, size);
		e->p = hp_put_varint(e->p, 7);
		e->p = hp_put_varint(e->p, addr);
	} else {
		enc_head(e, time, HP_OP_REALLOC);
		e->p = hp_put_svarint(e->p, d16(old, e->prev_addr));
		e->p = hp_put_varint(e->p, size);
		e->p = hp_put_varint(e->p, 7);
		e->p = hp_put_svarint(e->p, d16(addr, old));
	}
	e->prev_addr = addr;
}

/* Feeds e's payload so far as one EVENTS record and starts the next one. */
static int flush(struct hp_livetab *t, struct hp_livetab_thread *st, struct enc *e)
{
	int err = hp_livetab_feed_events(t, st, e->buf, (size_t)(e->p - e->buf));
	e->p = e->buf;
	return err;
}

static uint64_t live_size(struct hp_livetab *t, uint64_t addr)
{
	struct hp_block *b;
	size_t n;
	uint64_t size = UINT64_MAX;
	CHECK(hp_livetab_export_sorted(t, &b, &n) == 0);
	for (size_t i = 0; i < n; i++)
		if (b[i].addr == addr)
			size = b[i].size;
	hp_block_array_free(b, n);
	return size;
}

#define P 0x7f0000001000ull
#define Q 0x7f0000002000ull

/* Thread B's chunk with the reuse of P arrives before thread A's chunk freeing it. */
static void test_reuse_across_threads(void)
{
	struct hp_livetab t;
	struct hp_livetab_thread a = {0}, b = {0};
	struct enc ea, eb;
	CHECK(hp_livetab_init(&t) == 0);
	enc_init(&ea, 1 << 12);
	enc_init(&eb, 1 << 12);
	enc_alloc(&ea, 10, P, 100, 0);
	enc_free(&ea, 20, P, 0);
	enc_alloc(&eb, 30, P, 200, 0);
	enc_alloc(&eb, 31, Q, 300, 0);
	CHECK(flush(&t, &b, &eb) == 0);
	CHECK(flush(&t, &a, &ea) == 0);
	CHECK_U64(hp_livetab_count(&t), 2);
	CHECK_U64(live_size(&t, P), 200);
	CHECK_U64(live_size(&t, Q), 300);

	/* The same events in order agree. */
	hp_livetab_release(&t);
	CHECK(hp_livetab_init(&t) == 0);
	a = b = (struct hp_livetab_thread){0};
	ea.prev_time = ea.prev_addr = eb.prev_time = eb.prev_addr = 0;
	enc_alloc(&ea, 10, P, 100, 0);
	enc_free(&ea, 20, P, 0);
	CHECK(flush(&t, &a, &ea) == 0);
	enc_alloc(&eb, 30, P, 200, 0);
	enc_alloc(&eb, 31, Q, 300, 0);
	CHECK(flush(&t, &b, &eb) == 0);
	CHECK_U64(hp_livetab_count(&t), 2);
	CHECK_U64(live_size(&t, P), 200);
	hp_livetab_release(&t);
	free(ea.buf);
	free(eb.buf);
}

/* Two incarnations of P spread over four threads, their chunks fed newest first: a table
 * that cancelled pairs would end with the second alloc live. */
static void test_crossed_incarnations(void)
{
	struct hp_livetab t;
	struct hp_livetab_thread st[4] = {{0}};
	struct enc e[4];
	CHECK(hp_livetab_init(&t) == 0);
	for (int i = 0; i < 4; i++)
		enc_init(&e[i], 1 << 12);
	enc_alloc(&e[0], 1, P, 10, 0);
	enc_free(&e[1], 2, P, 0);
	enc_alloc(&e[2], 3, P, 20, 0);
	enc_free(&e[3], 4, P, 0);
	int order[4] = {3, 0, 1, 2};
	for (int k = 0; k < 4; k++)
		CHECK(flush(&t, &st[order[k]], &e[order[k]]) == 0);
	CHECK_U64(hp_livetab_count(&t), 0);
	hp_livetab_gc(&t, 5);
	CHECK_U64(t.used, 0);
	for (int i = 0; i < 4; i++)
		free(e[i].buf);
	hp_livetab_release(&t);
}

/* realloc: moving, in place, of a block allocated before the recorder started, and the
 * EXT forms with unaligned addresses. */
static void test_realloc_and_ext(void)
{
	struct hp_livetab t;
	struct hp_livetab_thread st = {0};
	struct enc e;
	CHECK(hp_livetab_init(&t) == 0);
	enc_init(&e, 1 << 12);
	enc_alloc(&e, 1, P, 16, 0);
	enc_realloc(&e, 2, P, Q, 32, 0);		 /* moves */
	enc_realloc(&e, 3, Q, Q, 48, 0);		 /* in place: free then alloc, same time */
	enc_realloc(&e, 4, P + 0x100, P + 0x100, 64, 0); /* block from before the start */
	enc_alloc(&e, 5, P + 0x203, 5, 0);		 /* unaligned: ALLOC_ABS */
	enc_realloc(&e, 6, P + 0x203, P + 0x305, 6, 1);
	enc_free(&e, 6, P + 0x4000, 1); /* a pre-start block: a tombstone only */
	CHECK(flush(&t, &st, &e) == 0);
	CHECK_U64(hp_livetab_count(&t), 3);
	CHECK_U64(live_size(&t, P), UINT64_MAX);
	CHECK_U64(live_size(&t, Q), 48);
	CHECK_U64(live_size(&t, P + 0x100), 64);
	CHECK_U64(live_size(&t, P + 0x305), 6);
	CHECK_U64(st.prev_time, 6);
	CHECK_U64(st.prev_addr, P + 0x4000);

	/* Tombstones: P (freed by the move), P+0x203, P+0x4000; gc below their time keeps
	 * them, at or above drops them; the live blocks stay. */
	CHECK_U64(t.used, 6);
	hp_livetab_gc(&t, 2);
	CHECK_U64(t.used, 6);
	hp_livetab_gc(&t, 7);
	CHECK_U64(t.used, 3);
	CHECK_U64(t.ntombs, 0);
	CHECK_U64(hp_livetab_count(&t), 3);

	/* Malformed payloads: truncated event, unknown EXT op. */
	uint8_t bad1[] = {HP_OP_ALLOC, 0x80};
	CHECK(hp_livetab_feed_events(&t, &st, bad1, sizeof bad1) == -EINVAL);
	uint8_t bad2[] = {HP_OP_EXT, HP_EXT_LIMIT};
	CHECK(hp_livetab_feed_events(&t, &st, bad2, sizeof bad2) == -EINVAL);
	free(e.buf);
	hp_livetab_release(&t);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

#define NTHREADS 4
#define POOL 4096
#define OPS 1000000

struct op {
	uint64_t time, old, addr, size;
	uint8_t kind, thread; /* 0 alloc, 1 free, 2 realloc */
};

/* A global history of OPS operations in time order on a small pool of addresses, so
 * that addresses are reused often and by other threads; each thread's events are then
 * cut into chunks fed in random interleavings (per-thread order kept) with gc at valid
 * watermarks. The reference model is the pool array, sorted by address. */
static void test_random_against_model(void)
{
	static uint64_t pool[POOL];
	static uint64_t model_size[POOL];
	static uint8_t model_live[POOL];
	struct op *ops = malloc(OPS * sizeof *ops);
	for (size_t i = 0; i < POOL; i++)
		pool[i] = 0x10000000ull + i * 48 + ((i % 97) == 0 ? 8 : 0); /* a few unaligned */

	for (size_t i = 0; i < OPS; i++) {
		size_t k = rnd() % POOL;
		struct op *o = &ops[i];
		o->time = i + 1;
		o->thread = (uint8_t)(rnd() % NTHREADS);
		if (!model_live[k]) {
			o->kind = 0;
			o->addr = pool[k];
			o->size = rnd() % 1000;
			model_live[k] = 1;
			model_size[k] = o->size;
		} else if (rnd() % 3) {
			o->kind = 1;
			o->addr = pool[k];
			model_live[k] = 0;
		} else {
			size_t k2 = rnd() % POOL;
			if (model_live[k2] && k2 != k)
				k2 = k; /* in place */
			o->kind = 2;
			o->old = pool[k];
			o->addr = pool[k2];
			o->size = rnd() % 1000;
			model_live[k] = 0;
			model_live[k2] = 1;
			model_size[k2] = o->size;
		}
	}

	/* Encode each thread's stream, remembering where each op's event starts. */
	struct enc e[NTHREADS];
	size_t *cut[NTHREADS], ncut[NTHREADS] = {0};
	uint64_t *cut_time[NTHREADS];
	for (int th = 0; th < NTHREADS; th++) {
		enc_init(&e[th], (size_t)OPS * 40 / NTHREADS + (1 << 20));
		cut[th] = malloc((OPS + 1) * sizeof(size_t));
		cut_time[th] = malloc((OPS + 1) * sizeof(uint64_t));
	}
	for (size_t i = 0; i < OPS; i++) {
		struct op *o = &ops[i];
		struct enc *en = &e[o->thread];
		int abs = (rnd() % 16) == 0;
		cut[o->thread][ncut[o->thread]] = (size_t)(en->p - en->buf);
		cut_time[o->thread][ncut[o->thread]++] = o->time;
		if (o->kind == 0)
			enc_alloc(en, o->time, o->addr, o->size, abs);
		else if (o->kind == 1)
			enc_free(en, o->time, o->addr, abs);
		else
			enc_realloc(en, o->time, o->old, o->addr, o->size, abs);
	}
	for (int th = 0; th < NTHREADS; th++) {
		cut[th][ncut[th]] = (size_t)(e[th].p - e[th].buf);
		cut_time[th][ncut[th]] = UINT64_MAX;
	}

	/* Rounds: every thread publishes a chunk of up to 2000 events; the round feeds the
	 * threads' chunks in a random order; gc gets the lowest unfed time. */
	struct hp_livetab t;
	struct hp_livetab_thread st[NTHREADS] = {{0}};
	size_t pos[NTHREADS] = {0};
	CHECK(hp_livetab_init(&t) == 0);
	int left = NTHREADS, bad = 0;
	size_t max_used = 0;
	while (left) {
		int order[NTHREADS] = {0, 1, 2, 3};
		for (int k = NTHREADS - 1; k > 0; k--) {
			int j = (int)(rnd() % (uint64_t)(k + 1)), x = order[k];
			order[k] = order[j];
			order[j] = x;
		}
		left = 0;
		for (int k = 0; k < NTHREADS; k++) {
			int th = order[k];
			size_t from = pos[th], to = from + rnd() % 2000;
			if (to > ncut[th])
				to = ncut[th];
			bad |= hp_livetab_feed_events(&t, &st[th], e[th].buf + cut[th][from],
						      cut[th][to] - cut[th][from]);
			pos[th] = to;
			left += pos[th] < ncut[th];
		}
		uint64_t wm = UINT64_MAX;
		for (int th = 0; th < NTHREADS; th++)
			if (cut_time[th][pos[th]] < wm)
				wm = cut_time[th][pos[th]];
		hp_livetab_gc(&t, wm);
		if (t.used > max_used)
			max_used = t.used;
	}
	CHECK(bad == 0);

	struct hp_block *b;
	size_t n, nlive = 0, mismatches = 0;
	CHECK(hp_livetab_export_sorted(&t, &b, &n) == 0);
	for (size_t k = 0; k < POOL; k++) {
		if (!model_live[k])
			continue;
		if (nlive >= n || b[nlive].addr != pool[k] || b[nlive].size != model_size[k])
			mismatches++;
		nlive++;
	}
	CHECK_U64(n, nlive);
	CHECK_U64(mismatches, 0);
	CHECK_U64(hp_livetab_count(&t), nlive);
	for (size_t i = 1; i < n; i++)
		if (b[i - 1].addr >= b[i].addr)
			mismatches++;
	CHECK_U64(mismatches, 0);
	hp_livetab_gc(&t, UINT64_MAX);
	CHECK_U64(t.used, nlive);
	printf("random: %d ops, %zu live at the end, at most %zu slots used\n", OPS, nlive,
	       max_used);
	hp_block_array_free(b, n);
	hp_livetab_release(&t);
	for (int th = 0; th < NTHREADS; th++) {
		free(e[th].buf);
		free(cut[th]);
		free(cut_time[th]);
	}
	free(ops);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* A table holding 1M long-lived blocks, then rounds of malloc/free pairs fed as the
 * writer does (one payload per round, gc each round). `fresh`: every allocation gets an
 * address never seen (each event touches a cold slot: the worst case); otherwise a
 * working set of 4096 addresses is freed and reused, as malloc's caches do. */
static void bench(int fresh)
{
	enum { BASE = 1000000, ROUNDS = 40, PER_ROUND = 250000, HOT = 4096 };
	struct hp_livetab t;
	struct hp_livetab_thread st = {0};
	struct enc e;
	CHECK(hp_livetab_init(&t) == 0);
	enc_init(&e, (size_t)BASE * 16);
	uint64_t time = 1;
	for (size_t i = 0; i < BASE; i++)
		enc_alloc(&e, time++, 0x100000000ull + i * 64 * 16, 24 + i % 100, 0);
	CHECK(flush(&t, &st, &e) == 0);

	static uint64_t ring[HOT];
	for (size_t i = 0; i < HOT; i++)
		ring[i] = 0x200000000ull + i * 48;
	for (size_t i = 0; i < HOT; i++)
		enc_alloc(&e, time++, ring[i], 32, 0);
	CHECK(flush(&t, &st, &e) == 0);
	size_t events = 0;
	double spent = 0;
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t i = 0; i < PER_ROUND / 2; i++) {
			size_t k = rnd() % HOT;
			enc_free(&e, time++, ring[k], 0);
			if (fresh)
				ring[k] = 0x300000000ull + (time << 4);
			enc_alloc(&e, time++, ring[k], 32, 0);
			events += 2;
		}
		size_t len = (size_t)(e.p - e.buf);
		double t0 = now_ns();
		CHECK(hp_livetab_feed_events(&t, &st, e.buf, len) == 0);
		hp_livetab_gc(&t, time - PER_ROUND / 4);
		spent += now_ns() - t0;
		e.p = e.buf;
	}
	printf("bench (%s addresses): %.1f ns/event over %zu events, %zu live blocks\n",
	       fresh ? "fresh" : "reused", spent / (double)events, events, hp_livetab_count(&t));

	if (!fresh) {
		struct hp_block *b;
		size_t n;
		double t0 = now_ns();
		CHECK(hp_livetab_export_sorted(&t, &b, &n) == 0);
		printf("bench: export_sorted %.1f ms for %zu blocks\n", (now_ns() - t0) / 1e6, n);
		hp_block_array_free(b, n);
	}
	free(e.buf);
	hp_livetab_release(&t);
}

int main(int argc, char **argv)
{
	test_reuse_across_threads();
	test_crossed_incarnations();
	test_realloc_and_ext();
	test_random_against_model();
	if (!(argc > 1 && !strcmp(argv[1], "--no-bench"))) {
		bench(0);
		bench(1);
	}
	return check_done();
}
