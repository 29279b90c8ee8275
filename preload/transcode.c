/* The event transcoder; see transcode.h for the contract and docs/trace-format.md for
 * both encodings. */
#include "transcode.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "os.h"

#define INITIAL_POOL 1024u
#define INITIAL_HEAP 1024u

/* For the per-event helpers: a call each would cost more than their work, whatever the
 * compiler's size estimate for the functions they go into. */
#define FORCE_INLINE static inline __attribute__((always_inline))

int hp_transcoder_init(struct hp_transcoder *x)
{
	memset(x, 0, sizeof *x);
	x->pool.v = hp_os_map(INITIAL_POOL * sizeof *x->pool.v);
	x->ev = hp_os_map((HP_TRANSCODE_ROUND_EVENTS + 1) * sizeof *x->ev);
	x->out = hp_os_map(HP_TRANSCODE_ROUND_EVENTS * HP_TRANSCODE_EVENT_MAX);
	x->heap = hp_os_map(2 * INITIAL_HEAP * sizeof *x->heap);
	if (!x->pool.v || !x->ev || !x->out || !x->heap || hp_livetab_init(&x->live)) {
		hp_os_unmap(x->pool.v, INITIAL_POOL * sizeof *x->pool.v);
		hp_os_unmap(x->ev, (HP_TRANSCODE_ROUND_EVENTS + 1) * sizeof *x->ev);
		hp_os_unmap(x->out, HP_TRANSCODE_ROUND_EVENTS * HP_TRANSCODE_EVENT_MAX);
		hp_os_unmap(x->heap, 2 * INITIAL_HEAP * sizeof *x->heap);
		memset(x, 0, sizeof *x);
		return -ENOMEM;
	}
	x->pool.cap = INITIAL_POOL;
	x->heap_cap = INITIAL_HEAP;
	x->waiting = x->heap + INITIAL_HEAP;
	x->ev_cap = HP_TRANSCODE_ROUND_EVENTS;
	return 0;
}

static __attribute__((noinline, cold)) int pool_grow(struct hp_slot_pool *p)
{
	size_t cap = p->cap * 2;
	struct hp_freed_slot *v = hp_os_map(cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->len; i++)
		v[i] = p->v[(p->head + i) & (p->cap - 1)];
	munmap(p->v, p->cap * sizeof *p->v);
	p->v = v;
	p->head = 0;
	p->cap = cap;
	return 0;
}

static inline int pool_put(struct hp_slot_pool *p, struct hp_freed_slot f)
{
	if (__builtin_expect(p->len == p->cap, 0) && pool_grow(p))
		return -ENOMEM;
	p->v[(p->head + p->len++) & (p->cap - 1)] = f;
	return 0;
}

/* A slot for a block allocated at `time` that the trace must name explicitly: the
 * oldest pooled one if it was released before that time (so a reader merging threads
 * by time sees the release first), else a new one. */
static inline uint64_t pool_take(struct hp_transcoder *x, uint64_t time)
{
	struct hp_slot_pool *p = &x->pool;
	if (p->len && p->v[p->head].time < time) {
		uint64_t slot = p->v[p->head].slot;
		p->head = (p->head + 1) & (p->cap - 1);
		p->len--;
		return slot;
	}
	return x->next_slot++;
}

int hp_transcode_thread_reset(struct hp_transcoder *x, struct hp_transcode_thread *th)
{
	int err = 0;
	for (uint32_t i = 0; i < th->nfree && !err; i++)
		err = pool_put(&x->pool, th->free[(th->first + i) % HP_FREE_LIST_MAX]);
	memset(th, 0, sizeof *th);
	th->id = ++x->next_id;
	return err;
}

/* ---- trace times --------------------------------------------------------------------
 *
 * The rings keep the recorder's fine clock (about 16 ns), which the merge needs to match
 * a release to its block by address. The trace's unit is 2^out_shift of those (about a
 * microsecond): a thread's successive events then mostly differ by 0 or 1 unit, which
 * compresses to a few bits. Readers merge the threads by time, releases first within a
 * unit, and a unit is long enough for one thread to allocate a block and another to
 * release it; so each slot remembers who gave it its block and when, and a release or
 * realloc of the block by another thread is written one unit after that at least (the
 * thread's later events follow: its times never go back). Slots are dense: an array. */

static __attribute__((noinline, cold)) int given_grow(struct hp_transcoder *x, uint64_t slot)
{
	size_t cap = x->given_cap ? x->given_cap : 4096;
	while (cap <= slot)
		cap *= 2;
	struct hp_slot_giver *v = hp_os_map(cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	if (x->given_cap) {
		memcpy(v, x->given, x->given_cap * sizeof *v);
		hp_os_unmap(x->given, x->given_cap * sizeof *v);
	}
	x->given = v;
	x->given_cap = cap;
	return 0;
}

/* slot got its block from th at trace time out. */
FORCE_INLINE int given(struct hp_transcoder *x, uint64_t slot, const struct hp_transcode_thread *th,
		       uint64_t out)
{
	if (__builtin_expect(slot >= x->given_cap, 0) && given_grow(x, slot))
		return -ENOMEM;
	x->given[slot] = (struct hp_slot_giver){out, th->id};
	return 0;
}

#define NO_SLOT UINT64_MAX

/* The trace time of th's event at ring time `time`, which releases or reallocs the
 * block in slot (NO_SLOT: none). */
FORCE_INLINE uint64_t out_time(const struct hp_transcoder *x, const struct hp_transcode_thread *th,
			       uint64_t time, uint64_t slot)
{
	uint64_t out = time >> x->out_shift;
	if (out < th->out_time)
		out = th->out_time;
	if (slot < x->given_cap && x->given[slot].by != th->id && out <= x->given[slot].time)
		out = x->given[slot].time + 1;
	return out;
}

/* The trace decoder appends a released slot to the thread's free list and drops the
 * oldest beyond HP_FREE_LIST_MAX: the writer's copy does the same, and pools the
 * dropped one. */
FORCE_INLINE int free_list_push(struct hp_transcoder *x, struct hp_transcode_thread *th,
				uint64_t slot, uint64_t time)
{
	if (th->nfree == HP_FREE_LIST_MAX) {
		if (pool_put(&x->pool, th->free[th->first]))
			return -ENOMEM;
		th->first = (th->first + 1) % HP_FREE_LIST_MAX;
		th->nfree--;
	}
	th->free[(th->first + th->nfree++) % HP_FREE_LIST_MAX] = (struct hp_freed_slot){slot, time};
	return 0;
}

/* ---- ring events (version 1) --------------------------------------------------------- */

/* A varint read: the input after it (NULL when malformed or cut short) and its value, in
 * two registers rather than through memory. */
struct varint {
	const uint8_t *p;
	uint64_t v;
};

static HP_COLD struct varint get_u_slow(const uint8_t *p, const uint8_t *end)
{
	struct varint r = {p, 0};
	if (hp_get_varint(&r.p, end, &r.v))
		r.p = NULL;
	return r;
}

/* Most varints (dt, sizes, stacks) take one byte; addresses 2-4. Both are read inline;
 * only a varint near the end of the input or over 63 bits goes to the shared,
 * bounds-checked primitive. */
FORCE_INLINE struct varint get_u(const uint8_t *p, const uint8_t *end)
{
	if (HP_LIKELY(p < end && *p < 0x80))
		return (struct varint){p + 1, *p};
	if (HP_LIKELY(end - p >= HP_VARINT_MAX_BYTES)) {
		uint64_t r = 0;
		for (unsigned shift = 0; shift < 63; shift += 7) {
			uint8_t b = *p++;
			r |= (uint64_t)(b & 0x7f) << shift;
			if (!(b & 0x80))
				return (struct varint){p, r};
		}
		p -= 9;
	}
	return get_u_slow(p, end);
}

/* Reads a varint into lvalue dst, or returns NULL from the calling decoder. */
#define GET_U(dst)                                                                                 \
	do {                                                                                       \
		struct varint r_ = get_u(p, end);                                                  \
		if (!r_.p)                                                                         \
			return NULL;                                                               \
		p = r_.p;                                                                          \
		(dst) = r_.v;                                                                      \
	} while (0)

/* Reads an addr16_delta from base into lvalue a: (a >> 4) = (base >> 4) + delta, modulo
 * 2^64 as the encoder computed it. */
#define GET_DELTA(a, base)                                                                         \
	do {                                                                                       \
		uint64_t z_;                                                                       \
		GET_U(z_);                                                                         \
		(a) = (((base) >> HP_ADDR_SHIFT) + (uint64_t)hp_unzigzag(z_)) << HP_ADDR_SHIFT;    \
	} while (0)

/* Decodes the event at p into e; returns its end, or NULL for a malformed one. Only a
 * realloc's old address is set, and a release's size and stack are not: nothing reads
 * them. */
FORCE_INLINE const uint8_t *decode(const uint8_t *p, const uint8_t *end, uint64_t prev_time,
				   uint64_t prev_addr, struct hp_transcode_event *e)
{
	uint64_t head, ext;
	GET_U(head);
	e->time = prev_time + (head >> HP_OP_BITS);
	e->op = head & HP_OP_MASK;
	e->hint = 0;
	switch (e->op) {
	case HP_OP_ALLOC:
		GET_U(e->size);
		GET_U(e->stack);
		GET_DELTA(e->addr, prev_addr);
		return p;
	case HP_OP_FREE:
		GET_DELTA(e->addr, prev_addr);
		return p;
	case HP_OP_REALLOC:
		GET_DELTA(e->old, prev_addr);
		GET_U(e->size);
		GET_U(e->stack);
		GET_DELTA(e->addr, e->old);
		return p;
	default:
		GET_U(ext);
		switch (ext) {
		case HP_EXT_ALLOC_ABS:
			e->op = HP_OP_ALLOC;
			GET_U(e->size);
			GET_U(e->stack);
			GET_U(e->addr);
			return p;
		case HP_EXT_FREE_ABS:
			e->op = HP_OP_FREE;
			GET_U(e->addr);
			return p;
		case HP_EXT_REALLOC_ABS:
			e->op = HP_OP_REALLOC;
			GET_U(e->old);
			GET_U(e->size);
			GET_U(e->stack);
			GET_U(e->addr);
			return p;
		case HP_EXT_ALLOC_HINT_ABS:
			e->op = HP_OP_ALLOC;
			e->hint = 1;
			GET_U(e->size);
			GET_U(e->stack);
			GET_U(e->addr);
			e->addr |= HP_HINT_TAG;
			return p;
		case HP_EXT_FREE_HINT_ABS:
			e->op = HP_OP_FREE;
			e->hint = 1;
			GET_U(e->addr);
			e->addr |= HP_HINT_TAG;
			return p;
		default:
			return NULL;
		}
	}
}

/* ---- trace events (version 2), written as each ring event is decided ------------------ */

/* The head of an event at ring time `time`, written at trace time out. */
FORCE_INLINE uint8_t *put_head(uint8_t *p, struct hp_transcode_thread *th, uint64_t time,
			       uint64_t out, unsigned op)
{
	p = hp_put_varint(p, (out - th->out_time) << HP_OP_BITS | op);
	th->time = time;
	th->out_time = out;
	return p;
}

FORCE_INLINE uint8_t *put_slot_delta(uint8_t *p, struct hp_transcode_thread *th, uint64_t slot)
{
	p = hp_put_varint(p, hp_zigzag((int64_t)(slot - th->prev_slot)));
	th->prev_slot = slot;
	return p;
}

/* Ring ri's output: HP_TRANSCODE_EVENT_MAX bytes for each of its events. */
static inline uint8_t *out_of(const struct hp_transcoder *x, const struct hp_transcode_ring *ri)
{
	return x->out + ri->first * HP_TRANSCODE_EVENT_MAX;
}

/* The trace bytes of e, ri's next event, end at p, and the ring decoder resumes after
 * e. Returns err. */
static inline int written(struct hp_transcoder *x, struct hp_transcode_ring *ri,
			  struct hp_transcode_event *e, const uint8_t *p, int err)
{
	ri->made = (size_t)(p - out_of(x, ri));
	e->out = (uint32_t)ri->made;
	ri->th->prev_addr = e->addr & ~HP_HINT_TAG; /* the ring's own, untagged */
	return err;
}

/* ---- the live set ------------------------------------------------------------------- */

/* b leaves the live set; its slot joins the thread's free list. */
FORCE_INLINE int release(struct hp_transcoder *x, struct hp_transcode_thread *th, struct hp_live *b,
			 uint64_t time)
{
	uint64_t slot = hp_livetab_slot(b);
	hp_livetab_remove(&x->live, b);
	return free_list_push(x, th, slot, x->time_base + time);
}

/* Why a ring's next event waits (hp_transcode_ring.wait). */
enum { WAIT_NONE, WAIT_BLOCK, WAIT_RELEASE };

/* Whether an allocation at addr earlier than `time` waits for the release of the block
 * still live there: then a release of addr at `time` is of the waiting allocation's
 * block (releases are recorded before the real free), which does not exist yet. This
 * happens when realloc, recorded after the real call, moved a block and another thread
 * got the old address before the realloc event was taken. */
static int contested(const struct hp_transcoder *x, const struct hp_transcode_ring *r,
		     uint64_t addr, uint64_t time)
{
	for (size_t k = 0; k < x->nwaiting; k++) {
		const struct hp_transcode_ring *w = &r[x->waiting[k]];
		const struct hp_transcode_event *we = &x->ev[w->first + w->applied];
		if (w->wait == WAIT_RELEASE && we->addr == addr && we->time < time)
			return 1;
	}
	return 0;
}

/* Decides what e, the next event of ring ri, becomes, updates the live set, the pool and
 * the thread's free list, and writes the trace event to ri's output. Returns 0,
 * WAIT_BLOCK (its block is not allocated yet) or WAIT_RELEASE (its address still holds a
 * block) when e must wait, with nothing changed, or -ENOMEM. Forced, it never waits. */
static int apply(struct hp_transcoder *x, const struct hp_transcode_ring *r,
		 struct hp_transcode_ring *ri, struct hp_transcode_event *e, int force)
{
	struct hp_livetab *t = &x->live;
	struct hp_transcode_thread *th = ri->th;
	uint8_t *p = out_of(x, ri) + ri->made;
	if (!force && (e->op == HP_OP_FREE || (e->op == HP_OP_REALLOC && e->addr == e->old)) &&
	    x->nwaiting && contested(x, r, e->addr, e->time))
		return WAIT_BLOCK;
	if (e->op == HP_OP_FREE) {
		struct hp_live *b = hp_livetab_find(t, e->addr);
		if (!b && !force)
			return WAIT_BLOCK;
		if (!b) {
			p = put_head(p, th, e->time, out_time(x, th, e->time, NO_SLOT), HP_OP_EXT);
			p = hp_put_varint(p, HP_EXT_FREE_UNKNOWN);
			p = hp_put_varint(p, e->addr);
			return written(x, ri, e, p, 0);
		}
		uint64_t slot = hp_livetab_slot(b), out = out_time(x, th, e->time, slot);
		p = put_head(p, th, e->time, out, HP_OP_FREE);
		p = put_slot_delta(p, th, slot);
		return written(x, ri, e, p, release(x, th, b, out));
	}
	int err = hp_livetab_reserve(t); /* no growth below: entries stay put */
	if (err)
		return err;
	struct hp_live *b = e->op == HP_OP_REALLOC ? hp_livetab_find(t, e->old) : NULL;
	/* Where the new block goes; an in-place realloc of a block never seen (forced) adds
	 * one as well. */
	struct hp_live *at =
	    e->op == HP_OP_ALLOC || e->addr != e->old || !b ? hp_livetab_lookup(t, e->addr) : NULL;
	if (e->op == HP_OP_REALLOC && !b && !force)
		return WAIT_BLOCK;
	if (at && at->addr && !force)
		return WAIT_RELEASE;
	if (at && at->addr) { /* forced: the release of the block at addr was lost */
		uint64_t lost = hp_livetab_slot(at), out = out_time(x, th, e->time, lost);
		p = put_head(p, th, e->time, out, HP_OP_FREE);
		p = put_slot_delta(p, th, lost);
		err = release(x, th, at, out); /* at is now the empty entry for addr */
		if (err)
			return err;
	}
	uint64_t slot = b ? hp_livetab_slot(b) : NO_SLOT, out = out_time(x, th, e->time, slot);
	if (b) {
		p = put_head(p, th, e->time, out, HP_OP_REALLOC);
		p = put_slot_delta(p, th, slot);
		p = hp_put_varint(p, e->size);
		p = hp_put_varint(p, e->stack);
		if (e->addr == e->old) {
			err = given(x, slot, th, out);
			return written(x, ri, e, p, err ? err : hp_livetab_resize(t, b, e->size));
		}
		hp_livetab_remove(t, b);
	} else if (e->op == HP_OP_ALLOC && th->nfree && !e->hint) {
		slot = th->free[(th->first + --th->nfree) % HP_FREE_LIST_MAX].slot;
		p = put_head(p, th, e->time, out, HP_OP_ALLOC);
		p = hp_put_varint(p, e->size);
		p = hp_put_varint(p, e->stack);
	} else { /* the slot must be named: ALLOC_SLOT, ALLOC_HINT or REALLOC_UNKNOWN */
		slot = pool_take(x, x->time_base + out);
		p = put_head(p, th, e->time, out, HP_OP_EXT);
		if (e->op == HP_OP_REALLOC) {
			p = hp_put_varint(p, HP_EXT_REALLOC_UNKNOWN);
			p = hp_put_varint(p, e->old);
		} else {
			p = hp_put_varint(p, e->hint ? HP_EXT_ALLOC_HINT : HP_EXT_ALLOC_SLOT);
		}
		p = hp_put_varint(p, e->size);
		p = hp_put_varint(p, e->stack);
		p = hp_put_varint(p, slot);
	}
	th->prev_slot = slot;
	if ((err = given(x, slot, th, out)))
		return err;
	return written(x, ri, e, p, hp_livetab_fill(t, at, e->addr, e->size, slot));
}

/* ---- the round: decode, merge by time, apply ---------------------------------------- */

/* Where the decoding of a ring stands. */
struct cursor {
	struct hp_transcode_event *ev; /* the ring's events */
	size_t n, max;
	uint64_t cut;
	uint64_t time, addr; /* the ring decoder's state after the last event */
};

/* Decodes the events at in[*pos..) that start before in[stop], reading no byte from
 * in[avail] on; in[0] lies `base` bytes after the round's tail. Returns 1 once an event
 * is at or after the cut, or beyond max (the cut then drops to it), 0 at `stop`, or
 * -EINVAL. */
static int decode_span(struct cursor *c, const uint8_t *in, size_t *pos, size_t stop, size_t avail,
		       uint64_t base)
{
	const uint8_t *p = in + *pos, *end = in + avail;
	uint64_t time = c->time, addr = c->addr;
	size_t n = c->n;
	int rc = 0;
	while (p < in + stop) {
		/* Decoded in place (a struct copy costs more than the decode); the slot
		 * after the last is scratch (the next ring's first, or the spare one). */
		struct hp_transcode_event *e = &c->ev[n];
		const uint8_t *next = decode(p, end, time, addr, e);
		if (!next)
			return -EINVAL;
		if (e->time >= c->cut || n == c->max) {
			if (e->time < c->cut)
				c->cut = e->time;
			rc = 1;
			break;
		}
		e->end = (uint32_t)(base + (size_t)(next - in));
		n++;
		time = e->time;
		addr = e->addr & ~HP_HINT_TAG;
		p = next;
	}
	*pos = (size_t)(p - in);
	c->n = n;
	c->time = time;
	c->addr = addr;
	return rc;
}

/* Decodes r's events below *cut, at most max of them, into x->ev + r->first. When max
 * stops it early, *cut drops to the first event left out, so the round's events stay
 * closed under "happened before". */
static int decode_ring(struct hp_transcoder *x, struct hp_transcode_ring *r, size_t max,
		       uint64_t *cut)
{
	/* Only the bytes of max + 1 events at most (the one after the last may lower the
	 * cut): the rest waits for another round. */
	uint64_t len = r->head - r->tail;
	if (len > ((uint64_t)max + 1) * HP_EVENT_MAX_BYTES)
		len = ((uint64_t)max + 1) * HP_EVENT_MAX_BYTES;
	size_t off = r->tail & (r->size - 1), first = r->size - off, pos = 0;
	struct cursor c = {x->ev + r->first, 0, max, *cut, r->th->time, r->th->prev_addr};
	int rc;
	if (first >= len) {
		rc = decode_span(&c, r->ring + off, &pos, len, len, 0);
	} else {
		/* Wrapped, once per lap: an event that may cross the ring's end is read from
		 * a copy of the bytes around it. */
		size_t before = first > HP_EVENT_MAX_BYTES ? first - HP_EVENT_MAX_BYTES : 0;
		rc = decode_span(&c, r->ring + off, &pos, before, first, 0);
		if (!rc) {
			size_t k = first - pos, after = len - first, spos = 0;
			if (after > HP_EVENT_MAX_BYTES)
				after = HP_EVENT_MAX_BYTES;
			memcpy(x->seam, r->ring + off + pos, k);
			memcpy(x->seam + k, r->ring, after);
			rc = decode_span(&c, x->seam, &spos, k, k + after, pos);
			pos = spos - k; /* from the ring's start on, where rc is 0 */
		}
		if (!rc)
			rc = decode_span(&c, r->ring, &pos, len - first, len - first, first);
	}
	r->n = c.n;
	*cut = c.cut;
	return rc < 0 ? rc : 0;
}

/* Merge order: time, then releases before allocations (a block freed and reused in one
 * time unit), then ring. */
static inline int op_rank(unsigned op)
{
	return op == HP_OP_FREE ? 0 : op == HP_OP_REALLOC ? 1 : 2;
}

/* Whether event ea of ring a goes before event eb of ring b. */
static inline int goes_before(const struct hp_transcode_event *ea, uint32_t a,
			      const struct hp_transcode_event *eb, uint32_t b)
{
	if (ea->time != eb->time)
		return ea->time < eb->time;
	if (ea->op != eb->op && op_rank(ea->op) != op_rank(eb->op))
		return op_rank(ea->op) < op_rank(eb->op);
	return a < b;
}

static inline struct hp_transcode_event *next_event(const struct hp_transcoder *x,
						    const struct hp_transcode_ring *ri)
{
	return &x->ev[ri->first + ri->applied];
}

/* Whether ring a's next event goes before ring b's. */
static inline int before(const struct hp_transcoder *x, const struct hp_transcode_ring *r,
			 uint32_t a, uint32_t b)
{
	return goes_before(next_event(x, &r[a]), a, next_event(x, &r[b]), b);
}

static void sift_down(struct hp_transcoder *x, const struct hp_transcode_ring *r, size_t n,
		      size_t i)
{
	uint32_t *h = x->heap;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && before(x, r, h[l], h[m]))
			m = l;
		if (l + 1 < n && before(x, r, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		uint32_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void sift_up(struct hp_transcoder *x, const struct hp_transcode_ring *r, size_t i)
{
	uint32_t *h = x->heap;
	while (i) {
		size_t p = (i - 1) / 2;
		if (!before(x, r, h[i], h[p]))
			return;
		uint32_t t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

/* Room for one event a ring at least, however many threads there are. */
static __attribute__((noinline, cold)) int ev_grow(struct hp_transcoder *x, size_t n)
{
	if (n <= x->ev_cap)
		return 0;
	struct hp_transcode_event *ev = hp_os_map((n + 1) * sizeof *ev);
	uint8_t *out = hp_os_map(n * HP_TRANSCODE_EVENT_MAX);
	if (!ev || !out) {
		hp_os_unmap(ev, (n + 1) * sizeof *ev);
		hp_os_unmap(out, n * HP_TRANSCODE_EVENT_MAX);
		return -ENOMEM;
	}
	munmap(x->ev, (x->ev_cap + 1) * sizeof *x->ev);
	munmap(x->out, x->ev_cap * HP_TRANSCODE_EVENT_MAX);
	x->ev = ev;
	x->out = out;
	x->ev_cap = n;
	return 0;
}

/* Room for n rings in the heap and the waiting list (one mapping, twice n). */
static __attribute__((noinline, cold)) int heap_grow(struct hp_transcoder *x, size_t n)
{
	size_t cap = x->heap_cap;
	while (cap < n)
		cap *= 2;
	uint32_t *h = hp_os_map(2 * cap * sizeof *h);
	if (!h)
		return -ENOMEM;
	munmap(x->heap, 2 * x->heap_cap * sizeof *x->heap);
	x->heap = h;
	x->waiting = h + cap;
	x->heap_cap = cap;
	return 0;
}

/* Whether applying e may let the waiting event we go: e touched one of its addresses. */
static inline int touches(const struct hp_transcode_event *e, const struct hp_transcode_event *we)
{
	uint64_t a = e->addr, o = e->op == HP_OP_REALLOC ? e->old : a;
	return we->addr == a || we->addr == o ||
	       (we->op == HP_OP_REALLOC && (we->old == a || we->old == o));
}

/* Puts back into the merge, by time, the waiting rings whose event e touched. Returns
 * the new heap size. */
static size_t wake(struct hp_transcoder *x, struct hp_transcode_ring *r,
		   const struct hp_transcode_event *e, size_t hn)
{
	for (size_t k = 0; k < x->nwaiting;) {
		uint32_t i = x->waiting[k];
		if (!touches(e, &x->ev[r[i].first + r[i].applied])) {
			k++;
			continue;
		}
		r[i].wait = WAIT_NONE;
		x->waiting[k] = x->waiting[--x->nwaiting];
		x->heap[hn] = i;
		sift_up(x, r, hn++);
	}
	return hn;
}

#define PREFETCH_AHEAD 4

/* Applies the rings' events in merge order. A ring whose event must wait leaves the
 * merge until an applied event touches that event's addresses. Sets *moved when an
 * event was applied. */
static int merge(struct hp_transcoder *x, struct hp_transcode_ring *r, size_t n, int *moved)
{
	size_t hn = 0;
	x->nwaiting = 0;
	for (size_t i = 0; i < n; i++) {
		r[i].wait = WAIT_NONE;
		if (r[i].applied < r[i].n)
			x->heap[hn++] = (uint32_t)i;
	}
	for (size_t i = hn / 2; i-- > 0;)
		sift_down(x, r, hn, i);
	while (hn) {
		uint32_t i = x->heap[0];
		struct hp_transcode_ring *ri = &r[i];
		/* The ring to beat: while ours stays before it, no heap work (threads that
		 * share a core run in bursts). */
		uint32_t rival = hn < 2						  ? UINT32_MAX
				 : hn > 2 && before(x, r, x->heap[2], x->heap[1]) ? x->heap[2]
										  : x->heap[1];
		const struct hp_transcode_event *re =
		    rival == UINT32_MAX ? NULL : next_event(x, &r[rival]);
		for (;;) {
			struct hp_transcode_event *e = next_event(x, ri);
			int rc = apply(x, r, ri, e, 0);
			if (rc < 0)
				return rc;
			if (rc) {
				ri->wait = rc;
				x->waiting[x->nwaiting++] = i;
				x->heap[0] = x->heap[--hn];
				sift_down(x, r, hn, 0);
				break;
			}
			*moved = 1;
			int done = ++ri->applied == ri->n;
			if (done) {
				x->heap[0] = x->heap[--hn];
			} else if (ri->applied + PREFETCH_AHEAD < ri->n) {
				/* The table is larger than the cache: ask for this ring's bucket a
				 * few events ahead, which a run reaches soon. */
				const struct hp_transcode_event *ahead = e + 1 + PREFETCH_AHEAD;
				hp_livetab_prefetch(&x->live, ahead->op == HP_OP_REALLOC
								  ? ahead->old
								  : ahead->addr);
			}
			if (done || x->nwaiting || (re && goes_before(re, rival, e + 1, i))) {
				sift_down(x, r, hn, 0);
				if (x->nwaiting)
					hn = wake(x, r, e, hn);
				break;
			}
		}
	}
	return 0;
}

/* Merges again while that moves anything: a safety net for waits no touch ended. */
static int settle(struct hp_transcoder *x, struct hp_transcode_ring *r, size_t n)
{
	int moved = 1;
	while (moved && x->nwaiting) {
		moved = 0;
		int err = merge(x, r, n, &moved);
		if (err)
			return err;
	}
	return 0;
}

static inline uint64_t ring_pos(const struct hp_transcoder *x, const struct hp_transcode_ring *r)
{
	return r->tail + (r->applied ? x->ev[r->first + r->applied - 1].end : 0);
}

int hp_transcode_round(struct hp_transcoder *x, struct hp_transcode_ring *r, size_t n, uint64_t cut,
		       uint64_t round, int force_all, uint64_t *written_below)
{
	if ((n > x->heap_cap && heap_grow(x, n)) || ev_grow(x, n))
		return -ENOMEM;
	size_t per = x->ev_cap / (n ? n : 1);
	for (size_t i = 0; i < n; i++) {
		r[i].first = i * per;
		r[i].applied = r[i].encoded = r[i].made = r[i].taken = 0;
		r[i].wait = WAIT_NONE;
		r[i].used = 0;
		if (decode_ring(x, &r[i], per, &cut))
			return -EINVAL;
	}
	/* A lower cut found later applies to the rings decoded before. */
	for (size_t i = 0; i < n; i++)
		while (r[i].n && x->ev[r[i].first + r[i].n - 1].time >= cut)
			r[i].n--;
	int moved = 0, err = merge(x, r, n, &moved);
	if (!err)
		err = settle(x, r, n);
	/* Force what has waited through a whole round (everything with force_all), one
	 * event a ring at a time: each may unblock others. */
	while (!err) {
		int forced = 0;
		for (size_t i = 0; i < n && !err; i++) {
			struct hp_transcode_thread *th = r[i].th;
			if (!r[i].wait)
				continue;
			if (!force_all && !(th->stalled && th->stall_round < round &&
					    th->stall_pos == ring_pos(x, &r[i])))
				continue;
			err = apply(x, r, &r[i], &x->ev[r[i].first + r[i].applied], 1);
			r[i].applied++;
			forced = 1;
		}
		if (!forced || err)
			break;
		err = settle(x, r, n);
		if (!force_all)
			break;
	}
	if (err)
		return err;
	uint64_t below = cut;
	for (size_t i = 0; i < n; i++) {
		struct hp_transcode_thread *th = r[i].th;
		uint64_t pos = ring_pos(x, &r[i]);
		r[i].used = pos - r[i].tail;
		if (!r[i].wait) {
			/* Unless the stalled event was left out by the cut this time. */
			if (pos != th->stall_pos)
				th->stalled = 0;
			continue;
		}
		uint64_t t = x->ev[r[i].first + r[i].applied].time;
		if (!th->stalled || th->stall_pos != pos) {
			th->stalled = 1;
			th->stall_round = round;
			th->stall_pos = pos;
		}
		th->stall_time = t;
		if (t < below)
			below = t;
	}
	*written_below = below;
	return 0;
}

/* ---- output -------------------------------------------------------------------------- */

size_t hp_transcode_encode(struct hp_transcoder *x, struct hp_transcode_ring *r, uint8_t *out,
			   size_t cap)
{
	const struct hp_transcode_event *ev = x->ev + r->first;
	if (r->encoded == r->applied)
		return 0;
	/* Whole events, each while HP_TRANSCODE_EVENT_MAX bytes of room are left: where the
	 * writer's EVENTS records have always been cut. */
	size_t from = r->taken, k = r->applied;
	if (r->made - from + HP_TRANSCODE_EVENT_MAX > cap)
		for (k = r->encoded + 1; k < r->applied; k++)
			if (ev[k - 1].out - from + HP_TRANSCODE_EVENT_MAX > cap)
				break;
	size_t to = ev[k - 1].out;
	memcpy(out, out_of(x, r) + from, to - from);
	r->encoded = k;
	r->taken = to;
	return to - from;
}
