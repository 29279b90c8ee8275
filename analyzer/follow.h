/* heapprof-analyze --follow: a live view of a trace while its process writes it, read
 * from a model in follow mode (model.h: hp_model_follow, hp_model_peek). */
#ifndef HP_FOLLOW_H
#define HP_FOLLOW_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hp_follow_options {
	FILE *out;
	unsigned top;	   /* sites per list; 0: 5 */
	double interval_s; /* between views; 0: 1 s */
	int no_symbols;	   /* --no-symbols: frames show module and address */
	int quiet;	   /* no warnings on stderr */
};

/* Reads the trace at path as it grows, never from the start again, and shows every
 * interval: heap now and its peak, RSS, calls and bytes per second over the interval,
 * the top sites by live bytes and by calls in the interval. On a terminal the view is
 * redrawn in place; elsewhere one line per interval (key=value). Ends when the process
 * that writes the trace is gone (its last frames read) or on SIGINT/SIGTERM, with a last
 * view. Memory stays bounded by the program's live blocks and distinct stacks, whatever
 * the trace's length. Returns heapprof-analyze's exit status: 0, or 2 when the trace
 * cannot be opened or decoded. */
int hp_follow(const char *path, const struct hp_follow_options *o);

#ifdef __cplusplus
}
#endif
#endif
