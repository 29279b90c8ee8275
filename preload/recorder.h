/* The hot path: per-thread event buffers and event encoding. Knows nothing of files,
 * zstd or symbols; the writer drains the buffers.
 *
 * Interposed functions follow one pattern (interpose.c):
 *
 *	if (!hp_rec_enter_leaf())       // not recording, or a nested call: forward only
 *		return hp_real.malloc(size);
 *	void *p = hp_real.malloc(size); // our busy flag forwards nested calls
 *	hp_rec_alloc(p, size);          // time, stack, event; clears busy
 *	return p;
 */
#ifndef HP_RECORDER_H
#define HP_RECORDER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <heapprof/trace_format.h>

#include "kinds.h"
#include "state.h"

/* The trace's time in units (about a millisecond: clock.h), moved by the writer thread
 * once a round so that an event costs a load, not a clock read. A thread writes a TICK when it sees
 * it move (docs/trace-format.md). */
extern _Atomic uint64_t hp_rec_tick;

/* Bytes of a thread's ring: a few ms of events at full speed. */
#define HP_RING_SIZE (512u << 10)

enum hp_tbuf_state { HP_TBUF_FREE, HP_TBUF_CLAIMING, HP_TBUF_LIVE, HP_TBUF_DEAD };

/* Per-thread buffer: an SPSC byte ring of the trace's own events (trace_codec.h), which
 * the producer encodes as it records, relative to its own decoder state below. It
 * publishes each whole event with a release store of head; the writer copies [tail,
 * head) into an EVENTS record as it is and advances tail. */
struct hp_tbuf {
	/* producer side: the decoder state of docs/trace-format.md's EVENTS */
	_Atomic uint64_t head;
	uint64_t tail_cache;
	uint64_t tick;	       /* the last TICK written */
	uint64_t seq;	       /* allocations written: the last block's seq */
	struct hp_kinds kinds; /* (size, stack) pairs numbered so far */
	_Atomic uint64_t events;
	uint8_t *ring;
	uint64_t size; /* power of 2 */
	int leak_slot; /* hp_leakscan_thread_register() slot, or negative */
	char pad1[64];
	/* the consumer's: what the writer copied out (its own state lives in writer.c) */
	_Atomic uint64_t tail;
	char pad2[64];
	/* registry, written when the buffer is claimed */
	struct hp_tbuf *next;
	uint32_t reg; /* the buffer's number, dense, never reused: the writer's side table */
	_Atomic int state;
	uint32_t index;
	pid_t tid;
	pthread_t thread;
	uint64_t create_time; /* trace units */
	_Atomic unsigned name_seq;
	char name[16];
	uintptr_t ips[HP_MAX_FRAMES_PER_STACK + 16];
};

/* Sets up the thread registry; 0 or a negative errno. Start only. */
int hp_rec_init(void);

/* Returns 1 when the caller must record this call (busy is then set), 0 to forward it
 * only. Initializes the profiler on the very first call. Thread-safe, async-signal-safe
 * (a call nested in our own recording is counted as lost and forwarded). */
int hp_rec_enter(void);

/* hp_rec_enter() for a real call that makes no allocator calls through us (glibc's
 * malloc family): a call nested in it can then only be a signal handler's, and is
 * counted as lost rather than taken for the real call's own. */
int hp_rec_enter_leaf(void);

/* Clears busy without recording (the real call failed). */
void hp_rec_leave(void);

/* Events, after hp_rec_enter() returned 1. alloc and realloc clear busy; free keeps it
 * (the real free runs hidden, then hp_rec_leave()). errno is preserved. */
void hp_rec_alloc(void *p, size_t size);
void hp_rec_free(void *p);
void hp_rec_realloc(void *old, void *p, size_t size);

/* Before the real realloc (after hp_rec_enter*): takes old's block out of the live set,
 * as the real call may release its address to another thread at once. hp_rec_realloc
 * then records the outcome, or puts the block back when the call failed. */
void hp_rec_realloc_begin(void *old);

/* heapprof_alloc_hint (release 0: a block of size bytes at p, with the stack) or
 * heapprof_free_hint (release 1), after hp_rec_enter() returned 1; clears busy. Hints
 * are never sampled (the caller refuses them in a sampled trace). */
void hp_rec_hint(const void *p, size_t size, int release);

/* heapprof_mark on this thread, after hp_rec_enter() returned 1: a MARK among its events.
 * label is at most HP_MARK_LABEL_MAX bytes. 0, or -EAGAIN/-ENODEV when it could not be
 * written (the caller queues it for the writer). */
int hp_rec_mark(const char *label, size_t len);

/* Thread registry for the writer: first buffer of the list (acquire). */
struct hp_tbuf *hp_rec_threads(void);

/* Writer side: the buffer's events may be copied and the buffer recycled. */
void hp_rec_recycle(struct hp_tbuf *b);

/* pthread_setname_np succeeded for thread th. */
void hp_rec_thread_name(pthread_t th, const char *name);

/* A writer thread runs from now on: a thread whose ring is full waits for it. */
void hp_rec_writer_started(void);

/* Events recorded and lost so far. */
uint64_t hp_rec_events(void);
uint64_t hp_rec_lost(void);

/* Wakes the writer thread and the writer waits here (futex word). */
extern uint32_t hp_rec_wake_word;

void hp_rec_lock(void);
void hp_rec_unlock(void);
/* In the fork child: drop the parent's events, keep only the calling thread. */
void hp_rec_fork_child(void);

#endif
