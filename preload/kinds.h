/* A thread's allocation kinds: the (size, stack) pairs it has allocated, numbered from 1
 * in order of first use, as the trace names them (trace_codec.h). A request loop
 * allocates the same few kinds over and over, so its events become the same few bytes
 * and the trace compresses like the program repeats.
 *
 * One table per thread, used by that thread only: no lock. An open-addressing table in
 * mmap'd memory, at most half full. */
#ifndef HEAPPROF_PRELOAD_KINDS_H
#define HEAPPROF_PRELOAD_KINDS_H

#include <stddef.h>
#include <stdint.h>

struct hp_kind_entry {
	uint64_t size;
	uint32_t stack;
	uint32_t id; /* 0: empty */
};

struct hp_kinds {
	struct hp_kind_entry *e;
	size_t mask;
	uint32_t count; /* kinds numbered so far: the next is count + 1 */
};

/* The id of (size, stack), or 0 when it is new: it is then numbered count + 1, which the
 * event defines inline. 0 with *nomem set when the table could not grow: the kind is
 * not numbered and the caller must stop recording. About one hash and one cache line. */
uint32_t hp_kinds_find(struct hp_kinds *k, uint64_t size, uint32_t stack, int *nomem);

/* Forgets every kind (the thread's buffer starts a new thread, or a fork child starts
 * its own trace). The memory is kept. */
void hp_kinds_clear(struct hp_kinds *k);

void hp_kinds_release(struct hp_kinds *k);

#endif
