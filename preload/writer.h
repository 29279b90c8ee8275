/* The writer: drains the thread buffers, emits modules, stacks and events in an order
 * that keeps every reference behind its definition, compresses independent zstd frames
 * and writes the trace file. The only module that does I/O. */
#ifndef HP_WRITER_H
#define HP_WRITER_H

#include <stdint.h>

enum hp_sync {
	HP_SYNC_FLUSH = 0,	/* drain and write a frame */
	HP_SYNC_EXIT = 1 << 0,	/* add EXIT(arg) */
	HP_SYNC_END = 1 << 1,	/* add END */
	HP_SYNC_EXEC = 1 << 2,	/* add EXEC(path) */
	HP_SYNC_FORK = 1 << 3,	/* add FORK(arg) only: no drain, no frame */
	HP_SYNC_FINAL = 1 << 4, /* stop the writer thread afterwards */
	HP_SYNC_LIGHT = 1 << 5, /* inside an allocator call: no module refresh (loader) */
};

/* Creates the trace file from the HEAPPROF_OUTPUT template and writes the HEADER
 * frame. 0, or a negative errno after saying why on stderr. Not thread-safe. */
int hp_writer_open(void);

/* Starts the writer thread (signals blocked in it). 0 or a negative errno. */
int hp_writer_start(void);

/* Runs a writer round on the calling thread and writes a frame, adding the records
 * named by what (enum hp_sync). Returns 0 or a negative errno. Thread-safe; the caller
 * must have hidden its allocations (hp_guard_hide). */
int hp_writer_sync(unsigned what, int64_t arg, const char *path);

/* Path of the trace file. */
const char *hp_writer_path(void);

/* Writes an ERROR record with msg (the first one only) if the file is still writable:
 * now when the writer lock is free, else in the writer's next round. Thread-safe. */
void hp_writer_error(const char *msg);

/* Stops writing for good (internal error): closes the file. Thread-safe. */
void hp_writer_abandon(void);

/* fork(): prepare locks, parent unlocks; the child opens its own file and restarts
 * the thread. */
void hp_writer_lock(void);
void hp_writer_unlock(void);
int hp_writer_fork_child(void);

/* set*id(): glibc makes every thread, the writer included, repeat the call, and the
 * writer lacks the per-thread capabilities (capset, PR_SET_KEEPCAPS) the caller set up,
 * so its call fails and glibc aborts. suspend stops the writer thread, waits for it to
 * exit and drains the buffers on the calling thread; resume starts a new writer (with
 * the caller's new credentials) unless recording ended meanwhile. Pairs may nest and
 * run on several threads at once. No profiler lock may be held by the caller. */
void hp_writer_suspend(void);
void hp_writer_resume(void);
void hp_writer_suspend_fork_child(void);

#endif
