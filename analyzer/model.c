/* The analysis model (model.h): reader -> replay and leak records -> symbolization of
 * every location -> site keys and trimming -> the leak join. */
#include "model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checklist.h"
#include "growth.h"
#include "proc.h"
#include "replay.h"
#include "resolve.h"
#include "symbolize.h"

const char hp_model_truncated_warning[] =
    "no trailer: the process did not exit cleanly (killed?); reporting what was recorded";
const char hp_model_running_warning[] =
    "no trailer yet: the process is still running; reporting what was recorded so far";

static void warn(const struct hp_analysis_options *o, const char *fmt, const char *file,
		 const char *msg)
{
	char line[4096 + 1024]; /* a PATH_MAX name and a message */
	if (!o->warn)
		return;
	snprintf(line, sizeof line, fmt, file, msg);
	o->warn(o->ctx, line);
}

static int fail(struct hp_model *m, int err, const char *what)
{
	snprintf(m->error, sizeof m->error, "cannot %s '%s': %s", what, m->file, strerror(err));
	return -err;
}

const char *hp_model_read_error(const struct hp_reader *r, const char *file, char *buf, size_t size)
{
	char msg[256];
	if (hp_reader_error(r) == HP_READ_ERR_IO)
		snprintf(buf, size, "cannot read '%s': %s", file, strerror(hp_reader_errno(r)));
	else if (hp_reader_error(r) == HP_READ_ERR_NOMEM)
		snprintf(buf, size, "cannot analyze '%s': %s", file, strerror(ENOMEM));
	else
		snprintf(buf, size, "'%s' is not a heapprof trace: %s", file,
			 hp_reader_format_error(r, msg, sizeof msg));
	return buf;
}

static int decode_error(struct hp_model *m, const struct hp_reader *r)
{
	hp_model_read_error(r, m->file, m->error, sizeof m->error);
	switch (hp_reader_error(r)) {
	case HP_READ_ERR_IO:
		return hp_reader_errno(r) ? -hp_reader_errno(r) : -EIO;
	case HP_READ_ERR_NOMEM:
		return -ENOMEM;
	default:
		return -EINVAL;
	}
}

/* The reader loop's share of the leak check: the recorder's records at exit. Returns 0
 * or a negative errno. */
static int leak_item(struct hp_leaks *lk, const struct hp_item *it)
{
	switch (it->kind) {
	case HP_REC_LEAK_SCAN: {
		/* The record lists definite, indirect, possible, reachable; hp_leak_scan is
		 * indexed by enum hp_leak_class. */
		static const int cls[4] = {HP_LEAK_DEFINITE, HP_LEAK_INDIRECT, HP_LEAK_POSSIBLE,
					   HP_LEAK_REACHABLE};
		struct hp_leak_scan scan = {.time = it->u.leak_scan.time,
					    .flags = it->u.leak_scan.flags,
					    .nblocks = it->u.leak_scan.nblocks};
		for (int i = 0; i < 4; i++) {
			scan.bytes[cls[i]] = it->u.leak_scan.bytes[i];
			scan.blocks[cls[i]] = it->u.leak_scan.blocks[i];
		}
		hp_leaks_set_scan(lk, &scan);
		return 0;
	}
	case HP_REC_LEAK_BLOCKS:
		for (uint32_t i = 0; i < it->u.leak_blocks.count; i++) {
			int rc = hp_leaks_add_block(lk, it->u.leak_blocks.addr[i],
						    it->u.leak_blocks.cls[i]);
			if (rc)
				return rc;
		}
		return 0;
	case HP_REC_SUPPRESSIONS:
		return hp_leaks_add_program_suppressions(lk, it->u.suppressions.text,
							 it->u.suppressions.text_len);
	default:
		return 0;
	}
}

/* hp_model_stack() when symbolizing on demand: every frame, then trimmed. */
static int lazy_stack(const struct hp_model *m, const struct hp_site *s, unsigned flags,
		      struct hp_stack *st)
{
	for (uint32_t i = 0; i < s->nlocations; i++) {
		const struct hp_frame *f;
		uint32_t n;
		if (hp_resolve_location(m->resolver, m->prof->locations, s->locations[i], &f, &n) ||
		    hp_stack_reserve(st, st->n + n))
			return -ENOMEM;
		memcpy(st->v + st->n, f, n * sizeof *f);
		st->n += n;
	}
	if (!(flags & HP_STACK_UNTRIMMED) && st->n) {
		size_t lo, kept = hp_resolve_trim(st->v, st->n, &lo);
		memmove(st->v, st->v + lo, kept * sizeof *st->v);
		st->n = kept;
	}
	return 0;
}

int hp_model_stack(const struct hp_model *m, const struct hp_site *s, unsigned flags,
		   struct hp_stack *st)
{
	size_t lo = 0, hi = s->nframes, k = 0;
	st->n = 0;
	if (m->lazy)
		return lazy_stack(m, s, flags, st);
	if (!(flags & HP_STACK_UNTRIMMED)) {
		lo = s->trim_lo;
		hi = s->trim_hi;
	}
	if (hi <= lo)
		return 0;
	if (hp_stack_reserve(st, hi - lo))
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nlocations && k < hi; i++) {
		const struct hp_location *l = &m->prof->locations[s->locations[i]];
		for (uint32_t j = 0; j < l->nframes && k < hi; j++, k++)
			if (k >= lo)
				st->v[st->n++] = m->frames[l->first_frame + j];
	}
	return 0;
}

/* hp_leaks_resolve_fn: key k is prof->sites[k - 1]. */
static int resolve_leak_stack(void *ctx, uint32_t stack, int untrimmed, struct hp_stack *out)
{
	const struct hp_model *m = ctx;
	out->n = 0;
	if (!stack || stack > m->prof->nsites)
		return 0;
	return hp_model_stack(m, &m->prof->sites[stack - 1], untrimmed ? HP_STACK_UNTRIMMED : 0,
			      out);
}

struct live_ctx {
	struct hp_leaks *lk;
	const struct hp_profile *prof;
	int oom;
};

static void add_live(void *ctx, uint64_t addr, uint64_t size, const struct hp_site *site)
{
	struct live_ctx *c = ctx;
	size_t index = site ? (size_t)(site - c->prof->sites) : SIZE_MAX;
	/* The key is the site's index + 1; 0 (no stack) when it does not fit. */
	uint32_t key = index < UINT32_MAX ? (uint32_t)index + 1 : 0;
	if (hp_leaks_add_live(c->lk, addr, size, key))
		c->oom = 1;
}

int hp_model_resolve(struct hp_model *m, struct hp_profile *p, const struct hp_analysis_options *o)
{
	m->prof = p;
	m->resolver = hp_resolver_new(p->modules, p->nmodules, p->nlocations, !o->no_symbols,
				      o->warn, o->ctx);
	if (!m->resolver)
		return errno ? -errno : -ENOMEM;
	if (m->opener)
		hp_resolver_use_opener(m->resolver, m->opener);
	m->lazy = o->lazy_symbols;
	if (m->lazy)
		return 0;
	if (hp_resolve_locations(m->resolver, p->locations, p->nlocations))
		return -ENOMEM;
	m->frames = hp_resolver_frames(m->resolver, &m->nframes);
	for (size_t i = 0; i < p->nsites; i++)
		if (hp_resolve_site(m->resolver, p->locations, &p->sites[i]))
			return -ENOMEM;
	for (size_t i = 0; i < p->nhint_sites; i++)
		if (hp_resolve_site(m->resolver, p->locations, &p->hint_sites[i]))
			return -ENOMEM;
	return 0;
}

/* The trace's own warnings, kept for the reports and told as they are found. */
static void trace_warnings(struct hp_model *m, const struct hp_analysis_options *o)
{
	const struct hp_profile *p = m->prof;
	if (!m->complete) {
		const char *w = m->running ? hp_model_running_warning : hp_model_truncated_warning;
		m->warnings[m->nwarnings++] = w;
		warn(o, "'%s' has %s", m->file, w);
	}
	if (p->end_lost) {
		char *w = m->warning_text[m->nwarnings];
		snprintf(w, sizeof m->warning_text[0], "%" PRIu64 " events could not be recorded",
			 p->end_lost);
		m->warnings[m->nwarnings++] = w;
		warn(o, "'%s': %s", m->file, w);
	}
	if (p->error) {
		char *w = m->warning_text[m->nwarnings];
		snprintf(w, sizeof m->warning_text[0], "the recorder stopped: %s", p->error);
		m->warnings[m->nwarnings++] = w;
		warn(o, "'%s': %s", m->file, w);
	}
}

/* Zeroes the model and starts its replay and leak report. Returns 0 or a negative errno
 * with m->error set. */
static int start(struct hp_model *m, const char *file, const struct hp_analysis_options *o)
{
	memset(m, 0, sizeof *m);
	m->file = file;
	hp_leaks_init(&m->leaks, o->suppressions);
	m->replay = hp_replay_new(o->series_buckets);
	if (!m->replay)
		return fail(m, errno ? errno : ENOMEM, "analyze");
	if (o->window)
		hp_replay_set_window(m->replay, o->window);
	return 0;
}

/* A window's edge that names a mark the trace does not hold: an input error. */
static int window_missing(struct hp_model *m, const struct hp_analysis_options *o)
{
	const struct hp_window_info *w = &m->prof->window;
	if (!w->active || (!w->from_missing && !w->to_missing))
		return 0;
	snprintf(m->error, sizeof m->error, "'%s' has no mark '%s' (%s)", m->file,
		 w->from_missing ? o->window->from.label : o->window->to.label, w->spec);
	return -ENOENT;
}

/* Growth and the checklist, when the options or the trace's length ask for them. */
static int time_analysis(struct hp_model *m, const struct hp_analysis_options *o)
{
	if (o->time)
		m->timeline_sites = o->time->timeline_sites;
	if (!hp_growth_wanted(m, o->time))
		return 0;
	if (hp_growth_compute(m, o->time, &m->growth_own))
		return -ENOMEM;
	m->growth = m->growth_own;
	if (o->time && o->time->check) {
		if (hp_checklist_compute(m, o->time, &m->checklist_own))
			return -ENOMEM;
		m->checklist = m->checklist_own;
	}
	return 0;
}

/* Feeds the model every item r gives now. Returns what the reading ended with: 0 at the
 * end of the input (or, in follow mode, for want of a whole frame), -1 on a decode
 * error, -2 out of memory. */
static int read_items(struct hp_model *m, struct hp_reader *r, const struct hp_analysis_options *o)
{
	struct hp_item it;
	int n;
	uint32_t tick = 0;
	while ((n = hp_reader_next(r, &it)) > 0) {
		if (o->item)
			o->item(o->ctx, r, &it);
		if (hp_replay_item(m->replay, &it) || leak_item(&m->leaks, &it))
			return -2;
		if (o->progress && !(++tick & 0xffff))
			o->progress(o->ctx, hp_reader_offset(r), hp_reader_size(r), 0);
	}
	return n;
}

/* hp_replay_on_framed(): the module's file will be symbolized, so its opening (mostly
 * the inflating of compressed debug info) starts now, on the opener's thread, and
 * overlaps the rest of the replay. */
static void open_ahead(void *ctx, const struct hp_module_info *mod)
{
	hp_symbol_opener_add(ctx, mod->path, mod->build_id, mod->build_id_len);
}

/* hp_model_load_reader(); `path` names a file that may still be being written, else
 * NULL. */
static int load(struct hp_model *m, struct hp_reader *r, const char *file, const char *path,
		const struct hp_analysis_options *o)
{
	int rc = start(m, file, o);
	if (rc)
		return rc;
	/* Without an opener (no memory, no thread) the symbolizer opens each file itself. */
	if (!o->no_symbols && (m->opener = hp_symbol_opener_new()))
		hp_replay_on_framed(m->replay, open_ahead, m->opener);
	int n = read_items(m, r, o);
	if (o->progress)
		o->progress(o->ctx, hp_reader_offset(r), hp_reader_size(r), 1);
	if (n == -1)
		return decode_error(m, r);
	struct hp_profile *p = n == -2 ? NULL : hp_replay_finish(m->replay);
	if (!p)
		return fail(m, ENOMEM, "analyze");
	m->prof = p;
	if ((rc = window_missing(m, o)))
		return rc;
	if (p->window.closed) {
		/* The leak scan is of the exit, after the window: live at its end instead. */
		hp_leaks_release(&m->leaks);
		hp_leaks_init(&m->leaks, o->suppressions);
	}
	m->complete = !hp_reader_truncated(r);
	m->running = !m->complete && path && hp_proc_writing_path(p->header.pid, path);
	trace_warnings(m, o);

	rc = hp_model_resolve(m, p, o);
	if (rc)
		return fail(m, -rc, "analyze");
	struct live_ctx lc = {.lk = &m->leaks, .prof = p};
	hp_replay_foreach_live(m->replay, add_live, &lc);
	rc = lc.oom ? -ENOMEM : hp_leaks_finish(&m->leaks, resolve_leak_stack, m);
	if (rc == -ENOMEM)
		return fail(m, ENOMEM, "analyze");
	if (rc == -EINVAL)
		warn(o, "'%s': the program's suppressions were ignored: %s", m->file,
		     m->leaks.supp_error);
	if (time_analysis(m, o))
		return fail(m, ENOMEM, "analyze");
	return 0;
}

int hp_model_load_reader(struct hp_model *m, struct hp_reader *r, const char *file,
			 const struct hp_analysis_options *o)
{
	return load(m, r, file, NULL, o);
}

/* The model of a trace that cannot be opened. */
static int open_failed(struct hp_model *m, const char *path, const struct hp_analysis_options *o)
{
	int err = errno ? errno : EIO;
	memset(m, 0, sizeof *m);
	m->file = path;
	hp_leaks_init(&m->leaks, o->suppressions);
	return fail(m, err, "open");
}

/* --at peak: the ordinal of the event after which the heap peaked, from a first pass of
 * the reader and the replay only. Returns 0 or a negative errno with m->error set. */
static int peak_event(struct hp_model *m, const char *path, const struct hp_analysis_options *o,
		      uint64_t *event)
{
	struct hp_analysis_options first = *o;
	first.window = NULL;
	first.item = NULL;
	first.progress = NULL;
	struct hp_reader *r = hp_reader_open(path);
	if (!r)
		return open_failed(m, path, o);
	int rc = start(m, path, &first);
	int n = rc ? 0 : read_items(m, r, &first);
	if (!rc && n == -1)
		rc = decode_error(m, r);
	else if (!rc && (n == -2 || !hp_replay_finish(m->replay)))
		rc = fail(m, ENOMEM, "analyze");
	if (!rc)
		*event = hp_replay_peak_event(m->replay);
	hp_reader_free(r);
	return rc;
}

int hp_model_load(struct hp_model *m, const char *path, const struct hp_analysis_options *o)
{
	struct hp_window at_peak;
	struct hp_analysis_options po;
	if (o->window && o->window->to.kind == HP_EDGE_PEAK) {
		uint64_t event = 0;
		int rc = peak_event(m, path, o, &event);
		hp_model_release(m);
		if (rc)
			return rc;
		at_peak = *o->window;
		at_peak.to.kind = HP_EDGE_EVENT;
		at_peak.to.event = event;
		po = *o;
		po.window = &at_peak;
		o = &po;
	}
	struct hp_reader *r = hp_reader_open(path);
	if (!r)
		return open_failed(m, path, o);
	int rc = load(m, r, path, path, o);
	hp_reader_free(r);
	return rc;
}

int hp_model_follow(struct hp_model *m, const char *path, const struct hp_analysis_options *o)
{
	struct hp_reader *r = hp_reader_open(path);
	if (!r)
		return open_failed(m, path, o);
	int rc = start(m, path, o);
	m->reader = r;
	m->opts = o;
	if (rc)
		return rc;
	hp_reader_follow(r, 1);
	m->lazy = 1;
	m->resolver = hp_resolver_new(NULL, 0, 0, !o->no_symbols, o->warn, o->ctx);
	if (!m->resolver)
		return fail(m, errno ? errno : ENOMEM, "analyze");
	return 0;
}

int hp_model_follow_read(struct hp_model *m)
{
	int n = read_items(m, m->reader, m->opts);
	if (n == -1)
		return decode_error(m, m->reader);
	if (n == -2)
		return fail(m, ENOMEM, "analyze");
	return hp_reader_waiting(m->reader) ? 0 : 1;
}

void hp_model_follow_stop(struct hp_model *m)
{
	hp_reader_follow(m->reader, 0);
}

int hp_model_peek(struct hp_model *m)
{
	const struct hp_profile *p = hp_replay_peek(m->replay);
	if (!p || hp_resolver_grow(m->resolver, p->modules, p->nmodules, p->nlocations))
		return fail(m, ENOMEM, "analyze");
	m->prof = p;
	return 0;
}

void hp_model_release(struct hp_model *m)
{
	hp_leaks_release(&m->leaks);
	hp_resolver_free(m->resolver);
	hp_symbol_opener_free(m->opener); /* after the resolver: its files may be the opener's */
	hp_replay_free(m->replay);
	hp_reader_free(m->reader);
	hp_growth_free(m->growth_own);
	free(m->checklist_own);
	memset(m, 0, sizeof *m);
}
