/* Writes the synthesized part of the seed corpus (tests/fuzz/corpus/README.md):
 *
 *   fuzz_gen_corpus DIR      writes DIR/reader/<case>.hpt (trace files, for fuzz_reader)
 *                            and DIR/records/<case>.rec (record streams, for fuzz_records;
 *                            frames separated by "HPFRAME!")
 *
 * Valid traces of every record kind in both format versions (v1: addresses, v2: slots),
 * and the malformed inputs a reader must refuse or survive: huge counts and lengths,
 * overlong varints, unknown ids, slots out of range, extreme times and clock parameters,
 * decompression bombs. Deterministic: rerunning gives the same files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trace_builder.h"

#define SEP "HPFRAME!"

struct gen {
	struct tb b;
	struct tb_buf rec; /* the record stream, frames separated by SEP */
	int nframes;
};

static const char *outdir;

static void gen_init(struct gen *g)
{
	tb_init(&g->b);
	g->b.level = 1;
	memset(&g->rec, 0, sizeof g->rec);
	g->nframes = 0;
}

static void gen_frame(struct gen *g)
{
	if (g->nframes++)
		tb_buf_put(&g->rec, SEP, strlen(SEP));
	tb_buf_put(&g->rec, g->b.raw.data, g->b.raw.len);
	tb_frame(&g->b);
}

static void write_file(const char *sub, const char *name, const char *ext, const void *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s/%s.%s", outdir, sub, name, ext);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		fprintf(stderr, "fuzz_gen_corpus: cannot write '%s': %s\n", path, strerror(errno));
		exit(1);
	}
}

/* Frames what is pending, writes both forms, releases. */
static void gen_done(struct gen *g, const char *name)
{
	if (g->b.raw.len || !g->nframes)
		gen_frame(g);
	write_file("reader", name, "hpt", g->b.out.data, g->b.out.len);
	write_file("records", name, "rec", g->rec.data, g->rec.len);
	tb_release(&g->b);
	free(g->rec.data);
}

static void u(struct gen *g, uint64_t v)
{
	tb_buf_u(&g->b.raw, v);
}

static void header(struct gen *g, const struct tb_header_args *a)
{
	static const struct tb_header_args def = {
	    .pid = 42, .ppid = 1, .exe = "/usr/bin/seed", .cmdline = "seed\0-x", .cmdline_len = 7};
	tb_header(&g->b, a ? a : &def);
}

/* A small process: two modules, four stacks, two threads, every record kind. */
static void base_trace(struct gen *g, int leaks)
{
	static const uint64_t seg[2][3] = {{0, 0x2000, 5}, {0x3000, 0x1000, 6}};
	header(g, NULL);
	tb_clock_sync(&g->b, 1000, 1000);
	tb_module(&g->b, 1, "/usr/bin/seed", "\x01\x02\x03\x04", 4, 0x400000, 2, seg);
	tb_module(&g->b, 2, "/lib/x86_64-linux-gnu/libc.so.6", "", 0, 0x7f0000000000, 1, seg);
	uint64_t s1[] = {0x400100, 0x400200, 0x7f0000000100};
	uint64_t s2[] = {0x400300, 0x7f0000000100};
	uint64_t s3[] = {0x7f0000000500};
	uint64_t s4[] = {0x123, 0x400100, 0x400100, 0xffffffffffffff00ull};
	tb_stack(&g->b, 1, 3, s1);
	tb_stack(&g->b, 2, 2, s2);
	tb_stack(&g->b, 3, 1, s3);
	tb_stack(&g->b, 4, 4, s4);
	tb_thread(&g->b, 0, 42, 0);
	tb_thread_name(&g->b, 0, "main");
	tb_thread(&g->b, 1, 43, 5);
	tb_thread_name(&g->b, 1, "worker\x01\xff");
	tb_alloc(&g->b, 0, 10, 100, 1, 0x10000);
	tb_alloc(&g->b, 0, 11, 0, 2, 0x10070);
	tb_alloc(&g->b, 0, 12, 24, 3, 0x10093); /* unaligned: ALLOC_ABS */
	tb_alloc(&g->b, 1, 12, 4096, 4, 0x20000);
	tb_realloc(&g->b, 0, 20, 0x10000, 200, 1, 0x30000);
	tb_realloc(&g->b, 0, 21, 0x10093, 48, 3, 0x10093); /* in place, unaligned */
	tb_free(&g->b, 1, 25, 0x10070);			   /* freed by another thread */
	tb_flush_events(&g->b);
	tb_rss(&g->b, 15, 1 << 20);
	tb_round(&g->b, 10);
	gen_frame(g);
	tb_alloc(&g->b, 1, 30, 64, 2, 0x40000);
	tb_free(&g->b, 0, 31, 0x30000);
	tb_alloc(&g->b, 0, 40, 64, 2, 0x50000);
	tb_flush_events(&g->b);
	tb_thread_exit(&g->b, 1, 45);
	tb_module_unload(&g->b, 2, 46);
	tb_clock_sync(&g->b, 5000, 5100);
	tb_rss(&g->b, 47, 3 << 20);
	tb_round(&g->b, 30);
	tb_fork(&g->b, 48, 99);
	tb_exit(&g->b, 49, -3);
	if (leaks) {
		/* LEAK_SCAN: time, flags, 4 x (bytes, blocks), nblocks */
		u(g, HP_REC_LEAK_SCAN);
		u(g, 50);
		u(g, 0);
		uint64_t v[8] = {64, 1, 0, 0, 4096, 1, 48, 1};
		for (int i = 0; i < 8; i++)
			u(g, v[i]);
		u(g, 4);
		/* LEAK_BLOCKS: ascending deltas; 0x60000 is not in the live set. */
		u(g, HP_REC_LEAK_BLOCKS);
		u(g, 4);
		uint64_t a[4] = {0x10093, 0x20000, 0x40000, 0x60000}, prev = 0;
		unsigned cls[4] = {HP_LEAK_REACHABLE, HP_LEAK_POSSIBLE, HP_LEAK_DEFINITE,
				   HP_LEAK_INDIRECT};
		for (int i = 0; i < 4; i++) {
			u(g, a[i] - prev);
			u(g, cls[i]);
			prev = a[i];
		}
	}
	if (leaks > 1) { /* SUPPRESSIONS: time, string (a bad line when leaks == 3) */
		static const char *const text[] = {
		    "leak:main\n# comment\n  leak:^libc*$  \nleak:seed",
		    "leak:ok\nnot a rule\nleak:"};
		const char *t = text[leaks == 3];
		u(g, HP_REC_SUPPRESSIONS);
		u(g, 49);
		tb_buf_str(&g->b.raw, t, strlen(t));
	}
	tb_end(&g->b, 50, 10, 0);
}

static void valid_cases(void)
{
	struct gen g;
	gen_init(&g);
	base_trace(&g, 0);
	gen_done(&g, "valid-basic");

	gen_init(&g);
	base_trace(&g, 1);
	gen_done(&g, "valid-leaks");

	gen_init(&g);
	base_trace(&g, 2);
	gen_done(&g, "valid-suppressions");

	gen_init(&g);
	base_trace(&g, 3);
	gen_done(&g, "bad-suppressions");

	/* Late destructors after END, then another END; EXEC, ERROR. */
	gen_init(&g);
	base_trace(&g, 1);
	gen_frame(&g);
	tb_alloc(&g.b, 0, 60, 8, 1, 0x70000);
	tb_free(&g.b, 0, 61, 0x50000);
	tb_flush_events(&g.b);
	tb_exec(&g.b, 62, "/bin/true");
	tb_error(&g.b, 63, "cannot write: No space left on device");
	tb_end(&g.b, 64, 12, 7);
	gen_done(&g, "valid-late-end");

	/* TSC clock, sampled, large time shift and many sites. */
	gen_init(&g);
	header(&g, &(struct tb_header_args){.flags = HP_HDR_CLOCK_TSC | HP_HDR_SAMPLED,
					    .pid = 7,
					    .ticks_per_second = 2400000000u,
					    .time_shift = 10,
					    .sample_bytes = 512 << 10,
					    .exe = "/x",
					    .cmdline = "x"});
	tb_thread(&g.b, 0, 7, 0);
	for (uint64_t i = 1; i <= 40; i++) {
		uint64_t ip[2] = {0x1000 * i, 0x5000};
		tb_stack(&g.b, i, 2, ip);
	}
	for (uint64_t i = 0; i < 200; i++)
		tb_alloc(&g.b, 0, i * 1000, (i * 37) % 5000, i % 40 + 1, 0x100000 + i * 0x100);
	for (uint64_t i = 0; i < 200; i += 3)
		tb_free(&g.b, 0, 200000 + i, 0x100000 + i * 0x100);
	tb_flush_events(&g.b);
	tb_clock_sync(&g.b, 1ull << 40, 1ull << 39);
	tb_clock_sync(&g.b, (1ull << 40) + 2400000000u, (1ull << 39) + 1000000000u);
	tb_end(&g.b, 300000, 267, 0);
	gen_done(&g, "valid-sampled-tsc");

	/* Cut short: no END, a frame that is incomplete in the file. */
	gen_init(&g);
	base_trace(&g, 0);
	gen_frame(&g);
	tb_alloc(&g.b, 0, 70, 8, 1, 0x80000);
	tb_flush_events(&g.b);
	gen_frame(&g);
	g.b.out.len -= 5;
	g.rec.len -= 3; /* the record stream: a record cut at the end */
	gen_done(&g, "cut-last-frame");
}

/* The same process in version 2: blocks by slot, every event form. */
static void base_trace_v2(struct gen *g, int leaks)
{
	static const uint64_t seg[2][3] = {{0, 0x2000, 5}, {0x3000, 0x1000, 6}};
	header(g, &(struct tb_header_args){.version = 2,
					   .pid = 42,
					   .ppid = 1,
					   .exe = "/usr/bin/seed",
					   .cmdline = "seed\0-x",
					   .cmdline_len = 7});
	tb_clock_sync(&g->b, 1000, 1000);
	tb_module(&g->b, 1, "/usr/bin/seed", "\x01\x02\x03\x04", 4, 0x400000, 2, seg);
	uint64_t s1[] = {0x400100, 0x400200};
	uint64_t s2[] = {0x400300};
	tb_stack(&g->b, 1, 2, s1);
	tb_stack(&g->b, 2, 1, s2);
	tb_thread(&g->b, 0, 42, 0);
	tb_thread(&g->b, 1, 43, 5);
	tb2_alloc_slot(&g->b, 0, 10, 100, 1, 0);
	tb2_alloc_slot(&g->b, 0, 11, 0, 2, 1);
	tb2_alloc_slot(&g->b, 1, 12, 4096, 1, 2);
	tb2_realloc(&g->b, 0, 20, 0, 200, 1);		     /* in the same slot */
	tb2_realloc_unknown(&g->b, 0, 21, 0x7f00, 48, 2, 3); /* old block never seen */
	tb2_free(&g->b, 1, 25, 1);			     /* freed by another thread */
	tb2_free_unknown(&g->b, 0, 26, 0x10093);
	tb_flush_events(&g->b);
	tb_rss(&g->b, 15, 1 << 20);
	tb_round(&g->b, 10);
	gen_frame(g);
	tb2_alloc(&g->b, 1, 30, 64, 2); /* reuses slot 1 from thread 1's free list */
	tb2_free(&g->b, 0, 31, 0);
	tb2_alloc(&g->b, 0, 40, 64, 2); /* slot 0 */
	tb2_free(&g->b, 0, 41, 3);
	tb2_alloc_slot(&g->b, 0, 42, 24, 1, HP_MAX_SLOT);
	tb_flush_events(&g->b);
	tb_thread_exit(&g->b, 1, 45);
	tb_round(&g->b, 30);
	tb_exit(&g->b, 49, 0);
	if (leaks) {
		/* Slots in no order, one twice, one (7) not live. */
		static const uint64_t bytes[4] = {64, 0, 4096, 24}, blocks[4] = {1, 0, 1, 1};
		static const uint64_t slots[5] = {HP_MAX_SLOT, 1, 0, 7, 1};
		static const unsigned cls[5] = {HP_LEAK_REACHABLE, HP_LEAK_DEFINITE,
						HP_LEAK_POSSIBLE, HP_LEAK_INDIRECT,
						HP_LEAK_DEFINITE};
		tb_leak_scan(&g->b, 50, 0, bytes, blocks, 5);
		tb2_leak_blocks(&g->b, 5, slots, cls);
	}
	tb_end(&g->b, 50, 12, 0);
}

/* A valid header (version 1 or 2) and thread 0, then raw bytes as the next records. */
static void malformed_v(const char *name, uint64_t version, const void *bytes, size_t n,
			int with_stack)
{
	struct gen g;
	gen_init(&g);
	header(&g, &(struct tb_header_args){.version = version,
					    .pid = 42,
					    .ppid = 1,
					    .exe = "/usr/bin/seed",
					    .cmdline = "seed\0-x",
					    .cmdline_len = 7});
	tb_thread(&g.b, 0, 42, 0);
	if (with_stack) {
		uint64_t ip[1] = {0x1000};
		tb_stack(&g.b, 1, 1, ip);
	}
	tb_raw(&g.b, bytes, n);
	gen_done(&g, name);
}

static void malformed(const char *name, const void *bytes, size_t n, int with_stack)
{
	malformed_v(name, 1, bytes, n, with_stack);
}

/* Helpers to spell raw records. */
struct raw {
	uint8_t b[512];
	size_t n;
};
static void ru(struct raw *r, uint64_t v)
{
	r->n = (size_t)(hp_put_varint(r->b + r->n, v) - r->b);
}
static void rb(struct raw *r, const void *p, size_t n)
{
	memcpy(r->b + r->n, p, n);
	r->n += n;
}
/* EVENTS of thread `th` holding the given event bytes. */
static void revents(struct raw *r, uint64_t th, const struct raw *ev)
{
	ru(r, HP_REC_EVENTS);
	ru(r, th);
	ru(r, ev->n);
	rb(r, ev->b, ev->n);
}

static void malformed_cases(void)
{
	struct raw r, e;
#define RESET() (memset(&r, 0, sizeof r), memset(&e, 0, sizeof e))

	RESET(); /* STACK with 2^40 frames */
	ru(&r, HP_REC_STACK), ru(&r, 2), ru(&r, 1ull << 40), ru(&r, 2);
	malformed("stack-nframes-2e40", r.b, r.n, 1);

	RESET(); /* STACK with 1025 frames declared, 3 given */
	ru(&r, HP_REC_STACK), ru(&r, 2), ru(&r, 1025), ru(&r, 2), ru(&r, 2), ru(&r, 2);
	malformed("stack-nframes-1025", r.b, r.n, 1);

	RESET(); /* STACK ids: 0, 2^63, far ahead */
	ru(&r, HP_REC_STACK), ru(&r, 0), ru(&r, 1), ru(&r, 2);
	ru(&r, HP_REC_STACK), ru(&r, 1ull << 63), ru(&r, 1), ru(&r, 2);
	malformed("stack-id-0", r.b, r.n, 0);
	RESET();
	ru(&r, HP_REC_STACK), ru(&r, 5000), ru(&r, 1), ru(&r, 2);
	ru(&r, HP_REC_STACK), ru(&r, 1ull << 63), ru(&r, 1), ru(&r, 2);
	malformed("stack-id-huge", r.b, r.n, 1);

	RESET(); /* ip deltas that wrap around */
	ru(&r, HP_REC_STACK), ru(&r, 2), ru(&r, 3);
	ru(&r, hp_zigzag(INT64_MIN)), ru(&r, hp_zigzag(INT64_MIN)), ru(&r, hp_zigzag(-1));
	malformed("stack-ip-wrap", r.b, r.n, 1);

	RESET(); /* a string of 2^60 bytes: THREAD_NAME */
	ru(&r, HP_REC_THREAD_NAME), ru(&r, 0), ru(&r, 1ull << 60), rb(&r, "abc", 3);
	malformed("string-2e60", r.b, r.n, 0);
	RESET(); /* 64 KiB + 1 */
	ru(&r, HP_REC_EXEC), ru(&r, 1), ru(&r, (64u << 10) + 1), rb(&r, "abc", 3);
	malformed("string-64k-plus-1", r.b, r.n, 0);

	RESET(); /* an 11-byte varint */
	ru(&r, HP_REC_RSS);
	rb(&r, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11);
	ru(&r, 5);
	malformed("varint-11-bytes", r.b, r.n, 0);
	RESET(); /* a 10-byte varint whose last byte has bits above bit 0 */
	ru(&r, HP_REC_RSS);
	rb(&r, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
	ru(&r, 5);
	malformed("varint-10th-byte-2", r.b, r.n, 0);
	RESET(); /* the largest valid one, and a varint cut at the frame end */
	ru(&r, HP_REC_RSS);
	rb(&r, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
	rb(&r, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
	ru(&r, HP_REC_RSS);
	rb(&r, "\xff\xff\xff", 3);
	malformed("varint-max-then-cut", r.b, r.n, 0);

	RESET(); /* EVENTS of an unknown thread */
	ru(&e, HP_OP_FREE | 4), ru(&e, 2);
	revents(&r, 7, &e);
	malformed("events-unknown-thread", r.b, r.n, 0);
	RESET();
	revents(&r, 1ull << 32, &e);
	malformed("events-thread-2e32", r.b, r.n, 0);

	RESET(); /* ALLOC referring to an unknown stack, then to stack 2^40 */
	ru(&e, HP_OP_ALLOC | 4), ru(&e, 16), ru(&e, 9), ru(&e, 2);
	ru(&e, HP_OP_ALLOC | 4), ru(&e, 16), ru(&e, 1ull << 40), ru(&e, 2);
	revents(&r, 0, &e);
	malformed("events-unknown-stack", r.b, r.n, 1);

	RESET(); /* ALLOC with stack 0 ("no stack"), size 2^64-1 twice: sums overflow */
	ru(&e, HP_OP_ALLOC), ru(&e, UINT64_MAX), ru(&e, 0), ru(&e, 2);
	ru(&e, HP_OP_ALLOC), ru(&e, UINT64_MAX), ru(&e, 1), ru(&e, 2);
	ru(&e, (3ull << 2) | HP_OP_EXT), ru(&e, HP_EXT_REALLOC_ABS), ru(&e, 0x20),
	    ru(&e, UINT64_MAX), ru(&e, 1), ru(&e, UINT64_MAX);
	revents(&r, 0, &e);
	ru(&r, HP_REC_END), ru(&r, 10), ru(&r, 3), ru(&r, UINT64_MAX);
	malformed("events-size-overflow", r.b, r.n, 1);

	RESET(); /* address deltas that wrap around, FREE of unknown, double ALLOC */
	ru(&e, HP_OP_ALLOC | 4), ru(&e, 8), ru(&e, 1), ru(&e, hp_zigzag(-1));
	ru(&e, HP_OP_ALLOC | 4), ru(&e, 8), ru(&e, 1), ru(&e, hp_zigzag(0));
	ru(&e, HP_OP_FREE), ru(&e, hp_zigzag(INT64_MAX));
	ru(&e, HP_OP_REALLOC), ru(&e, hp_zigzag(INT64_MIN)), ru(&e, 5), ru(&e, 1),
	    ru(&e, hp_zigzag(0));
	ru(&e, (1ull << 2) | HP_OP_EXT), ru(&e, HP_EXT_FREE_ABS), ru(&e, 0);
	revents(&r, 0, &e);
	ru(&r, HP_REC_END), ru(&r, 10), ru(&r, 5), ru(&r, 0);
	malformed("events-addr-wrap", r.b, r.n, 1);

	RESET(); /* time deltas that overflow 64 bits; then rounds and rss at the far end */
	ru(&e, ((1ull << 62) - 1) << 2 | HP_OP_ALLOC), ru(&e, 8), ru(&e, 1), ru(&e, 2);
	ru(&e, ((1ull << 62) - 1) << 2 | HP_OP_ALLOC), ru(&e, 8), ru(&e, 1), ru(&e, 4);
	ru(&e, ((1ull << 62) - 1) << 2 | HP_OP_FREE), ru(&e, hp_zigzag(-2));
	ru(&e, ((1ull << 62) - 1) << 2 | HP_OP_ALLOC), ru(&e, 8), ru(&e, 1), ru(&e, 4);
	revents(&r, 0, &e);
	ru(&r, HP_REC_ROUND), ru(&r, UINT64_MAX);
	ru(&r, HP_REC_RSS), ru(&r, UINT64_MAX), ru(&r, UINT64_MAX);
	ru(&r, HP_REC_RSS), ru(&r, 0), ru(&r, 1);
	ru(&r, HP_REC_END), ru(&r, UINT64_MAX), ru(&r, 4), ru(&r, 0);
	malformed("events-time-overflow", r.b, r.n, 1);

	RESET(); /* unknown ext_op, EVENTS longer than the record, event cut inside */
	ru(&e, HP_OP_EXT), ru(&e, 3);
	revents(&r, 0, &e);
	malformed("events-ext-op-3", r.b, r.n, 1);
	RESET();
	ru(&e, HP_OP_EXT), ru(&e, 1ull << 40);
	revents(&r, 0, &e);
	malformed("events-ext-op-2e40", r.b, r.n, 1);
	RESET();
	ru(&r, HP_REC_EVENTS), ru(&r, 0), ru(&r, 1ull << 40), ru(&r, HP_OP_FREE), ru(&r, 2);
	malformed("events-length-2e40", r.b, r.n, 1);
	RESET();
	ru(&e, HP_OP_REALLOC), ru(&e, 2), ru(&e, 8); /* stops after size */
	revents(&r, 0, &e);
	ru(&r, HP_REC_END), ru(&r, 1), ru(&r, 1), ru(&r, 0);
	malformed("events-cut-inside", r.b, r.n, 1);

	RESET(); /* MODULE with 65 segments, 2^32+1 segments; build-id 2^60 */
	ru(&r, HP_REC_MODULE), ru(&r, 1), ru(&r, 2), rb(&r, "/m", 2), ru(&r, 0), ru(&r, 0),
	    ru(&r, 65);
	for (int i = 0; i < 65 * 3; i++)
		ru(&r, 1);
	malformed("module-nseg-65", r.b, r.n, 0);
	RESET();
	ru(&r, HP_REC_MODULE), ru(&r, 1), ru(&r, 2), rb(&r, "/m", 2), ru(&r, 0), ru(&r, 0),
	    ru(&r, (1ull << 32) + 1), ru(&r, 1), ru(&r, 1), ru(&r, 1);
	malformed("module-nseg-2e32", r.b, r.n, 0);
	RESET();
	ru(&r, HP_REC_MODULE), ru(&r, 1), ru(&r, 2), rb(&r, "/m", 2), ru(&r, 1ull << 60), ru(&r, 0);
	malformed("module-buildid-2e60", r.b, r.n, 0);
	RESET(); /* segments that wrap the address space; unload of unknown ids */
	ru(&r, HP_REC_MODULE), ru(&r, 1), ru(&r, 2), rb(&r, "/m", 2), ru(&r, 0),
	    ru(&r, UINT64_MAX - 10), ru(&r, 2);
	ru(&r, UINT64_MAX - 5), ru(&r, 100), ru(&r, 5), ru(&r, 0), ru(&r, UINT64_MAX), ru(&r, 5);
	ru(&r, HP_REC_STACK), ru(&r, 1), ru(&r, 2), ru(&r, hp_zigzag(-20)), ru(&r, hp_zigzag(40));
	ru(&r, HP_REC_MODULE_UNLOAD), ru(&r, 7), ru(&r, 1);
	ru(&r, HP_REC_MODULE_UNLOAD), ru(&r, 1ull << 63), ru(&r, 1);
	ru(&r, HP_REC_MODULE_UNLOAD), ru(&r, 1), ru(&r, 1);
	ru(&r, HP_REC_MODULE), ru(&r, 1), ru(&r, 0), ru(&r, 0), ru(&r, 0), ru(&r, 0);
	ru(&e, HP_OP_ALLOC), ru(&e, 8), ru(&e, 1), ru(&e, 2);
	revents(&r, 0, &e);
	ru(&r, HP_REC_END), ru(&r, 1), ru(&r, 1), ru(&r, 0);
	malformed("module-wrap-unload", r.b, r.n, 0);

	RESET(); /* unknown tags */
	ru(&r, HP_REC_TAG_LIMIT);
	malformed("tag-unknown", r.b, r.n, 0);
	RESET();
	ru(&r, 1ull << 63);
	malformed("tag-2e63", r.b, r.n, 0);
	RESET();
	ru(&r, 0);
	malformed("tag-0", r.b, r.n, 0);
	RESET(); /* a second HEADER */
	ru(&r, HP_REC_HEADER);
	for (int i = 0; i < 10; i++)
		ru(&r, 1);
	ru(&r, 0), ru(&r, 0);
	malformed("header-twice", r.b, r.n, 0);

	RESET(); /* THREAD index 2^32, far ahead, repeated; names and exits of unknown */
	ru(&r, HP_REC_THREAD), ru(&r, 1ull << 32), ru(&r, 1), ru(&r, 0);
	malformed("thread-index-2e32", r.b, r.n, 0);
	RESET();
	ru(&r, HP_REC_THREAD), ru(&r, 4097), ru(&r, 1), ru(&r, 0);
	ru(&r, HP_REC_THREAD), ru(&r, 4000), ru(&r, 1), ru(&r, 0);
	ru(&r, HP_REC_THREAD), ru(&r, 0), ru(&r, 2), ru(&r, 0);
	ru(&r, HP_REC_THREAD_NAME), ru(&r, 9999), ru(&r, 1), rb(&r, "x", 1);
	ru(&r, HP_REC_THREAD_EXIT), ru(&r, 9999), ru(&r, 1);
	ru(&r, HP_REC_THREAD_EXIT), ru(&r, 0), ru(&r, 1);
	ru(&e, HP_OP_FREE | 4), ru(&e, 2);
	revents(&r, 4000, &e);
	revents(&r, 0, &e);
	ru(&r, HP_REC_END), ru(&r, 1), ru(&r, 1), ru(&r, 0);
	malformed("thread-index-sparse", r.b, r.n, 0);

	RESET(); /* LEAK_BLOCKS: 65537 declared, class 4, addresses that wrap (descending) */
	ru(&r, HP_REC_LEAK_BLOCKS), ru(&r, 65537), ru(&r, 0), ru(&r, 0);
	malformed("leak-blocks-65537", r.b, r.n, 0);
	RESET();
	ru(&r, HP_REC_LEAK_BLOCKS), ru(&r, 2), ru(&r, 16), ru(&r, 0), ru(&r, 16), ru(&r, 4);
	malformed("leak-blocks-class-4", r.b, r.n, 0);
	RESET();
	ru(&e, HP_OP_ALLOC), ru(&e, 8), ru(&e, 1), ru(&e, 0x100);
	ru(&e, HP_OP_ALLOC), ru(&e, 8), ru(&e, 1), ru(&e, 0x200);
	revents(&r, 0, &e);
	ru(&r, HP_REC_LEAK_SCAN), ru(&r, 1), ru(&r, 0);
	for (int i = 0; i < 8; i++)
		ru(&r, UINT64_MAX);
	ru(&r, UINT64_MAX);
	ru(&r, HP_REC_LEAK_BLOCKS), ru(&r, 3), ru(&r, 0x1800), ru(&r, 3), ru(&r, UINT64_MAX - 0xff),
	    ru(&r, 3), ru(&r, 0x100), ru(&r, 3);
	ru(&r, HP_REC_LEAK_BLOCKS), ru(&r, 0);
	ru(&r, HP_REC_END), ru(&r, 1), ru(&r, 2), ru(&r, 0);
	malformed("leak-blocks-wrap", r.b, r.n, 1);

	RESET(); /* CLOCK_SYNC: equal ticks (a zero rate), ticks going back */
	ru(&r, HP_REC_CLOCK_SYNC), ru(&r, 100), ru(&r, 100);
	ru(&r, HP_REC_CLOCK_SYNC), ru(&r, 100), ru(&r, 5000);
	ru(&r, HP_REC_CLOCK_SYNC), ru(&r, 50), ru(&r, 1);
	ru(&e, (100ull << 2) | HP_OP_ALLOC), ru(&e, 8), ru(&e, 1), ru(&e, 2);
	revents(&r, 0, &e);
	ru(&r, HP_REC_END), ru(&r, 100), ru(&r, 1), ru(&r, 0);
	malformed("clock-sync-degenerate", r.b, r.n, 1);
}

/* Version 2: valid traces, then events and LEAK_BLOCKS whose slots a reader must refuse
 * (out of [0, 2^40], ALLOC with an empty free list) or survive. */
static void v2_cases(void)
{
	struct gen g;
	gen_init(&g);
	base_trace_v2(&g, 0);
	gen_done(&g, "v2-valid-basic");
	gen_init(&g);
	base_trace_v2(&g, 1);
	gen_done(&g, "v2-valid-leaks");

	/* 40 blocks freed, the free list keeps 32: 32 ALLOCs reuse them, the 33rd fails. */
	gen_init(&g);
	base_trace_v2(&g, 0);
	gen_frame(&g);
	for (uint64_t i = 0; i < 40; i++)
		tb2_alloc_slot(&g.b, 0, 60 + i, 16 * i, 1, 100 + 3 * i);
	for (uint64_t i = 0; i < 40; i++)
		tb2_free(&g.b, 0, 100 + i, 100 + 3 * ((i * 7) % 40));
	for (uint64_t i = 0; i < 33; i++)
		tb2_alloc(&g.b, 0, 140 + i, i, 2);
	tb_flush_events(&g.b);
	tb_end(&g.b, 200, 125, 0);
	gen_done(&g, "v2-free-list-overflow");

	/* Cut short, as cut-last-frame. */
	gen_init(&g);
	base_trace_v2(&g, 0);
	gen_frame(&g);
	tb2_alloc_slot(&g.b, 0, 70, 8, 1, 12);
	tb2_free(&g.b, 0, 71, 12);
	tb2_alloc(&g.b, 0, 72, 8, 1);
	tb_flush_events(&g.b);
	gen_frame(&g);
	g.b.out.len -= 5;
	g.rec.len -= 3;
	gen_done(&g, "v2-cut-last-frame");

	struct raw r, e;
	const uint64_t max = HP_MAX_SLOT;
	RESET(); /* ALLOC with an empty free list */
	ru(&e, HP_OP_ALLOC | 4), ru(&e, 8), ru(&e, 1);
	revents(&r, 0, &e);
	ru(&r, HP_REC_END), ru(&r, 1), ru(&r, 1), ru(&r, 0);
	malformed_v("v2-alloc-empty-list", 2, r.b, r.n, 1);

	RESET(); /* explicit slots 2^40 (the largest), then 2^40 + 1 and 2^64 - 1 */
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_ALLOC_SLOT), ru(&e, 8), ru(&e, 1), ru(&e, max);
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_REALLOC_UNKNOWN), ru(&e, 0x10), ru(&e, 8), ru(&e, 1),
	    ru(&e, max);
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_ALLOC_SLOT), ru(&e, 8), ru(&e, 1), ru(&e, max + 1);
	revents(&r, 0, &e);
	malformed_v("v2-slot-2e40-plus-1", 2, r.b, r.n, 1);
	RESET();
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_REALLOC_UNKNOWN), ru(&e, 0x10), ru(&e, 8), ru(&e, 1),
	    ru(&e, UINT64_MAX);
	revents(&r, 0, &e);
	malformed_v("v2-slot-2e64", 2, r.b, r.n, 1);

	RESET(); /* slot deltas: to 2^40 and back to 0, then below 0 */
	ru(&e, HP_OP_FREE), ru(&e, hp_zigzag((int64_t)max));
	ru(&e, HP_OP_REALLOC), ru(&e, hp_zigzag(-(int64_t)max)), ru(&e, 8), ru(&e, 1);
	ru(&e, HP_OP_FREE | 4), ru(&e, hp_zigzag(-1));
	revents(&r, 0, &e);
	malformed_v("v2-delta-below-0", 2, r.b, r.n, 1);
	RESET(); /* the extreme deltas, from slot 2^40 */
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_ALLOC_SLOT), ru(&e, 8), ru(&e, 1), ru(&e, max);
	ru(&e, HP_OP_FREE), ru(&e, hp_zigzag(INT64_MAX));
	revents(&r, 0, &e);
	malformed_v("v2-delta-int64-max", 2, r.b, r.n, 1);
	RESET();
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_ALLOC_SLOT), ru(&e, 8), ru(&e, 1), ru(&e, max);
	ru(&e, HP_OP_REALLOC), ru(&e, hp_zigzag(INT64_MIN)), ru(&e, 8), ru(&e, 1);
	revents(&r, 0, &e);
	malformed_v("v2-delta-int64-min", 2, r.b, r.n, 1);

	RESET(); /* a slot allocated twice, freed twice; FREE_UNKNOWN of 0 and 2^64-1 */
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_ALLOC_SLOT), ru(&e, 8), ru(&e, 1), ru(&e, 5);
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_ALLOC_SLOT), ru(&e, 16), ru(&e, 1), ru(&e, 5);
	ru(&e, HP_OP_FREE), ru(&e, 0);
	ru(&e, HP_OP_FREE), ru(&e, 0);
	ru(&e, HP_OP_ALLOC), ru(&e, 4), ru(&e, 0);
	ru(&e, HP_OP_REALLOC), ru(&e, 0), ru(&e, 32), ru(&e, 1);
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_FREE_UNKNOWN), ru(&e, 0);
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_FREE_UNKNOWN), ru(&e, UINT64_MAX);
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_REALLOC_UNKNOWN), ru(&e, 0), ru(&e, 8), ru(&e, 1),
	    ru(&e, 0);
	revents(&r, 0, &e);
	ru(&r, HP_REC_END), ru(&r, 1), ru(&r, 9), ru(&r, 0);
	malformed_v("v2-slot-reuse", 2, r.b, r.n, 1);

	RESET(); /* v1 events under a v2 header, v2 events under a v1 header */
	ru(&e, HP_OP_ALLOC | 4), ru(&e, 8), ru(&e, 1), ru(&e, 2);
	ru(&e, HP_OP_FREE | 4), ru(&e, 2);
	revents(&r, 0, &e);
	malformed_v("v2-v1-events", 2, r.b, r.n, 1);
	RESET();
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_ALLOC_SLOT), ru(&e, 8), ru(&e, 1), ru(&e, 5);
	ru(&e, HP_OP_FREE | 4), ru(&e, 0);
	ru(&e, HP_OP_ALLOC), ru(&e, 8), ru(&e, 1);
	revents(&r, 0, &e);
	malformed_v("v1-v2-events", 1, r.b, r.n, 1);

	RESET(); /* LEAK_BLOCKS: slot deltas below 0, over 2^40, duplicates in no order */
	ru(&r, HP_REC_LEAK_BLOCKS), ru(&r, 2), ru(&r, hp_zigzag(3)), ru(&r, 0),
	    ru(&r, hp_zigzag(-4)), ru(&r, 3);
	malformed_v("v2-leak-blocks-below-0", 2, r.b, r.n, 0);
	RESET();
	ru(&r, HP_REC_LEAK_BLOCKS), ru(&r, 2), ru(&r, hp_zigzag((int64_t)max)), ru(&r, 0),
	    ru(&r, hp_zigzag(INT64_MAX)), ru(&r, 3);
	malformed_v("v2-leak-blocks-over-2e40", 2, r.b, r.n, 0);
	RESET();
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_ALLOC_SLOT), ru(&e, 8), ru(&e, 1), ru(&e, 9);
	ru(&e, HP_OP_EXT), ru(&e, HP_EXT_ALLOC_SLOT), ru(&e, 8), ru(&e, 1), ru(&e, 4);
	revents(&r, 0, &e);
	ru(&r, HP_REC_LEAK_SCAN), ru(&r, 1), ru(&r, 0);
	for (int i = 0; i < 8; i++)
		ru(&r, UINT64_MAX);
	ru(&r, 4);
	ru(&r, HP_REC_LEAK_BLOCKS), ru(&r, 4), ru(&r, hp_zigzag(9)), ru(&r, 3),
	    ru(&r, hp_zigzag(-5)), ru(&r, 0), ru(&r, hp_zigzag(5)), ru(&r, 1), ru(&r, 0), ru(&r, 2);
	ru(&r, HP_REC_END), ru(&r, 1), ru(&r, 2), ru(&r, 0);
	malformed_v("v2-leak-blocks-dups", 2, r.b, r.n, 1);
}

/* Headers with extreme clock parameters, each followed by a few events. */
/* Version 3 (the recorder's codec): kinds, own and other threads' blocks, ticks, marks
 * (among the events, as records, one out of time order, one past the last event), hint
 * blocks, a leak scan naming blocks by key. */
static void v3_cases(void)
{
	struct gen g;
	gen_init(&g);
	header(&g, &(struct tb_header_args){.version = 3,
					    .flags = HP_HDR_ATTACHED,
					    .pid = 43,
					    .ppid = 1,
					    .exe = "/usr/bin/seed3",
					    .cmdline = "seed3",
					    .cmdline_len = 5});
	uint64_t s1[] = {0x400100}, s2[] = {0x400200, 0x400100};
	tb_stack(&g.b, 1, 1, s1);
	tb_stack(&g.b, 2, 2, s2);
	tb_thread(&g.b, 0, 43, 0);
	tb_thread(&g.b, 1, 44, 0);
	tb3_mark(&g.b, 2, "start");
	uint64_t a = tb3_alloc(&g.b, 0, 10, 4096, 1);
	uint64_t h1 = tb3_alloc_hint(&g.b, 0, 11, 48, 1);
	uint64_t h2 = tb3_alloc_hint(&g.b, 0, 12, 64, 2);
	tb3_mark_event(&g.b, 0, 12, "warm-up");
	tb3_free(&g.b, 0, 13, h1);
	uint64_t b1 = tb3_alloc(&g.b, 1, 13, 4096, 1);
	uint64_t b2 = tb3_realloc(&g.b, 1, 14, b1, 0, 8192, 2);
	tb3_free(&g.b, 1, 14, a);
	tb_flush_events(&g.b);
	tb3_mark(&g.b, 12, "between");
	tb3_mark(&g.b, 1, "late");
	tb_round(&g.b, 14);
	gen_frame(&g);
	tb3_realloc(&g.b, 0, 20, 0, 0x7000, 16, 1);
	tb3_free_unknown(&g.b, 0, 20, 0x8000);
	tb3_free(&g.b, 0, 21, h2);
	tb_flush_events(&g.b);
	tb3_mark(&g.b, 99, "after the end");
	uint64_t bytes[4] = {8192, 0, 0, 0}, blocks[4] = {1, 0, 0, 0};
	tb_leak_scan(&g.b, 25, 0, bytes, blocks, 2);
	uint64_t keys[] = {b2, 0};
	unsigned cls[] = {HP_LEAK_DEFINITE, HP_LEAK_REACHABLE};
	tb3_leak_blocks(&g.b, 2, keys, cls);
	tb_end(&g.b, 30, 9, 0);
	gen_done(&g, "v3-marks-hints");
}

static void header_cases(void)
{
	static const struct {
		const char *name;
		struct tb_header_args h;
	} cases[] = {
	    {"header-shift-63", {.time_shift = 63, .ticks_per_second = 1}},
	    {"header-shift-64", {.time_shift = 64}},
	    {"header-shift-2e32", {.time_shift = 1ull << 32}},
	    {"header-tps-max", {.ticks_per_second = UINT64_MAX, .time_shift = 0}},
	    {"header-version-2", {.version = 2}},
	    {"header-version-2e63", {.version = 1ull << 63}},
	    {"header-sampled-huge",
	     {.flags = UINT64_MAX,
	      .sample_bytes = UINT64_MAX,
	      .page_size = UINT64_MAX,
	      .max_frames = UINT64_MAX}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct gen g;
		gen_init(&g);
		tb_header(&g.b, &cases[i].h);
		tb_thread(&g.b, 0, 1, 0);
		uint64_t ip[1] = {0x1000};
		tb_stack(&g.b, 1, 1, ip);
		tb_alloc(&g.b, 0, 1, 10, 1, 0x1000);
		tb_alloc(&g.b, 0, 1ull << 40, 10, 1, 0x2000);
		tb_free(&g.b, 0, 1ull << 41, 0x1000);
		tb_flush_events(&g.b);
		tb_rss(&g.b, 1ull << 42, 4096);
		tb_end(&g.b, 1ull << 42, 3, 0);
		gen_done(&g, cases[i].name);
	}
	/* tps 0 needs a raw header: the builder turns 0 into 1e9. */
	struct gen g;
	gen_init(&g);
	tb_raw(&g.b, HP_MAGIC, HP_MAGIC_LEN);
	u(&g, 1), u(&g, HP_REC_HEADER);
	for (int i = 0; i < 10; i++)
		u(&g, i == 5 ? 0 : 3); /* ticks_per_second = 0 */
	u(&g, 0), u(&g, 0);
	tb_thread(&g.b, 0, 1, 0);
	uint64_t ip[1] = {0x1000};
	tb_stack(&g.b, 1, 1, ip);
	tb_alloc(&g.b, 0, 5, 10, 1, 0x1000);
	tb_flush_events(&g.b);
	tb_rss(&g.b, 5, 4096);
	tb_end(&g.b, 6, 1, 0);
	gen_done(&g, "header-tps-0");
}

/* Stream starts: empty, only the magic, magic+version, bad magic, no HEADER. */
static void start_cases(void)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t n;
	} cases[] = {
	    {"start-empty", "", 0},
	    {"start-magic-only", "HEAPPROF", 8},
	    {"start-magic-version", "HEAPPROF\x01", 9},
	    {"start-bad-magic", "HEAPPROG\x01\x01", 10},
	    {"start-no-header", "HEAPPROF\x01\x05\x00\x01\x00", 13},
	    {"start-version-11-bytes", "HEAPPROF\x81\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 19},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct gen g;
		gen_init(&g);
		tb_raw(&g.b, cases[i].bytes, cases[i].n);
		gen_done(&g, cases[i].name);
	}
}

/* Container-level cases: only meaningful as files (reader/). */
static void container_cases(void)
{
	write_file("reader", "file-empty", "hpt", "", 0);
	write_file("reader", "file-plain-magic", "hpt", "HEAPPROF\x01", 9);
	write_file("reader", "file-zstd-magic-only", "hpt", "\x28\xb5\x2f\xfd", 4);

	/* Decompression bombs. (a) 1 GiB of zeros, content size in the frame header;
	 * (b) 20 MiB of zeros, size not declared (streamed); (c) a valid first frame, then
	 * a 17 MiB frame. */
	size_t zlen = 1 << 20;
	uint8_t *zeros = calloc(1, zlen);
	struct tb_buf out = {0};
	for (int c = 0; c < 3; c++) {
		struct gen g;
		gen_init(&g);
		if (c == 2) {
			header(&g, NULL);
			gen_frame(&g);
		}
		out.len = 0;
		tb_buf_put(&out, g.b.out.data, g.b.out.len);
		ZSTD_CCtx *cc = ZSTD_createCCtx();
		ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 19);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
		unsigned long long total = c == 0 ? 1ull << 30 : c == 1 ? 20ull << 20 : 17ull << 20;
		if (c != 1)
			ZSTD_CCtx_setPledgedSrcSize(cc, total);
		uint8_t obuf[1 << 16];
		for (unsigned long long done = 0; done < total; done += zlen) {
			ZSTD_inBuffer in = {zeros, zlen, 0};
			int last = done + zlen >= total;
			size_t rem;
			do {
				ZSTD_outBuffer o = {obuf, sizeof obuf, 0};
				rem = ZSTD_compressStream2(cc, &o, &in,
							   last ? ZSTD_e_end : ZSTD_e_continue);
				if (ZSTD_isError(rem))
					abort();
				tb_buf_put(&out, obuf, o.pos);
			} while (last ? rem != 0 : in.pos < in.size);
		}
		ZSTD_freeCCtx(cc);
		static const char *const names[] = {"bomb-1gib-declared", "bomb-20mib-streamed",
						    "bomb-17mib-second-frame"};
		write_file("reader", names[c], "hpt", out.data, out.len);
		tb_release(&g.b);
		free(g.rec.data);
	}
	free(zeros);
	free(out.data);

	/* A skippable frame between two frames, and garbage after the last. */
	struct gen g;
	gen_init(&g);
	header(&g, NULL);
	tb_thread(&g.b, 0, 1, 0);
	gen_frame(&g);
	tb_raw(&g.b, "", 0);
	static const uint8_t skip[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'h', 'p', 'h', 'p'};
	tb_buf_put(&g.b.out, skip, sizeof skip);
	tb_end(&g.b, 1, 0, 0);
	tb_frame(&g.b);
	tb_buf_put(&g.b.out, "garbage!", 8);
	write_file("reader", "frames-skippable-garbage", "hpt", g.b.out.data, g.b.out.len);
	tb_release(&g.b);
	free(g.rec.data);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_gen_corpus DIR\n");
		return 1;
	}
	outdir = argv[1];
	char path[4096];
	mkdir(outdir, 0777);
	snprintf(path, sizeof path, "%s/reader", outdir);
	mkdir(path, 0777);
	snprintf(path, sizeof path, "%s/records", outdir);
	mkdir(path, 0777);
	valid_cases();
	malformed_cases();
	v2_cases();
	v3_cases();
	header_cases();
	start_cases();
	container_cases();
	return 0;
}
