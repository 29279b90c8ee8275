/* preload/leakscan.c: memcheck's classification on fake heaps built in test memory,
 * the LEAK_SCAN/LEAK_BLOCKS encoding, root collection, and the whole scan at exit. */
#define _GNU_SOURCE
#include "check.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <heapprof/trace_format.h>

#include "../../preload/leakscan.h"
#include "../../preload/liveset.h"

/* The fake heap: blocks are carved from it at fixed offsets; roots live in `root`. */
static uint64_t heap[4096] __attribute__((aligned(64)));
static uint64_t root[64];

#define A(off) ((uint64_t)(uintptr_t)&heap[(off) / 8])

struct fixture {
	struct hp_block b[64];
	uint8_t cls[64];
	uint64_t clique[64];
	size_t n;
	struct hp_leakscan_roots roots;
	struct hp_leak_summary sum;
};

static void fx_reset(struct fixture *f)
{
	memset(heap, 0, sizeof heap);
	memset(root, 0, sizeof root);
	hp_leakscan_roots_release(&f->roots);
	memset(f, 0, sizeof *f);
	CHECK(hp_leakscan_roots_add(&f->roots, (uintptr_t)root, (uintptr_t)(root + 64)) == 0);
}

/* Blocks must be added in address order. */
static size_t fx_block(struct fixture *f, uint64_t off, uint64_t size)
{
	f->b[f->n] = (struct hp_block){A(off), size, f->n};
	return f->n++;
}

static void put_ptr(uint64_t off, uint64_t value)
{
	heap[off / 8] = value;
}

static void fx_run(struct fixture *f)
{
	CHECK(hp_leakscan_run_cliques(f->b, f->n, &f->roots, f->cls, &f->sum, f->clique) == 0);
}

static void test_direct_and_reachable(struct fixture *f)
{
	fx_reset(f);
	size_t leak = fx_block(f, 0, 40);
	size_t kept = fx_block(f, 64, 24);
	size_t child = fx_block(f, 128, 8);
	root[3] = A(64);
	put_ptr(64 + 8, A(128));
	fx_run(f);
	CHECK_U64(f->cls[leak], HP_LEAK_DEFINITE);
	CHECK_U64(f->cls[kept], HP_LEAK_REACHABLE);
	CHECK_U64(f->cls[child], HP_LEAK_REACHABLE);
	CHECK_U64(f->sum.bytes[HP_LEAK_DEFINITE], 40);
	CHECK_U64(f->sum.blocks[HP_LEAK_DEFINITE], 1);
	CHECK_U64(f->sum.bytes[HP_LEAK_REACHABLE], 32);
	CHECK_U64(f->sum.blocks[HP_LEAK_REACHABLE], 2);
	CHECK_U64(f->clique[leak], 0);
}

/* 10 lost nodes, the head in the middle of the address order, so earlier nodes first
 * lead cliques of their own and are then absorbed by the head's (memcheck's merge). */
static void test_lost_list(struct fixture *f)
{
	fx_reset(f);
	/* node k at offset 64 * pos[k]; the list runs 0 -> 1 -> ... -> 9. */
	static const unsigned pos[10] = {5, 6, 7, 8, 9, 0, 1, 2, 3, 4};
	for (unsigned slot = 0; slot < 10; slot++)
		fx_block(f, 64 * slot, 48);
	for (unsigned k = 0; k + 1 < 10; k++)
		put_ptr(64 * pos[k] + 8, A(64 * pos[k + 1]));
	fx_run(f);
	CHECK_U64(f->cls[pos[0]], HP_LEAK_DEFINITE);
	for (unsigned k = 1; k < 10; k++)
		CHECK_U64(f->cls[pos[k]], HP_LEAK_INDIRECT);
	CHECK_U64(f->sum.blocks[HP_LEAK_DEFINITE], 1);
	CHECK_U64(f->sum.bytes[HP_LEAK_DEFINITE], 48);
	CHECK_U64(f->sum.blocks[HP_LEAK_INDIRECT], 9);
	CHECK_U64(f->sum.bytes[HP_LEAK_INDIRECT], 9 * 48);
	CHECK_U64(f->clique[pos[0]], 9 * 48);
	for (unsigned k = 1; k < 10; k++)
		CHECK_U64(f->clique[pos[k]], 0);
}

static void test_interior_only(struct fixture *f)
{
	fx_reset(f);
	size_t b = fx_block(f, 0, 64);
	root[0] = A(0) + 24;
	fx_run(f);
	CHECK_U64(f->cls[b], HP_LEAK_POSSIBLE);
	CHECK_U64(f->sum.bytes[HP_LEAK_POSSIBLE], 64);
	CHECK_U64(f->sum.blocks[HP_LEAK_POSSIBLE], 1);
}

static void test_lost_cycle(struct fixture *f)
{
	fx_reset(f);
	size_t x = fx_block(f, 0, 16), y = fx_block(f, 32, 16), z = fx_block(f, 64, 16);
	put_ptr(32, A(0));  /* y -> x */
	put_ptr(0, A(64));  /* x -> z */
	put_ptr(64, A(32)); /* z -> y */
	fx_run(f);
	CHECK_U64(f->cls[x], HP_LEAK_DEFINITE); /* the first in address order leads */
	CHECK_U64(f->cls[y], HP_LEAK_INDIRECT);
	CHECK_U64(f->cls[z], HP_LEAK_INDIRECT);
	CHECK_U64(f->clique[x], 32);
	CHECK_U64(f->sum.blocks[HP_LEAK_DEFINITE], 1);
	CHECK_U64(f->sum.blocks[HP_LEAK_INDIRECT], 2);
}

/* root -?-> X ---> Y: memcheck's case 7 (mc-manual "pointer chains"): Y is "indirectly
 * reachable" and reported possibly lost, since lc_process_markstack() scans a Possible
 * block with is_prior_definite False. A later start pointer from a root upgrades X,
 * and its rescan upgrades Y. */
static void test_interior_chain(struct fixture *f)
{
	fx_reset(f);
	size_t x = fx_block(f, 0, 32), y = fx_block(f, 64, 32);
	root[0] = A(0) + 8;
	put_ptr(16, A(64));
	fx_run(f);
	CHECK_U64(f->cls[x], HP_LEAK_POSSIBLE);
	CHECK_U64(f->cls[y], HP_LEAK_POSSIBLE);

	root[40] = A(0); /* scanned after root[0]: X and Y are upgraded */
	fx_run(f);
	CHECK_U64(f->cls[x], HP_LEAK_REACHABLE);
	CHECK_U64(f->cls[y], HP_LEAK_REACHABLE);
	CHECK_U64(f->sum.blocks[HP_LEAK_REACHABLE], 2);

	/* Y reached by start pointer from the root directly stays reachable, X possible. */
	root[40] = A(64);
	fx_run(f);
	CHECK_U64(f->cls[x], HP_LEAK_POSSIBLE);
	CHECK_U64(f->cls[y], HP_LEAK_REACHABLE);
}

static void test_one_past_end(struct fixture *f)
{
	fx_reset(f);
	size_t a = fx_block(f, 0, 32);
	size_t b = fx_block(f, 32, 32);	 /* adjacent: A's end is B's start */
	size_t c = fx_block(f, 128, 40); /* followed by a gap */
	root[0] = A(0) + 32;
	root[1] = A(128) + 40;
	fx_run(f);
	CHECK_U64(f->cls[a], HP_LEAK_DEFINITE);
	CHECK_U64(f->cls[b], HP_LEAK_REACHABLE);
	CHECK_U64(f->cls[c], HP_LEAK_DEFINITE);
	/* The last byte is interior. */
	root[1] = A(128) + 39;
	fx_run(f);
	CHECK_U64(f->cls[c], HP_LEAK_POSSIBLE);
}

/* malloc(0) blocks: a start pointer reaches one; its address + 1 does not. */
static void test_zero_size(struct fixture *f)
{
	fx_reset(f);
	size_t z = fx_block(f, 0, 0), w = fx_block(f, 64, 0), v = fx_block(f, 128, 0);
	root[0] = A(0);
	root[1] = A(64) + 1;
	put_ptr(256, A(128)); /* from outside any block: not a root, not scanned */
	fx_run(f);
	CHECK_U64(f->cls[z], HP_LEAK_REACHABLE);
	CHECK_U64(f->cls[w], HP_LEAK_DEFINITE);
	CHECK_U64(f->cls[v], HP_LEAK_DEFINITE);
	CHECK_U64(f->sum.bytes[HP_LEAK_REACHABLE], 0);
	CHECK_U64(f->sum.blocks[HP_LEAK_REACHABLE], 1);
}

/* A block marked NOSCAN is classified but its pointers are not followed; unaligned
 * words are not pointers (memcheck scans aligned words only). */
static void test_noscan_and_alignment(struct fixture *f)
{
	fx_reset(f);
	size_t p = fx_block(f, 0, 32), q = fx_block(f, 64, 32), r = fx_block(f, 128, 32);
	root[0] = A(0);
	put_ptr(0, A(64));
	uint64_t v = A(128);
	memcpy((uint8_t *)&heap[9] + 4, &v, 8); /* inside Q at an unaligned offset */
	f->cls[p] = HP_LEAKSCAN_NOSCAN;
	fx_run(f);
	CHECK_U64(f->cls[p], HP_LEAK_REACHABLE);
	CHECK_U64(f->cls[q], HP_LEAK_DEFINITE);
	CHECK_U64(f->cls[r], HP_LEAK_DEFINITE);
	f->cls[p] = 0;
	fx_run(f);
	CHECK_U64(f->cls[q], HP_LEAK_REACHABLE);
	CHECK_U64(f->cls[r], HP_LEAK_DEFINITE);
}

/* A long lost list (1M nodes) needs no recursion; the reachable twin likewise. */
static void test_long_list(void)
{
	enum { N = 1 << 20 };
	uint64_t *mem =
	    mmap(NULL, (size_t)N * 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct hp_block *b = malloc(N * sizeof *b);
	uint8_t *cls = calloc(N, 1);
	for (size_t i = 0; i < N; i++) {
		b[i] = (struct hp_block){(uintptr_t)&mem[2 * i], 16, i};
		mem[2 * i] = i + 1 < N ? (uintptr_t)&mem[2 * (i + 1)] : 0;
	}
	struct hp_leak_summary sum;
	CHECK(hp_leakscan_run(b, N, NULL, cls, &sum) == 0);
	CHECK_U64(sum.blocks[HP_LEAK_DEFINITE], 1);
	CHECK_U64(sum.blocks[HP_LEAK_INDIRECT], N - 1);
	uint64_t head = (uintptr_t)&mem[0];
	struct hp_leakscan_roots roots = {0};
	CHECK(hp_leakscan_roots_add(&roots, (uintptr_t)&head, (uintptr_t)(&head + 1)) == 0);
	memset(cls, 0, N);
	CHECK(hp_leakscan_run(b, N, &roots, cls, &sum) == 0);
	CHECK_U64(sum.blocks[HP_LEAK_REACHABLE], N);
	CHECK_U64(sum.bytes[HP_LEAK_REACHABLE], (uint64_t)N * 16);
	hp_leakscan_roots_release(&roots);
	free(b);
	free(cls);
	munmap(mem, (size_t)N * 16);
}

/* ---- records ---- */

struct sink {
	uint8_t *buf;
	size_t len, cap, calls;
};

static int sink_put(void *ctx, const void *p, size_t n)
{
	struct sink *s = ctx;
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->buf = realloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->calls++;
	return 0;
}

static uint64_t get(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = UINT64_MAX;
	CHECK(hp_get_varint(p, end, &v) == 0);
	return v;
}

static void test_records(void)
{
	enum { N = 2 * 65536 + 5 };
	struct hp_block *b = malloc(N * sizeof *b);
	uint8_t *cls = malloc(N);
	struct hp_leak_summary sum;
	memset(&sum, 0, sizeof sum);
	for (size_t i = 0; i < N; i++) {
		/* Slots in no particular order, as the live set has them. */
		b[i] = (struct hp_block){0x10000 + i * 32 + (i % 3), 10 + i % 7, (i * 7919) % N};
		cls[i] = (uint8_t)(i * 7 % 4);
		sum.bytes[cls[i]] += b[i].size;
		sum.blocks[cls[i]]++;
	}
	struct sink s = {0};
	CHECK(hp_leakscan_write_records(b, cls, N, &sum, 1234, 0, sink_put, &s) == 0);
	CHECK_U64(s.calls, 4); /* LEAK_SCAN + 3 LEAK_BLOCKS, each whole */
	const uint8_t *p = s.buf, *end = s.buf + s.len;
	CHECK_U64(get(&p, end), HP_REC_LEAK_SCAN);
	CHECK_U64(get(&p, end), 1234);
	CHECK_U64(get(&p, end), 0);
	static const unsigned order[4] = {HP_LEAK_DEFINITE, HP_LEAK_INDIRECT, HP_LEAK_POSSIBLE,
					  HP_LEAK_REACHABLE};
	for (unsigned k = 0; k < 4; k++) {
		CHECK_U64(get(&p, end), sum.bytes[order[k]]);
		CHECK_U64(get(&p, end), sum.blocks[order[k]]);
	}
	CHECK_U64(get(&p, end), N);
	size_t seen = 0, bad = 0, records = 0;
	while (p < end) {
		CHECK_U64(get(&p, end), HP_REC_LEAK_BLOCKS);
		uint64_t count = get(&p, end), slot = 0;
		CHECK(count <= HP_LEAK_BLOCKS_PER_RECORD);
		for (uint64_t k = 0; k < count; k++, seen++) {
			slot += (uint64_t)hp_unzigzag(get(&p, end));
			uint64_t c = get(&p, end);
			bad += seen >= N || slot != b[seen].key || c != cls[seen];
		}
		records++;
	}
	CHECK_U64(records, 3);
	CHECK_U64(seen, N);
	CHECK_U64(bad, 0);

	/* No blocks: LEAK_SCAN alone. */
	s.len = s.calls = 0;
	struct hp_leak_summary zero;
	memset(&zero, 0, sizeof zero);
	CHECK(hp_leakscan_write_records(NULL, NULL, 0, &zero, 1, 0, sink_put, &s) == 0);
	CHECK_U64(s.calls, 1);
	CHECK_U64(s.len, 1 + 1 + 1 + 8 + 1);
	free(s.buf);
	free(b);
	free(cls);
}

/* ---- roots ---- */

static int covered(const struct hp_leakscan_roots *r, const void *p)
{
	for (size_t i = 0; i < r->n; i++)
		if ((uintptr_t)p >= r->ranges[i].start && (uintptr_t)p < r->ranges[i].end)
			return 1;
	return 0;
}

static int test_global = 1; /* in this executable's writable segment */
static __thread uint64_t test_tls = 1;

struct other {
	pthread_barrier_t *go;
	volatile uint64_t *local;
	unsigned flags;
};

static void *other_thread(void *arg)
{
	struct other *o = arg;
	volatile uint64_t local = 42;
	int slot = hp_leakscan_thread_register(o->flags);
	CHECK(slot >= 0);
	o->local = &local;
	pthread_barrier_wait(o->go); /* registered */
	pthread_barrier_wait(o->go); /* scanned */
	hp_leakscan_thread_unregister(slot);
	return NULL;
}

static void test_collect_roots(void)
{
	volatile uint64_t local = 7;
	struct hp_leakscan_roots r = {0};
	CHECK(hp_leakscan_collect_roots(&r, 0, 0) == 0);
	CHECK(covered(&r, (const void *)&local));
	CHECK(!covered(&r, &test_global)); /* the module holding the scanner is not a root */
	CHECK(covered(&r, stdout));	   /* libc's data is (not &stdout: a copy relocation) */
	hp_leakscan_roots_release(&r);
	CHECK(hp_leakscan_collect_roots(&r, 0, HP_LEAKSCAN_ROOTS_SELF) == 0);
	CHECK(covered(&r, &test_global));
	CHECK(covered(&r, &test_tls)); /* this thread's static TLS */
	hp_leakscan_roots_release(&r);

	for (unsigned flags = 0; flags <= HP_LEAKSCAN_THREAD_EXCLUDE; flags++) {
		pthread_barrier_t go;
		pthread_barrier_init(&go, NULL, 2);
		struct other o = {&go, NULL, flags};
		pthread_t th;
		pthread_create(&th, NULL, other_thread, &o);
		pthread_barrier_wait(&go);
		CHECK(hp_leakscan_collect_roots(&r, 0, 0) == 0);
		CHECK(covered(&r, (const void *)o.local) == !flags);
		hp_leakscan_roots_release(&r);
		pthread_barrier_wait(&go);
		pthread_join(th, NULL);
		pthread_barrier_destroy(&go);
	}
}

/* ---- the whole scan ---- */

static __attribute__((noinline)) void scrub_stack(void)
{
	volatile uint8_t junk[32768];
	memset((void *)junk, 0, sizeof junk);
}

static __attribute__((noinline)) int run_at_exit(struct sink *s)
{
	return hp_leakscan_at_exit(99, sink_put, s);
}

static void test_at_exit(void)
{
	/* Blocks from mmap (neither heap nor this module's data); the only pointer to the
	 * first one is on this stack, the second one is lost. */
	uint8_t *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct hp_block stale;
	CHECK(hp_liveset_init() == 0);
	hp_liveset_reset();
	CHECK(hp_liveset_insert((uintptr_t)mem + 2048, 64, 7, &stale) == 0);
	CHECK(hp_liveset_insert((uintptr_t)mem, 32, 5, &stale) == 0);
	volatile uintptr_t keep = (uintptr_t)mem;
	uintptr_t lost = (uintptr_t)mem + 2048;
	lost = 0;
	(void)lost;
	scrub_stack();
	struct sink s = {0};
	CHECK(run_at_exit(&s) == 0);
	const uint8_t *p = s.buf, *end = s.buf + s.len;
	CHECK_U64(get(&p, end), HP_REC_LEAK_SCAN);
	CHECK_U64(get(&p, end), 99);
	CHECK_U64(get(&p, end), 0);
	uint64_t v[9];
	for (int k = 0; k < 9; k++)
		v[k] = get(&p, end);
	CHECK_U64(v[0], 64); /* definitely lost bytes */
	CHECK_U64(v[1], 1);
	CHECK_U64(v[6], 32); /* still reachable bytes */
	CHECK_U64(v[7], 1);
	CHECK_U64(v[8], 2);
	CHECK_U64(get(&p, end), HP_REC_LEAK_BLOCKS);
	CHECK_U64(get(&p, end), 2);
	CHECK_U64(get(&p, end), hp_zigzag(5)); /* keys, in address order */
	CHECK_U64(get(&p, end), HP_LEAK_REACHABLE);
	CHECK_U64(get(&p, end), hp_zigzag(7 - 5));
	CHECK_U64(get(&p, end), HP_LEAK_DEFINITE);
	CHECK(p == end);
	CHECK_U64(hp_liveset_count(), 2);
	(void)keep;
	free(s.buf);
	hp_liveset_reset();
	munmap(mem, 4096);
}

int main(void)
{
	struct fixture f = {0};
	test_direct_and_reachable(&f);
	test_lost_list(&f);
	test_interior_only(&f);
	test_lost_cycle(&f);
	test_interior_chain(&f);
	test_one_past_end(&f);
	test_zero_size(&f);
	test_noscan_and_alignment(&f);
	hp_leakscan_roots_release(&f.roots);
	test_long_list();
	test_records();
	test_collect_roots();
	test_at_exit();
	return check_done();
}
