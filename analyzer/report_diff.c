/* The reports of a diff (report_diff.h): text for people, JSON for scripts and CI. */
#include "report_diff.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "report.h"
#include "term.h"

static const char *figure(char *buf, int m, uint64_t v)
{
	return m == HP_DIFF_CALLS ? hp_human_count(buf, v) : hp_human_bytes(buf, v);
}

/* "+512.0 KiB", "-30", "0 B": a signed change in the measure's unit. */
static const char *change(char *buf, int m, int64_t d)
{
	char b[32];
	uint64_t mag = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
	snprintf(buf, 40, "%s%s", d > 0 ? "+" : d < 0 ? "-" : "", figure(b, m, mag));
	return buf;
}

/* "+50.0%", "-100.0%", "new" (from nothing), "" (no change). */
static const char *percent(char *buf, uint64_t base, uint64_t new)
{
	double p = hp_diff_percent(base, new);
	if (base == new)
		buf[0] = 0;
	else if (isinf(p))
		snprintf(buf, 32, "new");
	else if (fabs(p) >= 1e6)
		snprintf(buf, 32, "%+.3g%%", p);
	else
		snprintf(buf, 32, "%+.1f%%", p);
	return buf;
}

static const char *tone(const struct hp_output_options *o, uint64_t base, uint64_t new)
{
	return base == new ? ""
			   : hp_term_style(o->color, new > base ? HP_STYLE_WORSE : HP_STYLE_BETTER);
}

static const char *reset(const struct hp_output_options *o, uint64_t base, uint64_t new)
{
	return base == new ? "" : hp_term_style(o->color, HP_STYLE_RESET);
}

static void run_line(FILE *f, const char *label, const struct hp_model *m)
{
	fprintf(f, "  %-6s ", label);
	hp_dump_string(f, m->file, strlen(m->file));
	if (m->prof->command) {
		fputs("  (", f);
		hp_dump_string(f, m->prof->command, strlen(m->prof->command));
		putc(')', f);
	}
	if (!m->complete)
		fputs(m->running ? "  [still running]" : "  [incomplete]", f);
	putc('\n', f);
}

static void totals_text(FILE *f, const struct hp_diff *d, const struct hp_output_options *o)
{
	/* 2 + 16 + 3 x 14 + 9 = 69 columns; narrower terminals get no padding. */
	int wide = o->width >= 70;
	fprintf(f, "\n%stotals%s%s\n", hp_term_style(o->color, HP_STYLE_TITLE),
		hp_term_style(o->color, HP_STYLE_RESET),
		wide ? "                      base           new        change" : "");
	for (int m = 0; m < HP_DIFF_NMEASURES; m++) {
		char a[32], b[32], c[40], p[32];
		uint64_t x = d->base_total.value[m], y = d->new_total.value[m];
		const char *t = hp_diff_measure_title((enum hp_diff_measure)m);
		figure(a, m, x);
		figure(b, m, y);
		change(c, m, hp_diff_delta(&d->base_total, &d->new_total, (enum hp_diff_measure)m));
		percent(p, x, y);
		if (wide)
			fprintf(f, "  %-16s %14s%14s%s%14s %8s%s\n", t, a, b, tone(o, x, y), c, p,
				reset(o, x, y));
		else
			fprintf(f, "  %s: %s -> %s, %s%s%s%s%s\n", t, a, b, tone(o, x, y), c,
				*p ? " " : "", p, reset(o, x, y));
	}
}

static int site_text(FILE *f, const struct hp_diff *d, const struct hp_diff_site *e, int m,
		     size_t rank, const struct hp_output_options *o, struct hp_stack *st)
{
	char a[32], b[32], c[40], p[32], r[32];
	uint64_t x = e->base.value[m], y = e->new.value[m];
	snprintf(r, sizeof r, "#%zu", rank);
	fprintf(f, "  %s%-4s%s %s%s%s%s%s  %s -> %s%s\n", hp_term_style(o->color, HP_STYLE_RANK), r,
		hp_term_style(o->color, HP_STYLE_RESET), tone(o, x, y),
		change(c, m, hp_diff_delta(&e->base, &e->new, (enum hp_diff_measure)m)),
		*percent(p, x, y) ? " " : "", p, reset(o, x, y), figure(a, m, x), figure(b, m, y),
		!e->base.site  ? "  (new site)"
		: !e->new.site ? "  (gone)"
			       : "");
	/* The other measures' changes, on one line (or one each when it does not fit). */
	char line[256];
	size_t len = 0;
	for (int k = 0; k < HP_DIFF_NMEASURES; k++) {
		if (k == m)
			continue;
		change(c, k, hp_diff_delta(&e->base, &e->new, (enum hp_diff_measure)k));
		int n = snprintf(line + len, sizeof line - len, "%s%s %s", len ? ", " : "",
				 hp_diff_measure_name((enum hp_diff_measure)k), c);
		if (n > 0 && (size_t)n < sizeof line - len)
			len += (size_t)n;
	}
	if (8 + len <= o->width) {
		fprintf(f, "        %s\n", line);
	} else {
		for (int k = 0; k < HP_DIFF_NMEASURES; k++)
			if (k != m)
				fprintf(f, "        %s %s\n",
					hp_diff_measure_name((enum hp_diff_measure)k),
					change(c, k,
					       hp_diff_delta(&e->base, &e->new,
							     (enum hp_diff_measure)k)));
	}
	const struct hp_model *model = e->base.site ? d->base : d->new;
	const struct hp_site *s = e->base.site ? e->base.site : e->new.site;
	if (hp_model_stack(model, s, 0, st))
		return -1;
	if (!st->n)
		fputs("        (no stack)\n", f);
	for (size_t i = 0; i < st->n; i++)
		hp_report_print_frame(f, &st->v[i], o->color);
	return 0;
}

int hp_diff_write_text(struct hp_diff *d, const struct hp_output_options *o)
{
	FILE *f = o->out;
	fprintf(f, "%sheapprof diff%s\n", hp_term_style(o->color, HP_STYLE_TITLE),
		hp_term_style(o->color, HP_STYLE_RESET));
	run_line(f, "base", d->base);
	run_line(f, "new", d->new);
	fprintf(f, "  sites  %zu in both, %zu new, %zu gone (matched by function, file and line)\n",
		d->matched, d->added, d->removed);
	if (d->base->prof->sample_mean || d->new->prof->sample_mean)
		fputs("  sampled: figures are estimates\n", f);
	totals_text(f, d, o);

	unsigned top = o->top;
	struct hp_stack st = {0};
	int rc = 0;
	for (int m = 0; m < HP_DIFF_NMEASURES && !rc; m++) {
		hp_diff_sort(d, (enum hp_diff_measure)m);
		size_t n = 0;
		while (n < d->nsites && d->sites[n].base.value[m] != d->sites[n].new.value[m])
			n++;
		size_t shown = top && top < n ? top : n;
		fprintf(f, "\n%stop %zu change%s of %s%s\n",
			hp_term_style(o->color, HP_STYLE_TITLE), shown, shown == 1 ? "" : "s",
			hp_diff_measure_title((enum hp_diff_measure)m),
			hp_term_style(o->color, HP_STYLE_RESET));
		if (!n)
			fputs("  (none)\n", f);
		for (size_t i = 0; i < shown && !rc; i++)
			rc = site_text(f, d, &d->sites[i], m, i + 1, o, &st);
	}
	hp_stack_release(&st);
	if (rc)
		return -1;
	return ferror(f) ? -1 : 0;
}

static void json_figures(FILE *f, const char *name, uint64_t x, uint64_t y)
{
	double p = hp_diff_percent(x, y);
	fprintf(f, "\"%s\": {\"base\": %" PRIu64 ", \"new\": %" PRIu64 ", \"change\": ", name, x,
		y);
	if (y >= x)
		fprintf(f, "%" PRIu64, y - x);
	else
		fprintf(f, "-%" PRIu64, x - y);
	if (isinf(p))
		fputs(", \"percent\": null}", f);
	else
		fprintf(f, ", \"percent\": %.6f}", p);
}

static void json_side_figures(FILE *f, const struct hp_diff_side *x, const struct hp_diff_side *y,
			      const char *indent)
{
	for (int m = 0; m < HP_DIFF_NMEASURES; m++) {
		fputs(indent, f);
		json_figures(f, hp_diff_measure_name((enum hp_diff_measure)m), x->value[m],
			     y->value[m]);
		fputs(",\n", f);
	}
	fputs(indent, f);
	json_figures(f, "leaked_allocations", x->leaked_allocations, y->leaked_allocations);
	fputs(",\n", f);
	fputs(indent, f);
	json_figures(f, "temporary", x->temporary, y->temporary);
}

static void json_run(FILE *f, const char *name, const struct hp_model *m)
{
	fprintf(f, "    \"%s\": {\"file\": ", name);
	hp_json_str0(f, m->file);
	fputs(", \"command\": ", f);
	hp_json_str0(f, m->prof->command);
	fprintf(f,
		", \"pid\": %" PRIu64 ", \"complete\": %s, \"sampled\": %s, \"sites\": %zu"
		"},\n",
		m->prof->header.pid, m->complete ? "true" : "false",
		m->prof->sample_mean ? "true" : "false", m->prof->nsites);
}

static int json_site(FILE *f, const struct hp_diff *d, const struct hp_diff_site *e,
		     struct hp_stack *st)
{
	const struct hp_model *model = e->base.site ? d->base : d->new;
	const struct hp_site *s = e->base.site ? e->base.site : e->new.site;
	if (hp_model_stack(model, s, 0, st))
		return -1;
	fprintf(f,
		"      {\"key\": \"%016" PRIx64 "\", \"status\": \"%s\", \"base_sites\": %" PRIu32
		", \"new_sites\": %" PRIu32 ",\n       \"stack\": [",
		e->key,
		!e->base.site  ? "added"
		: !e->new.site ? "removed"
			       : "matched",
		e->base.nsites, e->new.nsites);
	for (size_t i = 0; i < st->n; i++) {
		/* No address: it differs between the two runs. */
		fputs(i ? ",\n         " : "\n         ", f);
		hp_json_frame(f, &st->v[i], 0);
	}
	fputs(st->n ? "\n       ],\n" : "],\n", f);
	json_side_figures(f, &e->base, &e->new, "       ");
	fputs("}", f);
	return 0;
}

int hp_diff_write_json(struct hp_diff *d, const struct hp_output_options *o)
{
	FILE *f = o->out;
	hp_diff_sort(d, HP_DIFF_PEAK);
	fputs("{\n  \"schema_version\": 1,\n  \"diff\": {\n", f);
	json_run(f, "base", d->base);
	json_run(f, "new", d->new);
	fputs("    \"totals\": {\n", f);
	json_side_figures(f, &d->base_total, &d->new_total, "      ");
	fprintf(f,
		"\n    },\n    \"sites_matched\": %zu, \"sites_added\": %zu, \"sites_removed\": "
		"%zu,\n    \"sites\": [",
		d->matched, d->added, d->removed);
	size_t n = o->top && o->top < d->nsites ? o->top : d->nsites;
	struct hp_stack st = {0};
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		fputs(i ? ",\n" : "\n", f);
		rc = json_site(f, d, &d->sites[i], &st);
	}
	hp_stack_release(&st);
	if (rc)
		return -1;
	fputs(n ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n", f);
	return ferror(f) ? -1 : 0;
}
