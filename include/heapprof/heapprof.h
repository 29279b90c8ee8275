/* heapprof public runtime API.
 *
 * Programs may call these without linking against libheapprof.so: every symbol is
 * declared weak, so it is NULL when the program runs without the preload. Check
 * before calling:  if (heapprof_flush) heapprof_flush();                          */
#ifndef HEAPPROF_H
#define HEAPPROF_H

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

#ifdef __cplusplus
}
#endif
#endif /* HEAPPROF_H */
