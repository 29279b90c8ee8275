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

#include "clock.h"
#include "control.h"
#include "leakscan.h"
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

struct hp_tls {
	int busy;	/* inside the profiler: allocator calls are forwarded only */
	int quiet;	/* ... and are ours (not counted as lost) */
	int real_quiet; /* quiet during the real call (0 for a leaf, see enter_leaf) */
	struct hp_tbuf *buf;
};

static __thread struct hp_tls tls;

_Atomic int hp_rec_state;
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
	b->prev_time = 0;
	b->prev_addr = 0;
	atomic_store_explicit(&b->name_seq, 0, memory_order_relaxed);
}

static void tbuf_start(struct hp_tbuf *b, uint32_t index)
{
	tbuf_reset(b);
	b->index = index;
	b->tid = gettid();
	b->thread = pthread_self();
	b->create_time = hp_clock_now();
	atomic_store_explicit(&b->state, HP_TBUF_LIVE, memory_order_release);
}

/* The calling thread's first event: claim a recycled buffer or map a new one. */
static HP_COLD struct hp_tbuf *claim(void)
{
	tls.quiet++;
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
		hp_lifecycle_fail("cannot map a thread buffer", ENOMEM);
	}
	tls.quiet--;
	return b;
}

void hp_rec_recycle(struct hp_tbuf *b)
{
	b->snapped = 0;
	b->name_written = 0;
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
		if (atomic_load_explicit(&hp_rec_state, memory_order_relaxed) < HP_STATE_RECORDING)
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

static inline void put(struct hp_tbuf *b, const uint8_t *ev, size_t n)
{
	uint64_t head = atomic_load_explicit(&b->head, memory_order_relaxed);
	if (HP_UNLIKELY(b->size - (head - b->tail_cache) < n) && wait_room(b, head, n)) {
		atomic_fetch_add_explicit(&lost, 1, memory_order_relaxed);
		return;
	}
	size_t off = head & (b->size - 1), first = b->size - off;
	if (HP_LIKELY(first >= n)) {
		memcpy(b->ring + off, ev, n);
	} else {
		memcpy(b->ring + off, ev, first);
		memcpy(b->ring, ev + first, n - first);
	}
	publish(b, head + n);
}

static inline uint8_t *put_head(uint8_t *q, struct hp_tbuf *b, uint64_t now, unsigned op)
{
	uint64_t dt = 0;
	if (now > b->prev_time) {
		dt = now - b->prev_time;
		b->prev_time = now;
	}
	return hp_put_varint(q, dt << HP_OP_BITS | op);
}

static inline int64_t delta16(uintptr_t a, uintptr_t from)
{
	return (int64_t)((a >> HP_ADDR_SHIFT) - (from >> HP_ADDR_SHIFT));
}

#define ALIGNED(a) (((a) & ((1u << HP_ADDR_SHIFT) - 1)) == 0)

enum kind { K_ALLOC, K_FREE, K_REALLOC, K_HINT, K_HINT_FREE };

/* The EXT form with absolute addresses, for an address the 16-byte deltas cannot carry. */
static uint8_t *put_abs(uint8_t *q, struct hp_tbuf *b, enum kind k, uint64_t now, uintptr_t old,
			uintptr_t addr, size_t size, uint32_t stack)
{
	static const unsigned ext[] = {
	    [K_ALLOC] = HP_EXT_ALLOC_ABS,	  [K_FREE] = HP_EXT_FREE_ABS,
	    [K_REALLOC] = HP_EXT_REALLOC_ABS,	  [K_HINT] = HP_EXT_ALLOC_HINT_ABS,
	    [K_HINT_FREE] = HP_EXT_FREE_HINT_ABS,
	};
	q = put_head(q, b, now, HP_OP_EXT);
	q = hp_put_varint(q, ext[k]);
	if (k == K_REALLOC)
		q = hp_put_varint(q, old);
	if (k != K_FREE && k != K_HINT_FREE) {
		q = hp_put_varint(q, size);
		q = hp_put_varint(q, stack);
	}
	return hp_put_varint(q, addr);
}

/* old is 0 unless k is K_REALLOC. */
static size_t encode(uint8_t *ev, struct hp_tbuf *b, enum kind k, uint64_t now, uintptr_t old,
		     uintptr_t addr, size_t size, uint32_t stack)
{
	uint8_t *q = ev;
	if (!ALIGNED(addr) || !ALIGNED(old) || k >= K_HINT) {
		q = put_abs(q, b, k, now, old, addr, size, stack);
	} else if (k == K_ALLOC) {
		q = put_head(q, b, now, HP_OP_ALLOC);
		q = hp_put_varint(q, size);
		q = hp_put_varint(q, stack);
		q = hp_put_svarint(q, delta16(addr, b->prev_addr));
	} else if (k == K_FREE) {
		q = put_head(q, b, now, HP_OP_FREE);
		q = hp_put_svarint(q, delta16(addr, b->prev_addr));
	} else {
		q = put_head(q, b, now, HP_OP_REALLOC);
		q = hp_put_svarint(q, delta16(old, b->prev_addr));
		q = hp_put_varint(q, size);
		q = hp_put_varint(q, stack);
		q = hp_put_svarint(q, delta16(addr, old));
	}
	b->prev_addr = addr;
	return (size_t)(q - ev);
}

/* Events of a thread whose buffer is gone go to the shared fallback buffer. */
static HP_COLD void record_fallback(enum kind k, uint64_t now, uintptr_t old, uintptr_t addr,
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
	uint8_t ev[HP_EVENT_MAX_BYTES + 4];
	put(fallback, ev, encode(ev, fallback, k, now, old, addr, size, stack));
	atomic_flag_clear_explicit(&fallback_lock, memory_order_release);
}

static inline void record(enum kind k, uint64_t now, uintptr_t old, uintptr_t addr, size_t size)
{
	struct hp_tbuf *b = tls.buf;
	if (HP_UNLIKELY(!b))
		b = claim();
	if (HP_UNLIKELY(b == RELEASED)) {
		record_fallback(k, now, old, addr, size);
		return;
	}
	if (HP_UNLIKELY(!b))
		return;
	uint32_t stack = 0;
	if (k == K_FREE || k == K_HINT_FREE) {
	} else if (HP_LIKELY(hp_options.unwind == HP_UNWIND_CFA)) {
		stack = hp_stacktab_intern(b->ips, hp_unwind_cfa(b->ips, hp_options.max_frames));
	} else if (hp_options.unwind == HP_UNWIND_FP) {
		stack = hp_unwind_fp_stack(b->ips, hp_options.max_frames, hp_options.unwind_cache);
	} else {
		stack = hp_stacktab_intern(b->ips, hp_unwind(b->ips, hp_options.max_frames));
	}
	/* Encoded in place when the ring has room for the longest event before its end:
	 * no copy. The varint writers may store up to 4 bytes past the event. */
	enum { ROOM = HP_EVENT_MAX_BYTES + 4 };
	uint64_t head = atomic_load_explicit(&b->head, memory_order_relaxed);
	size_t off = head & (b->size - 1);
	if (HP_LIKELY(b->size - off >= ROOM && b->size - (head - b->tail_cache) >= ROOM)) {
		size_t n = encode(b->ring + off, b, k, now, old, addr, size, stack);
		publish(b, head + n);
		return;
	}
	uint8_t ev[ROOM];
	put(b, ev, encode(ev, b, k, now, old, addr, size, stack));
}

static HP_COLD void late_event(void)
{
	hp_rec_hide();
	hp_writer_sync(HP_SYNC_END | HP_SYNC_LIGHT, 0, NULL);
	hp_rec_unhide();
}

static HP_COLD int first_call(void)
{
	int expected = HP_STATE_UNINIT;
	if (!atomic_compare_exchange_strong(&hp_rec_state, &expected, HP_STATE_INITIALIZING))
		return 0;
	hp_rec_hide();
	hp_lifecycle_init();
	hp_rec_unhide();
	if (atomic_load(&hp_rec_state) < HP_STATE_RECORDING)
		return 0;
	tls.busy = 1; /* the call that started us is recorded like any other */
	tls.quiet = 1;
	tls.real_quiet = 1;
	return 1;
}

static inline int enter(int real_quiet)
{
	int s = atomic_load_explicit(&hp_rec_state, memory_order_relaxed);
	if (HP_UNLIKELY(s < HP_STATE_RECORDING))
		return s == HP_STATE_UNINIT ? first_call() : 0;
	if (HP_UNLIKELY(tls.busy)) {
		if (!tls.quiet)
			atomic_fetch_add_explicit(&lost, 1, memory_order_relaxed);
		return 0;
	}
	tls.busy = 1;
	tls.quiet = real_quiet;
	tls.real_quiet = real_quiet;
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
	tls.busy = 0;
	tls.quiet = 0;
}

static inline void done(int saved_errno)
{
	errno = saved_errno;
	tls.busy = 0;
	tls.quiet = 0;
	if (HP_UNLIKELY(atomic_load_explicit(&hp_rec_state, memory_order_relaxed) == HP_STATE_LATE))
		late_event();
}

void hp_rec_alloc(void *p, size_t size)
{
	if (!p || HP_UNLIKELY(atomic_load_explicit(&hp_control_paused, memory_order_relaxed)) ||
	    !hp_sampler_take(p, size)) {
		hp_rec_leave();
		return;
	}
	int saved = errno;
	uint64_t now = hp_clock_now();
	tls.quiet = 0;
	record(K_ALLOC, now, 0, (uintptr_t)p, size);
	done(saved);
}

void hp_rec_free(void *p)
{
	if (!hp_sampler_drop(p))
		return; /* not sampled: busy stays set for the real free, as below */
	int saved = errno;
	uint64_t now = hp_clock_now();
	tls.quiet = 0;
	record(K_FREE, now, 0, (uintptr_t)p, 0);
	errno = saved;
	tls.quiet = tls.real_quiet;
	if (HP_UNLIKELY(atomic_load_explicit(&hp_rec_state, memory_order_relaxed) == HP_STATE_LATE))
		late_event();
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
	if (HP_UNLIKELY(atomic_load_explicit(&hp_control_paused, memory_order_relaxed))) {
		if (!paused_realloc(&old, &p, &size)) {
			hp_rec_leave();
			return;
		}
	} else if (HP_UNLIKELY(hp_sampler_mean) && !hp_sampler_realloc(&old, &p, &size)) {
		hp_rec_leave();
		return;
	}
	int saved = errno;
	uint64_t now = hp_clock_now();
	tls.quiet = 0;
	if (!old && p)
		record(K_ALLOC, now, 0, (uintptr_t)p, size);
	else if (old && p)
		record(K_REALLOC, now, (uintptr_t)old, (uintptr_t)p, size);
	else if (old && size == 0)
		record(K_FREE, now, 0, (uintptr_t)old, 0); /* realloc(p, 0) freed p */
	done(saved);
}

void hp_rec_hint(const void *p, size_t size, int release)
{
	int saved = errno;
	uint64_t now = hp_clock_now();
	tls.quiet = 0;
	record(release ? K_HINT_FREE : K_HINT, now, 0, (uintptr_t)p, size);
	done(saved);
}

void hp_rec_hide(void)
{
	tls.busy++;
	tls.quiet++;
}

void hp_rec_unhide(void)
{
	tls.busy--;
	tls.quiet--;
}

void hp_rec_thread_name(pthread_t th, const char *name)
{
	if (!tls.buf && pthread_equal(th, pthread_self())) {
		hp_rec_hide();
		claim();
		hp_rec_unhide();
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

int hp_rec_busy(void)
{
	return tls.busy != 0;
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
	pthread_mutex_init(&registry_lock, NULL);
	atomic_flag_clear(&fallback_lock);
	atomic_store(&lost, 0);
	struct hp_tbuf *self = tls.buf;
	int have_self = self && self != RELEASED;
	atomic_store(&next_index, have_self ? 1 : 0);
	hp_leakscan_fork_child(have_self ? self->leak_slot : HP_LEAKSCAN_NO_SLOT);
	for (struct hp_tbuf *b = hp_rec_threads(); b; b = b->next) {
		atomic_store_explicit(&b->events, 0, memory_order_relaxed);
		b->announced = 0;
		b->snapped = 0;
		b->name_written = 0;
		if (b == self && have_self) {
			tbuf_start(b, 0);
			b->create_time = 0;
		} else {
			tbuf_reset(b);
			atomic_store_explicit(&b->state, HP_TBUF_FREE, memory_order_relaxed);
		}
	}
}
