/* The window of time a report describes: --at T, --range A..B, --from MARK.
 *
 * A window is two edges, from and to; the replay (replay.c) counts the events in
 * [from, to): the allocations made in it, and of those what is still live at `to`.
 * Blocks allocated before `from` are not counted, nor are their frees. An edge is
 *   - a time in seconds from the start of the trace ("2.5", "2.5s", "1500ms");
 *   - a mark label (heapprof_mark; "mark:LABEL" when the label looks like a number
 *     or a keyword), its first occurrence: the edge falls exactly there in its
 *     thread's events;
 *   - "peak" (to only: the live set when the heap was at its peak; found by a first
 *     pass over the trace) or "end" (the end of the trace; the start for "from").
 * Pure parsing; not thread-safe only in that the struct is the caller's. */
#ifndef HP_WINDOW_H
#define HP_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum hp_edge_kind {
	HP_EDGE_NONE,	 /* the start (from) or the end (to) of the trace */
	HP_EDGE_SECONDS, /* seconds */
	HP_EDGE_MARK,	 /* label */
	HP_EDGE_PEAK,	 /* the heap's peak: model.c turns it into HP_EDGE_EVENT */
	HP_EDGE_EVENT,	 /* after the event-th event the replay applies (1-based) */
};

#define HP_WINDOW_LABEL_MAX 256

struct hp_window_edge {
	int kind; /* enum hp_edge_kind */
	double seconds;
	uint64_t event;
	char label[HP_WINDOW_LABEL_MAX];
};

struct hp_window {
	struct hp_window_edge from, to;
	int set;       /* some option asked for a window, even --at end */
	char spec[64]; /* the options as given, for the reports: "--at one" */
};

/* Parses the argument of --at, --range or --from (`opt` is the option's name, without
 * the dashes) into w, which may already hold another of them (--from M --at T).
 * Returns 0, or -EINVAL with a message "invalid --at 'x': ..." in err. */
int hp_window_parse(struct hp_window *w, const char *opt, const char *arg, char *err, size_t size);

#ifdef __cplusplus
}
#endif
#endif
