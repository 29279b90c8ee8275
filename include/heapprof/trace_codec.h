/* The version 3 event codec: the one implementation of docs/trace-format.md's EVENTS
 * encoding, shared by the recorder (which encodes each event straight into its thread's
 * buffer), the analyzer's reader and the tests' trace builders. Header-only, no
 * allocation, no state beyond what the caller passes: zstd keeps its format in one
 * place the same way.
 *
 * An event is one varint head, h: op = h & 3, a = h >> 2, then fields by op:
 *
 *   op 0 ALLOC     a = kind (0: a new kind, `size` and `stack` follow)
 *   op 1 FREE      a = delta: the thread's own block allocated delta allocations ago
 *   op 2 REALLOC   a = delta, then `kind` (0: `size`, `stack` follow)
 *   op 3 EXT       a = arg << 3 | sub:
 *        sub 0 TICK             arg = ticks the thread's time moves on (at least 1)
 *        sub 1 FREE_OTHER       arg = thread, then `seq`: another thread's block
 *        sub 2 REALLOC_OTHER    arg = thread, then `seq`, `kind` [size, stack]
 *        sub 3 FREE_UNKNOWN     arg = 0, then `addr`: a block the trace never saw
 *        sub 4 REALLOC_UNKNOWN  arg = 0, then `addr`, `kind` [size, stack]
 *        sub 5 ALLOC_HINT       arg = kind [size, stack]: heapprof_alloc_hint()
 *        sub 6 MARK             arg = label length, then its bytes: heapprof_mark() at
 *                               exactly this point of the thread's events
 *
 * A *kind* is a (size, stack) pair numbered per thread from 1 in order of first use;
 * a block is named by (allocating thread, seq), seq counting that thread's allocations
 * from 1 (ALLOC, REALLOC*, ALLOC_HINT each take the next). */
#ifndef HEAPPROF_TRACE_CODEC_H
#define HEAPPROF_TRACE_CODEC_H

#include <stdint.h>

#include "trace_format.h"

#ifdef __cplusplus
extern "C" {
#endif

enum hp_ev3_op {
	HP_EV3_ALLOC = 0,
	HP_EV3_FREE = 1,
	HP_EV3_REALLOC = 2,
	HP_EV3_EXT = 3,
};

enum hp_ev3_sub {
	HP_EV3_TICK = 0,
	HP_EV3_FREE_OTHER = 1,
	HP_EV3_REALLOC_OTHER = 2,
	HP_EV3_FREE_UNKNOWN = 3,
	HP_EV3_REALLOC_UNKNOWN = 4,
	HP_EV3_ALLOC_HINT = 5,
	HP_EV3_MARK = 6,
	HP_EV3_SUB_LIMIT
};

/* Limits readers enforce: a thread index and a seq fit a block key. */
#define HP_EV3_SEQ_BITS 40
#define HP_EV3_MAX_THREAD (((uint64_t)1 << 23) - 1)
#define HP_EV3_MAX_SEQ (((uint64_t)1 << HP_EV3_SEQ_BITS) - 1)

/* The longest event: head, thread-seq or address, kind, size, stack. */
#define HP_EV3_MAX_BYTES (5 * HP_VARINT_MAX_BYTES)

/* A block's key: unique in the trace, never reused (readers key their live set by it). */
static inline uint64_t hp_ev3_key(uint64_t thread, uint64_t seq)
{
	return thread << HP_EV3_SEQ_BITS | seq;
}

static inline uint64_t hp_ev3_key_thread(uint64_t key)
{
	return key >> HP_EV3_SEQ_BITS;
}

static inline uint64_t hp_ev3_key_seq(uint64_t key)
{
	return key & HP_EV3_MAX_SEQ;
}

/* ---- encoding: each writes at p (room for HP_EV3_MAX_BYTES) and returns the end ---- */

static inline uint8_t *hp_ev3_put_kind(uint8_t *p, uint32_t kind, uint64_t size, uint32_t stack)
{
	p = hp_put_varint(p, kind);
	if (!kind) {
		p = hp_put_varint(p, size);
		p = hp_put_varint(p, stack);
	}
	return p;
}

/* kind 0 defines the thread's next kind as (size, stack). */
static inline uint8_t *hp_ev3_put_alloc(uint8_t *p, uint32_t kind, uint64_t size, uint32_t stack)
{
	p = hp_put_varint(p, (uint64_t)kind << 2 | HP_EV3_ALLOC);
	if (!kind) {
		p = hp_put_varint(p, size);
		p = hp_put_varint(p, stack);
	}
	return p;
}

static inline uint8_t *hp_ev3_put_free(uint8_t *p, uint64_t delta)
{
	return hp_put_varint(p, delta << 2 | HP_EV3_FREE);
}

static inline uint8_t *hp_ev3_put_realloc(uint8_t *p, uint64_t delta, uint32_t kind, uint64_t size,
					  uint32_t stack)
{
	p = hp_put_varint(p, delta << 2 | HP_EV3_REALLOC);
	return hp_ev3_put_kind(p, kind, size, stack);
}

static inline uint8_t *hp_ev3_put_ext(uint8_t *p, unsigned sub, uint64_t arg)
{
	return hp_put_varint(p, (arg << 3 | sub) << 2 | HP_EV3_EXT);
}

static inline uint8_t *hp_ev3_put_tick(uint8_t *p, uint64_t ticks)
{
	return hp_ev3_put_ext(p, HP_EV3_TICK, ticks);
}

static inline uint8_t *hp_ev3_put_free_other(uint8_t *p, uint64_t thread, uint64_t seq)
{
	p = hp_ev3_put_ext(p, HP_EV3_FREE_OTHER, thread);
	return hp_put_varint(p, seq);
}

static inline uint8_t *hp_ev3_put_realloc_other(uint8_t *p, uint64_t thread, uint64_t seq,
						uint32_t kind, uint64_t size, uint32_t stack)
{
	p = hp_ev3_put_ext(p, HP_EV3_REALLOC_OTHER, thread);
	p = hp_put_varint(p, seq);
	return hp_ev3_put_kind(p, kind, size, stack);
}

static inline uint8_t *hp_ev3_put_free_unknown(uint8_t *p, uint64_t addr)
{
	p = hp_ev3_put_ext(p, HP_EV3_FREE_UNKNOWN, 0);
	return hp_put_varint(p, addr);
}

static inline uint8_t *hp_ev3_put_realloc_unknown(uint8_t *p, uint64_t addr, uint32_t kind,
						  uint64_t size, uint32_t stack)
{
	p = hp_ev3_put_ext(p, HP_EV3_REALLOC_UNKNOWN, 0);
	p = hp_put_varint(p, addr);
	return hp_ev3_put_kind(p, kind, size, stack);
}

static inline uint8_t *hp_ev3_put_alloc_hint(uint8_t *p, uint32_t kind, uint64_t size,
					     uint32_t stack)
{
	p = hp_ev3_put_ext(p, HP_EV3_ALLOC_HINT, kind);
	if (!kind) {
		p = hp_put_varint(p, size);
		p = hp_put_varint(p, stack);
	}
	return p;
}

/* label: at most HP_MARK_LABEL_MAX bytes (room for that many more). */
static inline uint8_t *hp_ev3_put_mark(uint8_t *p, const void *label, size_t len)
{
	p = hp_ev3_put_ext(p, HP_EV3_MARK, len);
	const uint8_t *l = (const uint8_t *)label;
	for (size_t i = 0; i < len; i++)
		p[i] = l[i];
	return p + len;
}

/* ---- decoding ---- */

/* One event as written. `kind` is 0 when the event defined a new kind, whose size and
 * stack are then in `size` and `stack`; the reader resolves kinds and seqs. */
struct hp_ev3 {
	unsigned op;	      /* enum hp_ev3_op, or for EXT the sub + 4 (HP_EV3_DECODED_*) */
	uint64_t arg;	      /* delta (FREE, REALLOC), ticks (TICK), thread (*_OTHER) */
	uint64_t seq;	      /* *_OTHER */
	uint64_t addr;	      /* *_UNKNOWN */
	uint64_t kind;	      /* ALLOC, REALLOC*, ALLOC_HINT: 0 = new, size and stack follow */
	uint64_t size;	      /* of a new kind */
	uint64_t stack;	      /* of a new kind */
	const uint8_t *label; /* MARK: arg bytes, inside the input */
};

/* Decoded ops: the four head ops, then each EXT sub as 4 + sub. */
enum hp_ev3_decoded {
	HP_EV3_D_ALLOC = HP_EV3_ALLOC,
	HP_EV3_D_FREE = HP_EV3_FREE,
	HP_EV3_D_REALLOC = HP_EV3_REALLOC,
	HP_EV3_D_TICK = 4 + HP_EV3_TICK,
	HP_EV3_D_FREE_OTHER = 4 + HP_EV3_FREE_OTHER,
	HP_EV3_D_REALLOC_OTHER = 4 + HP_EV3_REALLOC_OTHER,
	HP_EV3_D_FREE_UNKNOWN = 4 + HP_EV3_FREE_UNKNOWN,
	HP_EV3_D_REALLOC_UNKNOWN = 4 + HP_EV3_REALLOC_UNKNOWN,
	HP_EV3_D_ALLOC_HINT = 4 + HP_EV3_ALLOC_HINT,
	HP_EV3_D_MARK = 4 + HP_EV3_MARK,
};

/* hp_ev3_get(): an unknown EXT sub-op, a TICK of 0, or an address where none goes. */
#define HP_EV3_BAD (-3)

static inline int hp_ev3_get_kind(const uint8_t **pp, const uint8_t *end, struct hp_ev3 *e)
{
	int err = hp_get_varint(pp, end, &e->kind);
	if (!err && !e->kind && !(err = hp_get_varint(pp, end, &e->size)))
		err = hp_get_varint(pp, end, &e->stack);
	return err;
}

/* Reads one event from [*pp, end) and advances *pp. Returns 0, a varint error
 * (HP_VARINT_TRUNCATED, HP_VARINT_TOO_LONG) or HP_EV3_BAD: a corrupt trace either way.
 * The ranges of the values (a kind the thread has, a delta below its seq) are the
 * reader's to check. */
static inline __attribute__((always_inline)) int hp_ev3_get(const uint8_t **pp, const uint8_t *end,
							    struct hp_ev3 *e)
{
	uint64_t h;
	int err = hp_get_varint(pp, end, &h);
	if (err)
		return err;
	e->op = (unsigned)(h & 3);
	e->arg = h >> 2;
	e->kind = 0;
	switch (e->op) {
	case HP_EV3_ALLOC:
		e->kind = e->arg;
		if (!e->kind && !(err = hp_get_varint(pp, end, &e->size)))
			err = hp_get_varint(pp, end, &e->stack);
		return err;
	case HP_EV3_FREE:
		return 0;
	case HP_EV3_REALLOC:
		return hp_ev3_get_kind(pp, end, e);
	default:
		break;
	}
	unsigned sub = (unsigned)(e->arg & 7);
	e->arg >>= 3;
	e->op = 4 + sub;
	switch (sub) {
	case HP_EV3_TICK:
		return e->arg ? 0 : HP_EV3_BAD;
	case HP_EV3_FREE_OTHER:
		return hp_get_varint(pp, end, &e->seq);
	case HP_EV3_REALLOC_OTHER:
		err = hp_get_varint(pp, end, &e->seq);
		return err ? err : hp_ev3_get_kind(pp, end, e);
	case HP_EV3_FREE_UNKNOWN:
		return e->arg ? HP_EV3_BAD : hp_get_varint(pp, end, &e->addr);
	case HP_EV3_REALLOC_UNKNOWN:
		if (e->arg)
			return HP_EV3_BAD;
		err = hp_get_varint(pp, end, &e->addr);
		return err ? err : hp_ev3_get_kind(pp, end, e);
	case HP_EV3_ALLOC_HINT:
		e->kind = e->arg;
		if (!e->kind && !(err = hp_get_varint(pp, end, &e->size)))
			err = hp_get_varint(pp, end, &e->stack);
		return err;
	case HP_EV3_MARK:
		if (e->arg > HP_MARK_LABEL_MAX)
			return HP_EV3_BAD;
		if (e->arg > (uint64_t)(end - *pp))
			return HP_VARINT_TRUNCATED;
		e->label = *pp;
		*pp += e->arg;
		return 0;
	default:
		return HP_EV3_BAD;
	}
}

#ifdef __cplusplus
}
#endif
#endif
