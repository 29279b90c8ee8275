/* The analysis model: everything any output needs from one trace, computed in one
 * streaming pass and one symbolization, then read (never changed) by the outputs of
 * output.h, as heaptrack's AccumulatedTraceData serves all its views.
 *
 *   struct hp_model m;
 *   if (hp_model_load(&m, path, &options)) { print m.error; exit 2 }
 *   ... outputs read &m ...
 *   hp_model_release(&m);
 *
 * What it holds (docs/analyzer-model.md):
 *   prof      the replayed profile (profile.h): header, totals, peak, timeline, duration,
 *             sampling, modules (pprof mappings: id = index + 1), locations (pprof
 *             locations: id = index + 1), sites with their stacks, site keys and series
 *   frames    every location's symbolized frames (frame.h), one pool
 *   leaks     the finished leak report (leaks.h): the scan joined with the live set,
 *             suppressions applied
 *   warnings  the trace's own warnings (cut short, lost events, recorder error)
 *   complete  the trace ends with its trailer; running: it does not, and its process
 *             is still writing it
 * A loaded model must stay where it was loaded: its leak report points back to it. Not
 * thread-safe to load; a loaded model may be read from several threads, each with its
 * own struct hp_stack, unless it symbolizes lazily (hp_analysis_options.lazy_symbols). */
#ifndef HP_MODEL_H
#define HP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "leaks.h"
#include "profile.h"
#include "reader.h"
#include "suppress.h"
#include "window.h"

struct hp_time_options;
struct hp_growth;
struct hp_checklist;

#ifdef __cplusplus
extern "C" {
#endif

/* How to analyze; zero-initialize, then set what is needed. */
struct hp_analysis_options {
	int no_symbols; /* --no-symbols: frames keep module and address only */
	/* --suppressions files and built-ins (checks.h), borrowed; NULL: none. */
	const struct hp_suppressions *suppressions;
	/* Called with each warning as it arises, trace warnings prefixed with the file
	 * ("'t.zst' has no trailer: ...", "'t.zst': 3 events could not be recorded"), the
	 * symbolizer's as they are ("no debug info for '/bin/x'; ..."); NULL: none. */
	void (*warn)(void *ctx, const char *msg);
	/* Called every 65536 items with the compressed bytes read and the file size (0 when
	 * unknown), and once with done = 1 at the end of the reading; NULL: none. */
	void (*progress)(void *ctx, uint64_t offset, uint64_t size, int done);
	/* Called with every decoded item before the model takes it (the fuzz targets check
	 * the reader's contracts there); NULL: none. */
	void (*item)(void *ctx, const struct hp_reader *r, const struct hp_item *it);
	void *ctx;
	/* Buckets of the per-site series (series.h); 0: HP_SERIES_BUCKETS. Memory grows
	 * with it: 24 bytes per bucket and site. */
	unsigned series_buckets;
	/* Symbolize only the stacks hp_model_stack() is asked for, when it is asked (the
	 * reports that print a few sites: text, --leaks, lsan; JSON too, whose stacks are
	 * all it prints of frames). Then hp_location's frames, m->frames and the sites'
	 * nframes, trim_lo, trim_hi and key are left 0, and the model is not thread-safe
	 * to read. Output formats say so with HP_OUTPUT_LAZY_SYMBOLS. */
	int lazy_symbols;
	/* --at, --range, --from (window.h): every figure of the model is of that window, and
	 * m->prof->window says which; NULL: the whole trace. Borrowed. */
	const struct hp_window *window;
	/* --growth, --check and their thresholds (timecheck.h): what m->growth and
	 * m->checklist hold; NULL: growth only as the default report shows it. Borrowed. */
	const struct hp_time_options *time;
};

#define HP_MODEL_MAX_WARNINGS 3

struct hp_model {
	const char *file; /* the trace's name as given, borrowed */
	const struct hp_profile *prof;
	int complete; /* the trace ends with END */
	int running;  /* it does not, and its process is still writing it (hp_model_load) */
	const char *warnings[HP_MODEL_MAX_WARNINGS];
	size_t nwarnings;
	const struct hp_frame *frames; /* hp_location.first_frame indexes this */
	size_t nframes;
	struct hp_leaks leaks;
	/* Growth over time (growth.h) when asked for or the trace is long enough, and the
	 * memory checklist of --check (timecheck.h); NULL when not computed. */
	const struct hp_growth *growth;
	const struct hp_checklist *checklist;
	unsigned timeline_sites; /* --timeline-sites: sites stacked in timelines; 0 default */
	/* Why hp_model_load() failed, as heapprof-analyze prints it after "heapprof-analyze: "
	 * ("cannot open 'x.zst': No such file or directory"); room for a PATH_MAX name. */
	char error[4096 + 512];

	/* Private to model.c. */
	struct hp_replay *replay;
	struct hp_resolver *resolver;
	struct hp_symbol_opener *opener; /* opens modules' files during the replay */
	struct hp_reader *reader;	 /* hp_model_follow()'s, read with its options */
	const struct hp_analysis_options *opts;
	int lazy;
	struct hp_growth *growth_own;
	struct hp_checklist *checklist_own;
	char warning_text[HP_MODEL_MAX_WARNINGS][600];
};

/* The warning of a trace cut short, as the reports show it; of one whose process is
 * still writing it (hp_model.running). */
extern const char hp_model_truncated_warning[];
extern const char hp_model_running_warning[];

/* The message of a reader's decode error as m->error gives it, into buf; returns buf
 * (for outputs that read records without a model: --dump). */
const char *hp_model_read_error(const struct hp_reader *r, const char *file, char *buf,
				size_t size);

/* Reads, replays, symbolizes and joins the leak scan of the trace at `path`; a trace
 * without its trailer is `running` when its process still holds the file open.
 * Returns 0, or a negative errno with m->error set: -ENOENT etc. when it cannot be
 * opened, -EIO when reading failed, -EINVAL when it is not a heapprof trace or is
 * corrupt, -ENOMEM. Call hp_model_release() in every case. */
int hp_model_load(struct hp_model *m, const char *path, const struct hp_analysis_options *o);

/* As hp_model_load(), from an open reader (hp_reader_open_mem() for tests and fuzzing),
 * which stays the caller's; `file` names the trace in messages and reports and is never
 * opened (m->running stays 0). */
int hp_model_load_reader(struct hp_model *m, struct hp_reader *r, const char *file,
			 const struct hp_analysis_options *o);

/* The part of hp_model_load() after the replay, for a profile built by hand (tests of
 * outputs): symbolizes p's locations into m->frames, sets its sites' nframes, trim_lo,
 * trim_hi and key, and points m->prof at p, which must outlive the model. m must be
 * zeroed (or released) before; its leaks stay as they are (zeroed: no leak scan).
 * Returns 0 or -ENOMEM (or the errno of a symbolizer that cannot start). */
int hp_model_resolve(struct hp_model *m, struct hp_profile *p, const struct hp_analysis_options *o);

/* A model of a trace still being written (heapprof-analyze --follow), read as the file
 * grows and never from the start again: opens `path` in follow mode (reader.h) and
 * reads nothing yet. Then hp_model_follow_read() as often as the file may have grown,
 * and hp_model_peek() for the figures so far. Such a model always symbolizes lazily;
 * it has no leak report, no warnings and complete 0. `o` must stay valid as long as
 * the model. Returns 0, or a negative errno with m->error set as hp_model_load();
 * call hp_model_release() in every case. */
int hp_model_follow(struct hp_model *m, const char *path, const struct hp_analysis_options *o);

/* Feeds the model every item the file holds now (o->item sees each). Returns 0 when
 * the file holds no whole frame more yet (even after the trailer: the file is the
 * writer's until it is gone), 1 at its end once follow mode is off, or a negative errno
 * with m->error set (a decode error, -ENOMEM). */
int hp_model_follow_read(struct hp_model *m);

/* Ends follow mode, once the writer is gone: the next hp_model_follow_read() reads to
 * the end of the file, a frame cut short included. */
void hp_model_follow_stop(struct hp_model *m);

/* Points m->prof at the figures of the events read so far (hp_replay_peek(): every site
 * seen, at the same index from one peek to the next; what is live now in leaked_*; no
 * series, timeline nor marks), whose stacks hp_model_stack() gives. Valid until the
 * next hp_model_follow_read(). Returns 0 or -ENOMEM (m->error set). */
int hp_model_peek(struct hp_model *m);

/* Frees what the model holds and zeroes it. */
void hp_model_release(struct hp_model *m);

enum hp_model_stack_flags {
	HP_STACK_UNTRIMMED = 1 << 0, /* every frame: allocator, libc and below main included */
};

/* A site's stack, innermost first, in st->v[0..st->n): the frames reports print, or
 * every frame with HP_STACK_UNTRIMMED. Copies out of m->frames (symbolizing them first
 * with lazy_symbols). Returns 0 or -ENOMEM. */
int hp_model_stack(const struct hp_model *m, const struct hp_site *s, unsigned flags,
		   struct hp_stack *st);

/* A site's index in m->prof->sites. */
static inline size_t hp_model_site_index(const struct hp_model *m, const struct hp_site *s)
{
	return (size_t)(s - m->prof->sites);
}

#ifdef __cplusplus
}
#endif
#endif
