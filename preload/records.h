/* The trace's records (docs/trace-format.md), written onto the staging buffer of
 * traceout.h. The writer's lock serializes every call. */
#ifndef HP_RECORDS_H
#define HP_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "recorder.h"
#include "stacktab.h"

/* /proc/self/statm for RSS records (a fork child closes the parent's). */
void hp_records_open(void);
void hp_records_fork_child(void);

/* HEADER (with the magic and version), CLOCK_SYNC, RSS now (unless the trace's last RSS
 * record holds the same value), STACK s. */
void hp_records_header(void);
void hp_records_clock_sync(void);
void hp_records_rss(void);
void hp_records_stack(const struct hp_stack *s);

/* THREAD for ring b (and THREAD_NAME from /proc), THREAD_NAME for a rename. */
void hp_records_thread(struct hp_tbuf *b);
void hp_records_thread_rename(const struct hp_tbuf *b);

/* ring b's events up to ring position upto as one EVENTS record, as the producer
 * encoded them, and their ring space released; 1 when there were any. */
int hp_records_events(struct hp_tbuf *b, uint64_t upto);

/* A record of one to three varints: tag, a, then b (signed when signed_b) and c. */
void hp_records_small(unsigned tag, uint64_t a, int64_t b, int signed_b, uint64_t c, int n);

/* A record of tag, time and a string (ERROR, EXEC, SUPPRESSIONS), cut at 64 KiB. */
void hp_records_text(unsigned tag, uint64_t time, const char *s, size_t n);

/* hp_leakscan_put_fn: one whole record; 0, or -EIO once writing failed. */
int hp_records_put(void *ctx, const void *rec, size_t len);

#endif
