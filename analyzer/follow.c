/* heapprof-analyze --follow; see follow.h.
 *
 * One model in follow mode (model.h), fed as the file grows: every item is read once. A
 * view peeks at the model (hp_model_peek), so it costs one pass over the sites, and the
 * stacks it prints are symbolized when first printed (hp_model_stack). The calls and
 * bytes of each site at the previous view are all this file keeps of its own (an array
 * indexed like the sites), with what it shows of the records: the pid, the exit and the
 * last mark. */
#define _GNU_SOURCE
#include "follow.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dump.h"
#include "frame.h"
#include "model.h"
#include "proc.h"
#include "reader.h"
#include "report.h"

#define PROG "heapprof-analyze"
#define POLL_NS 100000000ull /* the file is read every 100 ms between views */

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct state {
	const struct hp_follow_options *o;
	struct hp_analysis_options ao;
	struct hp_model m;
	struct hp_stack stack;		   /* of the site being printed */
	uint64_t *prev_calls, *prev_bytes; /* per site, at the previous view */
	size_t prev_cap;
	uint64_t view_calls, view_bytes; /* totals at the previous view */
	uint64_t view_ns;
	double view_t; /* the trace's duration at the previous view */
	const char *last_mark;
	uint64_t last_mark_time; /* trace units */
	char *mark_copy;
	char real_path[PATH_MAX];
	long fd_hint;
	int tty, header, ended, ended_status_known, oom;
	int64_t exit_status;
	uint64_t pid;
};

static void warn(void *ctx, const char *msg)
{
	const struct state *st = ctx;
	if (!st->o->quiet)
		fprintf(stderr, PROG ": warning: %s\n", msg);
}

/* The first two frames of a site, on one line. Returns 0 or -ENOMEM. */
static int site_line(FILE *o, struct state *st, const struct hp_site *s)
{
	if (hp_model_stack(&st->m, s, 0, &st->stack))
		return -ENOMEM;
	const struct hp_frame *f = st->stack.v;
	size_t n = st->stack.n;
	if (!n) {
		fputs("(no stack)", o);
		return 0;
	}
	for (size_t i = 0; i < n && i < 2; i++) {
		if (i)
			fputs(" < ", o);
		if (f[i].function)
			hp_dump_string(o, f[i].function, strnlen(f[i].function, 60));
		else
			fputs("??", o);
		if (f[i].file)
			fprintf(o, " (%s:%u)", hp_basename(f[i].file), f[i].line);
		else if (f[i].module_path)
			fprintf(o, " (%s+0x%" PRIx64 ")", hp_basename(f[i].module_path),
				f[i].address);
	}
	return 0;
}

static const char *state_word(const struct state *st, int live)
{
	if (live)
		return "running";
	return st->ended ? "exited" : "gone without a trailer (killed?)";
}

static int view(struct state *st, int live, int last)
{
	if (hp_model_peek(&st->m))
		return -1;
	const struct hp_profile *p = st->m.prof;
	uint64_t now = mono_ns();
	/* Rates over the program's time since the last view (a trace read in one go gives
	 * its averages); the wall clock when the trace has not moved on. */
	double dt = p->duration_s - st->view_t;
	if (dt < 1e-3)
		dt = (double)(now - st->view_ns) / 1e9;
	if (dt < 1e-3)
		dt = 1e-3;
	uint64_t calls = p->allocations - (p->allocations >= st->view_calls ? st->view_calls : 0);
	uint64_t bytes = p->allocated_bytes - st->view_bytes;
	double calls_s = (double)calls / dt, bytes_s = (double)bytes / dt;
	FILE *o = st->o->out;
	char a[32], b[32], c[32], d[32];
	if (p->nsites > st->prev_cap) {
		size_t cap = p->nsites * 2;
		uint64_t *pc = realloc(st->prev_calls, cap * sizeof *pc);
		if (pc)
			st->prev_calls = pc;
		uint64_t *pb = pc ? realloc(st->prev_bytes, cap * sizeof *pb) : NULL;
		if (!pc || !pb)
			return -1;
		st->prev_bytes = pb;
		memset(pc + st->prev_cap, 0, (cap - st->prev_cap) * sizeof *pc);
		memset(pb + st->prev_cap, 0, (cap - st->prev_cap) * sizeof *pb);
		st->prev_cap = cap;
	}
	if (!st->tty) {
		fprintf(o,
			"t=%.3f state=%s heap=%" PRIu64 " peak=%" PRIu64 " rss=%" PRIu64
			" calls=%" PRIu64 " calls_per_s=%.0f bytes_per_s=%.0f marks=%zu\n",
			p->duration_s,
			live	    ? "running"
			: st->ended ? "exited"
				    : "gone",
			p->heap_bytes, p->peak_heap_bytes, p->rss_bytes, p->allocations, calls_s,
			bytes_s, p->nmarks);
	} else {
		unsigned top = st->o->top ? st->o->top : 5;
		struct hp_rank *k = malloc((p->nsites ? p->nsites : 1) * sizeof *k);
		if (!k)
			return -1;
		fputs("\033[H\033[2J", o);
		fputs("heapprof live: ", o);
		if (p->command)
			hp_dump_string(o, p->command, strnlen(p->command, 60));
		fprintf(o, "\n  pid %" PRIu64 ", %s", p->header.pid, state_word(st, live));
		if (!live && st->ended_status_known)
			fprintf(o, " (status %" PRId64 ")", st->exit_status);
		fprintf(o, ", %.1f s recorded\n", p->duration_s);
		fprintf(o, "  heap %s now, peak %s at %.1f s;  RSS %s\n",
			hp_human_bytes(a, p->heap_bytes), hp_human_bytes(b, p->peak_heap_bytes),
			p->peak_time_s, hp_human_bytes(c, p->rss_bytes));
		fprintf(o, "  %s calls/s, %s/s over the last %.1f s;  %s calls in all\n",
			hp_human_count(a, hp_round_u64(calls_s)),
			hp_human_bytes(b, hp_round_u64(bytes_s)), dt,
			hp_human_count(d, p->allocations));
		if (p->nmarks && st->last_mark) {
			fprintf(o, "  %zu mark%s, the last at %.1f s: ", p->nmarks,
				p->nmarks == 1 ? "" : "s",
				(double)st->last_mark_time * p->seconds_per_unit);
			hp_dump_string(o, st->last_mark, strlen(st->last_mark));
			putc('\n', o);
		}
		size_t n = 0;
		int err = 0;
		for (size_t i = 0; i < p->nsites; i++)
			if (!p->sites[i].hint && p->sites[i].leaked_bytes)
				k[n++] = (struct hp_rank){p->sites[i].leaked_bytes,
							  p->sites[i].leaked_allocations, i};
		qsort(k, n, sizeof *k, hp_rank_cmp);
		fprintf(o, "\ntop sites by live bytes\n");
		for (size_t i = 0; i < n && i < top; i++) {
			const struct hp_site *s = &p->sites[k[i].index];
			fprintf(o, "  %10s in %-12s ", hp_human_bytes(a, s->leaked_bytes),
				hp_human_count(b, s->leaked_allocations));
			if ((err = site_line(o, st, s)) != 0)
				break;
			putc('\n', o);
		}
		n = 0;
		for (size_t i = 0; i < p->nsites && !err; i++) {
			uint64_t dc = p->sites[i].allocations - st->prev_calls[i];
			if (!p->sites[i].hint && dc)
				k[n++] = (struct hp_rank){
				    dc, p->sites[i].allocated_bytes - st->prev_bytes[i], i};
		}
		qsort(k, n, sizeof *k, hp_rank_cmp);
		fprintf(o, "\ntop sites by calls/s\n");
		for (size_t i = 0; i < n && i < top; i++) {
			const struct hp_site *s = &p->sites[k[i].index];
			fprintf(o, "  %10s/s %10s/s  ",
				hp_human_count(a, hp_round_u64((double)k[i].key / dt)),
				hp_human_bytes(b, hp_round_u64((double)k[i].key2 / dt)));
			if ((err = site_line(o, st, s)) != 0)
				break;
			putc('\n', o);
		}
		free(k);
		if (err)
			return -1;
		if (last)
			fputs("\n", o);
	}
	for (size_t i = 0; i < p->nsites; i++) {
		st->prev_calls[i] = p->sites[i].allocations;
		st->prev_bytes[i] = p->sites[i].allocated_bytes;
	}
	st->view_calls = p->allocations;
	st->view_bytes = p->allocated_bytes;
	st->view_ns = now;
	st->view_t = p->duration_s;
	fflush(o);
	return ferror(o) ? -1 : 0;
}

/* What the view shows of the records as they are read (hp_analysis_options.item). */
static void on_item(void *ctx, const struct hp_reader *r, const struct hp_item *it)
{
	struct state *st = ctx;
	switch (it->kind) {
	case HP_REC_HEADER:
		st->header = 1;
		st->pid = it->u.header.pid;
		break;
	case HP_REC_END:
		st->ended = 1;
		break;
	case HP_REC_EXIT:
		st->ended_status_known = 1;
		st->exit_status = it->u.exit.status;
		break;
	case HP_REC_MARK: {
		char *m = malloc(it->u.mark.label_len + 1);
		if (!m) {
			st->oom = 1;
			break;
		}
		memcpy(m, it->u.mark.label, it->u.mark.label_len);
		m[it->u.mark.label_len] = 0;
		free(st->mark_copy);
		st->mark_copy = m;
		st->last_mark = m;
		st->last_mark_time = it->u.mark.time;
		break;
	}
	default:
		break;
	}
}

int hp_follow(const char *path, const struct hp_follow_options *o)
{
	struct state st = {.o = o, .fd_hint = -1};
	st.ao = (struct hp_analysis_options){
	    .no_symbols = o->no_symbols, .warn = warn, .item = on_item, .ctx = &st};
	if (hp_model_follow(&st.m, path, &st.ao)) {
		fprintf(stderr, PROG ": %s\n", st.m.error);
		hp_model_release(&st.m);
		return 2;
	}
	if (!realpath(path, st.real_path)) {
		fprintf(stderr, PROG ": cannot open '%s': %s\n", path, strerror(errno));
		hp_model_release(&st.m);
		return 2;
	}
	st.tty = isatty(fileno(o->out));
	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop; /* no SA_RESTART: the nap ends at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	uint64_t interval = (uint64_t)((o->interval_s > 0 ? o->interval_s : 1.0) * 1e9);
	st.view_ns = mono_ns();
	uint64_t next = st.view_ns + interval;
	int rc = 0, following = 1;
	for (;;) {
		int f = hp_model_follow_read(&st.m);
		if (f < 0 || st.oom) {
			if (f >= 0)
				snprintf(st.m.error, sizeof st.m.error, "cannot analyze '%s': %s",
					 path, strerror(ENOMEM));
			fprintf(stderr, PROG ": %s\n", st.m.error);
			rc = 2;
			break;
		}
		int live =
		    following && (!st.header || hp_proc_writing(st.pid, st.real_path, &st.fd_hint));
		if (f == 1 || stop_signal) {
			if (view(&st, following && live, 1))
				rc = 2;
			break;
		}
		if (!live && following) {
			/* The writer is gone: read to the end, a frame cut short included. */
			hp_model_follow_stop(&st.m);
			following = 0;
			continue;
		}
		uint64_t now = mono_ns();
		if (now >= next) {
			if (view(&st, live, 0)) {
				rc = 2;
				break;
			}
			next = now - next > interval ? now + interval : next + interval;
		}
		uint64_t nap = next - mono_ns();
		if (nap > POLL_NS || (int64_t)nap < 0)
			nap = POLL_NS;
		struct timespec ts = {(time_t)(nap / 1000000000u), (long)(nap % 1000000000u)};
		nanosleep(&ts, NULL);
	}
	if (!rc && !o->quiet && !st.ended && !stop_signal)
		fprintf(stderr,
			PROG ": warning: '%s' has no trailer: the process did not exit cleanly "
			     "(killed?)\n",
			path);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(st.prev_calls);
	free(st.prev_bytes);
	free(st.mark_copy);
	hp_stack_release(&st.stack);
	hp_model_release(&st.m);
	return rc;
}
