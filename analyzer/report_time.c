/* The time-aware sections of the text and JSON reports (report_time.h). */
#include "report_time.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checklist.h"
#include "dump.h"
#include "growth.h"
#include "report.h"

#define CHART_ROWS 10
#define CHART_COLS 80
#define LABEL_W 10
#define DEFAULT_TIMELINE_SITES 3

static const char *secs(char *buf, double s)
{
	if (!isfinite(s) || s < 0)
		snprintf(buf, 32, "-");
	else if (s < 120)
		snprintf(buf, 32, "%.3f s", s);
	else if (s < 2 * 3600)
		snprintf(buf, 32, "%.0fm %02.0f s", floor(s / 60), fmod(s, 60));
	else if (s < 4 * 86400)
		snprintf(buf, 32, "%.0fh %02.0fm", floor(s / 3600), floor(fmod(s, 3600) / 60));
	else
		snprintf(buf, 32, "%.1f days", s / 86400);
	return buf;
}

/* "+12.3 KiB/s" (a slope may be negative). */
static const char *rate(char *buf, double v)
{
	char b[32];
	uint64_t a = hp_round_u64(fabs(v));
	snprintf(buf, 40, "%s%s/s", v < 0 ? "-" : "+", hp_human_bytes(b, a));
	return buf;
}

static const char *bytes_d(char *buf, double v)
{
	return hp_human_bytes(buf, hp_round_u64(v));
}

void hp_report_window_text(FILE *o, const struct hp_model *m)
{
	const struct hp_window_info *w = &m->prof->window;
	char a[32], b[32];
	if (!w->active)
		return;
	fprintf(o, "  window       %s: events in [%s, %s)", w->spec, secs(a, w->from_s),
		secs(b, w->to_s));
	fputs(w->closed ? "; \"leaked\" is what they left live at its end\n"
			: ", to the end of the trace\n",
	      o);
}

static void frame_line(FILE *o, const struct hp_frame *f)
{
	fputs("        at ", o);
	if (f->function)
		hp_dump_string(o, f->function, strlen(f->function));
	else
		fputs("??", o);
	if (f->file) {
		const char *bn = hp_basename(f->file);
		fputs(" (", o);
		hp_dump_string(o, bn, strlen(bn));
		if (f->line)
			fprintf(o, ":%u", f->line);
		putc(')', o);
	}
	putc('\n', o);
}

static void checklist_text(FILE *o, const struct hp_checklist *c)
{
	static const char *const verdict[] = {"N/A ", "PASS", "FAIL"};
	char m[48], t[48];
	fprintf(o, "\nmemory checklist (--check): %u failed\n", c->failed);
	for (int i = 0; i < HP_CHECK_NITEMS; i++) {
		const struct hp_check_item *it = &c->item[i];
		fprintf(o, "  %s  %-30s %16s  limit %-16s %s\n", verdict[it->verdict], it->title,
			hp_checklist_value(it, it->measured, m),
			hp_checklist_value(it, it->threshold, t), it->note);
	}
}

static int growth_text(FILE *o, const struct hp_model *m, const struct hp_growth *g, unsigned top)
{
	const struct hp_profile *p = m->prof;
	char a[40], b[40], c[40], d[40];
	fputs("\nSuspected leaks (growing, still reachable)\n", o);
	if (g->warmup_mark)
		fprintf(o, "  fit after warm-up (up to the \"warmup\" mark at %s)",
			secs(a, g->warmup_end_s));
	else
		fprintf(o, "  fit after warm-up (the first %.0f%% of the %s: up to %s)",
			HP_GROWTH_WARMUP_SHARE * 100, p->window.active ? "window" : "run",
			secs(a, g->warmup_end_s));
	fprintf(o, ", %zu points to %s\n", g->npoints, secs(b, g->fit_to_s));
	if (!g->enough) {
		fprintf(o, "  (too short to tell: %d points after warm-up are needed)\n",
			HP_GROWTH_MIN_POINTS);
		return 0;
	}
	if (!g->ngrowing) {
		fputs("  (none: no site grows steadily after warm-up)\n", o);
		return 0;
	}
	size_t n = top && top < g->ngrowing ? top : g->ngrowing;
	struct hp_stack st = {0};
	for (size_t i = 0; i < n; i++) {
		const struct hp_growth_site *s = &g->sites[i];
		fprintf(
		    o,
		    "  #%-3zu %s  fit R² %.2f  grew in %.0f%% of intervals  live %s  in 1 h %s, "
		    "in 24 h %s\n",
		    i + 1, rate(a, s->slope), s->r2, s->grew_share * 100,
		    hp_human_bytes(b, s->live_bytes),
		    bytes_d(c, (double)s->live_bytes + s->slope * 3600),
		    bytes_d(d, (double)s->live_bytes + s->slope * 86400));
		if (hp_model_stack(m, &p->sites[s->site], 0, &st)) {
			hp_stack_release(&st);
			return -1;
		}
		for (size_t k = 0; k < st.n; k++)
			frame_line(o, &st.v[k]);
		if (!st.n)
			fputs("        (no stack)\n", o);
	}
	hp_stack_release(&st);
	fputs("  by function (innermost reported frame)\n", o);
	size_t nf = top && top < g->nfunctions ? top : g->nfunctions;
	for (size_t i = 0; i < nf; i++) {
		const struct hp_growth_function *f = &g->functions[i];
		fprintf(o, "    %-14s ", rate(a, f->slope));
		hp_dump_string(o, f->function, strlen(f->function));
		fprintf(o, "  (%zu site%s, live %s)\n", f->nsites, f->nsites == 1 ? "" : "s",
			hp_human_bytes(b, f->live_bytes));
	}
	fprintf(o, "  heap: %s live at the end", hp_human_bytes(a, g->heap_bytes));
	if (g->heap_base >= (double)g->heap_bytes + 1024)
		fprintf(o, " (%s by the fits)", bytes_d(a, g->heap_base));
	fprintf(o, ", growing %s; projected %s in 1 h, %s in 24 h", rate(b, g->growing_slope),
		bytes_d(c, g->heap_1h), bytes_d(d, g->heap_24h));
	if (g->budget) {
		char e[32];
		if (g->budget_s == 0)
			fprintf(o, "; over --budget %s already", hp_human_bytes(e, g->budget));
		else
			fprintf(o, "; reaches --budget %s in %s", hp_human_bytes(e, g->budget),
				secs(a, g->budget_s));
	}
	putc('\n', o);
	return 0;
}

int hp_report_time_text(FILE *o, const struct hp_model *m, unsigned top)
{
	if (m->checklist)
		checklist_text(o, m->checklist);
	if (m->growth && growth_text(o, m, m->growth, top))
		return -1;
	return ferror(o) ? -1 : 0;
}

/* The top sites of the timelines: by live bytes at the peak, then allocated bytes. */
static size_t top_sites(const struct hp_model *m, size_t *idx, size_t want)
{
	const struct hp_profile *p = m->prof;
	size_t n = 0;
	for (size_t i = 0; i < p->nsites; i++) {
		const struct hp_site *s = &p->sites[i];
		uint64_t peak = 0;
		for (size_t k = 0; s->series && k < p->series.nbuckets; k++)
			if (s->series[k].live_bytes > peak)
				peak = s->series[k].live_bytes;
		if (!peak)
			continue;
		size_t j = n < want ? n++ : want;
		if (j == want) {
			/* Replace the smallest kept one if this one is bigger. */
			size_t min = 0;
			uint64_t mv = UINT64_MAX;
			for (size_t k = 0; k < want; k++) {
				uint64_t v = 0;
				for (size_t b = 0; b < p->series.nbuckets; b++)
					if (p->sites[idx[k]].series[b].live_bytes > v)
						v = p->sites[idx[k]].series[b].live_bytes;
				if (v < mv) {
					mv = v;
					min = k;
				}
			}
			if (peak <= mv)
				continue;
			j = min;
		}
		idx[j] = i;
	}
	/* Biggest first. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			uint64_t x = 0, y = 0;
			for (size_t b = 0; b < p->series.nbuckets; b++) {
				if (p->sites[idx[j]].series[b].live_bytes > x)
					x = p->sites[idx[j]].series[b].live_bytes;
				if (p->sites[idx[j - 1]].series[b].live_bytes > y)
					y = p->sites[idx[j - 1]].series[b].live_bytes;
			}
			if (x <= y)
				break;
			size_t t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	return n;
}

int hp_report_timeline_text(FILE *o, const struct hp_model *m)
{
	const struct hp_profile *p = m->prof;
	const struct hp_series_info *se = &p->series;
	if (!m->growth || !se->nbuckets)
		return 0;
	unsigned want = m->timeline_sites ? m->timeline_sites : DEFAULT_TIMELINE_SITES;
	size_t idx[26];
	size_t n = top_sites(m, idx, want);
	size_t nb = se->nbuckets;
	/* Per bucket: the top sites' live bytes at its end, the rest of the heap, RSS. */
	double *v = calloc((n + 2) * nb, sizeof *v);
	if (!v)
		return -1;
	double max = 0;
	for (size_t b = 0; b < nb; b++) {
		double sum = 0, all = 0;
		for (size_t k = 0; k < n; k++) {
			v[b * (n + 2) + k] = (double)p->sites[idx[k]].series[b].live_bytes;
			sum += v[b * (n + 2) + k];
		}
		for (size_t i = 0; i < p->nsites; i++)
			if (p->sites[i].series)
				all += (double)p->sites[i].series[b].live_bytes;
		v[b * (n + 2) + n] = all > sum ? all - sum : 0;
		v[b * (n + 2) + n + 1] =
		    se->process[b].has_rss ? (double)se->process[b].rss_bytes : 0;
		if (all > max)
			max = all;
	}
	/* RSS shares the scale when it is near the heap; far above, it would flatten it. */
	double rss_max = 0;
	for (size_t b = 0; b < nb; b++)
		if (v[b * (n + 2) + n + 1] > rss_max)
			rss_max = v[b * (n + 2) + n + 1];
	int rss_on_scale = rss_max > 0 && rss_max <= 4 * max;
	if (rss_on_scale && rss_max > max)
		max = rss_max;
	if (max <= 0) {
		free(v);
		return 0;
	}
	char lbl[32], a[32];
	fputs("\nlive heap by site over time (letters: the sites below, stacked; '.' the rest", o);
	if (rss_on_scale)
		fputs("; '-' RSS)\n", o);
	else if (rss_max > 0)
		fprintf(o, "; RSS, up to %s, is off the scale)\n",
			hp_human_bytes(lbl, hp_round_u64(rss_max)));
	else
		fputs(")\n", o);
	for (int r = CHART_ROWS - 1; r >= 0; r--) {
		double lo = max * r / CHART_ROWS, hi = max * (r + 1) / CHART_ROWS,
		       mid = (lo + hi) / 2;
		if (r == CHART_ROWS - 1)
			fprintf(o, "%*s |", LABEL_W, hp_human_bytes(lbl, hp_round_u64(max)));
		else if (r == 0)
			fprintf(o, "%*s |", LABEL_W, "0 B");
		else
			fprintf(o, "%*s |", LABEL_W, "");
		for (int c = 0; c < CHART_COLS; c++) {
			size_t b = (size_t)c * nb / CHART_COLS;
			const double *x = &v[b * (n + 2)];
			double acc = 0;
			char ch = ' ';
			for (size_t k = 0; k <= n && ch == ' '; k++) {
				acc += x[k];
				if (mid < acc)
					ch = k < n ? (char)('A' + k) : '.';
			}
			double rss = x[n + 1];
			if (ch == ' ' && rss_on_scale && rss > 0 && rss >= lo && rss < hi)
				ch = '-';
			putc(ch, o);
		}
		putc('\n', o);
	}
	fprintf(o, "%*s +", LABEL_W, "");
	for (int c = 0; c < CHART_COLS; c++)
		putc('-', o);
	fprintf(o, "\n%*s 0 s%*s\n", LABEL_W, "", CHART_COLS - 2, secs(a, p->duration_s));
	if (p->nmarks) {
		char row[CHART_COLS + 1];
		hp_report_marks_row(row, CHART_COLS, p);
		fprintf(o, "%*s  %s  (marks, as listed above)\n", LABEL_W, "", row);
	}
	struct hp_stack st = {0};
	for (size_t k = 0; k < n; k++) {
		uint64_t peak = 0;
		for (size_t b = 0; b < nb; b++)
			if (p->sites[idx[k]].series[b].live_bytes > peak)
				peak = p->sites[idx[k]].series[b].live_bytes;
		if (hp_model_stack(m, &p->sites[idx[k]], 0, &st)) {
			free(v);
			hp_stack_release(&st);
			return -1;
		}
		fprintf(o, "  %c  most live %-10s ", (char)('A' + k), hp_human_bytes(a, peak));
		if (st.n && st.v[0].function)
			hp_dump_string(o, st.v[0].function, strlen(st.v[0].function));
		else
			fputs("??", o);
		if (st.n && st.v[0].file)
			fprintf(o, " (%s:%u)", hp_basename(st.v[0].file), st.v[0].line);
		putc('\n', o);
	}
	hp_stack_release(&st);
	free(v);
	return ferror(o) ? -1 : 0;
}

/* ---- JSON ---- */

/* Bytes and counts: whole numbers, exactly. */
static void jint(FILE *o, double v)
{
	if (!isfinite(v))
		fputs("null", o);
	else
		fprintf(o, "%.0f", v);
}

static int jstack(FILE *o, const struct hp_model *m, const struct hp_site *s, struct hp_stack *st)
{
	if (hp_model_stack(m, s, 0, st))
		return -1;
	fputs("\"stack\": [", o);
	for (size_t i = 0; i < st->n; i++) {
		fputs(i ? ", {\"function\": " : "{\"function\": ", o);
		hp_json_str0(o, st->v[i].function);
		fputs(", \"file\": ", o);
		hp_json_str0(o, st->v[i].file);
		if (st->v[i].line)
			fprintf(o, ", \"line\": %u}", st->v[i].line);
		else
			fputs(", \"line\": null}", o);
	}
	putc(']', o);
	return 0;
}

static void checks_json(FILE *o, const struct hp_checklist *c)
{
	static const char *const verdict[] = {"N/A", "PASS", "FAIL"};
	fprintf(o, "  \"checks\": {\"failed\": %u, \"items\": [", c->failed);
	for (int i = 0; i < HP_CHECK_NITEMS; i++) {
		const struct hp_check_item *it = &c->item[i];
		fprintf(o, "%s\n    {\"key\": \"%s\", \"title\": \"%s\", \"verdict\": \"%s\", ",
			i ? "," : "", it->key, it->title, verdict[it->verdict]);
		fputs("\"measured\": ", o);
		if (it->unit[0] == '%')
			hp_json_number(o, it->measured);
		else
			jint(o, it->measured);
		fputs(", \"threshold\": ", o);
		if (it->unit[0] == '%' || it->unit[1] == '/')
			hp_json_number(o, it->threshold);
		else
			jint(o, it->threshold);
		fprintf(o, ", \"unit\": \"%s\", \"option\": ",
			it->unit[0] == '%' ? "fraction" : it->unit);
		hp_json_str0(o, it->option);
		fputs(", \"note\": ", o);
		hp_json_str0(o, it->note);
		putc('}', o);
	}
	fputs("\n  ]},\n", o);
}

static int growth_json(FILE *o, const struct hp_model *m, const struct hp_growth *g, unsigned top)
{
	fprintf(o, "  \"growth\": {\"enough\": %s, \"warmup\": \"%s\", \"warmup_end_s\": ",
		g->enough ? "true" : "false", g->warmup_mark ? "mark" : "first 10%");
	hp_json_number(o, g->warmup_end_s);
	fputs(", \"fit_to_s\": ", o);
	hp_json_number(o, g->fit_to_s);
	fprintf(o, ", \"points\": %zu,\n    \"growing_sites\": %zu, \"growing_bytes_per_s\": ",
		g->npoints, g->ngrowing);
	hp_json_number(o, g->growing_slope);
	fprintf(o, ", \"heap_bytes\": %" PRIu64 ", \"projection_base_bytes\": ", g->heap_bytes);
	jint(o, g->heap_base);
	fputs(", \"projected_heap_1h_bytes\": ", o);
	jint(o, g->heap_1h);
	fputs(", \"projected_heap_24h_bytes\": ", o);
	jint(o, g->heap_24h);
	if (g->budget) {
		fprintf(o, ",\n    \"budget_bytes\": %" PRIu64 ", \"budget_reached_in_s\": ",
			g->budget);
		if (g->budget_s < 0)
			fputs("null", o);
		else
			hp_json_number(o, g->budget_s);
	}
	fputs(",\n    \"sites\": [", o);
	size_t n = top && top < g->nsites ? top : g->nsites;
	struct hp_stack st = {0};
	for (size_t i = 0; i < n; i++) {
		const struct hp_growth_site *s = &g->sites[i];
		fprintf(o, "%s\n      {\"rank\": %zu, \"growing\": %s, \"slope_bytes_per_s\": ",
			i ? "," : "", i + 1, s->growing ? "true" : "false");
		hp_json_number(o, s->slope);
		fputs(", \"late_slope_bytes_per_s\": ", o);
		hp_json_number(o, s->late_slope);
		fputs(", \"r2\": ", o);
		hp_json_number(o, s->r2);
		fputs(", \"grew_share\": ", o);
		hp_json_number(o, s->grew_share);
		fprintf(o, ", \"live_bytes\": %" PRIu64 ",\n       \"projected_1h_bytes\": ",
			s->live_bytes);
		jint(o, s->fitted_end + s->slope * 3600);
		fputs(", \"projected_24h_bytes\": ", o);
		jint(o, s->fitted_end + s->slope * 86400);
		fputs(", ", o);
		if (jstack(o, m, &m->prof->sites[s->site], &st)) {
			hp_stack_release(&st);
			return -1;
		}
		putc('}', o);
	}
	hp_stack_release(&st);
	fputs(n ? "\n    ],\n    \"functions\": [" : "],\n    \"functions\": [", o);
	for (size_t i = 0; i < g->nfunctions; i++) {
		const struct hp_growth_function *f = &g->functions[i];
		fputs(i ? ",\n      {\"function\": " : "\n      {\"function\": ", o);
		hp_json_str0(o, f->function);
		fputs(", \"slope_bytes_per_s\": ", o);
		hp_json_number(o, f->slope);
		fprintf(o, ", \"live_bytes\": %" PRIu64 ", \"sites\": %zu}", f->live_bytes,
			f->nsites);
	}
	fputs(g->nfunctions ? "\n    ]},\n" : "]},\n", o);
	return 0;
}

static int series_json(FILE *o, const struct hp_model *m)
{
	const struct hp_profile *p = m->prof;
	const struct hp_series_info *se = &p->series;
	unsigned want = m->timeline_sites ? m->timeline_sites : DEFAULT_TIMELINE_SITES;
	size_t idx[26];
	size_t n = top_sites(m, idx, want);
	fputs("  \"series\": {\"bucket_s\": ", o);
	hp_json_number(o, se->bucket_s);
	fputs(", \"t_s\": [", o);
	for (size_t b = 0; b < se->nbuckets; b++) {
		if (b)
			fputs(", ", o);
		hp_json_number(o, se->process[b].t_s);
	}
	fputs("],\n    \"heap_bytes\": [", o);
	for (size_t b = 0; b < se->nbuckets; b++)
		fprintf(o, "%s%" PRIu64, b ? ", " : "", se->process[b].heap_bytes);
	fputs("],\n    \"rss_bytes\": [", o);
	for (size_t b = 0; b < se->nbuckets; b++) {
		if (b)
			fputs(", ", o);
		if (se->process[b].has_rss)
			fprintf(o, "%" PRIu64, se->process[b].rss_bytes);
		else
			fputs("null", o);
	}
	fputs("],\n    \"sites\": [", o);
	struct hp_stack st = {0};
	for (size_t k = 0; k < n; k++) {
		fputs(k ? ",\n      {" : "\n      {", o);
		if (jstack(o, m, &p->sites[idx[k]], &st)) {
			hp_stack_release(&st);
			return -1;
		}
		fputs(",\n       \"live_bytes\": [", o);
		for (size_t b = 0; b < se->nbuckets; b++)
			fprintf(o, "%s%" PRIu64, b ? ", " : "",
				p->sites[idx[k]].series[b].live_bytes);
		fputs("]}", o);
	}
	hp_stack_release(&st);
	fputs(n ? "\n    ]},\n" : "]},\n", o);
	return 0;
}

int hp_report_time_json(FILE *o, const struct hp_model *m, unsigned top)
{
	const struct hp_window_info *w = &m->prof->window;
	if (w->active) {
		fputs("  \"window\": {\"spec\": ", o);
		hp_json_str0(o, w->spec);
		fputs(", \"from_s\": ", o);
		hp_json_number(o, w->from_s);
		fputs(", \"to_s\": ", o);
		hp_json_number(o, w->to_s);
		fprintf(o, ", \"closed\": %s},\n", w->closed ? "true" : "false");
	}
	if (m->checklist) {
		const struct hp_busiest_window *b = &m->prof->busiest;
		checks_json(o, m->checklist);
		fprintf(o,
			"  \"busiest_window\": {\"width_s\": %.6g, \"bytes\": %" PRIu64
			", \"bytes_end_s\": %.6f, \"calls\": %" PRIu64
			", \"calls_end_s\": %.6f},\n",
			b->width_s, b->bytes, b->bytes_end_s, b->calls, b->calls_end_s);
	}
	if (m->growth) {
		if (growth_json(o, m, m->growth, top) || series_json(o, m))
			return -1;
	}
	return ferror(o) ? -1 : 0;
}
