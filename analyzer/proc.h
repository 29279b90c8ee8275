/* What /proc says of the process that writes a trace: whether it is still writing it
 * (heapprof-analyze --follow, and a report of a trace without its trailer yet). */
#ifndef HP_PROC_H
#define HP_PROC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when process pid is alive and holds real_path (a realpath() result) open; when its
 * descriptors cannot be read (another user's), 1 when it is alive; else 0. *fd_hint
 * keeps the descriptor found between calls, -1 at first: a server may hold thousands,
 * and only a miss scans them all again. Not async-signal-safe. */
int hp_proc_writing(uint64_t pid, const char *real_path, long *fd_hint);

/* As hp_proc_writing(), for a path as given; 0 when it cannot be resolved. */
int hp_proc_writing_path(uint64_t pid, const char *path);

#ifdef __cplusplus
}
#endif
#endif
