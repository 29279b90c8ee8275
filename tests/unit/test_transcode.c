/* preload/transcode.c and preload/livetab.c: the live set (growth, removal, sorted
 * export); one thread's ring events rewritten as version 2 events, byte for byte, by
 * hp_transcode_round() driven as writer.c's round_locked() drives it (a time cut, ring
 * bytes released by `used`, output encoded in pieces); stalls, forcing, rings that wrap
 * and malformed rings; and random causal programs of four threads, published as a
 * recorder publishes (each event after its causes, some threads late) and fed to rounds
 * as the writer feeds them, the traces merged by time and replayed against the
 * program's own blocks and live set. The v1 encoder and the v2 decoder here are written
 * from docs/trace-format.md, not from the recorder's or the analyzer's code. */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <heapprof/trace_format.h>

#include "livetab.h"
#include "transcode.h"

#define STACK 5 /* the stack id of the hand-built events */

/* A v2 event head byte: every dt and op in these tests fits one byte. */
#define H(dt, op) (uint8_t)((dt) << HP_OP_BITS | (op))

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "test_transcode: out of memory\n");
		exit(2);
	}
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p) {
		fprintf(stderr, "test_transcode: out of memory\n");
		exit(2);
	}
	return p;
}

static uint64_t rng;
static uint64_t rnd(void)
{
	/* xorshift64*: a fixed sequence per seed. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static unsigned varint_len(uint64_t v)
{
	unsigned n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* What the program did in one ring event: its time, when the thread published it (the
 * ring's head moved past it), and the block it made or touched. */
struct ev_info {
	uint64_t time, pub, size, stack, block;
	unsigned op; /* HP_OP_ALLOC, HP_OP_FREE or HP_OP_REALLOC */
};

/* The v1 ring encoder of one thread (docs/trace-format.md, "Version 1 events");
 * off[k] is where event k starts, off[n] the end. */
struct enc {
	uint8_t *buf;
	size_t len, cap;
	uint64_t prev_time, prev_addr;
	size_t *off;
	struct ev_info *ev;
	size_t n, ncap;
};

static uint8_t *enc_begin(struct enc *e, uint64_t time, unsigned head_op, unsigned op,
			  uint64_t size, uint64_t stack)
{
	if (e->cap - e->len < HP_EVENT_MAX_BYTES) {
		e->cap = e->cap ? 2 * e->cap : 4096;
		e->buf = xrealloc(e->buf, e->cap);
	}
	if (e->n + 2 > e->ncap) {
		e->ncap = e->ncap ? 2 * e->ncap : 256;
		e->off = xrealloc(e->off, e->ncap * sizeof *e->off);
		e->ev = xrealloc(e->ev, e->ncap * sizeof *e->ev);
	}
	e->off[e->n] = e->len;
	e->ev[e->n] = (struct ev_info){time, time, size, stack, 0, op};
	uint8_t *p = hp_put_varint(e->buf + e->len, (time - e->prev_time) << HP_OP_BITS | head_op);
	e->prev_time = time;
	return p;
}

static void enc_end(struct enc *e, uint8_t *p, uint64_t addr)
{
	e->len = (size_t)(p - e->buf);
	e->prev_addr = addr;
	e->off[++e->n] = e->len;
}

static int64_t d16(uint64_t to, uint64_t from)
{
	return (int64_t)((to >> HP_ADDR_SHIFT) - (from >> HP_ADDR_SHIFT));
}

/* Unaligned addresses take the _ABS forms, as the recorder's do. */
static void enc_alloc(struct enc *e, uint64_t time, uint64_t addr, uint64_t size, uint64_t stack)
{
	uint8_t *p;
	if (addr & 15) {
		p = enc_begin(e, time, HP_OP_EXT, HP_OP_ALLOC, size, stack);
		p = hp_put_varint(p, HP_EXT_ALLOC_ABS);
		p = hp_put_varint(p, size);
		p = hp_put_varint(p, stack);
		p = hp_put_varint(p, addr);
	} else {
		p = enc_begin(e, time, HP_OP_ALLOC, HP_OP_ALLOC, size, stack);
		p = hp_put_varint(p, size);
		p = hp_put_varint(p, stack);
		p = hp_put_svarint(p, d16(addr, e->prev_addr));
	}
	enc_end(e, p, addr);
}

static void enc_free(struct enc *e, uint64_t time, uint64_t addr)
{
	uint8_t *p;
	if (addr & 15) {
		p = enc_begin(e, time, HP_OP_EXT, HP_OP_FREE, 0, 0);
		p = hp_put_varint(p, HP_EXT_FREE_ABS);
		p = hp_put_varint(p, addr);
	} else {
		p = enc_begin(e, time, HP_OP_FREE, HP_OP_FREE, 0, 0);
		p = hp_put_svarint(p, d16(addr, e->prev_addr));
	}
	enc_end(e, p, addr);
}

static void enc_realloc(struct enc *e, uint64_t time, uint64_t old, uint64_t addr, uint64_t size,
			uint64_t stack)
{
	uint8_t *p;
	if ((old | addr) & 15) {
		p = enc_begin(e, time, HP_OP_EXT, HP_OP_REALLOC, size, stack);
		p = hp_put_varint(p, HP_EXT_REALLOC_ABS);
		p = hp_put_varint(p, old);
		p = hp_put_varint(p, size);
		p = hp_put_varint(p, stack);
		p = hp_put_varint(p, addr);
	} else {
		p = enc_begin(e, time, HP_OP_REALLOC, HP_OP_REALLOC, size, stack);
		p = hp_put_svarint(p, d16(old, e->prev_addr));
		p = hp_put_varint(p, size);
		p = hp_put_varint(p, stack);
		p = hp_put_svarint(p, d16(addr, old));
	}
	enc_end(e, p, addr);
}

/* heapprof_alloc_hint (release 0) or heapprof_free_hint (release 1): the rings' own
 * _ABS forms, untagged; they set prev_addr like the others. */
static void enc_hint(struct enc *e, uint64_t time, uint64_t addr, uint64_t size, int release)
{
	uint8_t *p = enc_begin(e, time, HP_OP_EXT, release ? HP_OP_FREE : HP_OP_ALLOC, size,
			       release ? 0 : STACK);
	p = hp_put_varint(p, release ? HP_EXT_FREE_HINT_ABS : HP_EXT_ALLOC_HINT_ABS);
	if (!release) {
		p = hp_put_varint(p, size);
		p = hp_put_varint(p, STACK);
	}
	p = hp_put_varint(p, addr);
	enc_end(e, p, addr);
}

/* The last event appended: its block and when it was published. */
static void enc_mark(struct enc *e, uint64_t block, uint64_t pub)
{
	e->ev[e->n - 1].block = block;
	e->ev[e->n - 1].pub = pub;
}

static void enc_free_all(struct enc *e)
{
	free(e->buf);
	free(e->off);
	free(e->ev);
	memset(e, 0, sizeof *e);
}

/* Whether byte offset pos is where an event starts (or the end); *k: that event. */
static int event_at(const struct enc *e, size_t pos, size_t *k)
{
	size_t lo = 0, hi = e->n;
	if (!e->n) {
		*k = 0;
		return pos == 0;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (e->off[mid] < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	*k = lo;
	return e->off[lo] == pos;
}
/* The v2 decoder of one thread (docs/trace-format.md, "EVENTS (tag 8)"). */
enum v2_kind {
	V2_ALLOC,
	V2_FREE,
	V2_REALLOC,
	V2_ALLOC_SLOT,
	V2_FREE_UNKNOWN,
	V2_REALLOC_UNKNOWN,
	V2_ALLOC_HINT
};

struct v2_event {
	enum v2_kind kind;
	uint64_t time, slot, size, stack, addr;
};

struct v2_dec {
	uint64_t prev_time, prev_slot;
	uint64_t free_list[HP_FREE_LIST_MAX]; /* oldest first */
	unsigned nfree;
	struct v2_event *ev;
	size_t n, cap;
};

static int get_u(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	return hp_get_varint(p, end, v);
}

/* Appends the events of p[0..len) to d->ev. Returns 0, or -1 for a malformed payload or
 * an ALLOC with an empty free list. */
static int v2_decode(struct v2_dec *d, const uint8_t *p, size_t len)
{
	if (!len)
		return 0;
	const uint8_t *end = p + len;
	while (p < end) {
		uint64_t head, ext;
		int64_t delta;
		struct v2_event e = {0};
		if (get_u(&p, end, &head))
			return -1;
		e.time = d->prev_time + (head >> HP_OP_BITS);
		switch (head & HP_OP_MASK) {
		case HP_OP_ALLOC:
			e.kind = V2_ALLOC;
			if (get_u(&p, end, &e.size) || get_u(&p, end, &e.stack) || !d->nfree)
				return -1;
			e.slot = d->free_list[--d->nfree];
			break;
		case HP_OP_FREE:
			e.kind = V2_FREE;
			if (hp_get_svarint(&p, end, &delta))
				return -1;
			e.slot = d->prev_slot + (uint64_t)delta;
			if (d->nfree == HP_FREE_LIST_MAX)
				memmove(d->free_list, d->free_list + 1,
					--d->nfree * sizeof *d->free_list);
			d->free_list[d->nfree++] = e.slot;
			break;
		case HP_OP_REALLOC:
			e.kind = V2_REALLOC;
			if (hp_get_svarint(&p, end, &delta) || get_u(&p, end, &e.size) ||
			    get_u(&p, end, &e.stack))
				return -1;
			e.slot = d->prev_slot + (uint64_t)delta;
			break;
		default:
			if (get_u(&p, end, &ext))
				return -1;
			if (ext == HP_EXT_ALLOC_SLOT || ext == HP_EXT_ALLOC_HINT) {
				e.kind = ext == HP_EXT_ALLOC_SLOT ? V2_ALLOC_SLOT : V2_ALLOC_HINT;
				if (get_u(&p, end, &e.size) || get_u(&p, end, &e.stack) ||
				    get_u(&p, end, &e.slot))
					return -1;
			} else if (ext == HP_EXT_FREE_UNKNOWN) {
				e.kind = V2_FREE_UNKNOWN;
				if (get_u(&p, end, &e.addr))
					return -1;
			} else if (ext == HP_EXT_REALLOC_UNKNOWN) {
				e.kind = V2_REALLOC_UNKNOWN;
				if (get_u(&p, end, &e.addr) || get_u(&p, end, &e.size) ||
				    get_u(&p, end, &e.stack) || get_u(&p, end, &e.slot))
					return -1;
			} else {
				return -1;
			}
			break;
		}
		if (e.slot > HP_MAX_SLOT)
			return -1;
		if (e.kind != V2_FREE_UNKNOWN)
			d->prev_slot = e.slot;
		d->prev_time = e.time;
		if (d->n == d->cap) {
			d->cap = d->cap ? 2 * d->cap : 256;
			d->ev = xrealloc(d->ev, d->cap * sizeof *d->ev);
		}
		d->ev[d->n++] = e;
	}
	return 0;
}

static void v2_reset(struct v2_dec *d)
{
	free(d->ev);
	memset(d, 0, sizeof *d);
}

/* hp_transcoder has no release: its memory is the live set's and its own mappings. */
static void transcoder_release(struct hp_transcoder *x)
{
	hp_livetab_release(&x->live);
	munmap(x->pool.v, x->pool.cap * sizeof *x->pool.v);
	munmap(x->ev, (x->ev_cap + 1) * sizeof *x->ev);
	munmap(x->out, x->ev_cap * HP_TRANSCODE_EVENT_MAX);
	munmap(x->heap, x->heap_cap * sizeof *x->heap);
}

static const char *hex(const uint8_t *p, size_t n)
{
	static char s[512];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 4 < sizeof s; i++)
		k += (size_t)snprintf(s + k, sizeof s - k, "%02x ", p[i]);
	s[k] = '\0';
	return s;
}

/* The output bytes equal the list given. */
#define CHECK_BYTES(got, n, ...)                                                                   \
	do {                                                                                       \
		static const uint8_t want_[] = {__VA_ARGS__};                                      \
		size_t n_ = (n);                                                                   \
		CHECK_(n_ == sizeof want_ && !memcmp((got), want_, n_), "%s: got %s(%zu bytes)",   \
		       #got, hex((got), n_), n_);                                                  \
	} while (0)

static void check_block(const struct hp_livetab *t, uint64_t addr, uint64_t size, uint64_t slot,
			int line)
{
	const struct hp_live *b = hp_livetab_find(t, addr);
	uint64_t bsize = b ? hp_livetab_size(t, b) : 0, bslot = b ? hp_livetab_slot(b) : 0;
	CHECK_(b && b->addr == addr && bsize == size && bslot == slot,
	       "line %d: block %#" PRIx64 " is %s (size %" PRIu64 ", slot %" PRIu64
	       "), want size %" PRIu64 ", slot %" PRIu64,
	       line, addr, b ? "live" : "not live", bsize, bslot, size, slot);
}
#define CHECK_BLOCK(t, addr, size, slot) check_block((t), (addr), (size), (slot), __LINE__)

/* ---- livetab ---------------------------------------------------------------------- */

static void test_livetab_basic(void)
{
	struct hp_livetab t;
	CHECK_I64(hp_livetab_init(&t), 0);
	CHECK_U64(hp_livetab_count(&t), 0);
	CHECK(hp_livetab_find(&t, 0x1000) == NULL);
	CHECK(hp_livetab_find(&t, 0) == NULL);
	CHECK_I64(hp_livetab_insert(&t, 0x1000, 24, 7), 0);
	CHECK_I64(hp_livetab_insert(&t, 0x2000, 48, 3), 0);
	CHECK_U64(hp_livetab_count(&t), 2);
	CHECK_BLOCK(&t, 0x1000, 24, 7);
	CHECK_BLOCK(&t, 0x2000, 48, 3);
	CHECK(hp_livetab_find(&t, 0x1010) == NULL);

	hp_livetab_remove(&t, hp_livetab_find(&t, 0x1000));
	CHECK_U64(hp_livetab_count(&t), 1);
	CHECK(hp_livetab_find(&t, 0x1000) == NULL);
	CHECK_BLOCK(&t, 0x2000, 48, 3);
	CHECK_I64(hp_livetab_insert(&t, 0x1000, 99, 1), 0); /* a new block at the address */
	CHECK_BLOCK(&t, 0x1000, 99, 1);

	/* One probe: the live block, else the empty entry to fill. */
	CHECK_I64(hp_livetab_reserve(&t), 0);
	struct hp_live *e = hp_livetab_lookup(&t, 0x2000);
	CHECK(e == hp_livetab_find(&t, 0x2000));
	e = hp_livetab_lookup(&t, 0x3000);
	CHECK(e != NULL && e->addr == 0);
	if (e && !e->addr)
		CHECK_I64(hp_livetab_fill(&t, e, 0x3000, 5, 9), 0);
	CHECK_BLOCK(&t, 0x3000, 5, 9);
	CHECK_U64(hp_livetab_count(&t), 3);
	hp_livetab_remove(&t, hp_livetab_find(&t, 0x3000));

	/* The widest slot and sizes on both sides of the entry's bits, resized in place
	 * across them. */
	CHECK_I64(hp_livetab_insert(&t, 0x4000, HP_LIVE_SIZE_BIG - 1, HP_MAX_SLOT), 0);
	CHECK_I64(hp_livetab_insert(&t, 0x5000, HP_LIVE_SIZE_BIG, HP_MAX_SLOT - 1), 0);
	CHECK_I64(hp_livetab_insert(&t, 0x6000, UINT64_MAX, 2), 0);
	CHECK_BLOCK(&t, 0x4000, HP_LIVE_SIZE_BIG - 1, HP_MAX_SLOT);
	CHECK_BLOCK(&t, 0x5000, HP_LIVE_SIZE_BIG, HP_MAX_SLOT - 1);
	CHECK_BLOCK(&t, 0x6000, UINT64_MAX, 2);
	CHECK_I64(hp_livetab_resize(&t, hp_livetab_find(&t, 0x4000), 1ull << 40), 0);
	CHECK_I64(hp_livetab_resize(&t, hp_livetab_find(&t, 0x5000), 17), 0);
	CHECK_I64(hp_livetab_resize(&t, hp_livetab_find(&t, 0x6000), 1ull << 50), 0);
	CHECK_BLOCK(&t, 0x4000, 1ull << 40, HP_MAX_SLOT);
	CHECK_BLOCK(&t, 0x5000, 17, HP_MAX_SLOT - 1);
	CHECK_BLOCK(&t, 0x6000, 1ull << 50, 2);
	CHECK_U64(hp_livetab_count(&t), 5);
	hp_livetab_remove(&t, hp_livetab_find(&t, 0x4000));
	hp_livetab_remove(&t, hp_livetab_find(&t, 0x5000));
	hp_livetab_remove(&t, hp_livetab_find(&t, 0x6000));
	CHECK_I64(hp_livetab_insert(&t, 0x6000, 6, 6), 0); /* no stale big size */
	CHECK_BLOCK(&t, 0x6000, 6, 6);
	hp_livetab_remove(&t, hp_livetab_find(&t, 0x6000));

	struct hp_block *b;
	size_t n;
	CHECK_I64(hp_livetab_export_sorted(&t, &b, &n), 0);
	CHECK_U64(n, 2);
	if (n == 2) {
		CHECK_U64(b[0].addr, 0x1000);
		CHECK_U64(b[0].size, 99);
		CHECK_U64(b[0].slot, 1);
		CHECK_U64(b[1].addr, 0x2000);
		CHECK_U64(b[1].size, 48);
		CHECK_U64(b[1].slot, 3);
	}
	hp_block_array_free(b, n);
	hp_livetab_release(&t);
}

/* n addresses whose home bucket in t is `home`, from `from` on. */
static uint64_t same_home(const struct hp_livetab *t, size_t home, uint64_t from, uint64_t *out,
			  size_t n)
{
	for (size_t k = 0; k < n; from += 16)
		if (hp_livemap_home(&t->blocks, from) == home)
			out[k++] = from;
	return from;
}

/* Blocks past a full home bucket, across the table's end: found after blocks of their
 * home bucket leave, their entries never move, a new block takes the first room, and the
 * buckets' counts come back to zero. */
static void test_livetab_buckets(void)
{
	enum { NA = 3 * HP_LIVE_BUCKET, NB = HP_LIVE_BUCKET };
	struct hp_livetab t;
	uint64_t a[NA], b[NB], c, d;
	size_t bad = 0;
	CHECK_I64(hp_livetab_init(&t), 0);
	size_t last = t.blocks.mask;
	uint64_t next = same_home(&t, last, 0x10000, a, NA);
	next = same_home(&t, 0, next, b, NB);
	next = same_home(&t, last, next, &c, 1);
	same_home(&t, last, next, &d, 1);
	for (size_t k = 0; k < NA; k++)
		CHECK_I64(hp_livetab_insert(&t, a[k], k, 100 + k), 0);
	for (size_t k = 0; k < NB; k++)
		CHECK_I64(hp_livetab_insert(&t, b[k], k, 200 + k), 0);
	CHECK_U64(hp_livetab_count(&t), NA + NB);
	CHECK(t.blocks.passed[last] == 2 * HP_LIVE_BUCKET);
	for (size_t k = 0; k < NA; k++)
		CHECK_BLOCK(&t, a[k], k, 100 + k);
	for (size_t k = 0; k < NB; k++)
		CHECK_BLOCK(&t, b[k], k, 200 + k);
	CHECK(hp_livetab_find(&t, c) == NULL);

	struct hp_live *keep = hp_livetab_find(&t, a[NA - 1]);
	hp_livetab_remove(&t, hp_livetab_find(&t, a[0]));
	hp_livetab_remove(&t, hp_livetab_find(&t, a[1]));
	CHECK(hp_livetab_find(&t, a[NA - 1]) == keep);
	CHECK(hp_livetab_find(&t, a[0]) == NULL);
	for (size_t k = 2; k < NA; k++)
		CHECK_BLOCK(&t, a[k], k, 100 + k);
	for (size_t k = 0; k < NB; k++)
		CHECK_BLOCK(&t, b[k], k, 200 + k);

	/* The room a[0] left, in the home bucket. */
	CHECK_I64(hp_livetab_reserve(&t), 0);
	struct hp_live *e = hp_livetab_lookup(&t, c);
	CHECK(e && !e->addr && (size_t)(e - t.blocks.e) / HP_LIVE_BUCKET == last);
	if (e && !e->addr)
		CHECK_I64(hp_livetab_fill(&t, e, c, 7, 7), 0);
	CHECK_BLOCK(&t, c, 7, 7);
	CHECK(hp_livetab_find(&t, d) == NULL);

	hp_livetab_remove(&t, hp_livetab_find(&t, c));
	for (size_t k = 2; k < NA; k++)
		hp_livetab_remove(&t, hp_livetab_find(&t, a[k]));
	for (size_t k = 0; k < NB; k++)
		hp_livetab_remove(&t, hp_livetab_find(&t, b[k]));
	CHECK_U64(hp_livetab_count(&t), 0);
	for (size_t k = 0; k <= t.blocks.mask; k++)
		bad += t.blocks.passed[k] != 0;
	CHECK_U64(bad, 0);
	hp_livetab_release(&t);
}

#define GROW_N 50000

/* Block i: the first half packed 48 bytes apart as malloc packs them, the second half
 * 4 GiB apart and unaligned, so the radix sort needs its high-byte passes too. */
static uint64_t grow_addr(size_t i)
{
	return i < GROW_N / 2 ? 0x7f0000000000ull + i * 48 : (uint64_t)(i + 1) << 32 | 8;
}

/* Its size: every 97th too big for an entry's bits, so the side table grows too. */
static uint64_t grow_size(size_t i)
{
	return i % 97 ? 1 + i % 1000 : HP_LIVE_SIZE_BIG + i * 4096;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Well past the initial 4096 entries, half by insert and half by reserve, lookup and
 * fill, then every block removed in a random order. */
static void test_livetab_growth(void)
{
	struct hp_livetab t;
	static uint64_t sorted[GROW_N];
	static size_t order[GROW_N];
	static uint8_t gone[GROW_N];
	size_t bad = 0;
	CHECK_I64(hp_livetab_init(&t), 0);
	for (size_t i = 0; i < GROW_N; i++) {
		if (i % 2) { /* the transcoder's way */
			struct hp_live *e = NULL;
			bad += hp_livetab_reserve(&t) != 0 ||
			       (e = hp_livetab_lookup(&t, grow_addr(i)))->addr != 0;
			if (e && !e->addr)
				bad += hp_livetab_fill(&t, e, grow_addr(i), grow_size(i), i) != 0;
		} else {
			bad += hp_livetab_insert(&t, grow_addr(i), grow_size(i), i) != 0;
		}
		const struct hp_live *b = hp_livetab_find(&t, grow_addr(i));
		bad += !b || hp_livetab_size(&t, b) != grow_size(i) || hp_livetab_slot(b) != i;
	}
	CHECK_U64(bad, 0);
	CHECK_U64(hp_livetab_count(&t), GROW_N);
	for (size_t i = 0; i < GROW_N; i++) {
		const struct hp_live *b = hp_livetab_find(&t, grow_addr(i));
		bad += !b || b->addr != grow_addr(i) || hp_livetab_size(&t, b) != grow_size(i) ||
		       hp_livetab_slot(b) != i;
		sorted[i] = grow_addr(i);
	}
	CHECK_U64(bad, 0);

	/* The export: every block once, by address, with its size and slot. */
	qsort(sorted, GROW_N, sizeof *sorted, cmp_u64);
	struct hp_block *v;
	size_t n;
	CHECK_I64(hp_livetab_export_sorted(&t, &v, &n), 0);
	CHECK_U64(n, GROW_N);
	for (size_t k = 0; k < n && k < GROW_N; k++) {
		uint64_t a = sorted[k];
		size_t i = a & 8 ? (size_t)(a >> 32) - 1 : (size_t)((a - 0x7f0000000000ull) / 48);
		bad += v[k].addr != a || v[k].size != grow_size(i) || v[k].slot != i;
	}
	CHECK_U64(bad, 0);
	hp_block_array_free(v, n);

	/* Removal in a random order; half way, the rest is still found. */
	rng = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < GROW_N; i++)
		order[i] = i;
	for (size_t i = GROW_N - 1; i > 0; i--) {
		size_t j = (size_t)(rnd() % (i + 1)), x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	for (size_t k = 0; k < GROW_N; k++) {
		struct hp_live *b = hp_livetab_find(&t, grow_addr(order[k]));
		bad += !b;
		if (b)
			hp_livetab_remove(&t, b);
		gone[order[k]] = 1;
		if (k == GROW_N / 2) {
			CHECK_U64(hp_livetab_count(&t), GROW_N - GROW_N / 2 - 1);
			for (size_t i = 0; i < GROW_N; i++) {
				b = hp_livetab_find(&t, grow_addr(i));
				bad += gone[i] ? b != NULL
					       : !b || hp_livetab_size(&t, b) != grow_size(i) ||
						     hp_livetab_slot(b) != i;
			}
		}
	}
	CHECK_U64(bad, 0);
	CHECK_U64(hp_livetab_count(&t), 0);
	for (size_t i = 0; i < GROW_N; i++)
		bad += hp_livetab_find(&t, grow_addr(i)) != NULL;
	CHECK_U64(bad, 0);
	CHECK_I64(hp_livetab_export_sorted(&t, &v, &n), 0);
	CHECK_U64(n, 0);
	CHECK(v == NULL);
	CHECK_I64(hp_livetab_insert(&t, 0x1230, 5, 6), 0); /* the grown table still works */
	CHECK_BLOCK(&t, 0x1230, 5, 6);
	CHECK_U64(hp_livetab_count(&t), 1);
	hp_livetab_release(&t);
}

/* ---- the writer's side of a round --------------------------------------------------- */

/* One thread's ring as the writer sees it. The thread copies its events' v1 bytes into a
 * power-of-two ring at absolute positions origin + offset and publishes them by moving
 * head; the writer releases them by moving tail. Bytes outside [tail, head) are garbage
 * (0xff, a varint that never ends), so a read there fails. out: the thread's v2 trace. */
struct feed {
	struct hp_transcode_thread th;
	const struct enc *in;
	uint8_t *ring;
	uint64_t size, origin, tail, head;
	size_t pub;		       /* events published */
	struct hp_transcode_ring last; /* as the last round left it */
	uint8_t *out;
	size_t nout, outcap, made; /* made: by the last round */
};

static void feed_init(struct feed *f, struct hp_transcoder *x, const struct enc *in, uint64_t size,
		      uint64_t origin)
{
	memset(f, 0, sizeof *f);
	CHECK_I64(hp_transcode_thread_reset(x, &f->th), 0);
	f->in = in;
	f->size = size;
	f->origin = f->tail = f->head = origin;
	f->ring = xrealloc(NULL, size);
	memset(f->ring, 0xff, size);
}

static void feed_release(struct feed *f)
{
	free(f->ring);
	free(f->out);
	f->ring = f->out = NULL;
}

/* The thread publishes its events before event k. */
static void feed_publish(struct feed *f, size_t k)
{
	if (k <= f->pub)
		return;
	uint64_t end = f->origin + f->in->off[k];
	if (end - f->tail > f->size) {
		fprintf(stderr, "test_transcode: a ring of %" PRIu64 " bytes overflows\n", f->size);
		exit(2);
	}
	for (uint64_t p = f->head; p < end; p++)
		f->ring[p & (f->size - 1)] = f->in->buf[p - f->origin];
	f->head = end;
	f->pub = k;
}

/* The last round's output of f. */
static const uint8_t *feed_out(const struct feed *f)
{
	return f->out + f->nout - f->made;
}

#define MAX_FEEDS 8

/* One writer round over the feeds, in the order given (writer.c: round_locked,
 * emit_events): hp_transcode_round(), then each ring's events encoded until
 * hp_transcode_encode() returns 0 (in pieces of random room when pieces is set) and its
 * `used` bytes released. Returns what the round returned. */
static int run_round(struct hp_transcoder *x, struct feed *const *fs, size_t n, uint64_t cut,
		     uint64_t round, int force_all, uint64_t *below, int pieces)
{
	struct hp_transcode_ring r[MAX_FEEDS];
	for (size_t i = 0; i < n; i++)
		r[i] = (struct hp_transcode_ring){.th = &fs[i]->th,
						  .ring = fs[i]->ring,
						  .size = fs[i]->size,
						  .tail = fs[i]->tail,
						  .head = fs[i]->head};
	int rc = hp_transcode_round(x, r, n, cut, round, force_all, below);
	for (size_t i = 0; i < n; i++) {
		struct feed *f = fs[i];
		f->made = 0;
		f->last = r[i];
		if (rc)
			continue;
		for (;;) {
			size_t cap = pieces
					 ? HP_TRANSCODE_EVENT_MAX + (rnd() % 4 ? rnd() % 64 : 4096)
					 : 1u << 16;
			if (f->outcap - f->nout < cap) {
				f->outcap = 2 * f->outcap + cap;
				f->out = xrealloc(f->out, f->outcap);
			}
			size_t made = hp_transcode_encode(x, &r[i], f->out + f->nout, cap);
			if (!made)
				break;
			f->nout += made;
			f->made += made;
		}
		if (r[i].encoded != r[i].applied || r[i].used > f->head - f->tail)
			CHECK_(0,
			       "ring %zu: %zu of %zu events encoded, %" PRIu64 " of %" PRIu64
			       " bytes used",
			       i, r[i].encoded, r[i].applied, r[i].used, f->head - f->tail);
		for (uint64_t p = f->tail; p < f->tail + r[i].used; p++)
			f->ring[p & (f->size - 1)] = 0xff;
		f->tail += r[i].used;
		f->last = r[i];
	}
	return rc;
}

/* ---- one thread -------------------------------------------------------------------- */

#define A 0x10000ull
#define B 0x20000ull
#define C 0x30000ull
#define D 0x40000ull
#define U 0x1230ull /* never allocated; varint bytes b0 24 */
#define V 0x1240ull /* never allocated; varint bytes c0 24 */

struct fx {
	struct hp_transcoder x;
	struct enc in;
	struct feed f;
	uint64_t round, below;
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof *f);
	CHECK_I64(hp_transcoder_init(&f->x), 0);
	feed_init(&f->f, &f->x, &f->in, 1u << 16, 0);
}

static void fx_release(struct fx *f)
{
	feed_release(&f->f);
	transcoder_release(&f->x);
	enc_free_all(&f->in);
}

/* Publishes everything appended and runs the next round; feed_out(&f->f) and f->f.made
 * are its output. */
static int fx_run(struct fx *f, uint64_t cut, int force_all)
{
	struct feed *fp = &f->f;
	feed_publish(fp, f->in.n);
	return run_round(&f->x, &fp, 1, cut, ++f->round, force_all, &f->below, 0);
}

/* malloc/free/malloc reuses the slot with no slot bytes; a new block gets the next slot;
 * realloc keeps its slot, in place or moved; events at or after the cut stay in the
 * ring for a later round; the state carries over rounds. */
static void test_slots(void)
{
	struct fx *f = malloc(sizeof *f);
	fx_init(f);
	enc_alloc(&f->in, 1, A, 32, STACK);
	enc_free(&f->in, 2, A);
	enc_alloc(&f->in, 3, B, 48, STACK);
	enc_alloc(&f->in, 4, C, 16, STACK);
	CHECK_I64(fx_run(f, 5, 0), 0);
	CHECK_U64(f->f.last.used, f->in.len);
	CHECK_U64(f->below, 5);
	CHECK(!f->f.th.stalled);
	CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 32, STACK,
		    0,						       /* slot 0 */
		    H(1, HP_OP_FREE), 0,			       /* slot 0 */
		    H(1, HP_OP_ALLOC), 48, STACK,		       /* slot 0, implicit */
		    H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 16, STACK, 1); /* slot 1 */
	CHECK_U64(hp_livetab_count(&f->x.live), 2);
	CHECK(hp_livetab_find(&f->x.live, A) == NULL);
	CHECK_BLOCK(&f->x.live, B, 48, 0);
	CHECK_BLOCK(&f->x.live, C, 16, 1);

	struct v2_dec d = {0};
	CHECK_I64(v2_decode(&d, feed_out(&f->f), f->f.made), 0);
	CHECK_U64(d.n, 4);
	if (d.n == 4) {
		CHECK_U64(d.ev[0].kind, V2_ALLOC_SLOT);
		CHECK_U64(d.ev[2].kind, V2_ALLOC);
		CHECK_U64(d.ev[2].slot, 0);
		CHECK_U64(d.ev[2].time, 3);
		CHECK_U64(d.ev[3].slot, 1);
	}
	v2_reset(&d);

	enc_realloc(&f->in, 5, C, C, 64, STACK); /* in place */
	enc_realloc(&f->in, 6, B, D, 80, STACK); /* moved */
	enc_free(&f->in, 7, D);
	enc_free(&f->in, 8, C);
	enc_alloc(&f->in, 9, A, 8, STACK);
	CHECK_I64(fx_run(f, 5, 0), 0); /* nothing below the cut */
	CHECK_U64(f->f.last.used, 0);
	CHECK_U64(f->f.made, 0);
	CHECK_U64(f->below, 5);
	CHECK(!f->f.th.stalled);
	CHECK_I64(fx_run(f, 7, 0), 0); /* the two reallocs */
	CHECK_U64(f->f.tail, f->in.off[6]);
	CHECK_U64(f->below, 7);
	CHECK(!f->f.th.stalled);
	CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_REALLOC), 0, 64, STACK, /* slot 1 */
		    H(1, HP_OP_REALLOC), 1, 80, STACK); /* slot 0: delta -1 */
	CHECK_I64(fx_run(f, 10, 0), 0);
	CHECK_U64(f->f.tail, f->in.len);
	CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_FREE), 0, /* slot 0 */
		    H(1, HP_OP_FREE), 2,			     /* slot 1: delta +1 */
		    H(1, HP_OP_ALLOC), 8, STACK);		     /* slot 1, the last freed */
	CHECK_U64(hp_livetab_count(&f->x.live), 1);
	CHECK_BLOCK(&f->x.live, A, 8, 1);
	CHECK_I64(v2_decode(&d, f->f.out, f->f.nout), 0);
	CHECK_U64(d.n, 9);
	if (d.n == 9) {
		CHECK_U64(d.ev[5].slot, 0);
		CHECK_U64(d.ev[5].size, 80);
		CHECK_U64(d.ev[8].slot, 1);
		CHECK_U64(d.ev[8].time, 9);
	}
	v2_reset(&d);
	fx_release(f);

	/* Unaligned addresses come in the _ABS forms and give the same events. */
	fx_init(f);
	enc_alloc(&f->in, 1, 0x1008, 3, STACK);
	enc_realloc(&f->in, 2, 0x1008, 0x2008, 4, STACK);
	enc_realloc(&f->in, 3, 0x2008, B, 5, STACK);
	enc_free(&f->in, 4, B);
	CHECK_I64(fx_run(f, 5, 0), 0);
	CHECK_U64(f->f.last.used, f->in.len);
	CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 3, STACK, 0,
		    H(1, HP_OP_REALLOC), 0, 4, STACK, H(1, HP_OP_REALLOC), 0, 5, STACK,
		    H(1, HP_OP_FREE), 0);
	CHECK_U64(hp_livetab_count(&f->x.live), 0);
	fx_release(f);
	free(f);
}

/* Hint blocks live beside the malloc block that holds them, even at its very address:
 * ALLOC_HINT always names its slot (never the implicit reuse of the free list), a hint
 * release is a plain FREE, and the ring decoder's prev_addr stays the untagged address
 * (the allocation after the hints decodes its delta from it). The leak scan's export
 * leaves hint blocks out. */
static void test_hints(void)
{
	struct fx *f = malloc(sizeof *f);
	fx_init(f);
	enc_alloc(&f->in, 1, A, 4096, STACK); /* the pool: slot 0 */
	enc_hint(&f->in, 2, A, 48, 0);	      /* at the pool's own address: slot 1 */
	enc_hint(&f->in, 3, A + 72, 40, 0);   /* unaligned: slot 2 */
	enc_hint(&f->in, 4, A, 0, 1);	      /* released: slot 1 to the free list */
	enc_alloc(&f->in, 5, B, 32, STACK);   /* delta from A: slot 1, implicit */
	enc_alloc(&f->in, 6, C, 8, STACK);    /* slot 3 */
	enc_free(&f->in, 6, C);		      /* slot 3 to the free list */
	enc_hint(&f->in, 7, A + 128, 16, 0);  /* not slot 3: a named slot */
	CHECK_I64(fx_run(f, 8, 0), 0);
	CHECK_U64(f->f.last.used, f->in.len);
	CHECK(!f->f.th.stalled);
	struct v2_dec d = {0};
	CHECK_I64(v2_decode(&d, feed_out(&f->f), f->f.made), 0);
	CHECK_U64(d.n, 8);
	if (d.n == 8) {
		static const enum v2_kind kinds[8] = {V2_ALLOC_SLOT, V2_ALLOC_HINT, V2_ALLOC_HINT,
						      V2_FREE,	     V2_ALLOC,	    V2_ALLOC_SLOT,
						      V2_FREE,	     V2_ALLOC_HINT};
		for (int i = 0; i < 8; i++)
			CHECK_U64(d.ev[i].kind, kinds[i]);
		CHECK_U64(d.ev[0].slot, 0);
		CHECK_U64(d.ev[1].slot, 1);
		CHECK_U64(d.ev[1].size, 48);
		CHECK_U64(d.ev[2].slot, 2);
		CHECK_U64(d.ev[3].slot, 1);
		CHECK_U64(d.ev[4].slot, 1);
		CHECK_U64(d.ev[4].size, 32);
		CHECK_U64(d.ev[6].slot, 3);
		CHECK_U64(d.ev[7].slot, 4);
	}
	v2_reset(&d);
	CHECK_U64(hp_livetab_count(&f->x.live), 4);
	CHECK_BLOCK(&f->x.live, A, 4096, 0);
	CHECK_BLOCK(&f->x.live, B, 32, 1); /* untagged: decoded from an untagged base */
	CHECK_BLOCK(&f->x.live, (A + 72) | HP_HINT_TAG, 40, 2);
	CHECK(hp_livetab_find(&f->x.live, A | HP_HINT_TAG) == NULL);
	CHECK(hp_livetab_find(&f->x.live, (A + 128) | HP_HINT_TAG) != NULL);
	struct hp_block *blocks;
	size_t n;
	CHECK_I64(hp_livetab_export_sorted(&f->x.live, &blocks, &n), 0);
	CHECK_U64(n, 2);
	if (n == 2)
		CHECK(blocks[0].addr == A && blocks[1].addr == B);
	hp_block_array_free(blocks, n);
	fx_release(f);
	free(f);
}

/* 33 blocks freed in a row, then 33 allocated: the first 32 take the freed slots back
 * newest first with no slot bytes; the 33rd names a slot, the one dropped from the free
 * list to the pool (released first) when it was released before the allocation, else a
 * new one. */
static void test_free_list_overflow(unsigned later)
{
	struct fx *f = malloc(sizeof *f);
	fx_init(f);
	for (unsigned i = 0; i < 33; i++)
		enc_alloc(&f->in, 1 + i, 0x100000 + i * 0x100, 1 + i, STACK);
	for (unsigned i = 0; i < 33; i++) /* all at time 34 */
		enc_free(&f->in, 34, 0x100000 + i * 0x100);
	for (unsigned i = 0; i < 33; i++) /* all at time 34 + later */
		enc_alloc(&f->in, 34 + later, 0x200000 + i * 0x100, 64 + i, STACK);
	CHECK_I64(fx_run(f, 35 + later, 0), 0);
	CHECK_U64(f->f.last.used, f->in.len);
	/* 33 ALLOC_SLOT of 5 bytes, 33 FREE of 2, 32 ALLOC of 3, one ALLOC_SLOT of 5. */
	CHECK_U64(f->f.made, 33 * 5 + 33 * 2 + 32 * 3 + 5);
	CHECK_U64(f->x.pool.len, later ? 0 : 1);

	const uint8_t *out = feed_out(&f->f);
	struct v2_dec d = {0};
	size_t bad = 0;
	CHECK_I64(v2_decode(&d, out, f->f.made), 0);
	CHECK_U64(d.n, 99);
	for (unsigned i = 0; i < 33 && d.n == 99; i++) {
		bad += d.ev[i].kind != V2_ALLOC_SLOT || d.ev[i].slot != i;
		bad += d.ev[33 + i].kind != V2_FREE || d.ev[33 + i].slot != i ||
		       d.ev[33 + i].time != 34;
		if (i < 32)
			bad += d.ev[66 + i].kind != V2_ALLOC || d.ev[66 + i].slot != 32 - i ||
			       d.ev[66 + i].size != 64 + i || d.ev[66 + i].time != 34 + later;
	}
	CHECK_U64(bad, 0);
	/* The first free's slot delta is 0 - 32, the others +1; the last event in bytes. */
	CHECK_U64(out[33 * 5 + 1], hp_zigzag(-32));
	CHECK_U64(out[33 * 5 + 3], hp_zigzag(1));
	if (later)
		CHECK_BYTES(out + f->f.made - 5, 5, H(0, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 96, STACK,
			    0);
	else
		CHECK_BYTES(out + f->f.made - 5, 5, H(0, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 96, STACK,
			    33);
	for (unsigned i = 0; i < 32; i++)
		CHECK_BLOCK(&f->x.live, 0x200000 + i * 0x100, 64 + i, 32 - i);
	CHECK_BLOCK(&f->x.live, 0x200000 + 32 * 0x100, 96, later ? 0 : 33);
	CHECK_U64(hp_livetab_count(&f->x.live), 33);

	/* Slot 0 stayed in the pool: an allocation after its release gets it. */
	if (!later) {
		enc_alloc(&f->in, 35, A, 7, STACK);
		CHECK_I64(fx_run(f, 36, 0), 0);
		CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 7,
			    STACK, 0);
		CHECK_U64(f->x.pool.len, 0);
	}
	v2_reset(&d);
	fx_release(f);
	free(f);
}

/* n x (malloc 32 then free) at dt = 1. */
static void loop_input(struct enc *e, unsigned n, int move)
{
	uint64_t time = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t addr = move ? 0x55550000ull + (i % 7) * 0x1230 : A;
		enc_alloc(e, ++time, addr, 32, STACK);
		enc_free(e, ++time, addr);
	}
}

/* The size of a malloc/free loop, from the spec: the first allocation names slot 0
 * (ALLOC_SLOT: head, ext_op, size, stack, slot); each free is a head and a zero slot
 * delta; each next allocation takes the freed slot back (ALLOC: head, size, stack). */
static void test_loop_size(void)
{
	enum { N = 1000 };
	size_t alloc_slot = varint_len(1 << HP_OP_BITS | HP_OP_EXT) +
			    varint_len(HP_EXT_ALLOC_SLOT) + varint_len(32) + varint_len(STACK) +
			    varint_len(0);
	size_t free_ev = varint_len(1 << HP_OP_BITS | HP_OP_FREE) + varint_len(hp_zigzag(0));
	size_t alloc =
	    varint_len(1 << HP_OP_BITS | HP_OP_ALLOC) + varint_len(32) + varint_len(STACK);
	size_t want = alloc_slot + (N - 1) * alloc + N * free_ev;
	CHECK_U64(want, 5 + 999 * 3 + 1000 * 2); /* 5002 */

	struct fx *f = malloc(sizeof *f), *g = malloc(sizeof *g);
	fx_init(f);
	loop_input(&f->in, N, 0);
	CHECK_I64(fx_run(f, 2 * N + 1, 0), 0);
	CHECK_U64(f->f.last.used, f->in.len);
	CHECK_U64(f->f.made, want);
	CHECK_U64(hp_livetab_count(&f->x.live), 0);
	CHECK_U64(f->x.next_slot, 1);

	/* No address is written: other addresses give the same bytes. */
	fx_init(g);
	loop_input(&g->in, N, 1);
	CHECK_I64(fx_run(g, 2 * N + 1, 0), 0);
	CHECK_U64(g->f.made, want);
	CHECK(g->f.made == f->f.made && !memcmp(g->f.out, f->f.out, f->f.made));
	fx_release(g);

	/* Encoded in pieces of little room: each call writes whole events while one more
	 * fits, 0 once all are written; the pieces joined are the same bytes. */
	fx_init(g);
	loop_input(&g->in, N, 0);
	struct hp_transcode_ring r = {
	    .th = &g->f.th, .ring = g->in.buf, .size = g->in.cap, .tail = 0, .head = g->in.len};
	static uint8_t joined[8192];
	size_t njoined = 0, calls = 0, made, over = 0;
	uint64_t below;
	CHECK_I64(hp_transcode_round(&g->x, &r, 1, 2 * N + 1, 1, 0, &below), 0);
	CHECK_U64(r.used, g->in.len);
	CHECK_U64(r.applied, 2 * N);
	rng = 42;
	do {
		size_t cap = HP_TRANSCODE_EVENT_MAX + rnd() % 16;
		made = hp_transcode_encode(&g->x, &r, joined + njoined, cap);
		over += made > cap;
		njoined += made;
		calls++;
	} while (made && calls < 10 * N);
	CHECK_U64(over, 0);
	CHECK_U64(r.encoded, 2 * N);
	CHECK(calls > 100);
	CHECK(njoined == f->f.made && !memcmp(joined, f->f.out, f->f.made));
	CHECK_U64(hp_transcode_encode(&g->x, &r, joined, sizeof joined), 0);
	fx_release(g);

	/* Room for exactly one event's maximum: one event a call. */
	fx_init(g);
	loop_input(&g->in, 2, 0);
	r = (struct hp_transcode_ring){
	    .th = &g->f.th, .ring = g->in.buf, .size = g->in.cap, .tail = 0, .head = g->in.len};
	CHECK_I64(hp_transcode_round(&g->x, &r, 1, 5, 1, 0, &below), 0);
	CHECK_U64(hp_transcode_encode(&g->x, &r, joined, HP_TRANSCODE_EVENT_MAX), 5);
	CHECK_BYTES(joined, 5, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 32, STACK, 0);
	CHECK_U64(r.encoded, 1);
	CHECK_U64(hp_transcode_encode(&g->x, &r, joined, HP_TRANSCODE_EVENT_MAX), 2);
	CHECK_U64(hp_transcode_encode(&g->x, &r, joined, HP_TRANSCODE_EVENT_MAX), 3);
	CHECK_BYTES(joined, 3, H(1, HP_OP_ALLOC), 32, STACK);
	CHECK_U64(hp_transcode_encode(&g->x, &r, joined, HP_TRANSCODE_EVENT_MAX), 2);
	CHECK_U64(hp_transcode_encode(&g->x, &r, joined, HP_TRANSCODE_EVENT_MAX), 0);
	fx_release(g);
	fx_release(f);
	free(f);
	free(g);
}

/* n x (malloc, realloc elsewhere, free) at addresses that change, some unaligned (the
 * _ABS forms), sizes of one and two bytes. */
static void wrap_input(struct enc *e, unsigned n)
{
	uint64_t time = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = 0x7f0000100000ull + (i % 11) * 0x1230 + (i % 7 == 3 ? 8 : 0);
		uint64_t b = 0x7f0000900000ull + (i % 5) * 0x40;
		enc_alloc(e, ++time, a, i % 300, STACK);
		enc_realloc(e, ++time, a, b, 1 + i % 200, STACK);
		enc_free(e, ++time, b);
	}
}

/* A 256-byte ring whose tail starts 3 bytes before its end: events straddle the wrap,
 * the thread refills it as the writer releases it, and the cut sometimes falls inside
 * what is published. The trace is the same bytes as from one flat ring. */
static void test_ring_wrap(void)
{
	enum { N = 300, SIZE = 256 };
	struct fx *ref = malloc(sizeof *ref);
	fx_init(ref);
	wrap_input(&ref->in, N);
	CHECK_I64(fx_run(ref, 3 * N + 1, 0), 0);
	CHECK_U64(ref->f.tail, ref->in.len);

	struct hp_transcoder x;
	struct enc in = {0};
	struct feed f, *fp = &f;
	uint64_t round = 0, below, bad = 0;
	CHECK_I64(hp_transcoder_init(&x), 0);
	wrap_input(&in, N);
	feed_init(&f, &x, &in, SIZE, 1000 * SIZE + SIZE - 3);
	rng = 7;
	while (f.tail < f.origin + in.len && round < 100 * N) {
		size_t k = f.pub, first, at;
		while (k < in.n && f.origin + in.off[k + 1] - f.tail <= SIZE)
			k++;
		feed_publish(&f, k);
		event_at(&in, f.tail - f.origin, &first);
		uint64_t cut = in.ev[k - 1].time + 1;
		if (rnd() % 4 == 0)
			cut = in.ev[first + rnd() % (k - first)].time;
		bad += run_round(&x, &fp, 1, cut, ++round, 0, &below, 1) != 0;
		bad += f.th.stalled || below != cut;
		bad += !event_at(&in, f.tail - f.origin, &at) || (at < k && in.ev[at].time < cut);
	}
	CHECK_U64(bad, 0);
	CHECK_U64(f.tail, f.origin + in.len);
	CHECK(in.len > 20 * SIZE);
	CHECK(f.nout == ref->f.nout && !memcmp(f.out, ref->f.out, f.nout));
	CHECK_U64(hp_livetab_count(&x.live), 0);
	feed_release(&f);
	enc_free_all(&in);
	transcoder_release(&x);
	fx_release(ref);
	free(ref);
}

/* More events below the cut than a round takes (HP_TRANSCODE_ROUND_EVENTS, shared by
 * the rings): the cut drops to the first event left out, in the rings decoded before
 * too, *written_below says so, and the next round takes the rest. */
static void test_round_limit(void)
{
	enum { PER = HP_TRANSCODE_ROUND_EVENTS / 2, N1 = PER + PER / 2 };
	struct hp_transcoder x;
	struct enc in[2] = {{0}};
	struct feed f[2], *fp[2] = {&f[0], &f[1]};
	struct v2_dec d = {0};
	uint64_t below;
	CHECK_I64(hp_transcoder_init(&x), 0);
	/* Ring 0: 40 events at even times around 2 PER; ring 1: N1 at odd times. */
	for (unsigned j = 0; j < 40; j += 2) {
		enc_alloc(&in[0], 2 * PER - 40 + 2 * j, B, 9, STACK);
		enc_free(&in[0], 2 * PER - 40 + 2 * j + 2, B);
	}
	for (unsigned k = 0; k < N1; k += 2) {
		enc_alloc(&in[1], 2 * k + 1, A, 32, STACK);
		enc_free(&in[1], 2 * k + 3, A);
	}
	for (int i = 0; i < 2; i++) {
		feed_init(&f[i], &x, &in[i], 1u << 17, 0);
		feed_publish(&f[i], in[i].n);
	}
	CHECK_I64(run_round(&x, fp, 2, 3 * N1, 1, 0, &below, 0), 0);
	CHECK_U64(below, 2 * PER + 1);
	CHECK_U64(f[0].tail, in[0].off[21]); /* times up to 2 PER */
	CHECK_U64(f[1].tail, in[1].off[PER]);
	CHECK(!f[0].th.stalled && !f[1].th.stalled);
	CHECK_U64(hp_livetab_count(&x.live), 1); /* B, allocated at 2 PER */
	CHECK_I64(run_round(&x, fp, 2, 3 * N1, 2, 0, &below, 0), 0);
	CHECK_U64(below, 3 * N1);
	CHECK_U64(f[0].tail, in[0].len);
	CHECK_U64(f[1].tail, in[1].len);
	CHECK_U64(hp_livetab_count(&x.live), 0);
	CHECK_I64(v2_decode(&d, f[1].out, f[1].nout), 0);
	CHECK_U64(d.n, N1);
	if (d.n == N1)
		CHECK_U64(d.ev[N1 - 1].time, 2 * N1 - 1);
	v2_reset(&d);
	for (int i = 0; i < 2; i++) {
		feed_release(&f[i]);
		enc_free_all(&in[i]);
	}
	transcoder_release(&x);
}

/* A thread that ends gives its free list to the pool: another thread's explicit slot is
 * the oldest pooled one when it was released before the allocation, else a new one; the
 * restarted thread's times and slot deltas start from 0 again. */
static void test_thread_reset(void)
{
	struct hp_transcoder x;
	struct enc in[3] = {{0}};
	struct feed f[3], *fp;
	uint64_t below;
	CHECK_I64(hp_transcoder_init(&x), 0);
	enc_alloc(&in[0], 1, A, 32, STACK);
	enc_alloc(&in[0], 2, B, 16, STACK);
	enc_free(&in[0], 3, A); /* slot 0 */
	enc_free(&in[0], 4, B); /* slot 1 */
	feed_init(&f[0], &x, &in[0], 256, 0);
	feed_publish(&f[0], in[0].n);
	fp = &f[0];
	CHECK_I64(run_round(&x, &fp, 1, 5, 1, 0, &below, 0), 0);
	CHECK_U64(f[0].th.nfree, 2);
	CHECK_I64(hp_transcode_thread_reset(&x, &f[0].th), 0);
	CHECK_U64(f[0].th.nfree, 0);
	CHECK_U64(f[0].th.time, 0);
	CHECK_U64(x.pool.len, 2);

	enc_alloc(&in[1], 3, C, 1, STACK); /* slot 0 was released at 3, not before */
	enc_alloc(&in[1], 4, D, 2, STACK);
	enc_alloc(&in[1], 5, A, 3, STACK);
	enc_alloc(&in[1], 6, B, 4, STACK); /* the pool is empty */
	feed_init(&f[1], &x, &in[1], 256, 0);
	feed_publish(&f[1], in[1].n);
	fp = &f[1];
	CHECK_I64(run_round(&x, &fp, 1, 7, 2, 0, &below, 0), 0);
	CHECK_BYTES(feed_out(&f[1]), f[1].made, H(3, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 1, STACK, 2,
		    H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 2, STACK, 0, H(1, HP_OP_EXT),
		    HP_EXT_ALLOC_SLOT, 3, STACK, 1, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 4, STACK,
		    3);
	CHECK_U64(x.pool.len, 0);

	/* Thread 0 starts a new ring: a free of C (slot 2) at time 7. */
	enc_free(&in[2], 7, C);
	feed_init(&f[2], &x, &in[2], 256, 128);
	f[2].th = f[0].th;
	feed_publish(&f[2], in[2].n);
	fp = &f[2];
	CHECK_I64(run_round(&x, &fp, 1, 8, 3, 0, &below, 0), 0);
	CHECK_BYTES(feed_out(&f[2]), f[2].made, H(7, HP_OP_FREE), 4); /* delta 2 - 0 */
	CHECK_U64(hp_livetab_count(&x.live), 3);
	CHECK_BLOCK(&x.live, D, 2, 0);
	for (int i = 0; i < 3; i++) {
		feed_release(&f[i]);
		enc_free_all(&in[i]);
	}
	transcoder_release(&x);
}

/* More rings than a round takes events: one event a ring at least. Each ring holds an
 * allocation at time 1 and its free at time 2; the first ring's free is left out, so
 * the cut drops to 2 for every ring, and the next round writes the frees. */
static void test_many_rings(void)
{
	enum { N = HP_TRANSCODE_ROUND_EVENTS + 1 };
	struct hp_transcoder x;
	struct hp_transcode_thread *th = xcalloc(N, sizeof *th);
	struct hp_transcode_ring *r = xcalloc(N, sizeof *r);
	struct enc in = {0};
	uint8_t out[HP_TRANSCODE_EVENT_MAX];
	uint64_t below = 0, bad = 0;
	CHECK_I64(hp_transcoder_init(&x), 0);
	for (size_t i = 0; i < N; i++) {
		uint64_t addr = 0x100000 + i * 0x40;
		in.prev_time = in.prev_addr = 0; /* every ring starts afresh */
		enc_alloc(&in, 1, addr, 8, STACK);
		enc_free(&in, 2, addr);
	}
	for (size_t i = 0; i < N; i++) {
		bad += hp_transcode_thread_reset(&x, &th[i]) != 0;
		r[i].th = &th[i];
		r[i].ring = in.buf + in.off[2 * i];
		r[i].size = 16;
		r[i].head = in.off[2 * i + 2] - in.off[2 * i];
	}
	CHECK_U64(bad, 0);
	for (uint64_t round = 1; round <= 2; round++) {
		CHECK_I64(hp_transcode_round(&x, r, N, 3, round, 0, &below), 0);
		CHECK_U64(below, round == 1 ? 2 : 3);
		for (size_t i = 0; i < N; i++) {
			size_t made = hp_transcode_encode(&x, &r[i], out, sizeof out);
			uint8_t want[] = {H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 8, STACK, 0, 0};
			/* ALLOC_SLOT i, by ring order at one time; then FREE, delta 0 */
			uint8_t *p = hp_put_varint(want + 4, i);
			size_t n = (size_t)(p - want);
			if (round == 2) {
				want[0] = H(1, HP_OP_FREE);
				want[1] = 0;
				n = 2;
			}
			bad += made != n || memcmp(out, want, n) != 0 || th[i].stalled;
			bad += hp_transcode_encode(&x, &r[i], out, sizeof out) != 0;
			bad += r[i].used != (round == 1 ? in.off[2 * i + 1] - in.off[2 * i]
							: in.off[2 * i + 2] - in.off[2 * i + 1]);
			r[i].tail += r[i].used;
		}
		CHECK_U64(bad, 0);
		CHECK_U64(hp_livetab_count(&x.live), round == 1 ? N : 0);
	}
	enc_free_all(&in);
	free(th);
	free(r);
	transcoder_release(&x);
}

/* ---- stalls ------------------------------------------------------------------------ */

/* A free of an address never allocated waits: the ring is released up to it. In the next
 * round it has waited at the same place through a whole round and is forced: a
 * FREE_UNKNOWN that leaves prev_slot alone; only it is forced, the next such free waits
 * from there. With force_all (exit), all goes in one round. */
static void test_stall_free(void)
{
	struct fx *f = malloc(sizeof *f);
	for (int force_all = 0; force_all < 2; force_all++) {
		fx_init(f);
		enc_alloc(&f->in, 1, A, 32, STACK);
		enc_alloc(&f->in, 2, B, 33, STACK);
		enc_free(&f->in, 3, U);
		enc_free(&f->in, 4, V);
		enc_free(&f->in, 5, A);
		if (force_all) {
			CHECK_I64(fx_run(f, UINT64_MAX, 1), 0);
			CHECK_U64(f->f.tail, f->in.len);
			CHECK(!f->f.th.stalled);
			CHECK_U64(f->below, UINT64_MAX);
			CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT,
				    32, STACK, 0, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 33, STACK, 1,
				    H(1, HP_OP_EXT), HP_EXT_FREE_UNKNOWN, 0xb0, 0x24,
				    H(1, HP_OP_EXT), HP_EXT_FREE_UNKNOWN, 0xc0, 0x24,
				    H(1, HP_OP_FREE), 1);
			CHECK_BLOCK(&f->x.live, B, 33, 1);
			fx_release(f);
			continue;
		}
		CHECK_I64(fx_run(f, 6, 0), 0);
		CHECK_U64(f->f.last.used, f->in.off[2]);
		CHECK_U64(f->f.th.stalled, 1);
		CHECK_U64(f->f.th.stall_round, 1);
		CHECK_U64(f->f.th.stall_pos, f->in.off[2]);
		CHECK_U64(f->f.th.stall_time, 3);
		CHECK_U64(f->below, 3);
		CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 32,
			    STACK, 0, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 33, STACK, 1);
		CHECK_I64(fx_run(f, 6, 0), 0); /* U forced, V waits */
		CHECK_U64(f->f.tail, f->in.off[3]);
		CHECK_U64(f->f.th.stalled, 1);
		CHECK_U64(f->f.th.stall_round, 2);
		CHECK_U64(f->f.th.stall_pos, f->in.off[3]);
		CHECK_U64(f->f.th.stall_time, 4);
		CHECK_U64(f->below, 4);
		CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_EXT), HP_EXT_FREE_UNKNOWN, 0xb0,
			    0x24);
		CHECK_I64(fx_run(f, 6, 0), 0); /* V forced */
		CHECK_U64(f->f.tail, f->in.len);
		CHECK(!f->f.th.stalled);
		CHECK_U64(f->below, 6);
		CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_EXT), HP_EXT_FREE_UNKNOWN, 0xc0,
			    0x24, H(1, HP_OP_FREE), 1); /* slot 0 from prev_slot 1: delta -1 */
		CHECK_U64(hp_livetab_count(&f->x.live), 1);
		CHECK_BLOCK(&f->x.live, B, 33, 1);
		fx_release(f);
	}
	free(f);
}

/* An allocation at a live address waits; forced, the old block is released first. */
static void test_stall_alloc(void)
{
	struct fx *f = malloc(sizeof *f);
	fx_init(f);
	enc_alloc(&f->in, 1, A, 10, STACK);
	enc_alloc(&f->in, 2, B, 11, STACK);
	enc_alloc(&f->in, 3, A, 20, STACK);
	enc_free(&f->in, 4, B);
	CHECK_I64(fx_run(f, 5, 0), 0);
	CHECK_U64(f->f.last.used, f->in.off[2]);
	CHECK_U64(f->f.th.stalled, 1);
	CHECK_U64(f->f.th.stall_round, 1);
	CHECK_U64(f->f.th.stall_time, 3);
	CHECK_U64(f->below, 3);
	CHECK_U64(f->f.made, 10);
	CHECK_BLOCK(&f->x.live, A, 10, 0);
	CHECK_I64(fx_run(f, 5, 0), 0);
	CHECK_U64(f->f.tail, f->in.len);
	CHECK(!f->f.th.stalled);
	CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_FREE), 1, /* slot 0 */
		    H(0, HP_OP_ALLOC), 20, STACK,		     /* slot 0 again */
		    H(1, HP_OP_FREE), 2);			     /* slot 1 */
	CHECK_U64(hp_livetab_count(&f->x.live), 1);
	CHECK_BLOCK(&f->x.live, A, 20, 0);
	fx_release(f);
	free(f);
}

/* A realloc of an unknown block waits; forced, it is a REALLOC_UNKNOWN with a new slot.
 * A realloc moving onto a live address waits; forced, that block is released first. */
static void test_stall_realloc(void)
{
	struct fx *f = malloc(sizeof *f);
	fx_init(f);
	enc_realloc(&f->in, 1, U, A, 64, STACK);
	enc_realloc(&f->in, 2, A, B, 65, STACK);
	enc_alloc(&f->in, 3, C, 1, STACK);
	enc_realloc(&f->in, 4, B, C, 66, STACK);
	CHECK_I64(fx_run(f, 5, 0), 0);
	CHECK_U64(f->f.last.used, 0);
	CHECK_U64(f->f.made, 0);
	CHECK_U64(f->f.th.stalled, 1);
	CHECK_U64(f->f.th.stall_pos, 0);
	CHECK_U64(f->f.th.stall_time, 1);
	CHECK_U64(f->below, 1);
	CHECK_I64(fx_run(f, 5, 0), 0);
	CHECK_U64(f->f.tail, f->in.off[3]);
	CHECK_U64(f->f.th.stalled, 1);
	CHECK_U64(f->f.th.stall_round, 2);
	CHECK_U64(f->f.th.stall_time, 4);
	CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_EXT), HP_EXT_REALLOC_UNKNOWN, 0xb0, 0x24,
		    64, STACK, 0,				      /* slot 0 */
		    H(1, HP_OP_REALLOC), 0, 65, STACK,		      /* slot 0 */
		    H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 1, STACK, 1); /* slot 1 */
	CHECK_BLOCK(&f->x.live, B, 65, 0);
	CHECK_BLOCK(&f->x.live, C, 1, 1);
	CHECK_I64(fx_run(f, 5, 0), 0);
	CHECK_U64(f->f.tail, f->in.len);
	CHECK(!f->f.th.stalled);
	CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_FREE), 0, /* slot 1 */
		    H(0, HP_OP_REALLOC), 1, 66, STACK);		     /* slot 0 */
	CHECK_U64(hp_livetab_count(&f->x.live), 1);
	CHECK_BLOCK(&f->x.live, C, 66, 0);
	CHECK(hp_livetab_find(&f->x.live, A) == NULL);
	CHECK(hp_livetab_find(&f->x.live, B) == NULL);
	fx_release(f);
	free(f);
}

/* An in-place realloc of an address never seen waits a round, then is forced: the
 * block it makes must land in the live set like any other (the table had no entry for
 * it, and filling none crashed the writer). */
static void test_stall_realloc_in_place(void)
{
	struct fx *f = malloc(sizeof *f);
	fx_init(f);
	enc_realloc(&f->in, 1, U, U, 64, STACK);
	CHECK_I64(fx_run(f, 5, 0), 0);
	CHECK_U64(f->f.th.stalled, 1);
	CHECK_U64(f->f.made, 0);
	CHECK_I64(fx_run(f, 5, 0), 0);
	CHECK(!f->f.th.stalled);
	CHECK_BYTES(feed_out(&f->f), f->f.made, H(1, HP_OP_EXT), HP_EXT_REALLOC_UNKNOWN, 0xb0, 0x24,
		    64, STACK, 0);
	CHECK_U64(hp_livetab_count(&f->x.live), 1);
	CHECK_BLOCK(&f->x.live, U, 64, 0);
	fx_release(f);
	free(f);
}

/* A malformed ring fails the round and nothing of any ring is applied. No rings: nothing
 * to do. */
static void test_malformed(void)
{
	static const uint8_t truncated[] = {H(1, HP_OP_ALLOC), 0x80};
	static const uint8_t bad_ext[] = {H(1, HP_OP_EXT), HP_EXT_LIMIT};
	struct hp_transcoder x;
	struct hp_transcode_thread th[2];
	struct enc ok = {0};
	uint8_t ring[2][256], out[256];
	uint64_t below = 0;
	memset(th, 0, sizeof th);
	CHECK_I64(hp_transcoder_init(&x), 0);
	CHECK_I64(hp_transcode_thread_reset(&x, &th[0]), 0);
	CHECK_I64(hp_transcode_thread_reset(&x, &th[1]), 0);
	enc_alloc(&ok, 1, A, 8, STACK);
	memcpy(ring[0], ok.buf, ok.len);
	memcpy(ring[0] + ok.len, truncated, sizeof truncated);
	memcpy(ring[1], bad_ext, sizeof bad_ext);
	struct hp_transcode_ring r[2] = {
	    {.th = &th[0], .ring = ring[0], .size = 256, .head = ok.len + sizeof truncated},
	    {.th = &th[1], .ring = ring[1], .size = 256, .head = sizeof bad_ext}};
	CHECK_I64(hp_transcode_round(&x, r, 1, 10, 1, 0, &below), -EINVAL);
	CHECK_U64(r[0].used, 0);
	CHECK_U64(hp_livetab_count(&x.live), 0);
	r[0].head = ok.len; /* good, but the second ring is not */
	CHECK_I64(hp_transcode_round(&x, r, 2, UINT64_MAX, 2, 1, &below), -EINVAL);
	CHECK_U64(r[0].used, 0);
	CHECK_U64(r[1].used, 0);
	CHECK_U64(hp_livetab_count(&x.live), 0);
	CHECK_U64(th[0].time, 0);
	CHECK(!th[0].stalled && !th[1].stalled);
	CHECK_I64(hp_transcode_round(&x, r, 1, 10, 3, 0, &below), 0); /* the first alone */
	CHECK_U64(r[0].used, ok.len);
	CHECK_U64(below, 10);
	CHECK_U64(hp_transcode_encode(&x, &r[0], out, sizeof out), 5);
	CHECK_BYTES(out, 5, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 8, STACK, 0);

	below = 0;
	CHECK_I64(hp_transcode_round(&x, r, 0, 10, 5, 0, &below), 0);
	CHECK_U64(below, 10);
	enc_free_all(&ok);
	transcoder_release(&x);
}

/* ---- threads ----------------------------------------------------------------------- */

#define NT 4
#define NADDR 40

/* A program of NT threads: each thread's ring, what it did, and its live set at the
 * end. */
struct program {
	struct enc ring[NT];
	uint64_t allocs, frees, reallocs, blocks;
	uint64_t last_pub; /* the last publication */
	uint64_t late_max; /* the longest from a late realloc's real call to its publication */
	uint64_t *live_addr, *live_size; /* sorted by address */
	size_t nlive;
};

struct held {
	uint64_t addr, size, block;
	uint64_t dep; /* another thread may act on the block after this time */
	int owner;
};

/* The live set at the end, from the blocks held. */
static void program_end(struct program *pg, const struct held *h, size_t nh)
{
	pg->nlive = nh;
	pg->live_addr = xrealloc(NULL, (nh + 1) * sizeof *pg->live_addr);
	pg->live_size = xrealloc(NULL, (nh + 1) * sizeof *pg->live_size);
	for (size_t i = 0; i < nh; i++)
		pg->live_addr[i] = h[i].addr;
	qsort(pg->live_addr, nh, sizeof *pg->live_addr, cmp_u64);
	for (size_t k = 0; k < nh; k++)
		for (size_t i = 0; i < nh; i++)
			if (h[i].addr == pg->live_addr[k])
				pg->live_size[k] = h[i].size;
	for (int t = 0; t < NT; t++)
		for (size_t k = 0; k < pg->ring[t].n; k++)
			pg->last_pub = max_u64(pg->last_pub, pg->ring[t].ev[k].pub);
}

static void program_release(struct program *pg)
{
	for (int t = 0; t < NT; t++)
		enc_free_all(&pg->ring[t]);
	free(pg->live_addr);
	free(pg->live_size);
}

/* The times already taken: every event has its own. */
struct timeset {
	uint8_t *v;
	size_t cap;
};

static uint64_t time_take(struct timeset *ts, uint64_t t)
{
	for (;; t++) {
		if (t >= ts->cap) {
			size_t cap = 2 * ts->cap + (size_t)t + 4096;
			ts->v = xrealloc(ts->v, cap);
			memset(ts->v + ts->cap, 0, cap - ts->cap);
			ts->cap = cap;
		}
		if (!ts->v[t]) {
			ts->v[t] = 1;
			return t;
		}
	}
}

/* From an event's time to its publication: mostly at once, sometimes a while, now and
 * then many rounds (the thread was preempted in between). */
static uint64_t lag(void)
{
	unsigned r = (unsigned)(rnd() % 64);
	return r < 44 ? 0 : r < 63 ? rnd() % 20 : rnd() % 3000;
}

/* The reused addresses: which are taken, and from when a free one may be handed out. */
struct addr_set {
	uint64_t addr[NADDR], avail[NADDR];
	uint8_t taken[NADDR];
	int last; /* released last: malloc hands it out first */
};

static void addr_release(struct addr_set *as, uint64_t addr, uint64_t avail)
{
	for (int k = 0; k < NADDR; k++) {
		if (as->addr[k] == addr) {
			as->taken[k] = 0;
			as->avail[k] = avail;
			as->last = k;
		}
	}
}

enum gen { GEN_FRESH, GEN_REUSED, GEN_LATE };

/* A random causal program, step by step in real time `now`: a thread allocates, frees
 * or reallocs a block it holds, or hands one to another thread (no event). An event's
 * time is taken when it happens, it is published lag() later, and the thread's next
 * event comes after that; another thread acts on a block, or reuses an address, only
 * after the event that made or released it is published (malloc returns before the
 * pointer is handed on; free records before the real free). Every event has its own
 * time. GEN_FRESH: every new block at an address never used before, and realloc always
 * moves. GEN_REUSED: addresses from a set of 40, the one released last half the time,
 * so an address is reused soon and often by another thread; realloc in place half the
 * time. GEN_LATE: as GEN_REUSED, but half the moving reallocs take their time a few
 * ticks after the real call, as the recorder's realloc does, so another thread may
 * reuse the old address with an earlier time, and hand it on to a third before the
 * realloc is published (late_realloc_handoff()). */
static void make_program(struct program *pg, size_t nevents, enum gen how)
{
	struct addr_set as = {.last = -1};
	struct timeset ts = {0};
	struct held *h = NULL;
	size_t nh = 0, hcap = 0, done = 0;
	uint64_t ready[NT] = {0};
	uint64_t now = 0, next_fresh = 0x7f0000000000ull;
	memset(pg, 0, sizeof *pg);
	for (int i = 0; i < NADDR; i++) /* a few unaligned: the _ABS forms */
		as.addr[i] = 0x5500000000ull + (uint64_t)i * 0x30 + (i % 13 == 5 ? 8 : 0);
	while (done < nevents) {
		int t = (int)(rnd() % NT);
		if (ready[t] > ++now)
			continue; /* its last event is not published yet */
		size_t mine[64], nmine = 0;
		for (size_t i = 0; i < nh && nmine < 64; i++)
			if (h[i].owner == t && h[i].dep < now)
				mine[nmine++] = i;
		/* An address for a new block (0: none free), and its index in the set. */
		int k_new = -1;
		uint64_t addr = 0;
		if (how == GEN_FRESH) {
			addr = next_fresh + (rnd() % 8 == 0 ? 8 : 0);
			next_fresh += 0x40;
		} else if (as.last >= 0 && !as.taken[as.last] && as.avail[as.last] <= now &&
			   rnd() % 2) {
			k_new = as.last;
		} else {
			int k0 = (int)(rnd() % NADDR);
			for (int k = 0; k < NADDR && k_new < 0; k++) {
				int j = (k0 + k) % NADDR;
				if (!as.taken[j] && as.avail[j] <= now)
					k_new = j;
			}
		}
		if (k_new >= 0)
			addr = as.addr[k_new];
		unsigned r = (unsigned)(rnd() % 100);
		if (!nmine || r < 40) {
			if (!addr)
				continue;
			if (nh == hcap) {
				hcap = hcap ? 2 * hcap : 64;
				h = xrealloc(h, hcap * sizeof *h);
			}
			uint64_t time = time_take(&ts, now), pub = time + lag();
			h[nh] = (struct held){addr, rnd() % 200, pg->blocks++, pub, t};
			if (k_new >= 0)
				as.taken[k_new] = 1;
			enc_alloc(&pg->ring[t], time, addr, h[nh].size, 1 + rnd() % 9);
			enc_mark(&pg->ring[t], h[nh].block, pub);
			ready[t] = pub + 1;
			nh++;
			pg->allocs++;
			done++;
			continue;
		}
		size_t i = mine[rnd() % nmine];
		if (r < 75) {
			uint64_t time = time_take(&ts, now), pub = time + lag();
			enc_free(&pg->ring[t], time, h[i].addr);
			enc_mark(&pg->ring[t], h[i].block, pub);
			addr_release(&as, h[i].addr, pub + 1);
			ready[t] = pub + 1;
			h[i] = h[--nh];
			pg->frees++;
			done++;
		} else if (r < 90) {
			h[i].owner = (t + 1 + (int)(rnd() % (NT - 1))) % NT; /* no event */
		} else {
			uint64_t old = h[i].addr, time, pub;
			int move = addr && (how == GEN_FRESH || rnd() % 2);
			int late = how == GEN_LATE && move && rnd() % 2;
			if (late) {
				time = time_take(&ts, now + 1 + rnd() % 8);
				pub = time + (rnd() % 4 ? 0 : rnd() % 4);
				pg->late_max = max_u64(pg->late_max, pub - now);
			} else {
				time = time_take(&ts, now);
				pub = time + lag();
			}
			if (move) {
				/* Late: the old address is free at once, before the event
				 * (late_realloc_handoff()). */
				addr_release(&as, old, (late ? now : pub) + 1);
				if (k_new >= 0)
					as.taken[k_new] = 1;
				h[i].addr = addr;
			}
			h[i].size = rnd() % 200;
			h[i].dep = pub;
			enc_realloc(&pg->ring[t], time, old, h[i].addr, h[i].size, 1 + rnd() % 9);
			enc_mark(&pg->ring[t], h[i].block, pub);
			ready[t] = pub + 1;
			pg->reallocs++;
			done++;
		}
	}
	program_end(pg, h, nh);
	free(h);
	free(ts.v);
}

/* The writer and its rings; what went wrong in its rounds. */
struct sim {
	struct hp_transcoder x;
	struct feed f[NT];
	const struct program *pg;
	const int *order; /* the rings' order in every round, or NULL: a random one each */
	uint64_t round, stalls;
	uint64_t errors, bad_boundaries, bad_stalls, left_below, bad_below, late_output;
};

/* Every ring a power of two that holds its thread's events, starting anywhere in it:
 * about half of them wrap. */
/* The trace's time unit is 2^out_shift ring units (transcode.c, trace times). */
static unsigned out_shift;

static void sim_init(struct sim *s, const struct program *pg, const int *order)
{
	memset(s, 0, sizeof *s);
	s->pg = pg;
	s->order = order;
	CHECK_I64(hp_transcoder_init(&s->x), 0);
	s->x.out_shift = out_shift;
	for (int t = 0; t < NT; t++) {
		uint64_t size = 256;
		while (size <= pg->ring[t].len)
			size *= 2;
		feed_init(&s->f[t], &s->x, &pg->ring[t], size,
			  (rnd() & 0xffff) * size + rnd() % size);
	}
}

static void sim_release(struct sim *s)
{
	for (int t = 0; t < NT; t++)
		feed_release(&s->f[t]);
	transcoder_release(&s->x);
}

/* The heads as the writer reads them at `heads`: the events published by then. */
static void sim_publish(struct sim *s, uint64_t heads)
{
	for (int t = 0; t < NT; t++) {
		struct feed *f = &s->f[t];
		size_t k = f->pub;
		while (k < f->in->n && f->in->ev[k].pub <= heads)
			k++;
		feed_publish(f, k);
	}
}

/* One round, and what must hold after it: every ring released up to an event boundary;
 * a ring stops at a stalled event (published, below the cut, its time and place in th,
 * stalled since this round: one stalled since an earlier one is forced) or at one not
 * to write yet (unpublished, or at or after the cut); *written_below is the cut or the
 * earliest stalled time. */
static void sim_round(struct sim *s, uint64_t cut, int force_all)
{
	struct feed *fs[NT];
	int order[NT] = {0, 1, 2, 3};
	uint64_t below = 0, want = cut;
	if (s->order) {
		memcpy(order, s->order, sizeof order);
	} else {
		for (int k = NT - 1; k > 0; k--) {
			int j = (int)(rnd() % (uint64_t)(k + 1)), x = order[k];
			order[k] = order[j];
			order[j] = x;
		}
	}
	for (int k = 0; k < NT; k++)
		fs[k] = &s->f[order[k]];
	if (run_round(&s->x, fs, NT, cut, ++s->round, force_all, &below, 1)) {
		s->errors++;
		return;
	}
	for (int t = 0; t < NT; t++) {
		const struct feed *f = &s->f[t];
		const struct enc *e = f->in;
		size_t k;
		if (!event_at(e, f->tail - f->origin, &k)) {
			s->bad_boundaries++;
			continue;
		}
		int due = k < f->pub && e->ev[k].time < cut;
		if (f->th.stalled) {
			s->stalls++;
			s->bad_stalls += force_all || !due || f->th.stall_time != e->ev[k].time ||
					 f->th.stall_pos != f->tail ||
					 f->th.stall_round != s->round;
			if (f->th.stall_time < want)
				want = f->th.stall_time;
		} else {
			s->left_below += due;
		}
	}
	s->bad_below += below != want;
}

/* The writer's rounds: each takes its cut (its start time) before it reads the heads,
 * which it may read a while later, so some events at or after the cut are published and
 * must wait in their rings; a thread may publish well after an event's time. Rounds are
 * further apart than a late realloc takes to publish. Ends at a random time, or after
 * the last publication, with a round forcing all (exit); after the last publication it
 * writes nothing. */
static void run_rounds(struct sim *s, uint64_t span_max)
{
	const struct program *pg = s->pg;
	uint64_t cut = 0, end = pg->last_pub + 1;
	uint64_t stop = rnd() % 2 ? end : rnd() % end;
	while (cut < stop) {
		cut += pg->late_max + 1 + rnd() % span_max;
		sim_publish(s, cut + (rnd() % 4 ? 0 : rnd() % (span_max + 1)));
		sim_round(s, cut, 0);
	}
	sim_publish(s, UINT64_MAX);
	sim_round(s, UINT64_MAX, 1);
	for (int t = 0; t < NT && stop == end; t++)
		s->late_output += s->f[t].made != 0;
}

/* Every event on its own, in time order, a round with the cut just above it: it must
 * be written at once. */
static void run_in_time_order(struct sim *s)
{
	for (;;) {
		struct feed *best = NULL;
		for (int t = 0; t < NT; t++) {
			struct feed *f = &s->f[t];
			if (f->pub < f->in->n &&
			    (!best || f->in->ev[f->pub].time < best->in->ev[best->pub].time))
				best = f;
		}
		if (!best)
			break;
		uint64_t time = best->in->ev[best->pub].time;
		feed_publish(best, best->pub + 1);
		sim_round(s, time + 1, 0);
		s->left_below += best->tail != best->origin + best->in->off[best->pub];
	}
	sim_round(s, UINT64_MAX, 1);
	for (int t = 0; t < NT; t++)
		s->late_output += s->f[t].made != 0;
}

/* What went wrong in a run; all zero when the traces are right (stalls: where late
 * reallocs make them, they must be there). */
struct tally {
	uint64_t stalls;
	uint64_t errors, bad_boundaries, bad_stalls, left_below, bad_below, late_output, left;
	uint64_t undecodable, thread_mismatch, unknown, bad_slot, alloc_into_live, free_of_empty;
	uint64_t wrong_block, allocs_off, frees_off, reallocs_off, live_off, sizes_off, export_off;
};

struct merged {
	const struct v2_event *e;
	int thread;
	size_t k; /* its ring event */
};

/* The analyzer's merge order: time, then frees first, then thread. */
static int merge_before(const struct merged *a, const struct merged *b)
{
	if (a->e->time != b->e->time)
		return a->e->time < b->e->time;
	int af = a->e->kind == V2_FREE || a->e->kind == V2_FREE_UNKNOWN;
	int bf = b->e->kind == V2_FREE || b->e->kind == V2_FREE_UNKNOWN;
	if (af != bf)
		return af;
	return a->thread < b->thread;
}

/* Decodes the threads' traces and checks each against its ring, event by event; merges
 * them by time and replays them by slot: every free and realloc must name the slot of
 * the very block the program freed or realloc'd, and the live set must be the
 * program's, as must the transcoder's table, whose slots must be the replay's. */
static void check_traces(const struct sim *s, struct tally *ty)
{
	const struct program *pg = s->pg;
	struct v2_dec d[NT];
	int same[NT];
	size_t total = 0;
	memset(d, 0, sizeof d);
	ty->stalls += s->stalls;
	ty->errors += s->errors;
	ty->bad_boundaries += s->bad_boundaries;
	ty->bad_stalls += s->bad_stalls;
	ty->left_below += s->left_below;
	ty->bad_below += s->bad_below;
	ty->late_output += s->late_output;
	for (int t = 0; t < NT; t++) {
		const struct enc *e = &pg->ring[t];
		const struct feed *f = &s->f[t];
		ty->left += f->tail != f->origin + e->len || f->th.stalled;
		ty->undecodable += v2_decode(&d[t], f->out, f->nout) != 0;
		total += d[t].n;
		same[t] = d[t].n == e->n;
		if (!same[t]) {
			ty->thread_mismatch++;
			continue;
		}
		for (size_t k = 0; k < e->n; k++) {
			const struct v2_event *v = &d[t].ev[k];
			const struct ev_info *w = &e->ev[k];
			int kind = w->op == HP_OP_ALLOC
				       ? v->kind == V2_ALLOC || v->kind == V2_ALLOC_SLOT
				   : w->op == HP_OP_FREE ? v->kind == V2_FREE
							 : v->kind == V2_REALLOC;
			/* In trace units; a release of another thread's block may be
			 * written later (transcode.c, trace times), never earlier. */
			uint64_t unit = w->time >> out_shift;
			ty->thread_mismatch +=
			    v->time < unit || (!out_shift && v->time != unit) || !kind ||
			    (w->op != HP_OP_FREE && (v->size != w->size || v->stack != w->stack));
		}
	}

	struct merged *m = xrealloc(NULL, (total + 1) * sizeof *m);
	size_t head[NT] = {0}, nm = 0;
	for (;;) {
		int best = -1;
		for (int t = 0; t < NT; t++) {
			if (head[t] == d[t].n)
				continue;
			struct merged c = {&d[t].ev[head[t]], t, head[t]};
			if (best < 0 || merge_before(&c, &m[nm])) {
				m[nm] = c;
				best = t;
			}
		}
		if (best < 0)
			break;
		head[best]++;
		nm++;
	}
	uint64_t nslots = s->x.next_slot, allocs = 0, frees = 0, reallocs = 0;
	uint8_t *live = xcalloc(nslots + 1, 1);
	uint64_t *size = xcalloc(nslots + 1, sizeof *size);
	uint64_t *slot_of = xrealloc(NULL, (pg->blocks + 1) * sizeof *slot_of);
	memset(slot_of, 0xff, (pg->blocks + 1) * sizeof *slot_of);
	for (size_t i = 0; i < nm; i++) {
		const struct v2_event *e = m[i].e;
		uint64_t block =
		    same[m[i].thread] ? pg->ring[m[i].thread].ev[m[i].k].block : UINT64_MAX;
		if (e->kind != V2_FREE_UNKNOWN && e->slot >= nslots) {
			ty->bad_slot++;
			continue;
		}
		switch (e->kind) {
		case V2_ALLOC:
		case V2_ALLOC_SLOT:
		case V2_ALLOC_HINT: /* never generated here */
			ty->alloc_into_live += live[e->slot];
			live[e->slot] = 1;
			size[e->slot] = e->size;
			if (block < pg->blocks)
				slot_of[block] = e->slot;
			allocs++;
			break;
		case V2_FREE:
			ty->free_of_empty += !live[e->slot];
			ty->wrong_block += block >= pg->blocks || slot_of[block] != e->slot;
			live[e->slot] = 0;
			frees++;
			break;
		case V2_REALLOC:
			ty->free_of_empty += !live[e->slot];
			ty->wrong_block += block >= pg->blocks || slot_of[block] != e->slot;
			live[e->slot] = 1;
			size[e->slot] = e->size;
			reallocs++;
			break;
		case V2_REALLOC_UNKNOWN:
			live[e->slot] = 1;
			size[e->slot] = e->size;
			ty->unknown++;
			break;
		case V2_FREE_UNKNOWN:
			ty->unknown++;
			break;
		}
	}
	ty->allocs_off += allocs != pg->allocs;
	ty->frees_off += frees != pg->frees;
	ty->reallocs_off += reallocs != pg->reallocs;

	uint64_t *got = xrealloc(NULL, (nslots + 1) * sizeof *got);
	uint64_t *want = xrealloc(NULL, (pg->nlive + 1) * sizeof *want);
	size_t nlive = 0;
	for (uint64_t k = 0; k < nslots; k++)
		if (live[k])
			got[nlive++] = size[k];
	memcpy(want, pg->live_size, pg->nlive * sizeof *want);
	qsort(got, nlive, sizeof *got, cmp_u64);
	qsort(want, pg->nlive, sizeof *want, cmp_u64);
	ty->live_off += nlive != pg->nlive;
	ty->sizes_off += nlive == pg->nlive && memcmp(got, want, nlive * sizeof *want) != 0;
	struct hp_block *b;
	size_t n;
	if (hp_livetab_export_sorted(&s->x.live, &b, &n) || n != pg->nlive) {
		ty->export_off++;
	} else {
		size_t bad = 0;
		for (size_t k = 0; k < n; k++) {
			bad += b[k].addr != pg->live_addr[k] || b[k].size != pg->live_size[k];
			bad +=
			    b[k].slot >= nslots || !live[b[k].slot] || size[b[k].slot] != b[k].size;
			if (b[k].slot < nslots)
				live[b[k].slot] = 0; /* each slot once */
		}
		ty->export_off += bad != 0;
	}
	hp_block_array_free(b, n);
	free(got);
	free(want);
	free(live);
	free(size);
	free(slot_of);
	free(m);
	for (int t = 0; t < NT; t++)
		v2_reset(&d[t]);
}

static void check_tally(const struct tally *ty, const char *what, int stalls)
{
	struct tally zero = {0};
	zero.stalls = ty->stalls;
	if (memcmp(ty, &zero, sizeof zero) || !ty->stalls != !stalls)
		fprintf(stderr, "%s:\n", what);
	if (stalls)
		CHECK(ty->stalls > 0);
	else
		CHECK_U64(ty->stalls, 0);
	CHECK_U64(ty->errors, 0);
	CHECK_U64(ty->bad_boundaries, 0);
	CHECK_U64(ty->bad_stalls, 0);
	CHECK_U64(ty->left_below, 0);
	CHECK_U64(ty->bad_below, 0);
	CHECK_U64(ty->late_output, 0);
	CHECK_U64(ty->left, 0);
	CHECK_U64(ty->undecodable, 0);
	CHECK_U64(ty->thread_mismatch, 0);
	CHECK_U64(ty->bad_slot, 0);
	CHECK_U64(ty->unknown, 0);
	CHECK_U64(ty->alloc_into_live, 0);
	CHECK_U64(ty->free_of_empty, 0);
	CHECK_U64(ty->wrong_block, 0);
	CHECK_U64(ty->allocs_off, 0);
	CHECK_U64(ty->frees_off, 0);
	CHECK_U64(ty->reallocs_off, 0);
	CHECK_U64(ty->live_off, 0);
	CHECK_U64(ty->sizes_off, 0);
	CHECK_U64(ty->export_off, 0);
}

/* Three events on one address by threads 0, 1 and 2, handed on from each to the next,
 * all published in one round whose rings come in the order 2, 1, 0: written in time
 * order, with no stall. */
static void three_threads(unsigned second, const char *what)
{
	static const int order[NT] = {2, 1, 0, 3};
	struct program pg;
	struct sim s;
	struct tally ty = {0};
	struct held h = {A, 30, 1, 0, 2};
	memset(&pg, 0, sizeof pg);
	enc_alloc(&pg.ring[0], 1, A, 10, STACK); /* block 0 */
	pg.allocs = 1;
	pg.blocks = 1;
	if (second == HP_OP_FREE) {
		/* freed by thread 1, then malloc gives the address to thread 2 */
		enc_free(&pg.ring[1], 2, A);
		enc_alloc(&pg.ring[2], 3, A, 30, STACK);
		enc_mark(&pg.ring[2], 1, 3);
		pg.frees = 1;
		pg.allocs = 2;
		pg.blocks = 2;
	} else {
		/* realloc'd in place by thread 1, then freed by thread 2 */
		enc_realloc(&pg.ring[1], 2, A, A, 20, STACK);
		enc_free(&pg.ring[2], 3, A);
		pg.reallocs = 1;
		pg.frees = 1;
	}
	program_end(&pg, &h, second == HP_OP_FREE);
	sim_init(&s, &pg, order);
	sim_publish(&s, 3);
	sim_round(&s, 4, 0);
	for (int t = 0; t < 3; t++)
		CHECK_U64(s.f[t].tail, s.f[t].origin + pg.ring[t].len);
	sim_round(&s, UINT64_MAX, 1);
	check_traces(&s, &ty);
	check_tally(&ty, what, 0);
	sim_release(&s);
	program_release(&pg);
}

/* realloc records its event after the real call, so thread 1 gets the old address A and
 * records its allocation (time 3) before thread 0 records its realloc A -> B (time 5).
 * The allocation waits, the realloc releases A, and the allocation goes on in the same
 * round: nothing forced, no slot released. split: the realloc is neither published nor
 * below the cut in the round where the allocation first waits, but in the next. */
static void late_realloc(int split)
{
	struct program pg;
	struct sim s;
	struct tally ty = {0};
	struct held h[2] = {{B, 50, 0, 0, 0}, {A, 30, 1, 0, 1}};
	memset(&pg, 0, sizeof pg);
	enc_alloc(&pg.ring[0], 1, A, 10, STACK);
	enc_realloc(&pg.ring[0], 5, A, B, 50, STACK);
	enc_alloc(&pg.ring[1], 3, A, 30, STACK);
	enc_mark(&pg.ring[1], 1, 3);
	pg.allocs = 2;
	pg.reallocs = 1;
	pg.blocks = 2;
	program_end(&pg, h, 2);
	sim_init(&s, &pg, NULL);
	if (split) {
		sim_publish(&s, 4);
		sim_round(&s, 4, 0);
		CHECK_U64(s.f[0].pub, 1);
		CHECK_U64(s.f[0].tail, s.f[0].origin + pg.ring[0].off[1]);
		CHECK_U64(s.f[1].last.used, 0);
		CHECK_U64(s.f[1].th.stalled, 1);
		CHECK_U64(s.f[1].th.stall_round, 1);
		CHECK_U64(s.f[1].th.stall_time, 3);
	}
	sim_publish(&s, 6);
	sim_round(&s, 6, 0);
	for (int t = 0; t < 2; t++) {
		CHECK(!s.f[t].th.stalled);
		CHECK_U64(s.f[t].tail, s.f[t].origin + pg.ring[t].len);
	}
	CHECK_BYTES(s.f[0].out, s.f[0].nout, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 10, STACK, 0,
		    H(4, HP_OP_REALLOC), 0, 50, STACK);
	CHECK_BYTES(s.f[1].out, s.f[1].nout, H(3, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 30, STACK, 1);
	sim_round(&s, UINT64_MAX, 1);
	check_traces(&s, &ty);
	check_tally(&ty, split ? "late realloc, in the next round" : "late realloc", split);
	sim_release(&s);
	program_release(&pg);
}

/* As late_realloc(), but thread 1 hands its block at A on to thread 2, which frees it
 * (time 4), all before thread 0's realloc time (5): the free is of thread 1's block
 * (slot 1), not of the block A held while thread 1's allocation waited, and the realloc
 * is of thread 0's (slot 0). */
static void late_realloc_handoff(void)
{
	struct program pg;
	struct sim s;
	struct tally ty = {0};
	struct held h = {B, 50, 0, 0, 0};
	memset(&pg, 0, sizeof pg);
	enc_alloc(&pg.ring[0], 1, A, 10, STACK);
	enc_realloc(&pg.ring[0], 5, A, B, 50, STACK);
	enc_alloc(&pg.ring[1], 3, A, 30, STACK);
	enc_mark(&pg.ring[1], 1, 3);
	enc_free(&pg.ring[2], 4, A);
	enc_mark(&pg.ring[2], 1, 4);
	pg.allocs = 2;
	pg.frees = 1;
	pg.reallocs = 1;
	pg.blocks = 2;
	program_end(&pg, &h, 1);
	sim_init(&s, &pg, NULL);
	sim_publish(&s, 6);
	sim_round(&s, 6, 0);
	CHECK_BYTES(s.f[0].out, s.f[0].nout, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 10, STACK, 0,
		    H(4, HP_OP_REALLOC), 0, 50, STACK); /* slot 0 */
	CHECK_BYTES(s.f[1].out, s.f[1].nout, H(3, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 30, STACK, 1);
	CHECK_BYTES(s.f[2].out, s.f[2].nout, H(4, HP_OP_FREE), 2); /* slot 1 */
	sim_round(&s, UINT64_MAX, 1);
	check_traces(&s, &ty);
	check_tally(&ty, "late realloc, the reused block handed on and freed", 0);
	sim_release(&s);
	program_release(&pg);
}

/* As late_realloc(), and thread 1 goes on: it allocates C (time 5) and frees it (6),
 * then malloc gives C to thread 2 (7). All is published and below the cut, and every
 * wait resolves within the round, so nothing may stall: thread 1's events at 5 and 6
 * come before thread 2's at 7, though thread 1's ring waited at time 2. */
static void late_realloc_overtaken(void)
{
	struct program pg;
	struct sim s;
	struct tally ty = {0};
	struct held h[3] = {{B, 50, 0, 0, 0}, {A, 30, 1, 0, 1}, {C, 70, 3, 0, 2}};
	memset(&pg, 0, sizeof pg);
	enc_alloc(&pg.ring[0], 1, A, 10, STACK);
	enc_realloc(&pg.ring[0], 4, A, B, 50, STACK);
	enc_alloc(&pg.ring[1], 2, A, 30, STACK);
	enc_mark(&pg.ring[1], 1, 2);
	enc_alloc(&pg.ring[1], 5, C, 60, STACK);
	enc_mark(&pg.ring[1], 2, 5);
	enc_free(&pg.ring[1], 6, C);
	enc_mark(&pg.ring[1], 2, 6);
	enc_alloc(&pg.ring[2], 7, C, 70, STACK);
	enc_mark(&pg.ring[2], 3, 7);
	pg.allocs = 4;
	pg.frees = 1;
	pg.reallocs = 1;
	pg.blocks = 4;
	program_end(&pg, h, 3);
	sim_init(&s, &pg, NULL);
	sim_publish(&s, 8);
	sim_round(&s, 8, 0);
	for (int t = 0; t < 3; t++) {
		CHECK(!s.f[t].th.stalled);
		CHECK_U64(s.f[t].tail, s.f[t].origin + pg.ring[t].len);
	}
	CHECK_BYTES(s.f[0].out, s.f[0].nout, H(1, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 10, STACK, 0,
		    H(3, HP_OP_REALLOC), 0, 50, STACK);
	CHECK_BYTES(s.f[1].out, s.f[1].nout, H(2, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 30, STACK, 1,
		    H(3, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 60, STACK, 2, H(1, HP_OP_FREE), 0);
	CHECK_BYTES(s.f[2].out, s.f[2].nout, H(7, HP_OP_EXT), HP_EXT_ALLOC_SLOT, 70, STACK, 3);
	sim_round(&s, 9, 0); /* a stall left by the first round is forced here */
	sim_round(&s, UINT64_MAX, 1);
	check_traces(&s, &ty);
	check_tally(&ty, "late realloc, a later event of another ring overtakes the waiting ring",
		    0);
	sim_release(&s);
	program_release(&pg);
}

enum mode { TIME_ORDER, ROUNDS_FRESH, ROUNDS_REUSED, ROUNDS_LATE };

static void test_threads(enum mode mode, unsigned seeds, unsigned shift)
{
	out_shift = shift;
	static const char *const name[] = {"time order, reused addresses",
					   "rounds, fresh addresses", "rounds, reused addresses",
					   "rounds, reused addresses, late reallocs"};
	static const enum gen gen[] = {GEN_REUSED, GEN_FRESH, GEN_REUSED, GEN_LATE};
	struct tally ty = {0}, prev = {0};
	unsigned failed = 0;
	uint64_t first_failed = 0, rounds = 0;
	for (unsigned seed = 1; seed <= seeds; seed++) {
		struct program pg;
		struct sim s;
		rng = seed * 0x9e3779b97f4a7c15ull + (uint64_t)mode;
		make_program(&pg, 600 + rnd() % 1200, gen[mode]);
		sim_init(&s, &pg, NULL);
		if (mode == TIME_ORDER)
			run_in_time_order(&s);
		else
			run_rounds(&s, 1 + rnd() % 300);
		rounds += s.round;
		check_traces(&s, &ty);
		if (mode == ROUNDS_LATE)
			prev.stalls = ty.stalls;
		if (memcmp(&ty, &prev, sizeof ty) && !failed++)
			first_failed = seed;
		prev = ty;
		sim_release(&s);
		program_release(&pg);
	}
	printf("%s, trace unit 2^%u: %u seeds, %" PRIu64 " rounds, %" PRIu64
	       " stalls, %u seeds failed",
	       name[mode], shift, seeds, rounds, ty.stalls, failed);
	if (failed)
		printf(" (the first: %" PRIu64 ")", first_failed);
	printf("\n");
	check_tally(&ty, name[mode], mode == ROUNDS_LATE);
	out_shift = 0;
}

int main(void)
{
	test_livetab_basic();
	test_livetab_buckets();
	test_livetab_growth();
	test_slots();
	test_hints();
	test_free_list_overflow(0);
	test_free_list_overflow(1);
	test_loop_size();
	test_ring_wrap();
	test_round_limit();
	test_thread_reset();
	test_many_rings();
	test_stall_free();
	test_stall_alloc();
	test_stall_realloc();
	test_stall_realloc_in_place();
	test_malformed();
	three_threads(HP_OP_FREE, "address reused by a third thread");
	three_threads(HP_OP_REALLOC, "block realloc'd in place, then freed by a third thread");
	late_realloc(0);
	late_realloc(1);
	late_realloc_overtaken();
	late_realloc_handoff();
	/* Fine trace times, then units of 8 and 64 ring times, where events of different
	 * threads that depend on each other share a unit. */
	for (unsigned shift = 0; shift <= 6; shift += 3) {
		test_threads(TIME_ORDER, 100, shift);
		test_threads(ROUNDS_FRESH, 300, shift);
		test_threads(ROUNDS_REUSED, 300, shift);
		test_threads(ROUNDS_LATE, 300, shift);
	}
	return check_done();
}
