/* heapprof public runtime API.
 *
 * Programs may call these without linking against libheapprof.so: every symbol is
 * declared weak, so it is NULL when the program runs without the preload. Check
 * before calling:  if (heapprof_flush) heapprof_flush();                          */
#ifndef HEAPPROF_H
#define HEAPPROF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HEAPPROF_BUILDING_PRELOAD)
#define HEAPPROF_API __attribute__((visibility("default")))
#else
#define HEAPPROF_API __attribute__((weak))
#endif

/* Returns HEAPPROF_VERSION_NUMBER of the loaded recorder. Thread-safe, async-signal-safe. */
HEAPPROF_API unsigned heapprof_version_number(void);

/* Writes every buffered event to the trace file now and returns 0, or a negative errno
 * when recording is off or the write failed. Thread-safe; not async-signal-safe. */
HEAPPROF_API int heapprof_flush(void);

/* Returns 1 while the recorder is recording this process, else 0.
 * Thread-safe, async-signal-safe. */
HEAPPROF_API int heapprof_is_recording(void);

/* Writes a MARK record into the trace: the time now and label (its first line, cut to
 * 255 bytes), so that the analysis can tell phases apart ("warm-up done", "load test
 * starts"); the reports show marks on the timeline. The record is written by the
 * writer's next round. Returns 0, -ENODEV when not recording, -EINVAL for a NULL label,
 * or -EAGAIN when 64 marks are waiting for the writer already. Thread-safe,
 * async-signal-safe. */
HEAPPROF_API int heapprof_mark(const char *label);

/* heapprof_pause() stops recording allocations in every thread until the matching
 * heapprof_resume(); pairs nest. Releases are still recorded, so a block allocated
 * before the pause and freed during it is released in the trace; a block allocated
 * during the pause is unknown to the trace (its free counts nothing), and a realloc
 * during the pause releases its old block. Each returns 0, or -ENODEV when not
 * recording (resume: -EINVAL when not paused). Thread-safe, async-signal-safe. */
HEAPPROF_API int heapprof_pause(void);
HEAPPROF_API int heapprof_resume(void);

/* Reports an object of the program's own allocator (a pool, slab or arena object carved
 * out of memory it got from malloc): size bytes at ptr, allocated here (the stack is
 * recorded). The trace counts such blocks apart from the malloc family, which counted
 * their memory already: the reports give their calls, bytes and peak separately and
 * never add them to the heap. heapprof_free_hint(ptr) releases the object. A hint for
 * an address already hinted releases the old object first. Returns 0, -ENODEV when not
 * recording (or when the trace is sampled, HEAPPROF_SAMPLE_BYTES), -EINVAL for NULL.
 * Thread-safe; not async-signal-safe (they unwind the stack and may wait for the writer
 * when the thread's buffer is full). */
HEAPPROF_API int heapprof_alloc_hint(const void *ptr, size_t size);
HEAPPROF_API int heapprof_free_hint(const void *ptr);

/* For `heapprof -p PID`, which loads the recorder into a running process with gdb and
 * calls these there; a program has no use for them. heapprof_attach(output) starts
 * recording into a trace named by the template output (absolute; %p, %e as
 * HEAPPROF_OUTPUT): the GOT slots of every loaded object for the malloc family and the
 * C++ operators are pointed at the recorder, blocks allocated before are unknown to the
 * trace (their frees count nothing), and the trace is marked attached. It returns 0,
 * -EALREADY when the recorder was preloaded or attached once before in this process,
 * -EINVAL for a bad template, or another negative errno. heapprof_detach() has the
 * recorder's writer thread put every slot back, write the final END and stop recording,
 * within a round (the process's control FIFO is gone then); the library stays loaded.
 * It returns 0, or -ENODEV when not attached. Thread-safe; not async-signal-safe. */
HEAPPROF_API int heapprof_attach(const char *output);
HEAPPROF_API int heapprof_detach(void);

#ifdef __cplusplus
}
#endif
#endif /* HEAPPROF_H */
