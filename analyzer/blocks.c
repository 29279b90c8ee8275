/* The replay's live blocks; see blocks.h. */
#include "blocks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <heapprof/trace_codec.h>

#define INITIAL_SLOTS 1024u

int hp_blocks_init(struct hp_blocks *m, int dense)
{
	memset(m, 0, sizeof *m);
	m->mask = INITIAL_SLOTS - 1;
	m->slot = calloc(INITIAL_SLOTS, sizeof *m->slot);
	m->windows_on = dense;
	return m->slot ? 0 : -ENOMEM;
}

void hp_blocks_release(struct hp_blocks *m)
{
	for (size_t i = 0; i < m->nwin; i++)
		free(m->win[i]);
	free(m->win);
	free(m->slot);
	memset(m, 0, sizeof *m);
}

static inline size_t home(const struct hp_blocks *m, uint64_t key)
{
	return (size_t)(((key >> 4) * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
}

static int grow(struct hp_blocks *m)
{
	size_t ncap = (m->mask + 1) * 2;
	struct hp_block_rec *ns = calloc(ncap, sizeof *ns);
	if (!ns)
		return -ENOMEM;
	struct hp_block_rec *old = m->slot;
	size_t ocap = m->mask + 1;
	m->slot = ns;
	m->mask = ncap - 1;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].key)
			continue;
		size_t j = home(m, old[i].key);
		while (ns[j].key)
			j = (j + 1) & m->mask;
		ns[j] = old[i];
	}
	free(old);
	return 0;
}

static struct hp_block_rec *table_find(struct hp_blocks *m, uint64_t key)
{
	for (size_t i = home(m, key);; i = (i + 1) & m->mask) {
		if (m->slot[i].key == key)
			return &m->slot[i];
		if (!m->slot[i].key)
			return NULL;
	}
}

static int table_insert(struct hp_blocks *m, const struct hp_block_rec *b)
{
	if ((m->count + 1) * 10 > (m->mask + 1) * 7 && grow(m))
		return -ENOMEM;
	size_t i = home(m, b->key);
	while (m->slot[i].key)
		i = (i + 1) & m->mask;
	m->slot[i] = *b;
	return 0;
}

/* Backward-shift deletion: no tombstones. */
static void table_remove(struct hp_blocks *m, struct hp_block_rec *b)
{
	size_t i = (size_t)(b - m->slot), j = i;
	for (;;) {
		j = (j + 1) & m->mask;
		if (!m->slot[j].key)
			break;
		size_t k = home(m, m->slot[j].key);
		/* Move slot j into the hole at i unless its home k lies cyclically in (i, j]. */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			m->slot[i] = m->slot[j];
			i = j;
		}
	}
	m->slot[i].key = 0;
}

/* The window entry that holds key's block if it is live there, or NULL: windows off, not a
 * busy thread, or a seq too old for the window (then the block, if live, is in the
 * table). Where hp_blocks_find() looks and hp_blocks_prefetch() loads. */
static inline struct hp_block_rec *window_entry(const struct hp_blocks *m, uint64_t key)
{
	uint64_t t = hp_ev3_key_thread(key), seq = hp_ev3_key_seq(key);
	if (!m->windows_on || t >= m->nwin || !m->win[t])
		return NULL;
	struct hp_blocks_window *w = m->win[t];
	if (seq < w->first || seq > w->top || w->top - seq > w->mask)
		return NULL;
	return &w->e[seq & w->mask];
}

struct hp_block_rec *hp_blocks_find(struct hp_blocks *m, uint64_t key)
{
	if (__builtin_expect(!key, 0))
		return m->has_zero ? &m->zero : NULL;
	struct hp_block_rec *e = window_entry(m, key);
	if (e)
		return e->key == key ? e : NULL;
	return table_find(m, key);
}

void hp_blocks_prefetch(const struct hp_blocks *m, uint64_t key)
{
	const struct hp_block_rec *e = window_entry(m, key);
	__builtin_prefetch(e ? e : &m->slot[home(m, key)]);
}

/* A thread that allocated a window's worth gets one: most of its blocks are then
 * found there. */
static __attribute__((noinline)) struct hp_blocks_window *window_new(struct hp_blocks *m,
								     uint64_t t)
{
	if (t >= m->nwin) {
		size_t n = m->nwin ? m->nwin : 16;
		while (n <= t)
			n *= 2;
		void *v = realloc(m->win, n * sizeof *m->win);
		if (!v)
			return NULL;
		m->win = v;
		memset(m->win + m->nwin, 0, (n - m->nwin) * sizeof *m->win);
		m->nwin = n;
	}
	struct hp_blocks_window *w =
	    calloc(1, sizeof *w + HP_BLOCKS_WINDOW * sizeof(struct hp_block_rec));
	if (w)
		w->mask = HP_BLOCKS_WINDOW - 1;
	return m->win[t] = w;
}

/* Doubles thread t's window: every block it holds keeps its seq's place modulo the new
 * size (they span less than the old size, so none collide). Seqs the old window had
 * moved past are in the table: the window now starts after them. Left as it was when
 * memory is short. */
static __attribute__((noinline)) struct hp_blocks_window *window_grow(struct hp_blocks *m,
								      uint64_t t)
{
	struct hp_blocks_window *o = m->win[t];
	size_t n = ((size_t)o->mask + 1) * 2;
	struct hp_blocks_window *w = calloc(1, sizeof *w + n * sizeof(struct hp_block_rec));
	if (!w)
		return o;
	w->top = o->top;
	w->mask = (uint32_t)(n - 1);
	w->first = o->top - o->mask > o->first ? o->top - o->mask : o->first;
	for (size_t i = 0; i <= o->mask; i++)
		if (o->e[i].key)
			w->e[hp_ev3_key_seq(o->e[i].key) & w->mask] = o->e[i];
	free(o);
	return m->win[t] = w;
}

int hp_blocks_insert(struct hp_blocks *m, const struct hp_block_rec *b)
{
	if (__builtin_expect(!b->key, 0)) {
		m->zero = *b;
		m->has_zero = 1;
		m->count++;
		return 0;
	}
	if (m->windows_on) {
		uint64_t t = hp_ev3_key_thread(b->key), seq = hp_ev3_key_seq(b->key);
		struct hp_blocks_window *w = t < m->nwin ? m->win[t] : NULL;
		if (!w && seq >= HP_BLOCKS_WINDOW) {
			if (!(w = window_new(m, t)))
				return -ENOMEM;
			w->first = seq;
		}
		if (w && seq > w->top) {
			if (__builtin_expect(++w->moves > w->mask, 0)) {
				/* Judged once per window's worth of moves: grow while more than a
				 * quarter of them pushed a live block out. */
				if (w->evicted > w->moves / 4 && w->mask + 1 < HP_BLOCKS_WINDOW_MAX)
					w = window_grow(m, t);
				w->moves = w->evicted = 0;
			}
			/* The window moves on: a block still live in the slot goes to the table. */
			struct hp_block_rec *e = &w->e[seq & w->mask];
			if (e->key) {
				if (table_insert(m, e))
					return -ENOMEM;
				w->evicted++;
			}
			*e = *b;
			w->top = seq;
			m->count++;
			return 0;
		}
	}
	if (table_insert(m, b))
		return -ENOMEM;
	m->count++;
	return 0;
}

void hp_blocks_remove(struct hp_blocks *m, struct hp_block_rec *b)
{
	m->count--;
	if (b == &m->zero)
		m->has_zero = 0;
	else if (b >= m->slot && b <= m->slot + m->mask)
		table_remove(m, b);
	else
		b->key = 0; /* in a window */
}

void hp_blocks_foreach_mut(struct hp_blocks *m, void (*fn)(void *ctx, struct hp_block_rec *b),
			   void *ctx)
{
	if (m->has_zero)
		fn(ctx, &m->zero);
	for (size_t i = 0; i <= m->mask; i++)
		if (m->slot[i].key)
			fn(ctx, &m->slot[i]);
	for (size_t t = 0; t < m->nwin; t++)
		for (size_t i = 0; m->win[t] && i <= m->win[t]->mask; i++)
			if (m->win[t]->e[i].key)
				fn(ctx, &m->win[t]->e[i]);
}

/* The read-only walk is the same walk: its callback, adapted. */
struct const_visit {
	void (*fn)(void *ctx, const struct hp_block_rec *b);
	void *ctx;
};

static void visit_const(void *ctx, struct hp_block_rec *b)
{
	const struct const_visit *v = ctx;
	v->fn(v->ctx, b);
}

void hp_blocks_foreach(const struct hp_blocks *m,
		       void (*fn)(void *ctx, const struct hp_block_rec *b), void *ctx)
{
	struct const_visit v = {fn, ctx};
	/* Nothing is written through m: visit_const hands fn a const record. */
	hp_blocks_foreach_mut((struct hp_blocks *)m, visit_const, &v);
}
