/* A trace writer for tests, fuzz seeds and golden traces: encodes records exactly as
 * docs/trace-format.md says and zstd-compresses them into frames. Header-only; aborts
 * on out-of-memory (test code). Not the recorder: no per-thread buffers, no clock.
 *
 *   struct tb b; tb_init(&b);
 *   tb_header(&b, &(struct tb_header_args){.pid = 42, .exe = "/bin/x", ...});
 *   tb_thread(&b, 0, 42, 0);
 *   tb_alloc(&b, 0, t, size, stack, addr); ...    // buffered per thread
 *   tb_flush_events(&b);                          // EVENTS records of every thread
 *   tb_round(&b, watermark); tb_end(&b, t, n, 0);
 *   tb_frame(&b);                                 // compress pending records into a frame
 *   ... b.out, b.out_len: the file;  tb_release(&b);
 *
 * Events come in both encodings, and the caller picks the one matching the header's
 * version (a mismatch is a corrupt trace, which fuzz seeds may want): tb_alloc, tb_free,
 * tb_realloc write version 1 events (addresses), the header's default version; tb2_*
 * write version 2 events (slots) after tb_header(.version = 2). The builder keeps each
 * thread's v2 decoder state (prev_slot, free list) to encode deltas and to tell which
 * slot an ALLOC takes. */
#ifndef HP_TEST_TRACE_BUILDER_H
#define HP_TEST_TRACE_BUILDER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include <heapprof/trace_codec.h>
#include <heapprof/trace_format.h>

struct tb_buf {
	uint8_t *data;
	size_t len, cap;
};

static inline void tb_buf_reserve(struct tb_buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	b->data = (uint8_t *)realloc(b->data, cap);
	if (!b->data)
		abort();
	b->cap = cap;
}

static inline void tb_buf_put(struct tb_buf *b, const void *p, size_t n)
{
	tb_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void tb_buf_u(struct tb_buf *b, uint64_t v)
{
	tb_buf_reserve(b, HP_VARINT_MAX_BYTES);
	b->len = (size_t)(hp_put_varint(b->data + b->len, v) - b->data);
}

static inline void tb_buf_s(struct tb_buf *b, int64_t v)
{
	tb_buf_u(b, hp_zigzag(v));
}

static inline void tb_buf_str(struct tb_buf *b, const void *s, size_t n)
{
	tb_buf_u(b, n);
	tb_buf_put(b, s, n);
}

#define TB_MAX_THREADS 64

#define TB_MAX_KINDS 256

struct tb_thread {
	struct tb_buf ev;
	uint64_t prev_time, prev_addr; /* v2: prev_addr is prev_slot; v3: prev_time the tick */
	uint64_t free_list[HP_FREE_LIST_MAX]; /* v2: oldest first */
	unsigned free_len;
	uint64_t seq;			  /* v3: allocations so far */
	uint64_t kind_size[TB_MAX_KINDS]; /* v3: kind k + 1 */
	uint64_t kind_stack[TB_MAX_KINDS];
	unsigned nkinds;
};

struct tb {
	struct tb_buf raw; /* records not yet in a frame */
	struct tb_buf out; /* the compressed file */
	struct tb_thread thr[TB_MAX_THREADS];
	int level;
};

static inline void tb_init(struct tb *b)
{
	memset(b, 0, sizeof *b);
	b->level = 3;
}

static inline void tb_release(struct tb *b)
{
	free(b->raw.data);
	free(b->out.data);
	for (int i = 0; i < TB_MAX_THREADS; i++)
		free(b->thr[i].ev.data);
	memset(b, 0, sizeof *b);
}

/* Compresses the pending records as one zstd frame with a checksum. */
static inline void tb_frame(struct tb *b)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, b->level);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	size_t bound = ZSTD_compressBound(b->raw.len);
	tb_buf_reserve(&b->out, bound);
	size_t n = ZSTD_compress2(c, b->out.data + b->out.len, bound, b->raw.data, b->raw.len);
	if (ZSTD_isError(n))
		abort();
	b->out.len += n;
	b->raw.len = 0;
	ZSTD_freeCCtx(c);
}

/* Raw bytes appended to the record stream (for malformed records in tests). */
static inline void tb_raw(struct tb *b, const void *p, size_t n)
{
	tb_buf_put(&b->raw, p, n);
}

struct tb_header_args {
	uint64_t version; /* 0: 1, the version of tb_alloc, tb_free, tb_realloc */
	uint64_t flags, pid, ppid, realtime_ns, mono_ns, ticks_per_second, time_shift;
	uint64_t page_size, max_frames, sample_bytes;
	const char *exe;
	const char *cmdline; /* NUL-separated */
	size_t cmdline_len;
};

static inline void tb_header(struct tb *b, const struct tb_header_args *a)
{
	struct tb_buf *r = &b->raw;
	tb_buf_put(r, HP_MAGIC, HP_MAGIC_LEN);
	tb_buf_u(r, a->version ? a->version : 1);
	tb_buf_u(r, HP_REC_HEADER);
	tb_buf_u(r, a->flags);
	tb_buf_u(r, a->pid);
	tb_buf_u(r, a->ppid);
	tb_buf_u(r, a->realtime_ns);
	tb_buf_u(r, a->mono_ns);
	tb_buf_u(r, a->ticks_per_second ? a->ticks_per_second : 1000000000u);
	tb_buf_u(r, a->time_shift);
	tb_buf_u(r, a->page_size ? a->page_size : 4096);
	tb_buf_u(r, a->max_frames ? a->max_frames : 64);
	tb_buf_u(r, a->sample_bytes);
	const char *exe = a->exe ? a->exe : "/usr/bin/test";
	tb_buf_str(r, exe, strlen(exe));
	if (a->cmdline)
		tb_buf_str(r, a->cmdline, a->cmdline_len ? a->cmdline_len : strlen(a->cmdline));
	else
		tb_buf_str(r, "test", 4);
}

static inline void tb_module(struct tb *b, uint64_t id, const char *path, const void *build_id,
			     size_t build_id_len, uint64_t bias, unsigned nseg,
			     const uint64_t (*seg)[3])
{
	struct tb_buf *r = &b->raw;
	tb_buf_u(r, HP_REC_MODULE);
	tb_buf_u(r, id);
	tb_buf_str(r, path, strlen(path));
	tb_buf_str(r, build_id, build_id_len);
	tb_buf_u(r, bias);
	tb_buf_u(r, nseg);
	for (unsigned i = 0; i < nseg; i++) {
		tb_buf_u(r, seg[i][0]);
		tb_buf_u(r, seg[i][1]);
		tb_buf_u(r, seg[i][2]);
	}
}

static inline void tb_module_unload(struct tb *b, uint64_t id, uint64_t t)
{
	tb_buf_u(&b->raw, HP_REC_MODULE_UNLOAD);
	tb_buf_u(&b->raw, id);
	tb_buf_u(&b->raw, t);
}

static inline void tb_stack(struct tb *b, uint64_t id, unsigned n, const uint64_t *ips)
{
	struct tb_buf *r = &b->raw;
	tb_buf_u(r, HP_REC_STACK);
	tb_buf_u(r, id);
	tb_buf_u(r, n);
	uint64_t prev = 0;
	for (unsigned i = 0; i < n; i++) {
		tb_buf_s(r, (int64_t)(ips[i] - prev));
		prev = ips[i];
	}
}

static inline void tb_thread(struct tb *b, uint64_t index, uint64_t tid, uint64_t t)
{
	tb_buf_u(&b->raw, HP_REC_THREAD);
	tb_buf_u(&b->raw, index);
	tb_buf_u(&b->raw, tid);
	tb_buf_u(&b->raw, t);
}

static inline void tb_thread_name(struct tb *b, uint64_t index, const char *name)
{
	tb_buf_u(&b->raw, HP_REC_THREAD_NAME);
	tb_buf_u(&b->raw, index);
	tb_buf_str(&b->raw, name, strlen(name));
}

static inline void tb_thread_exit(struct tb *b, uint64_t index, uint64_t t)
{
	tb_buf_u(&b->raw, HP_REC_THREAD_EXIT);
	tb_buf_u(&b->raw, index);
	tb_buf_u(&b->raw, t);
}

static inline void tb_u2(struct tb *b, uint64_t tag, uint64_t x, uint64_t y)
{
	tb_buf_u(&b->raw, tag);
	tb_buf_u(&b->raw, x);
	tb_buf_u(&b->raw, y);
}

static inline void tb_round(struct tb *b, uint64_t watermark)
{
	tb_buf_u(&b->raw, HP_REC_ROUND);
	tb_buf_u(&b->raw, watermark);
}

static inline void tb_rss(struct tb *b, uint64_t t, uint64_t bytes)
{
	tb_u2(b, HP_REC_RSS, t, bytes);
}

static inline void tb_clock_sync(struct tb *b, uint64_t ticks, uint64_t mono_ns)
{
	tb_u2(b, HP_REC_CLOCK_SYNC, ticks, mono_ns);
}

static inline void tb_fork(struct tb *b, uint64_t t, uint64_t child)
{
	tb_u2(b, HP_REC_FORK, t, child);
}

static inline void tb_exec(struct tb *b, uint64_t t, const char *path)
{
	tb_buf_u(&b->raw, HP_REC_EXEC);
	tb_buf_u(&b->raw, t);
	tb_buf_str(&b->raw, path, strlen(path));
}

static inline void tb_exit(struct tb *b, uint64_t t, int64_t status)
{
	tb_buf_u(&b->raw, HP_REC_EXIT);
	tb_buf_u(&b->raw, t);
	tb_buf_s(&b->raw, status);
}

static inline void tb_end(struct tb *b, uint64_t t, uint64_t events, uint64_t lost)
{
	tb_buf_u(&b->raw, HP_REC_END);
	tb_buf_u(&b->raw, t);
	tb_buf_u(&b->raw, events);
	tb_buf_u(&b->raw, lost);
}

static inline void tb_error(struct tb *b, uint64_t t, const char *msg)
{
	tb_buf_u(&b->raw, HP_REC_ERROR);
	tb_buf_u(&b->raw, t);
	tb_buf_str(&b->raw, msg, strlen(msg));
}

/* ---- hot events, buffered per thread; times are absolute (the builder computes dt) ---- */

static inline void tb_ev_head(struct tb_thread *t, uint64_t time, unsigned op)
{
	if (time < t->prev_time)
		abort(); /* per-thread time never goes backwards */
	tb_buf_u(&t->ev, ((time - t->prev_time) << HP_OP_BITS) | op);
	t->prev_time = time;
}

static inline int64_t tb_d16(uint64_t addr, uint64_t base)
{
	return (int64_t)((addr >> HP_ADDR_SHIFT) - (base >> HP_ADDR_SHIFT));
}

/* Uses the short form when addr is 16-byte aligned, else ALLOC_ABS. */
static inline void tb_alloc(struct tb *b, unsigned th, uint64_t time, uint64_t size, uint64_t stack,
			    uint64_t addr)
{
	struct tb_thread *t = &b->thr[th];
	if (addr & 15) {
		tb_ev_head(t, time, HP_OP_EXT);
		tb_buf_u(&t->ev, HP_EXT_ALLOC_ABS);
		tb_buf_u(&t->ev, size);
		tb_buf_u(&t->ev, stack);
		tb_buf_u(&t->ev, addr);
	} else {
		tb_ev_head(t, time, HP_OP_ALLOC);
		tb_buf_u(&t->ev, size);
		tb_buf_u(&t->ev, stack);
		tb_buf_s(&t->ev, tb_d16(addr, t->prev_addr));
	}
	t->prev_addr = addr;
}

static inline void tb_free(struct tb *b, unsigned th, uint64_t time, uint64_t addr)
{
	struct tb_thread *t = &b->thr[th];
	if (addr & 15) {
		tb_ev_head(t, time, HP_OP_EXT);
		tb_buf_u(&t->ev, HP_EXT_FREE_ABS);
		tb_buf_u(&t->ev, addr);
	} else {
		tb_ev_head(t, time, HP_OP_FREE);
		tb_buf_s(&t->ev, tb_d16(addr, t->prev_addr));
	}
	t->prev_addr = addr;
}

static inline void tb_realloc(struct tb *b, unsigned th, uint64_t time, uint64_t old, uint64_t size,
			      uint64_t stack, uint64_t addr)
{
	struct tb_thread *t = &b->thr[th];
	if ((addr | old) & 15) {
		tb_ev_head(t, time, HP_OP_EXT);
		tb_buf_u(&t->ev, HP_EXT_REALLOC_ABS);
		tb_buf_u(&t->ev, old);
		tb_buf_u(&t->ev, size);
		tb_buf_u(&t->ev, stack);
		tb_buf_u(&t->ev, addr);
	} else {
		tb_ev_head(t, time, HP_OP_REALLOC);
		tb_buf_s(&t->ev, tb_d16(old, t->prev_addr));
		tb_buf_u(&t->ev, size);
		tb_buf_u(&t->ev, stack);
		tb_buf_s(&t->ev, tb_d16(addr, old));
	}
	t->prev_addr = addr;
}

/* ---- version 2 events: slots; each tb2_* mirrors the reader's per-thread state ---- */

static inline void tb2_free_list_push(struct tb_thread *t, uint64_t slot)
{
	if (t->free_len == HP_FREE_LIST_MAX) {
		memmove(t->free_list, t->free_list + 1, (HP_FREE_LIST_MAX - 1) * sizeof(uint64_t));
		t->free_len--;
	}
	t->free_list[t->free_len++] = slot;
}

/* ALLOC: takes the last slot of the thread's free list. Returns that slot, or -1 when the
 * list is empty (the event is written anyway: a corrupt trace). */
static inline int64_t tb2_alloc(struct tb *b, unsigned th, uint64_t time, uint64_t size,
				uint64_t stack)
{
	struct tb_thread *t = &b->thr[th];
	tb_ev_head(t, time, HP_OP_ALLOC);
	tb_buf_u(&t->ev, size);
	tb_buf_u(&t->ev, stack);
	if (!t->free_len)
		return -1;
	t->prev_addr = t->free_list[--t->free_len];
	return (int64_t)t->prev_addr;
}

/* EXT ALLOC_SLOT: the slot given explicitly. */
static inline void tb2_alloc_slot(struct tb *b, unsigned th, uint64_t time, uint64_t size,
				  uint64_t stack, uint64_t slot)
{
	struct tb_thread *t = &b->thr[th];
	tb_ev_head(t, time, HP_OP_EXT);
	tb_buf_u(&t->ev, HP_EXT_ALLOC_SLOT);
	tb_buf_u(&t->ev, size);
	tb_buf_u(&t->ev, stack);
	tb_buf_u(&t->ev, slot);
	t->prev_addr = slot;
}

/* A MARK record (a mark from outside the threads: `heapprof mark`, a signal handler). */
static inline void tb3_mark(struct tb *b, uint64_t t, const char *label)
{
	tb_buf_u(&b->raw, HP_REC_MARK);
	tb_buf_u(&b->raw, t);
	tb_buf_str(&b->raw, label, strlen(label));
}

/* FREE of a slot (delta from prev_slot); the slot joins the free list. */
static inline void tb2_free(struct tb *b, unsigned th, uint64_t time, uint64_t slot)
{
	struct tb_thread *t = &b->thr[th];
	tb_ev_head(t, time, HP_OP_FREE);
	tb_buf_s(&t->ev, (int64_t)(slot - t->prev_addr));
	t->prev_addr = slot;
	tb2_free_list_push(t, slot);
}

/* REALLOC of the block in `slot`; the new block keeps the slot. */
static inline void tb2_realloc(struct tb *b, unsigned th, uint64_t time, uint64_t slot,
			       uint64_t size, uint64_t stack)
{
	struct tb_thread *t = &b->thr[th];
	tb_ev_head(t, time, HP_OP_REALLOC);
	tb_buf_s(&t->ev, (int64_t)(slot - t->prev_addr));
	tb_buf_u(&t->ev, size);
	tb_buf_u(&t->ev, stack);
	t->prev_addr = slot;
}

/* EXT FREE_UNKNOWN: an address the trace never saw allocated; no slot, state unchanged. */
static inline void tb2_free_unknown(struct tb *b, unsigned th, uint64_t time, uint64_t addr)
{
	struct tb_thread *t = &b->thr[th];
	tb_ev_head(t, time, HP_OP_EXT);
	tb_buf_u(&t->ev, HP_EXT_FREE_UNKNOWN);
	tb_buf_u(&t->ev, addr);
}

/* EXT REALLOC_UNKNOWN: an unknown old address; the new block in `slot`. */
static inline void tb2_realloc_unknown(struct tb *b, unsigned th, uint64_t time, uint64_t old_addr,
				       uint64_t size, uint64_t stack, uint64_t slot)
{
	struct tb_thread *t = &b->thr[th];
	tb_ev_head(t, time, HP_OP_EXT);
	tb_buf_u(&t->ev, HP_EXT_REALLOC_UNKNOWN);
	tb_buf_u(&t->ev, old_addr);
	tb_buf_u(&t->ev, size);
	tb_buf_u(&t->ev, stack);
	tb_buf_u(&t->ev, slot);
	t->prev_addr = slot;
}

/* ---- version 3 (trace_codec.h): the recorder's own encoder functions ----
 * Blocks are named by key (tb3_key: thread, seq); each returns the new block's key. */

static inline uint64_t tb3_key(unsigned th, uint64_t seq)
{
	return hp_ev3_key(th, seq);
}

/* A TICK when time moved; then room for one event. */
static inline uint8_t *tb3_begin(struct tb_thread *t, uint64_t time)
{
	tb_buf_reserve(&t->ev, HP_EV3_MAX_BYTES + HP_VARINT_MAX_BYTES + HP_MARK_LABEL_MAX + 8);
	uint8_t *p = t->ev.data + t->ev.len;
	if (time > t->prev_time) {
		p = hp_ev3_put_tick(p, time - t->prev_time);
		t->prev_time = time;
	}
	return p;
}

static inline void tb3_end(struct tb_thread *t, uint8_t *p)
{
	t->ev.len = (size_t)(p - t->ev.data);
}

/* The kind of (size, stack): its number, or 0 after numbering a new one. */
static inline uint32_t tb3_kind(struct tb_thread *t, uint64_t size, uint64_t stack)
{
	for (unsigned k = 0; k < t->nkinds; k++)
		if (t->kind_size[k] == size && t->kind_stack[k] == stack)
			return k + 1;
	if (t->nkinds == TB_MAX_KINDS)
		abort();
	t->kind_size[t->nkinds] = size;
	t->kind_stack[t->nkinds++] = stack;
	return 0;
}

static inline uint64_t tb3_alloc(struct tb *b, unsigned th, uint64_t time, uint64_t size,
				 uint64_t stack)
{
	struct tb_thread *t = &b->thr[th];
	uint8_t *p = tb3_begin(t, time);
	tb3_end(t, hp_ev3_put_alloc(p, tb3_kind(t, size, stack), size, (uint32_t)stack));
	return tb3_key(th, ++t->seq);
}

static inline uint64_t tb3_alloc_hint(struct tb *b, unsigned th, uint64_t time, uint64_t size,
				      uint64_t stack)
{
	struct tb_thread *t = &b->thr[th];
	uint8_t *p = tb3_begin(t, time);
	tb3_end(t, hp_ev3_put_alloc_hint(p, tb3_kind(t, size, stack), size, (uint32_t)stack));
	return tb3_key(th, ++t->seq);
}

/* The release of block key by thread th: its own (a delta), another's, or (key 0) an
 * address the trace never saw. */
static inline uint8_t *tb3_release(struct tb_thread *t, unsigned th, uint8_t *p, int realloc,
				   uint64_t key, uint64_t addr, uint32_t kind, uint64_t size,
				   uint64_t stack)
{
	if (!key)
		return realloc ? hp_ev3_put_realloc_unknown(p, addr, kind, size, (uint32_t)stack)
			       : hp_ev3_put_free_unknown(p, addr);
	uint64_t kt = hp_ev3_key_thread(key), seq = hp_ev3_key_seq(key);
	if (kt == th)
		return realloc ? hp_ev3_put_realloc(p, t->seq - seq, kind, size, (uint32_t)stack)
			       : hp_ev3_put_free(p, t->seq - seq);
	return realloc ? hp_ev3_put_realloc_other(p, kt, seq, kind, size, (uint32_t)stack)
		       : hp_ev3_put_free_other(p, kt, seq);
}

static inline void tb3_free(struct tb *b, unsigned th, uint64_t time, uint64_t key)
{
	struct tb_thread *t = &b->thr[th];
	tb3_end(t, tb3_release(t, th, tb3_begin(t, time), 0, key, 0, 0, 0, 0));
}

static inline void tb3_free_unknown(struct tb *b, unsigned th, uint64_t time, uint64_t addr)
{
	struct tb_thread *t = &b->thr[th];
	tb3_end(t, tb3_release(t, th, tb3_begin(t, time), 0, 0, addr, 0, 0, 0));
}

/* old_key 0: old_addr is a block the trace never saw. */
static inline uint64_t tb3_realloc(struct tb *b, unsigned th, uint64_t time, uint64_t old_key,
				   uint64_t old_addr, uint64_t size, uint64_t stack)
{
	struct tb_thread *t = &b->thr[th];
	uint8_t *p = tb3_begin(t, time);
	uint32_t kind = tb3_kind(t, size, stack);
	tb3_end(t, tb3_release(t, th, p, 1, old_key, old_addr, kind, size, stack));
	return tb3_key(th, ++t->seq);
}

/* heapprof_mark on thread th: a MARK among its events. */
static inline void tb3_mark_event(struct tb *b, unsigned th, uint64_t time, const char *label)
{
	struct tb_thread *t = &b->thr[th];
	uint8_t *p = tb3_begin(t, time);
	tb3_end(t, hp_ev3_put_mark(p, label, strlen(label)));
}

/* v3 LEAK_BLOCKS: keys in the given order as svarint deltas, each with its class. */
static inline void tb3_leak_blocks(struct tb *b, unsigned n, const uint64_t *keys,
				   const unsigned *cls)
{
	tb_buf_u(&b->raw, HP_REC_LEAK_BLOCKS);
	tb_buf_u(&b->raw, n);
	uint64_t prev = 0;
	for (unsigned i = 0; i < n; i++) {
		tb_buf_s(&b->raw, (int64_t)(keys[i] - prev));
		tb_buf_u(&b->raw, cls[i]);
		prev = keys[i];
	}
}

/* LEAK_SCAN: time, flags, then (bytes, blocks) of definite, indirect, possible,
 * reachable, then the number of blocks the LEAK_BLOCKS records list. */
static inline void tb_leak_scan(struct tb *b, uint64_t t, uint64_t flags, const uint64_t bytes[4],
				const uint64_t blocks[4], uint64_t nblocks)
{
	tb_buf_u(&b->raw, HP_REC_LEAK_SCAN);
	tb_buf_u(&b->raw, t);
	tb_buf_u(&b->raw, flags);
	for (int i = 0; i < 4; i++) {
		tb_buf_u(&b->raw, bytes[i]);
		tb_buf_u(&b->raw, blocks[i]);
	}
	tb_buf_u(&b->raw, nblocks);
}

/* v2 LEAK_BLOCKS: slots in the given order as svarint deltas, each with its class. */
static inline void tb2_leak_blocks(struct tb *b, unsigned n, const uint64_t *slots,
				   const unsigned *cls)
{
	tb_buf_u(&b->raw, HP_REC_LEAK_BLOCKS);
	tb_buf_u(&b->raw, n);
	uint64_t prev = 0;
	for (unsigned i = 0; i < n; i++) {
		tb_buf_s(&b->raw, (int64_t)(slots[i] - prev));
		tb_buf_u(&b->raw, cls[i]);
		prev = slots[i];
	}
}

/* Writes an EVENTS record for each thread with buffered events, in thread order. */
static inline void tb_flush_events(struct tb *b)
{
	for (unsigned i = 0; i < TB_MAX_THREADS; i++) {
		struct tb_thread *t = &b->thr[i];
		if (!t->ev.len)
			continue;
		tb_buf_u(&b->raw, HP_REC_EVENTS);
		tb_buf_u(&b->raw, i);
		tb_buf_str(&b->raw, t->ev.data, t->ev.len);
		t->ev.len = 0;
	}
}

/* Writes the file; returns 0 or -1. */
static inline int tb_write_file(const struct tb *b, const char *path)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = fwrite(b->out.data, 1, b->out.len, f);
	return (fclose(f) == 0 && n == b->out.len) ? 0 : -1;
}

#endif
