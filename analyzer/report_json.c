/* --format json: docs/json-report.md, schema version 1. */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "output.h"
#include "report_leaks.h"
#include "report_time.h"

/* A JSON string: quotes, backslash and control characters escaped; bytes that are not
 * valid UTF-8 become U+FFFD so the document stays valid whatever a path holds. */
void hp_json_string(FILE *o, const char *prefix, const char *s, size_t n)
{
	putc('"', o);
	fputs(prefix, o); /* a literal of ours: nothing to escape */
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			putc('\\', o);
			putc((int)c, o);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			static const char esc[] = "btn\0fr";
			if (c >= 8 && c <= 13 && c != 11)
				fprintf(o, "\\%c", esc[c - 8]);
			else
				fprintf(o, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			putc((int)c, o);
			p++;
		} else {
			/* Validate one UTF-8 sequence. */
			size_t len = c >= 0xf0 && c <= 0xf4  ? 4
				     : c >= 0xe0	     ? 3
				     : c >= 0xc2 && c < 0xe0 ? 2
							     : 0;
			int ok = len && (size_t)(end - p) >= len;
			for (size_t i = 1; ok && i < len; i++)
				ok = (p[i] & 0xc0) == 0x80;
			if (ok && len == 3) {
				unsigned cp = ((c & 0x0f) << 12) | ((p[1] & 0x3f) << 6);
				ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
			}
			if (ok && len == 4) {
				unsigned cp = ((c & 0x07) << 18) | ((p[1] & 0x3fu) << 12);
				ok = cp >= 0x10000 && cp <= 0x10ffff;
			}
			if (ok) {
				fwrite(p, 1, len, o);
				p += len;
			} else {
				fputs("\\ufffd", o);
				p++;
			}
		}
	}
	putc('"', o);
}

static void jstr(FILE *o, const char *s, size_t n)
{
	hp_json_string(o, "", s, n);
}

void hp_json_str0(FILE *o, const char *s)
{
	if (s)
		jstr(o, s, strlen(s));
	else
		fputs("null", o);
}

void hp_json_number(FILE *o, double v)
{
	if (!isfinite(v))
		fputs("null", o);
	else
		fprintf(o, "%.6g", v);
}

void hp_json_frame(FILE *o, const struct hp_frame *f, int with_address)
{
	fputs("{\"function\": ", o);
	hp_json_str0(o, f->function);
	fputs(", \"file\": ", o);
	hp_json_str0(o, f->file);
	if (f->line)
		fprintf(o, ", \"line\": %u", f->line);
	else
		fputs(", \"line\": null", o);
	fputs(", \"module\": ", o);
	hp_json_str0(o, f->module_path);
	fprintf(o, ", \"inlined\": %s", f->inlined ? "true" : "false");
	if (with_address)
		fprintf(o, ", \"address\": \"0x%" PRIx64 "\"", f->address);
	putc('}', o);
}

static int site(FILE *o, const struct hp_model *m, const struct hp_site *s, struct hp_stack *st)
{
	if (hp_model_stack(m, s, 0, st))
		return -1;
	const struct hp_frame *f = st->v;
	size_t n = st->n;
	fputs("    {\n      \"stack\": [", o);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n        " : "\n        ", o);
		hp_json_frame(o, &f[i], 1);
	}
	fprintf(o,
		"%s],\n      \"allocations\": %" PRIu64 ", \"allocated_bytes\": %" PRIu64
		", \"peak_bytes\": %" PRIu64 ",\n      \"leaked_bytes\": %" PRIu64
		", \"leaked_allocations\": %" PRIu64 ", \"temporary_allocations\": %" PRIu64
		"\n    }",
		n ? "\n      " : "", s->allocations, s->allocated_bytes, s->peak_bytes,
		s->leaked_bytes, s->leaked_allocations, s->temporary);
	return 0;
}

/* One process object of docs/json-report.md (schema_version included), no newline after
 * the closing brace. */
static int report_json(FILE *o, const struct hp_model *in, unsigned top)
{
	const struct hp_profile *p = in->prof;
	fputs("{\n  \"schema_version\": 1,\n  \"trace\": {\"file\": ", o);
	hp_json_str0(o, in->file);
	fprintf(o, ", \"format_version\": %" PRIu64 ", \"complete\": %s,%s \"warnings\": [",
		p->header.version, in->complete ? "true" : "false",
		in->running ? " \"running\": true," : "");
	for (size_t i = 0; i < in->nwarnings; i++) {
		if (i)
			fputs(", ", o);
		hp_json_str0(o, in->warnings[i]);
	}
	fputs("]", o);
	if (p->attached) /* only then: pinned outputs stay as they are */
		fprintf(o, ", \"attached\": true, \"attached_at_realtime_s\": %.3f",
			(double)p->attached_realtime_ns / 1e9);
	fprintf(o, ", \"sampled\": %s, \"sample_bytes\": %" PRIu64 "},\n",
		(p->header.flags & HP_HDR_SAMPLED) || p->header.sample_bytes ? "true" : "false",
		p->header.sample_bytes);

	fprintf(o, "  \"process\": {\"pid\": %" PRIu64 ", \"ppid\": %" PRIu64 ", \"command\": ",
		p->header.pid, p->header.ppid);
	hp_json_str0(o, p->command);
	fputs(", \"exe\": ", o);
	hp_json_str0(o, p->header.exe);
	if (p->has_exit)
		fprintf(
		    o, ",\n              \"exit_status\": %" PRId64 ", \"exec\": ", p->exit_status);
	else
		fputs(",\n              \"exit_status\": null, \"exec\": ", o);
	hp_json_str0(o, p->exec_path);
	fputs("},\n", o);

	fputs("  \"summary\": {\n", o);
	if (p->sample_mean) /* only then: the golden output of complete traces is pinned */
		fputs("    \"estimated\": true,\n", o);
	fprintf(o,
		"    \"allocations\": %" PRIu64 ",\n    \"frees\": %" PRIu64
		",\n    \"allocated_bytes\": %" PRIu64 ",\n    \"peak_heap_bytes\": %" PRIu64
		",\n    \"peak_time_s\": ",
		p->allocations, p->frees, p->allocated_bytes, p->peak_heap_bytes);
	hp_json_number(o, p->peak_time_s);
	fprintf(o,
		",\n    \"peak_rss_bytes\": %" PRIu64 ",\n    \"leaked_bytes\": %" PRIu64
		",\n    \"leaked_allocations\": %" PRIu64
		",\n    \"temporary_allocations\": %" PRIu64 ",\n    \"duration_s\": ",
		p->peak_rss_bytes, p->leaked_bytes, p->leaked_allocations, p->temporary);
	hp_json_number(o, p->duration_s);
	fputs(",\n    \"allocation_rate_per_s\": ", o);
	hp_json_number(o, p->duration_s > 0 ? (double)p->allocations / p->duration_s : 0.0);
	fprintf(o, ",\n    \"threads\": %" PRIu64 "\n  },\n", p->threads);

	struct hp_rank *keys = malloc((p->nsites ? p->nsites : 1) * sizeof *keys);
	if (!keys)
		return -1;
	for (size_t i = 0; i < p->nsites; i++)
		keys[i] = (struct hp_rank){p->sites[i].peak_bytes, p->sites[i].allocated_bytes, i};
	qsort(keys, p->nsites, sizeof *keys, hp_rank_cmp);
	size_t n = top && top < p->nsites ? top : p->nsites;
	struct hp_stack st = {0};
	int rc = 0;
	fputs("  \"sites\": [", o);
	for (size_t i = 0; i < n && !rc; i++) {
		fputs(i ? ",\n" : "\n", o);
		rc = site(o, in, &p->sites[keys[i].index], &st);
	}
	free(keys);
	hp_stack_release(&st);
	if (rc)
		return -1;
	fputs(n ? "\n  ],\n" : "],\n", o);

	fputs("  \"timeline\": [", o);
	for (size_t i = 0; i < p->ntimeline; i++) {
		const struct hp_timeline_point *t = &p->timeline[i];
		fputs(i ? ",\n    {\"t_s\": " : "\n    {\"t_s\": ", o);
		hp_json_number(o, t->t_s);
		fprintf(o, ", \"heap_bytes\": %" PRIu64 ", \"rss_bytes\": ", t->heap_bytes);
		if (t->has_rss)
			fprintf(o, "%" PRIu64 "}", t->rss_bytes);
		else
			fputs("null}", o);
	}
	fputs(p->ntimeline ? "\n  ],\n" : "],\n", o);
	/* Only when there are some: the golden outputs of older traces stay as pinned. */
	if (p->nmarks) {
		fputs("  \"marks\": [", o);
		for (size_t i = 0; i < p->nmarks; i++) {
			const struct hp_mark *m = &p->marks[i];
			fputs(i ? ",\n    {\"t_s\": " : "\n    {\"t_s\": ", o);
			hp_json_number(o, m->t_s);
			fputs(", \"label\": ", o);
			jstr(o, m->label, m->label_len);
			fprintf(o, ", \"heap_bytes\": %" PRIu64 "}", m->heap_bytes);
		}
		fputs("\n  ],\n", o);
	}
	if (p->hint_allocations || p->nhint_sites) {
		fprintf(o,
			"  \"hints\": {\"allocations\": %" PRIu64 ", \"frees\": %" PRIu64
			", \"allocated_bytes\": %" PRIu64 ", \"peak_bytes\": %" PRIu64
			",\n            \"live_bytes\": %" PRIu64 ", \"live_allocations\": %" PRIu64
			", \"sites\": [",
			p->hint_allocations, p->hint_frees, p->hint_allocated_bytes,
			p->hint_peak_bytes, p->hint_live_bytes, p->hint_live_blocks);
		struct hp_rank *hk = malloc((p->nhint_sites ? p->nhint_sites : 1) * sizeof *hk);
		if (!hk)
			return -1;
		for (size_t i = 0; i < p->nhint_sites; i++)
			hk[i] = (struct hp_rank){p->hint_sites[i].peak_bytes,
						 p->hint_sites[i].allocated_bytes, i};
		qsort(hk, p->nhint_sites, sizeof *hk, hp_rank_cmp);
		size_t nh = top && top < p->nhint_sites ? top : p->nhint_sites;
		struct hp_stack hst = {0};
		for (size_t i = 0; i < nh && !rc; i++) {
			fputs(i ? ",\n" : "\n", o);
			rc = site(o, in, &p->hint_sites[hk[i].index], &hst);
		}
		free(hk);
		hp_stack_release(&hst);
		if (rc)
			return -1;
		fputs(nh ? "\n  ]},\n" : "]},\n", o);
	}
	if (hp_report_time_json(o, in, top))
		return -1;
	fputs("  \"leaks\": ", o);
	hp_leaks_print_json(o, &in->leaks, 2);
	fputs("\n}", o);
	return ferror(o) ? -1 : 0;
}

/* Several traces make one document: {"schema_version": 1, "processes": [...]}. */
static void begin_json(const struct hp_output_options *o)
{
	if (o->ntraces > 1)
		fputs("{\"schema_version\": 1, \"processes\": [", o->out);
}

static void end_json(const struct hp_output_options *o)
{
	if (o->ntraces > 1)
		fputs("\n]}\n", o->out);
}

static int write_json(const struct hp_model *m, const struct hp_output_options *o)
{
	if (o->ntraces > 1)
		fputs(o->index ? ",\n" : "\n", o->out);
	int rc = report_json(o->out, m, o->top);
	if (o->ntraces == 1)
		putc('\n', o->out);
	return rc;
}

const struct hp_output hp_output_json = {.name = "json",
					 .flags = HP_OUTPUT_LAZY_SYMBOLS,
					 .begin = begin_json,
					 .end = end_json,
					 .write = write_json};
