/* The program's and the user's say over a running recording: markers (heapprof_mark and
 * `heapprof mark PID LABEL`), pause and resume, and the hints of custom allocators
 * (heapprof.h).
 *
 * Markers wait in a lock-free table of MARK records that the writer empties each round.
 * From outside, a marker comes through the process's control FIFO, which the writer
 * polls every RSS period (10 ms) and which never involves a signal:
 *
 *   dir  = $XDG_RUNTIME_DIR/heapprof, or /tmp/heapprof-<euid> without it; created 0700
 *          and used only when it is a directory of ours that nobody else can enter
 *   FIFO = dir/<pid>.ctl, mode 0600, read by the recorder (O_NONBLOCK, O_NOFOLLOW)
 *   link = dir/<pid>.trace -> the trace's absolute path (heapprof top PID)
 *
 * A message is one line, written whole (at most PIPE_BUF bytes): "mark LABEL\n". Other
 * lines are ignored. Both names are removed when the trace gets its final END or before
 * an exec; a process killed by a signal leaves them behind: the next process with its
 * pid replaces them, and the writer of each new trace removes, once, those of pids that
 * no longer exist. HEAPPROF_CONTROL=0 creates neither. */
#ifndef HP_CONTROL_H
#define HP_CONTROL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Pauses in effect (heapprof_pause nests): while nonzero, allocations are not recorded. */
extern _Atomic unsigned hp_control_paused;

/* Creates the control FIFO and the trace link for this process's trace at trace_path.
 * Writer only, under its lock. Failure leaves the process without a control channel and
 * returns a negative errno; recording goes on. */
int hp_control_open(const char *trace_path);

/* Reads what the FIFO holds and queues its markers. Writer only. */
void hp_control_poll(void);

/* Writes the queued markers as MARK records through put (the writer's record sink),
 * oldest first. Writer only, under its lock. */
void hp_control_emit(void (*put)(const uint8_t *rec, size_t len, void *arg), void *arg);

/* Closes the FIFO; with remove, also removes it and the trace link. Writer only. */
void hp_control_close(int remove);

/* In a fork child: forgets the parent's FIFO (its descriptor and names, without
 * removing them) and its queued markers. */
void hp_control_fork_child(void);

#endif
