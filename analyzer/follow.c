/* heapprof-analyze --follow; see follow.h.
 *
 * One reader in follow mode (reader.h) and one replay, fed as the file grows: every
 * item is read once. A view peeks at the replay (hp_replay_peek), so it costs one pass
 * over the sites, and the calls and bytes of each site at the previous view are all this
 * file keeps of its own (an array indexed like the sites). */
#define _GNU_SOURCE
#include "follow.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dump.h"
#include "reader.h"
#include "replay.h"
#include "report.h"
#include "resolve.h"

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

/* Whether /proc/pid/fd/<name> links to want. */
static int links_to(uint64_t pid, const char *name, const char *want)
{
	char link[96], got[PATH_MAX];
	snprintf(link, sizeof link, "/proc/%" PRIu64 "/fd/%s", pid, name);
	ssize_t n = readlink(link, got, sizeof got - 1);
	if (n <= 0)
		return 0;
	got[n] = '\0';
	return strcmp(got, want) == 0;
}

/* hp_follow_writing() for the trace's real path; *hint remembers the descriptor found
 * (a server may hold thousands: only a miss scans them all again). */
static int writing(uint64_t pid, const char *want, long *hint)
{
	char dir[64], name[24];
	if (!pid || pid > INT_MAX)
		return 0;
	if (*hint >= 0) {
		snprintf(name, sizeof name, "%ld", *hint);
		if (links_to(pid, name, want))
			return 1;
		*hint = -1;
	}
	snprintf(dir, sizeof dir, "/proc/%" PRIu64 "/fd", pid);
	DIR *d = opendir(dir);
	if (!d)
		return (errno == EACCES || errno == EPERM) &&
		       (kill((pid_t)pid, 0) == 0 || errno == EPERM);
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] != '.' && links_to(pid, e->d_name, want)) {
			*hint = strtol(e->d_name, NULL, 10);
			break;
		}
	}
	closedir(d);
	return *hint >= 0;
}

int hp_follow_writing(uint64_t pid, const char *path)
{
	char want[PATH_MAX];
	long hint = -1;
	return realpath(path, want) && writing(pid, want, &hint);
}

static const char *count(char *buf, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v), o = 0;
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
	return buf;
}

struct state {
	const struct hp_follow_options *o;
	const char *path;
	struct hp_reader *r;
	struct hp_replay *rp;
	struct hp_resolver *res;
	size_t res_modules;		   /* the modules the resolver knows */
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
	int tty, header, ended, ended_status_known;
	int64_t exit_status;
	uint64_t pid;
};

static void warn(void *ctx, const char *msg)
{
	const struct state *st = ctx;
	if (!st->o->quiet)
		fprintf(stderr, PROG ": warning: %s\n", msg);
}

struct ranked {
	uint64_t key, key2;
	size_t index;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? 1 : -1;
	if (x->key2 != y->key2)
		return x->key2 < y->key2 ? 1 : -1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The first two frames of a site, on one line. */
static void site_line(FILE *o, struct state *st, const struct hp_site *s)
{
	const struct hp_resolved_frame *f;
	size_t n = st->res ? hp_resolve_site(st->res, s, &f) : 0;
	if (!n) {
		fputs("(no stack)", o);
		return;
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
		else if (f[i].module)
			fprintf(o, " (%s+0x%" PRIx64 ")", hp_basename(f[i].module), f[i].address);
	}
}

static const char *state_word(const struct state *st, int live)
{
	if (live)
		return "running";
	return st->ended ? "exited" : "gone without a trailer (killed?)";
}

static int view(struct state *st, int live, int last)
{
	const struct hp_profile *p = hp_replay_peek(st->rp);
	if (!p)
		return -1;
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
	if (p->nmodules != st->res_modules || (!st->res && p->nmodules)) {
		hp_resolver_free(st->res);
		st->res = hp_resolver_new(p, st->o->symbols, warn, st);
		st->res_modules = p->nmodules;
	}
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
		struct ranked *k = malloc((p->nsites ? p->nsites : 1) * sizeof *k);
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
			count(a, (uint64_t)(calls_s + 0.5)), hp_human_bytes(b, (uint64_t)bytes_s),
			dt, count(d, p->allocations));
		if (p->nmarks && st->last_mark) {
			fprintf(o, "  %zu mark%s, the last at %.1f s: ", p->nmarks,
				p->nmarks == 1 ? "" : "s",
				(double)st->last_mark_time * p->seconds_per_unit);
			hp_dump_string(o, st->last_mark, strlen(st->last_mark));
			putc('\n', o);
		}
		size_t n = 0;
		for (size_t i = 0; i < p->nsites; i++)
			if (!p->sites[i].hint && p->sites[i].leaked_bytes)
				k[n++] = (struct ranked){p->sites[i].leaked_bytes,
							 p->sites[i].leaked_allocations, i};
		qsort(k, n, sizeof *k, cmp_ranked);
		fprintf(o, "\ntop sites by live bytes\n");
		for (size_t i = 0; i < n && i < top; i++) {
			const struct hp_site *s = &p->sites[k[i].index];
			fprintf(o, "  %10s in %-12s ", hp_human_bytes(a, s->leaked_bytes),
				count(b, s->leaked_allocations));
			site_line(o, st, s);
			putc('\n', o);
		}
		n = 0;
		for (size_t i = 0; i < p->nsites; i++) {
			uint64_t dc = p->sites[i].allocations - st->prev_calls[i];
			if (!p->sites[i].hint && dc)
				k[n++] = (struct ranked){
				    dc, p->sites[i].allocated_bytes - st->prev_bytes[i], i};
		}
		qsort(k, n, sizeof *k, cmp_ranked);
		fprintf(o, "\ntop sites by calls/s\n");
		for (size_t i = 0; i < n && i < top; i++) {
			const struct hp_site *s = &p->sites[k[i].index];
			fprintf(o, "  %10s/s %10s/s  ",
				count(a, (uint64_t)((double)k[i].key / dt + 0.5)),
				hp_human_bytes(b, (uint64_t)((double)k[i].key2 / dt)));
			site_line(o, st, s);
			putc('\n', o);
		}
		free(k);
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

/* Feeds every item the file holds now. Returns 1 at the trace's end (follow mode off),
 * 0 when waiting for more, -1 on a decode error, -2 out of memory. */
static int feed(struct state *st)
{
	struct hp_item it;
	int n;
	while ((n = hp_reader_next(st->r, &it)) > 0) {
		if (hp_replay_item(st->rp, &it))
			return -2;
		switch (it.kind) {
		case HP_REC_HEADER:
			st->header = 1;
			st->pid = it.u.header.pid;
			break;
		case HP_REC_END:
			st->ended = 1;
			break;
		case HP_REC_EXIT:
			st->ended_status_known = 1;
			st->exit_status = it.u.exit.status;
			break;
		case HP_REC_MARK: {
			char *m = malloc(it.u.mark.label_len + 1);
			if (!m)
				return -2;
			memcpy(m, it.u.mark.label, it.u.mark.label_len);
			m[it.u.mark.label_len] = 0;
			free(st->mark_copy);
			st->mark_copy = m;
			st->last_mark = m;
			st->last_mark_time = it.u.mark.time;
			break;
		}
		default:
			break;
		}
	}
	if (n < 0)
		return -1;
	return hp_reader_waiting(st->r) ? 0 : 1;
}

int hp_follow(const char *path, const struct hp_follow_options *o)
{
	struct state st = {.o = o, .path = path, .fd_hint = -1};
	st.r = hp_reader_open(path);
	if (!st.r || !realpath(path, st.real_path)) {
		fprintf(stderr, PROG ": cannot open '%s': %s\n", path, strerror(errno));
		hp_reader_free(st.r);
		return 2;
	}
	st.rp = hp_replay_new();
	if (!st.rp) {
		fprintf(stderr, PROG ": cannot analyze '%s': %s\n", path, strerror(errno));
		hp_reader_free(st.r);
		return 2;
	}
	hp_reader_follow(st.r, 1);
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
		int f = feed(&st);
		if (f < 0) {
			char msg[256];
			if (f == -2 || hp_reader_error(st.r) == HP_READ_ERR_NOMEM)
				fprintf(stderr, PROG ": cannot analyze '%s': %s\n", path,
					strerror(ENOMEM));
			else
				fprintf(stderr, PROG ": '%s' is not a heapprof trace: %s\n", path,
					hp_reader_format_error(st.r, msg, sizeof msg));
			rc = 2;
			break;
		}
		int live = following && (!st.header || writing(st.pid, st.real_path, &st.fd_hint));
		if (f == 1 || stop_signal) {
			if (view(&st, following && live, 1))
				rc = 2;
			break;
		}
		if (!live && following) {
			/* The writer is gone: read to the end, a frame cut short included. */
			hp_reader_follow(st.r, 0);
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
	hp_resolver_free(st.res);
	free(st.prev_calls);
	free(st.prev_bytes);
	free(st.mark_copy);
	hp_replay_free(st.rp);
	hp_reader_free(st.r);
	return rc;
}
