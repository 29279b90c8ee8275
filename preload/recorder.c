/* The hot path; see recorder.h.
 *
 * A recorded malloc costs the real call, one clock read (vDSO), the unwind, a
 * lock-free stack-table probe and a 5-10 byte append to the thread's ring: no lock,
 * no syscall. Everything rare (claiming a buffer, a full ring, a new stack, a dead
 * thread) is in cold functions.
 *
 * Any of it may run inside a libc function that holds one of libc's locks while it
 * allocates (pthread_getattr_np, fopen, dlopen, setlocale...). So the libc functions
 * reached from here are only those of docs/preload-safety.md: pure functions,
 * pthread_self, clock_gettime, mmap/mincore, syscall(2) (never a cancellation point),
 * heapprof's own leaf mutexes, pthread_setspecific and libunwind. tests/preload/
 * hptrap.c aborts a run that calls anything else inside an allocator call. */
#define _GNU_SOURCE
#include "recorder.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <heapprof/trace_codec.h>

#include "clock.h"
#include "control.h"
#include "kinds.h"
#include "leakscan.h"
#include "liveset.h"
#include "lifecycle.h"
#include "options.h"
#include "os.h"
#include "sampler.h"
#include "stacktab.h"
#include "unwind.h"
#include "unwind_cfa.h"
#include "unwind_fp.h"
#include "writer.h"

#define RELEASED ((struct hp_tbuf *)1) /* the thread's buffer went back to the writer */

/* A block released by the event being recorded, as the live set gave it. */
struct released {
	uintptr_t addr;
	int found;
	struct hp_block blk;
};

/* The recorder's own per-thread state; the re-entry guard is state.h's. */
struct hp_tls {
	struct hp_tbuf *buf;
	struct released realloc; /* the block a realloc in progress releases */
};

static __thread struct hp_tls tls;

_Atomic uint64_t hp_rec_tick;
uint32_t hp_rec_wake_word;

static _Atomic(struct hp_tbuf *) threads;
static _Atomic int drained; /* a writer started: a full ring may wait for it */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint32_t next_index;
static _Atomic uint64_t lost;
static pthread_key_t thread_key;

/* Shared buffer for events after a thread's own buffer was released (late TLS
 * destructors, libc's thread teardown); rare, so a spinlock. */
static struct hp_tbuf *fallback;
static atomic_flag fallback_lock = ATOMIC_FLAG_INIT;

static void thread_gone(void *arg)
{
	struct hp_tbuf *b = arg;
	if (b && b != RELEASED && tls.buf == b) {
		tls.buf = RELEASED;
		hp_leakscan_thread_unregister(b->leak_slot); /* before the stack goes */
		b->leak_slot = HP_LEAKSCAN_NO_SLOT;
		atomic_store_explicit(&b->state, HP_TBUF_DEAD, memory_order_release);
	}
}

/* Buffers mapped so far: the next one's reg. */
static _Atomic uint32_t next_reg;

static struct hp_tbuf *tbuf_new(void)
{
	struct hp_tbuf *b = hp_os_map(sizeof(*b));
	if (!b)
		return NULL;
	b->ring = hp_os_map(HP_RING_SIZE);
	if (!b->ring) {
		hp_os_unmap(b, sizeof(*b));
		return NULL;
	}
	b->size = HP_RING_SIZE;
	b->leak_slot = HP_LEAKSCAN_NO_SLOT;
	b->reg = atomic_fetch_add(&next_reg, 1);
	return b;
}

int hp_rec_init(void)
{
	if (pthread_key_create(&thread_key, thread_gone))
		return -EAGAIN;
	fallback = tbuf_new();
	if (!fallback)
		return -ENOMEM;
	/* The fallback is on the list from the start; it goes LIVE on first use. */
	atomic_store_explicit(&threads, fallback, memory_order_release);
	return 0;
}

struct hp_tbuf *hp_rec_threads(void)
{
	return atomic_load_explicit(&threads, memory_order_acquire);
}

static void tbuf_reset(struct hp_tbuf *b)
{
	atomic_store_explicit(&b->head, 0, memory_order_relaxed);
	atomic_store_explicit(&b->tail, 0, memory_order_relaxed);
	b->tail_cache = 0;
	b->tick = 0;
	b->seq = 0;
	hp_kinds_clear(&b->kinds);
	atomic_store_explicit(&b->name_seq, 0, memory_order_relaxed);
}

static void tbuf_start(struct hp_tbuf *b, uint32_t index)
{
	tbuf_reset(b);
	b->index = index;
	b->tid = gettid();
	b->thread = pthread_self();
	b->create_time = atomic_load_explicit(&hp_rec_tick, memory_order_relaxed);
	atomic_store_explicit(&b->state, HP_TBUF_LIVE, memory_order_release);
}

/* The calling thread's first event: claim a recycled buffer or map a new one. */
static HP_COLD struct hp_tbuf *claim(void)
{
	hp_guard.quiet++;
	struct hp_tbuf *b;
	pthread_mutex_lock(&registry_lock);
	for (b = hp_rec_threads(); b; b = b->next) {
		int expected = HP_TBUF_FREE;
		if (b != fallback &&
		    atomic_compare_exchange_strong(&b->state, &expected, HP_TBUF_CLAIMING))
			break;
	}
	if (!b && (b = tbuf_new())) {
		b->next = atomic_load_explicit(&threads, memory_order_relaxed);
		atomic_store_explicit(&threads, b, memory_order_release);
	}
	if (b)
		tbuf_start(b, atomic_fetch_add(&next_index, 1));
	pthread_mutex_unlock(&registry_lock);
	if (b) {
		/* The writer thread never claims a buffer, so it is never scanned. */
		b->leak_slot =
		    hp_options.leak_scan ? hp_leakscan_thread_register(0) : HP_LEAKSCAN_NO_SLOT;
		tls.buf = b;
		pthread_setspecific(thread_key, b);
	} else {
		hp_state_fail("cannot map a thread buffer", ENOMEM);
	}
	hp_guard.quiet--;
	return b;
}

void hp_rec_recycle(struct hp_tbuf *b)
{
	atomic_store_explicit(&b->state, HP_TBUF_FREE, memory_order_release);
}

static void wake_writer(void)
{
	__atomic_fetch_add(&hp_rec_wake_word, 1, __ATOMIC_RELEASE);
	hp_os_futex_wake(&hp_rec_wake_word);
}

/* Backpressure: the ring is full, so wait for the writer (up to a second, in case the
 * writer itself waits for something this thread holds, e.g. the loader lock). Before
 * the constructor started the writer, nobody drains: the event is lost at once. The
 * nap is a raw system call: nanosleep(3) is a cancellation point. */
static HP_COLD int wait_room(struct hp_tbuf *b, uint64_t head, size_t n)
{
	b->tail_cache = atomic_load_explicit(&b->tail, memory_order_acquire);
	if (b->size - (head - b->tail_cache) >= n) {
		if (head - b->tail_cache > b->size / 2)
			wake_writer();
		return 0;
	}
	if (!atomic_load_explicit(&drained, memory_order_acquire))
		return -1;
	for (unsigned i = 0; i < 20000; i++) {
		wake_writer();
		hp_os_sleep_ns(50 * 1000);
		b->tail_cache = atomic_load_explicit(&b->tail, memory_order_acquire);
		if (b->size - (head - b->tail_cache) >= n)
			return 0;
		if (atomic_load_explicit(&hp_state, memory_order_relaxed) < HP_STATE_RECORDING)
			return -1;
	}
	return -1;
}

static inline void publish(struct hp_tbuf *b, uint64_t head)
{
	atomic_store_explicit(&b->events,
			      atomic_load_explicit(&b->events, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_store_explicit(&b->head, head, memory_order_release);
}

enum kind { K_ALLOC, K_FREE, K_REALLOC, K_HINT, K_HINT_FREE };

/* The release part of FREE and REALLOC: the thread's own block by its distance in
 * allocations (a request loop repeats the same distances), another thread's by name, a
 * block the trace never saw by address. For REALLOC the new kind follows. */
static inline uint8_t *put_release(uint8_t *q, const struct hp_tbuf *b, int realloc,
				   const struct released *r, uint32_t kind, uint64_t size,
				   uint32_t stack)
{
	uint64_t key = r->blk.key;
	if (HP_LIKELY(r->found && key != HP_LIVESET_INHERITED &&
		      hp_ev3_key_thread(key) == b->index)) {
		uint64_t delta = b->seq - hp_ev3_key_seq(key);
		return realloc ? hp_ev3_put_realloc(q, delta, kind, size, stack)
			       : hp_ev3_put_free(q, delta);
	}
	if (r->found && key != HP_LIVESET_INHERITED) {
		uint64_t t = hp_ev3_key_thread(key), seq = hp_ev3_key_seq(key);
		return realloc ? hp_ev3_put_realloc_other(q, t, seq, kind, size, stack)
			       : hp_ev3_put_free_other(q, t, seq);
	}
	/* Never seen, or the parent's before a fork: readers count nothing. */
	return realloc ? hp_ev3_put_realloc_unknown(q, r->addr, kind, size, stack)
		       : hp_ev3_put_free_unknown(q, r->addr);
}

/* Events of a thread whose buffer is gone go to the shared fallback buffer, a thread
 * of its own in the trace. */
static HP_COLD void record_fallback(enum kind k, const struct released *r, uintptr_t addr,
				    size_t size);

/* Room for one event at the ring's head: waits for the writer when the ring is full.
 * Returns where to encode (the ring itself, or tmp when the event may wrap), or NULL
 * when the event is lost. */
static inline uint8_t *reserve(struct hp_tbuf *b, uint8_t *tmp, size_t room)
{
	uint64_t head = atomic_load_explicit(&b->head, memory_order_relaxed);
	if (HP_UNLIKELY(b->size - (head - b->tail_cache) < room) && wait_room(b, head, room)) {
		atomic_fetch_add_explicit(&lost, 1, memory_order_relaxed);
		return NULL;
	}
	size_t off = head & (b->size - 1);
	return HP_LIKELY(b->size - off >= room) ? b->ring + off : tmp;
}

/* Publishes the event encoded at [ev, end), copying it from tmp if it wraps. */
static inline void commit(struct hp_tbuf *b, const uint8_t *ev, const uint8_t *end)
{
	uint64_t head = atomic_load_explicit(&b->head, memory_order_relaxed);
	size_t n = (size_t)(end - ev), off = head & (b->size - 1);
	if (HP_UNLIKELY(ev != b->ring + off)) {
		size_t first = b->size - off < n ? b->size - off : n;
		memcpy(b->ring + off, ev, first);
		memcpy(b->ring, ev + first, n - first);
	}
	publish(b, head + n);
}

/* The longest event and its TICK; the varint writers may store past the end. */
enum { ROOM = HP_EV3_MAX_BYTES + HP_VARINT_MAX_BYTES + 4 };

/* Encodes one event of thread buffer b and publishes it; then the new block, if any,
 * joins the live set (after its event: a thread that finds it there may name it). A
 * stale block at the same address (its release was never seen) is released after it. */
static inline void emit(struct hp_tbuf *b, enum kind k, const struct released *r, uintptr_t addr,
			size_t size, uint32_t stack)
{
	uint8_t tmp[ROOM];
	uint8_t *ev = reserve(b, tmp, ROOM);
	if (HP_UNLIKELY(!ev))
		return; /* lost: nothing of the thread's decoder state moved */
	uint8_t *q = ev;
	uint64_t tick = atomic_load_explicit(&hp_rec_tick, memory_order_relaxed);
	if (HP_UNLIKELY(tick != b->tick)) {
		q = hp_ev3_put_tick(q, tick - b->tick);
		b->tick = tick;
	}
	uint32_t kind = 0;
	if (k != K_FREE && k != K_HINT_FREE) {
		int nomem = 0;
		kind = hp_kinds_find(&b->kinds, size, stack, &nomem);
		if (HP_UNLIKELY(nomem)) {
			hp_state_fail("cannot grow a thread's kind table", ENOMEM);
			return;
		}
	}
	switch (k) {
	case K_ALLOC:
		q = hp_ev3_put_alloc(q, kind, size, stack);
		break;
	case K_HINT:
		q = hp_ev3_put_alloc_hint(q, kind, size, stack);
		break;
	case K_REALLOC:
		q = put_release(q, b, 1, r, kind, size, stack);
		break;
	default:
		q = put_release(q, b, 0, r, 0, 0, 0);
		break;
	}
	commit(b, ev, q);
	if (k == K_FREE || k == K_HINT_FREE)
		return;
	uint64_t key = hp_ev3_key(b->index, ++b->seq);
	struct released stale = {.addr = addr};
	uintptr_t at = k == K_HINT ? addr | HP_HINT_TAG : addr;
	int rc = hp_liveset_insert(at, size, key, &stale.blk);
	if (HP_UNLIKELY(rc > 0)) {
		stale.found = 1;
		emit(b, K_FREE, &stale, addr, 0, 0);
	} else if (HP_UNLIKELY(rc < 0)) {
		hp_state_fail("cannot grow the live set", ENOMEM);
	}
}

static inline uint32_t capture(struct hp_tbuf *b)
{
	if (HP_LIKELY(hp_options.unwind == HP_UNWIND_CFA))
		return hp_stacktab_intern(b->ips, hp_unwind_cfa(b->ips, hp_options.max_frames));
	if (hp_options.unwind == HP_UNWIND_FP)
		return hp_unwind_fp_stack(b->ips, hp_options.max_frames, hp_options.unwind_cache);
	return hp_stacktab_intern(b->ips, hp_unwind(b->ips, hp_options.max_frames));
}

/* r: the released block (FREE, REALLOC, HINT_FREE); addr, size: the new one. */
static inline void record(enum kind k, const struct released *r, uintptr_t addr, size_t size)
{
	struct hp_tbuf *b = tls.buf;
	if (HP_UNLIKELY(!b))
		b = claim();
	if (HP_UNLIKELY(b == RELEASED)) {
		record_fallback(k, r, addr, size);
		return;
	}
	if (HP_UNLIKELY(!b))
		return;
	uint32_t stack = k == K_FREE || k == K_HINT_FREE ? 0 : capture(b);
	emit(b, k, r, addr, size, stack);
}

static HP_COLD void record_fallback(enum kind k, const struct released *r, uintptr_t addr,
				    size_t size)
{
	uintptr_t ips[128 + 16];
	uint32_t stack = 0;
	if (k != K_FREE && k != K_HINT_FREE) {
		unsigned max = hp_options.max_frames < 128 ? hp_options.max_frames : 128;
		stack = hp_stacktab_intern(ips, hp_unwind(ips, max));
	}
	while (atomic_flag_test_and_set_explicit(&fallback_lock, memory_order_acquire))
		sched_yield();
	if (atomic_load_explicit(&fallback->state, memory_order_relaxed) != HP_TBUF_LIVE)
		tbuf_start(fallback, atomic_fetch_add(&next_index, 1));
	emit(fallback, k, r, addr, size, stack);
	atomic_flag_clear_explicit(&fallback_lock, memory_order_release);
}

static HP_COLD void late_event(void)
{
	hp_guard_hide();
	hp_writer_sync(HP_SYNC_END | HP_SYNC_LIGHT, 0, NULL);
	hp_guard_unhide();
}

static HP_COLD int first_call(void)
{
	int expected = HP_STATE_UNINIT;
	if (!atomic_compare_exchange_strong(&hp_state, &expected, HP_STATE_INITIALIZING))
		return 0;
	hp_guard_hide();
	hp_lifecycle_init();
	hp_guard_unhide();
	if (atomic_load(&hp_state) < HP_STATE_RECORDING)
		return 0;
	hp_guard.busy = 1; /* the call that started us is recorded like any other */
	hp_guard.quiet = 1;
	hp_guard.real_quiet = 1;
	return 1;
}

static inline int enter(int real_quiet)
{
	int s = atomic_load_explicit(&hp_state, memory_order_relaxed);
	if (HP_UNLIKELY(s < HP_STATE_RECORDING))
		return s == HP_STATE_UNINIT ? first_call() : 0;
	if (HP_UNLIKELY(hp_guard.busy)) {
		if (!hp_guard.quiet)
			atomic_fetch_add_explicit(&lost, 1, memory_order_relaxed);
		return 0;
	}
	hp_guard.busy = 1;
	hp_guard.quiet = real_quiet;
	hp_guard.real_quiet = real_quiet;
	return 1;
}

int hp_rec_enter(void)
{
	return enter(1);
}

int hp_rec_enter_leaf(void)
{
	return enter(0);
}

void hp_rec_leave(void)
{
	hp_guard.busy = 0;
	hp_guard.quiet = 0;
}

static inline void done(int saved_errno)
{
	errno = saved_errno;
	hp_guard.busy = 0;
	hp_guard.quiet = 0;
	if (HP_UNLIKELY(atomic_load_explicit(&hp_state, memory_order_relaxed) == HP_STATE_LATE))
		late_event();
}

void hp_rec_alloc(void *p, size_t size)
{
	if (!p || HP_UNLIKELY(atomic_load_explicit(&hp_control_paused, memory_order_relaxed)) ||
	    !hp_sampler_take(p, size)) {
		hp_rec_leave();
		return;
	}
	/* The block's live-set entry is a cache miss; the unwind hides it. */
	hp_liveset_prefetch((uintptr_t)p);
	int saved = errno;
	hp_guard.quiet = 0;
	record(K_ALLOC, NULL, (uintptr_t)p, size);
	done(saved);
}

/* Takes p's block out of the live set, before the real call releases it: another
 * thread may get the address back at once. */
static inline void take(struct released *r, const void *p, uint64_t tag)
{
	r->addr = (uintptr_t)p;
	r->found = hp_liveset_remove((uintptr_t)p | tag, &r->blk);
}

void hp_rec_free(void *p)
{
	/* Two cache misses that need not wait for each other: ours, and the real free's
	 * read of the block's header. */
	hp_liveset_prefetch((uintptr_t)p);
	__builtin_prefetch((const char *)p - 16);
	if (!hp_sampler_drop(p))
		return; /* not sampled: busy stays set for the real free, as below */
	int saved = errno;
	hp_guard.quiet = 0;
	struct released r;
	take(&r, p, 0);
	record(K_FREE, &r, 0, 0);
	errno = saved;
	hp_guard.quiet = hp_guard.real_quiet;
	if (HP_UNLIKELY(atomic_load_explicit(&hp_state, memory_order_relaxed) == HP_STATE_LATE))
		late_event();
}

void hp_rec_realloc_begin(void *old)
{
	tls.realloc.found = 0;
	if (old) {
		int saved = errno;
		take(&tls.realloc, old, 0);
		errno = saved;
	}
}

/* heapprof_pause: the new block is not recorded; the old one, moved or resized, is
 * released (when the call did not fail and the block is one the trace knows). */
static HP_COLD int paused_realloc(void **old, void **p, size_t *size)
{
	if (!*old || (!*p && *size) || !hp_sampler_drop(*old))
		return 0;
	*p = NULL;
	*size = 0;
	return 1;
}

void hp_rec_realloc(void *old, void *p, size_t size)
{
	struct released r = tls.realloc;
	if (old && !p && size) {
		/* Failed: the old block stands. */
		struct hp_block ignored;
		if (r.found)
			hp_liveset_insert(r.blk.addr, r.blk.size, r.blk.key, &ignored);
		hp_rec_leave();
		return;
	}
	if (HP_UNLIKELY(atomic_load_explicit(&hp_control_paused, memory_order_relaxed))) {
		if (!paused_realloc(&old, &p, &size)) {
			hp_rec_leave();
			return;
		}
	} else if (HP_UNLIKELY(hp_sampler_mean) && !hp_sampler_realloc(&old, &p, &size)) {
		hp_rec_leave();
		return;
	}
	hp_liveset_prefetch((uintptr_t)p); /* as in hp_rec_alloc */
	int saved = errno;
	hp_guard.quiet = 0;
	if (!old && p)
		record(K_ALLOC, NULL, (uintptr_t)p, size);
	else if (old && p)
		record(K_REALLOC, &r, (uintptr_t)p, size);
	else if (old && size == 0)
		record(K_FREE, &r, 0, 0); /* realloc(p, 0) freed p */
	done(saved);
}

void hp_rec_hint(const void *p, size_t size, int release)
{
	int saved = errno;
	hp_guard.quiet = 0;
	if (release) {
		struct released r;
		take(&r, p, HP_HINT_TAG);
		record(K_HINT_FREE, &r, 0, 0);
	} else {
		record(K_HINT, NULL, (uintptr_t)p, size);
	}
	done(saved);
}

int hp_rec_mark(const char *label, size_t len)
{
	struct hp_tbuf *b = tls.buf;
	if (!b)
		b = claim();
	if (!b || b == RELEASED)
		return -ENODEV;
	uint8_t tmp[HP_MARK_LABEL_MAX + 3 * HP_VARINT_MAX_BYTES];
	uint8_t *ev = reserve(b, tmp, sizeof tmp);
	if (!ev)
		return -EAGAIN;
	uint8_t *q = ev;
	uint64_t tick = atomic_load_explicit(&hp_rec_tick, memory_order_relaxed);
	if (tick != b->tick) {
		q = hp_ev3_put_tick(q, tick - b->tick);
		b->tick = tick;
	}
	commit(b, ev, hp_ev3_put_mark(q, label, len));
	return 0;
}

void hp_rec_thread_name(pthread_t th, const char *name)
{
	if (!tls.buf && pthread_equal(th, pthread_self())) {
		hp_guard_hide();
		claim();
		hp_guard_unhide();
	}
	for (struct hp_tbuf *b = hp_rec_threads(); b; b = b->next) {
		if (b == fallback ||
		    atomic_load_explicit(&b->state, memory_order_acquire) != HP_TBUF_LIVE ||
		    !pthread_equal(b->thread, th))
			continue;
		strncpy(b->name, name, sizeof(b->name) - 1);
		b->name[sizeof(b->name) - 1] = '\0';
		atomic_fetch_add_explicit(&b->name_seq, 1, memory_order_release);
		break;
	}
}

void hp_rec_writer_started(void)
{
	atomic_store_explicit(&drained, 1, memory_order_release);
}

uint64_t hp_rec_events(void)
{
	uint64_t n = 0;
	for (struct hp_tbuf *b = hp_rec_threads(); b; b = b->next)
		n += atomic_load_explicit(&b->events, memory_order_relaxed);
	return n;
}

uint64_t hp_rec_lost(void)
{
	return atomic_load_explicit(&lost, memory_order_relaxed);
}

void hp_rec_lock(void)
{
	pthread_mutex_lock(&registry_lock);
	while (atomic_flag_test_and_set_explicit(&fallback_lock, memory_order_acquire))
		sched_yield();
}

void hp_rec_unlock(void)
{
	atomic_flag_clear_explicit(&fallback_lock, memory_order_release);
	pthread_mutex_unlock(&registry_lock);
}

void hp_rec_fork_child(void)
{
	atomic_store(&hp_rec_tick, 0); /* the child's trace starts its own clock */
	pthread_mutex_init(&registry_lock, NULL);
	atomic_flag_clear(&fallback_lock);
	atomic_store(&lost, 0);
	struct hp_tbuf *self = tls.buf;
	int have_self = self && self != RELEASED;
	atomic_store(&next_index, have_self ? 1 : 0);
	hp_leakscan_fork_child(have_self ? self->leak_slot : HP_LEAKSCAN_NO_SLOT);
	for (struct hp_tbuf *b = hp_rec_threads(); b; b = b->next) {
		atomic_store_explicit(&b->events, 0, memory_order_relaxed);
		if (b == self && have_self) {
			tbuf_start(b, 0);
			b->create_time = 0;
		} else {
			tbuf_reset(b);
			atomic_store_explicit(&b->state, HP_TBUF_FREE, memory_order_relaxed);
		}
	}
}
