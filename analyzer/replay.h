/* Replay of decoded trace items: live set, peak, per-site totals, temporaries, timeline,
 * per-site series, code locations (profile.h).
 *
 * Feed every item of hp_reader_next() to hp_replay_item() in file order; events of
 * different threads are merged by time internally (released at ROUND watermarks, ties:
 * frees first). hp_replay_finish() then returns the profile, hp_replay_peek() a view of it
 * on the way (the live view); model.c is their one user.
 * Not thread-safe; one replay per trace. */
#ifndef HP_REPLAY_H
#define HP_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "reader.h"
#include "window.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hp_replay;

/* Returns a new replay whose sites' series have `series_buckets` buckets (0:
 * HP_SERIES_BUCKETS; clamped to 2..HP_SERIES_MAX_BUCKETS), or NULL with errno set. */
struct hp_replay *hp_replay_new(unsigned series_buckets);

/* Restricts the replay to a window (window.h; copied), before the first item. An edge
 * of kind HP_EDGE_PEAK is taken as the trace's end: model.c resolves it first. */
void hp_replay_set_window(struct hp_replay *rp, const struct hp_window *w);

/* After hp_replay_finish(): the ordinal of the event after which the heap was at its
 * peak (an HP_EDGE_EVENT edge for the same trace). */
uint64_t hp_replay_peak_event(const struct hp_replay *rp);

/* Calls fn(ctx, module) once per module, when the first frame in it is read (in a
 * stack), while hp_replay_item() consumes it: the moment its file is known to be
 * needed, which model.c uses to open it ahead (hp_symbol_opener). `module` is valid
 * during the call. */
void hp_replay_on_framed(struct hp_replay *rp,
			 void (*fn)(void *ctx, const struct hp_module_info *m), void *ctx);

/* Consumes one item. Returns 0, or -ENOMEM. */
int hp_replay_item(struct hp_replay *rp, const struct hp_item *it);

/* Releases every buffered event, computes the results and returns them; NULL with
 * errno set on allocation failure. The profile is owned by the replay and valid until
 * hp_replay_free(); its fields marked "model" are left for the model to fill. Call
 * once. */
struct hp_profile *hp_replay_finish(struct hp_replay *rp);

/* A view of a replay in progress (heapprof-analyze --follow), which goes on afterwards:
 * the figures of the events applied so far (those below the last ROUND watermark).
 * `sites` holds every site seen, each at the same index from one peek to the next, hint
 * sites included (site.hint), their stacks indices into `locations`, every location
 * seen so far (the same indices from one peek to the next); a site's leaked_bytes and
 * leaked_allocations are what is live now. No series, no timeline and no marks (nmarks
 * counts them); the fields marked "model" are 0. Valid until the next call of any
 * hp_replay_* function; NULL with errno set on allocation failure. */
const struct hp_profile *hp_replay_peek(struct hp_replay *rp);

/* After hp_replay_finish(): calls fn once per block live at the end of the trace (the
 * leaks), in no particular order, with the site (an element of hp_profile.sites) that
 * allocated it. Hint blocks are not leaks and are left out. */
void hp_replay_foreach_live(const struct hp_replay *rp,
			    void (*fn)(void *ctx, uint64_t addr, uint64_t size,
				       const struct hp_site *site),
			    void *ctx);

void hp_replay_free(struct hp_replay *rp);

#ifdef __cplusplus
}
#endif
#endif
