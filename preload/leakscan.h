/* The reachability leak scan at exit (docs/leak-check.md): memcheck's classification of
 * the blocks still live, computed in-process from the live set the recording threads
 * keep (liveset.h), the writable segments of the loaded modules and the threads'
 * stacks, then written as LEAK_SCAN and LEAK_BLOCKS records.
 *
 * Scratch memory comes from mmap only. Nothing here is async-signal-safe. */
#ifndef HEAPPROF_PRELOAD_LEAKSCAN_H
#define HEAPPROF_PRELOAD_LEAKSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "liveset.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A root: [start, end), scanned as aligned 8-byte words. */
struct hp_leakscan_range {
	uint64_t start;
	uint64_t end;
};

struct hp_leakscan_roots {
	struct hp_leakscan_range *ranges; /* mmap'd by hp_leakscan_collect_roots() */
	size_t n;
	size_t cap;
};

/* Indexed by enum hp_leak_class (include/heapprof/trace_format.h). */
struct hp_leak_summary {
	uint64_t bytes[4];
	uint64_t blocks[4];
};

/* Input flag of classes_io in hp_leakscan_run(): do not read this block's contents
 * (it may be unmapped); it is still classified. */
#define HP_LEAKSCAN_NOSCAN 0x80u

/* Classifies blocks[0..n) (sorted by address, not overlapping) as memcheck does: a start
 * pointer from a root, or from a block reached that way, makes a block still reachable;
 * a chain with an interior pointer makes it possibly lost; each block then unreached, in
 * address order, leads a clique (definitely lost) of the unreached blocks it reaches by
 * any pointer (indirectly lost). A pointer equal to addr + size is not into the block;
 * a zero-size block is reached only by a pointer to its address.
 *
 * classes_io[i]: on input 0 or HP_LEAKSCAN_NOSCAN, on output the enum hp_leak_class.
 * The roots and every block not marked NOSCAN are read, so they must be readable.
 * sum (may be NULL) receives bytes and blocks per class. Returns 0 or -ENOMEM.
 * Reentrant: all state is in its arguments and private mappings. */
int hp_leakscan_run(const struct hp_block *blocks, size_t n, const struct hp_leakscan_roots *roots,
		    uint8_t *classes_io, struct hp_leak_summary *sum);

/* hp_leakscan_run(), and clique_bytes[i] (n entries) set to the bytes indirectly lost
 * through block i when it is definitely lost (its clique without itself), else 0. */
int hp_leakscan_run_cliques(const struct hp_block *blocks, size_t n,
			    const struct hp_leakscan_roots *roots, uint8_t *classes_io,
			    struct hp_leak_summary *sum, uint64_t *clique_bytes);

/* Flags of hp_leakscan_collect_roots(). */
enum hp_leakscan_roots_flags {
	HP_LEAKSCAN_ROOTS_SELF = 1 << 0, /* also scan the module holding this code (tests) */
};

/* Builds the root set of the calling thread's process: the writable PT_LOAD segments
 * of every module but the one holding this code, the calling thread's stack from
 * `stack_lo` up (0: from this function's own frame, for tests; the caller must have
 * spilled its registers below it), and the whole stacks of the threads registered with
 * hp_leakscan_thread_register() other than excluded ones, split around unmapped pages.
 * Call hp_leakscan_roots_release() after. Returns 0 or a negative errno. */
int hp_leakscan_collect_roots(struct hp_leakscan_roots *roots, uintptr_t stack_lo, unsigned flags);

/* Appends [start, end) to roots (tests, extra roots). Returns 0 or -ENOMEM. */
int hp_leakscan_roots_add(struct hp_leakscan_roots *roots, uint64_t start, uint64_t end);

void hp_leakscan_roots_release(struct hp_leakscan_roots *roots);

enum hp_leakscan_thread_flags {
	HP_LEAKSCAN_THREAD_EXCLUDE = 1 << 0, /* never a root: the recorder's own threads */
};

/* Registers the calling thread's stack for the scan at exit, whose bounds are the
 * mapping holding an address of the caller's frame (found then, in /proc/self/maps);
 * the recorder calls it once per thread when the thread registers (its writer thread
 * with HP_LEAKSCAN_THREAD_EXCLUDE). Calls nothing that takes a lock: it may run inside
 * any libc function that allocates. Returns a slot number for unregister, or -ENOSPC when
 * HP_LEAKSCAN_MAX_THREADS threads are registered at once (that thread's stack is then
 * not scanned), or another negative errno. Thread-safe, lock-free. */
#define HP_LEAKSCAN_MAX_THREADS 4096
int hp_leakscan_thread_register(unsigned flags);

/* Forgets a slot when its thread exits, before its stack can be unmapped. A negative
 * slot (a failed registration) ends that thread's count in hp_leakscan_incomplete(),
 * except HP_LEAKSCAN_NO_SLOT (the thread never tried). Thread-safe. */
#define HP_LEAKSCAN_NO_SLOT (-0x7fffffff - 1)
void hp_leakscan_thread_unregister(int slot);

/* 1 while some thread whose registration failed is alive (its stack is not scanned, so
 * the scan sets HP_LEAK_SCAN_INCOMPLETE), else 0. Thread-safe. */
int hp_leakscan_incomplete(void);

/* In a fork child: forgets every thread but the caller, whose registration result is
 * keep (a slot, a negative errno or HP_LEAKSCAN_NO_SLOT). Not thread-safe. */
void hp_leakscan_fork_child(int keep);

/* Sink for records: called once per whole record (never a part of one). Returns 0 or
 * a negative errno, which stops the writing and is returned. */
typedef int (*hp_leakscan_put_fn)(void *ctx, const void *p, size_t n);

/* Writes LEAK_SCAN then ceil(n / 65536) LEAK_BLOCKS records (docs/leak-check.md) for
 * the classified blocks, named by key. Returns 0, -ENOMEM, or the sink's error. */
int hp_leakscan_write_records(const struct hp_block *blocks, const uint8_t *classes, size_t n,
			      const struct hp_leak_summary *sum, uint64_t time, uint64_t flags,
			      hp_leakscan_put_fn put, void *ctx);

/* The whole scan at exit, on the exiting thread once every buffer has been drained:
 * export the live set's blocks, collect the roots (this thread's stack from this frame
 * up), classify, write the records with `time` (trace units). The live set is left
 * unchanged.
 * Returns 0 or a negative errno (nothing, or a LEAK_SCAN without all its LEAK_BLOCKS,
 * was written: the caller should say so in an ERROR record). */
int hp_leakscan_at_exit(uint64_t time, hp_leakscan_put_fn put, void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* HEAPPROF_PRELOAD_LEAKSCAN_H */
