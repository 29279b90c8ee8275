/* The default report (--format text): header, summary, top sites per measure, heap and
 * RSS charts. Laid out for the output's width (term.h: COLUMNS, the terminal, else 100
 * columns, the layout tests and scripts see), coloured on a terminal; one blank line
 * between sections. Frames are never cut, whatever the width. */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dump.h"
#include "model.h"
#include "output.h"
#include "report_leaks.h"
#include "term.h"
#include "report_time.h"

#define CHART_ROWS 8
#define LABEL_W 10
/* The charts take the width but their labels and margins: 80 columns at 100. */
#define CHART_MARGIN 20
#define CHART_MIN_COLS 20

/* How the report is laid out and coloured (struct hp_output_options). */
struct layout {
	int color, unicode;
	unsigned width, chart_cols;
};

static const char *sty(const struct layout *l, enum hp_style s)
{
	return hp_term_style(l->color, s);
}

const char *hp_human_bytes(char *buf, uint64_t b)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (b < 1024) {
		snprintf(buf, 32, "%" PRIu64 " B", b);
		return buf;
	}
	double v = (double)b / 1024;
	int u = 0;
	while (v >= 1023.95 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, 32, "%.1f %s", v, unit[u]);
	return buf;
}

const char *hp_human_count(char *buf, uint64_t v)
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

static const char *seconds(char *buf, double s)
{
	if (s < 10)
		snprintf(buf, 32, "%.3f s", s);
	else if (s < 600)
		snprintf(buf, 32, "%.1f s", s);
	else if (s < 1e9) {
		long long m = (long long)(s / 60);
		snprintf(buf, 32, "%lldm %04.1f s", m, s - 60.0 * (double)m);
	} else /* absurd durations of corrupt traces, inf and nan: no integer conversion */
		snprintf(buf, 32, "%.3g s", s);
	return buf;
}

enum measure { BY_PEAK, BY_CALLS, BY_BYTES, BY_LEAKED, BY_TEMPORARY, NMEASURES };

static const char *const section_title[NMEASURES] = {
    "peak heap", "calls", "bytes allocated", "leaked bytes", "temporary allocations",
};

static uint64_t measure(const struct hp_site *s, enum measure m)
{
	switch (m) {
	case BY_PEAK:
		return s->peak_bytes;
	case BY_CALLS:
		return s->allocations;
	case BY_BYTES:
		return s->allocated_bytes;
	case BY_LEAKED:
		return s->leaked_bytes;
	default:
		return s->temporary;
	}
}

int hp_rank_cmp(const void *a, const void *b)
{
	const struct hp_rank *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? 1 : -1;
	if (x->key2 != y->key2)
		return x->key2 < y->key2 ? 1 : -1;
	return x->index < y->index ? -1 : x->index > y->index;
}

void hp_report_print_frame(FILE *o, const struct hp_frame *f, int color)
{
	char loc[64];
	fputs("        at ", o);
	if (f->function)
		hp_dump_string(o, f->function, strlen(f->function));
	else
		fputs("??", o);
	fprintf(o, " %s(", hp_term_style(color, HP_STYLE_LOCATION));
	if (f->file) {
		const char *b = hp_basename(f->file);
		hp_dump_string(o, b, strlen(b));
		if (f->line)
			fprintf(o, ":%u", f->line);
		putc(')', o);
	} else {
		const char *m = f->module_path ? hp_basename(f->module_path) : "?";
		snprintf(loc, sizeof loc, "+0x%" PRIx64 ")", f->address);
		hp_dump_string(o, m, strlen(m));
		fputs(loc, o);
	}
	fputs(hp_term_style(color, HP_STYLE_RESET), o);
	if (f->inlined)
		fputs(" [inlined]", o);
	putc('\n', o);
}

static int print_site(FILE *o, const struct hp_model *m, const struct hp_site *s, size_t rank,
		      struct hp_stack *st, const struct layout *l)
{
	char a[32], b[32], c[32], d[32], e[32], r[32];
	const char *lk = s->leaked_bytes ? sty(l, HP_STYLE_WORSE) : "";
	const char *lk_end = s->leaked_bytes ? sty(l, HP_STYLE_RESET) : "";
	hp_human_bytes(a, s->peak_bytes);
	hp_human_count(b, s->allocations);
	hp_human_bytes(c, s->allocated_bytes);
	hp_human_bytes(d, s->leaked_bytes);
	hp_human_count(e, s->temporary);
	snprintf(r, sizeof r, "#%zu", rank);
	if (l->width >= HP_TERM_DEFAULT_WIDTH) {
		fprintf(o,
			"  %s%-4s%s peak %-10s calls %-12s allocated %-10s leaked %s%-10s%s "
			"temporary %s\n",
			sty(l, HP_STYLE_RANK), r, sty(l, HP_STYLE_RESET), a, b, c, lk, d, lk_end,
			e);
	} else {
		/* Narrower: no padding, and the line broken before "leaked" when too long. */
		int n = snprintf(NULL, 0,
				 "  %s peak %s, calls %s, allocated %s, leaked %s, temporary %s", r,
				 a, b, c, d, e);
		int wrap = n > 0 && (unsigned)n > l->width;
		fprintf(
		    o, "  %s%s%s peak %s, calls %s, allocated %s,%s%sleaked %s%s%s, temporary %s\n",
		    sty(l, HP_STYLE_RANK), r, sty(l, HP_STYLE_RESET), a, b, c, wrap ? "\n" : " ",
		    wrap ? "        " : "", lk, d, lk_end, e);
	}
	if (hp_model_stack(m, s, 0, st))
		return -1;
	if (!st->n)
		fputs("        (no stack)\n", o);
	for (size_t i = 0; i < st->n; i++)
		hp_report_print_frame(o, &st->v[i], l->color);
	return 0;
}

static int section(FILE *o, const struct hp_model *model, unsigned top_n, enum measure m,
		   struct hp_rank *keys, struct hp_stack *st, const struct layout *l)
{
	const struct hp_profile *p = model->prof;
	size_t n = 0;
	for (size_t i = 0; i < p->nsites; i++) {
		uint64_t k = measure(&p->sites[i], m);
		if (k)
			keys[n++] = (struct hp_rank){k, p->sites[i].allocated_bytes, i};
	}
	size_t top = top_n ? top_n : n;
	if (top > n)
		top = n;
	fprintf(o, "\n%stop %zu site%s by %s%s\n", sty(l, HP_STYLE_TITLE), top, top == 1 ? "" : "s",
		section_title[m], sty(l, HP_STYLE_RESET));
	if (!n) {
		fputs("  (none)\n", o);
		return 0;
	}
	qsort(keys, n, sizeof *keys, hp_rank_cmp);
	for (size_t i = 0; i < top; i++)
		if (print_site(o, model, &p->sites[keys[i].index], i + 1, st, l))
			return -1;
	return 0;
}

/* One chart of CHART_ROWS x l->chart_cols; value(i) for i < n timeline points. */
static void chart(FILE *o, const char *title, const struct hp_profile *p, int rss,
		  const struct layout *l)
{
	static const char *const eighths[9] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	uint64_t col[HP_TERM_MAX_WIDTH] = {0}, max = 0;
	int has[HP_TERM_MAX_WIDTH] = {0};
	size_t n = p->ntimeline;
	const size_t cols = l->chart_cols;
	const int unicode = l->unicode;
	if (!n)
		return;
	for (size_t c = 0; c < cols; c++) {
		size_t lo = c * n / cols, hi = (c + 1) * n / cols;
		if (hi <= lo)
			hi = lo + 1;
		for (size_t i = lo; i < hi && i < n; i++) {
			const struct hp_timeline_point *t = &p->timeline[i];
			if (rss && !t->has_rss)
				continue;
			uint64_t v = rss ? t->rss_bytes : t->heap_bytes;
			if (!has[c] || v > col[c])
				col[c] = v;
			has[c] = 1;
		}
		if (col[c] > max)
			max = col[c];
	}
	if (!max)
		return;
	char lbl[32], dur[32];
	fprintf(o, "\n%s%s%s\n", sty(l, HP_STYLE_TITLE), title, sty(l, HP_STYLE_RESET));
	for (int r = 0; r < CHART_ROWS; r++) {
		if (r == 0)
			fprintf(o, "%*s |", LABEL_W, hp_human_bytes(lbl, max));
		else if (r == CHART_ROWS - 1)
			fprintf(o, "%*s |", LABEL_W, "0 B");
		else
			fprintf(o, "%*s |", LABEL_W, "");
		int base = (CHART_ROWS - 1 - r) * 8;
		for (size_t c = 0; c < cols; c++) {
			int h =
			    has[c] ? (int)((double)col[c] * CHART_ROWS * 8 / (double)max + 0.5) : 0;
			if (has[c] && col[c] && h == 0 && r == CHART_ROWS - 1)
				h = 1; /* a non-zero value stays visible */
			int cell = h - base;
			if (cell <= 0)
				putc(' ', o);
			else if (unicode)
				fputs(eighths[cell > 8 ? 8 : cell], o);
			else
				putc(cell >= 4 ? '#' : (cell > 0 ? '.' : ' '), o);
		}
		putc('\n', o);
	}
	fprintf(o, "%*s +", LABEL_W, "");
	for (size_t c = 0; c < cols; c++)
		putc('-', o);
	seconds(dur, p->duration_s);
	fprintf(o, "\n%*s 0 s%*s\n", LABEL_W, "", (int)cols - 2, dur);
}

/* heapprof_alloc_hint blocks: their own totals and sites, apart from the heap's. */
static int hints(FILE *o, const struct hp_model *in, unsigned top_n, struct hp_stack *st,
		 const struct layout *l)
{
	const struct hp_profile *p = in->prof;
	char a[32], b[32], c[32], d[32], e[32];
	if (!p->hint_allocations && !p->nhint_sites)
		return 0;
	fprintf(o,
		"\n%spool objects (heapprof_alloc_hint; not part of the heap figures)%s\n"
		"  calls %s, allocated %s, peak %s, live at the end %s in %s blocks\n",
		sty(l, HP_STYLE_TITLE), sty(l, HP_STYLE_RESET),
		hp_human_count(a, p->hint_allocations), hp_human_bytes(b, p->hint_allocated_bytes),
		hp_human_bytes(c, p->hint_peak_bytes), hp_human_bytes(d, p->hint_live_bytes),
		hp_human_count(e, p->hint_live_blocks));
	struct hp_rank *k = malloc((p->nhint_sites ? p->nhint_sites : 1) * sizeof *k);
	if (!k)
		return -1;
	for (size_t i = 0; i < p->nhint_sites; i++)
		k[i] = (struct hp_rank){p->hint_sites[i].allocations,
					p->hint_sites[i].allocated_bytes, i};
	qsort(k, p->nhint_sites, sizeof *k, hp_rank_cmp);
	size_t top = top_n && top_n < p->nhint_sites ? top_n : p->nhint_sites;
	int rc = 0;
	for (size_t i = 0; i < top && !rc; i++)
		rc = print_site(o, in, &p->hint_sites[k[i].index], i + 1, st, l);
	free(k);
	return rc;
}

void hp_report_marks_row(char *row, int cols, const struct hp_profile *p)
{
	memset(row, ' ', (size_t)cols);
	row[cols] = 0;
	for (size_t i = 0; i < p->nmarks && cols > 0; i++) {
		double f = p->duration_s > 0 ? p->marks[i].t_s / p->duration_s : 0;
		int c = f >= 1 ? cols - 1 : f > 0 ? (int)(f * cols) : 0;
		row[c] = (char)(i < 9 ? '1' + i : '+');
	}
}

/* The marks under the heap chart: their numbers at their columns, then the list. */
static void marks(FILE *o, const struct hp_profile *p, const struct layout *l)
{
	if (!p->nmarks)
		return;
	const int cols = (int)l->chart_cols;
	char row[HP_TERM_MAX_WIDTH + 1], a[32], b[32];
	hp_report_marks_row(row, cols, p);
	fprintf(o, "%*s  %s\n%smarks%s\n", LABEL_W, "", row, sty(l, HP_STYLE_TITLE),
		sty(l, HP_STYLE_RESET));
	for (size_t i = 0; i < p->nmarks; i++) {
		const struct hp_mark *m = &p->marks[i];
		fprintf(o, "  %c %10s  heap %-10s ", i < 9 ? (char)('1' + i) : '+',
			seconds(a, m->t_s), hp_human_bytes(b, m->heap_bytes));
		hp_dump_string(o, m->label, m->label_len);
		putc('\n', o);
	}
}

/* One argument as a POSIX shell would read it back: as it is when it holds only
 * characters no shell treats specially, else in single quotes ('' when empty, ' as '\''). */
static void print_arg(FILE *o, const char *s, size_t n)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789_@%+=:,./-";
	size_t k = 0;
	while (k < n && s[k] && strchr(plain, s[k]))
		k++;
	if (n && k == n) {
		hp_dump_string(o, s, n);
		return;
	}
	putc('\'', o);
	for (size_t i = 0, start = 0; i <= n; i++) {
		if (i == n || s[i] == '\'') {
			hp_dump_string(o, s + start, i - start);
			if (i < n)
				fputs("'\\''", o);
			start = i + 1;
		}
	}
	putc('\'', o);
}

/* The command line, its arguments as a shell would take them back (empty ones as ''):
 * the header's cmdline holds them separated by NUL bytes; an empty last argument leaves
 * a NUL at its end. */
static void print_command(FILE *o, const struct hp_profile *p)
{
	const char *s = p->header.cmdline;
	size_t n = p->header.cmdline_len;
	if (!p->has_header || !s) {
		if (p->command)
			hp_dump_string(o, p->command, strlen(p->command));
		return;
	}
	for (size_t i = 0, start = 0; n && i <= n; i++) {
		if (i == n || !s[i]) {
			if (start)
				putc(' ', o);
			print_arg(o, s + start, i - start);
			start = i + 1;
		}
	}
}

static int report_text(FILE *o, const struct hp_model *in, unsigned top, unsigned leaks_flags,
		       const struct layout *l)
{
	const struct hp_profile *p = in->prof;
	char a[32], b[32];

	fprintf(o, "%sheapprof report:%s ", sty(l, HP_STYLE_TITLE), sty(l, HP_STYLE_RESET));
	hp_dump_string(o, in->file, strlen(in->file));
	fputs("\n  command      ", o);
	print_command(o, p);
	fprintf(o, "\n  pid          %" PRIu64 " (parent %" PRIu64 ")\n", p->header.pid,
		p->header.ppid);
	fprintf(o, "  duration     %s\n", seconds(a, p->duration_s));
	fprintf(o, "  threads      %" PRIu64 "\n", p->threads);
	if (p->has_exit)
		fprintf(o, "  exit status  %" PRId64 "\n", p->exit_status);
	else
		fputs("  exit status  unknown\n", o);
	if (p->exec_path) {
		fputs("  exec         ", o);
		hp_dump_string(o, p->exec_path, strlen(p->exec_path));
		putc('\n', o);
	}
	if (p->attached) {
		char when[64];
		time_t t = (time_t)(p->attached_realtime_ns / 1000000000u);
		struct tm tm;
		if (gmtime_r(&t, &tm) && strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm))
			fprintf(o,
				"  attached     at %s (heapprof -p); blocks allocated before are "
				"not counted\n",
				when);
	}
	fprintf(o, "  trace        %s\n",
		in->complete  ? "complete"
		: in->running ? "incomplete (no trailer yet: the process is still running)"
			      : "incomplete (no trailer: the process did not exit cleanly)");
	if (p->sample_mean)
		fprintf(o, "  sampled      estimates (mean %s between samples)\n",
			hp_human_bytes(a, p->sample_mean));
	else if (p->header.flags & HP_HDR_SAMPLED)
		fputs("  sampled      mean unknown: figures count the sampled events only\n", o);
	hp_report_window_text(o, in);
	for (size_t i = 0; i < in->nwarnings; i++) {
		fprintf(o, "  %swarning%s      ", sty(l, HP_STYLE_WARNING), sty(l, HP_STYLE_RESET));
		hp_dump_string(o, in->warnings[i], strlen(in->warnings[i]));
		putc('\n', o);
	}

	double rate = p->duration_s > 0 ? (double)p->allocations / p->duration_s : 0;
	/* "~": an estimate scaled from a sampled trace; measured figures have no mark */
	const char *est = p->sample_mean ? "~" : "";
	fprintf(o, "\n%ssummary%s%s\n", sty(l, HP_STYLE_TITLE), sty(l, HP_STYLE_RESET),
		p->sample_mean ? " (~: estimated from samples)" : "");
	if (rate >= 100 && rate < 1e18)
		hp_human_count(b, (uint64_t)(rate + 0.5));
	else
		snprintf(b, sizeof b, "%.1f", rate);
	fprintf(o, "  calls to allocation functions  %s%s (%s%s/s)\n", est,
		hp_human_count(a, p->allocations), est, b);
	fprintf(o, "  frees                          %s%s\n", est, hp_human_count(a, p->frees));
	fprintf(o, "  bytes allocated                %s%s\n", est,
		hp_human_bytes(a, p->allocated_bytes));
	fprintf(o, "  peak heap                      %s%s at %s\n", est,
		hp_human_bytes(a, p->peak_heap_bytes), seconds(b, p->peak_time_s));
	fprintf(o, "  peak RSS                       %s\n", hp_human_bytes(a, p->peak_rss_bytes));
	fprintf(o, "  leaked                         %s%s%s in %s%s blocks%s\n",
		p->leaked_bytes ? sty(l, HP_STYLE_WORSE) : "", est,
		hp_human_bytes(a, p->leaked_bytes), est, hp_human_count(b, p->leaked_allocations),
		p->leaked_bytes ? sty(l, HP_STYLE_RESET) : "");
	fprintf(o, "  temporary allocations          %s%s (%.1f%% of calls)\n", est,
		hp_human_count(a, p->temporary),
		p->allocations ? 100.0 * (double)p->temporary / (double)p->allocations : 0.0);

	if (hp_report_time_text(o, in, top))
		return -1;
	/* The reachability scan's classes and lost sites; the still reachable sites only
	 * under --leaks. Without a scan, "leaked" above and its section say it all. */
	if (in->leaks.have_scan) {
		/* Buffered to drop the printer's closing blank line: sections start with one. */
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (!m)
			return -1;
		hp_leaks_print_text(m, &in->leaks, leaks_flags | HP_LEAKS_PRINT_NO_REACHABLE);
		if (fclose(m)) {
			free(buf);
			return -1;
		}
		while (len >= 2 && buf[len - 1] == '\n' && buf[len - 2] == '\n')
			len--;
		putc('\n', o);
		fwrite(buf, 1, len, o);
		free(buf);
	}

	struct hp_rank *keys = malloc((p->nsites ? p->nsites : 1) * sizeof *keys);
	struct hp_stack st = {0};
	int rc = keys ? 0 : -1;
	for (int m = 0; m < NMEASURES && !rc; m++)
		rc = section(o, in, top, (enum measure)m, keys, &st, l);
	free(keys);
	if (!rc)
		rc = hints(o, in, top, &st, l);
	hp_stack_release(&st);
	if (rc)
		return -1;

	chart(o, "heap over time", p, 0, l);
	marks(o, p, l);
	chart(o, "RSS over time", p, 1, l);
	if (hp_report_timeline_text(o, in))
		return -1;
	return ferror(o) ? -1 : 0;
}

static int write_text(const struct hp_model *m, const struct hp_output_options *o)
{
	if (o->index)
		putc('\n', o->out);
	unsigned width = o->width ? o->width : HP_TERM_DEFAULT_WIDTH;
	const struct layout l = {
	    .color = o->color,
	    .unicode = o->unicode,
	    .width = width,
	    .chart_cols =
		width > CHART_MARGIN + CHART_MIN_COLS ? width - CHART_MARGIN : CHART_MIN_COLS,
	};
	return report_text(o->out, m, o->top, o->leaks_flags, &l);
}

const struct hp_output hp_output_text = {
    .name = "text", .flags = HP_OUTPUT_LAZY_SYMBOLS, .default_top = 5, .write = write_text};
