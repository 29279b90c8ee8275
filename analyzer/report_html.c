/* --html FILE: one self-contained HTML page (docs/html-report.md): summary cards, memory
 * over time, flame graphs of five kinds, tables of sites and leaks. The page holds its
 * data as one JSON document in a <script type="application/json"> element and renders it
 * with analyzer/html/report.js (embedded at build time, report_html_assets.h); nothing is
 * fetched when it is viewed.
 *
 * Size bound, whatever the trace (docs/html-report.md's table): the flame tree keeps at
 * most HTML_MAX_NODES nodes (each at least HTML_MIN_SHARE of a kind's total; smaller
 * children merged into "others", so at most 2 * HTML_MAX_NODES), their series at most
 * HTML_MAX_SERIES_POINTS points; the tables at most HTML_TOP_PER_KIND sites per kind,
 * HTML_STACKED_SITES and HTML_MAX_LEAKS leak groups, each stack HTML_MAX_STACK_FRAMES
 * frames and each name HTML_MAX_NAME bytes; the timeline HP_TIMELINE_MAX_POINTS. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flame.h"
#include "model.h"
#include "output.h"
#include "report.h"
#include "report_html_assets.h"
#include "series.h"

#define HTML_MAX_NODES 5000
#define HTML_MIN_SHARE 1e-4
#define HTML_TOP_PER_KIND 100
#define HTML_MAX_LEAKS 200
#define HTML_STACKED_SITES 8
#define HTML_MAX_SERIES_POINTS 65536
#define HTML_MAX_STACK_FRAMES 64
#define HTML_MAX_NAME 512

/* Frames shown by the page, each written once: index into m->frames -> id. */
struct frame_ids {
	int32_t *id; /* per m->frames entry, -1 until used */
	const struct hp_frame **used;
	size_t n;
};

static int32_t frame_id(struct frame_ids *ids, const struct hp_model *m, const struct hp_frame *f)
{
	size_t i = (size_t)(f - m->frames);
	if (ids->id[i] < 0) {
		ids->id[i] = (int32_t)ids->n;
		ids->used[ids->n++] = f;
	}
	return ids->id[i];
}

static void jstr0(FILE *o, const char *s)
{
	if (s)
		hp_json_string(o, "", s, strlen(s));
	else
		fputs("null", o);
}

/* A name of at most HTML_MAX_NAME bytes (a longer one cut, "..." after it). */
static void jstr_max(FILE *o, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (!s)
		fputs("null", o);
	else if (n <= HTML_MAX_NAME)
		hp_json_string(o, "", s, n);
	else {
		/* Cut before a UTF-8 continuation byte, never inside a character. */
		size_t cut = HTML_MAX_NAME;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
		char buf[HTML_MAX_NAME + 4];
		memcpy(buf, s, cut);
		memcpy(buf + cut, "...", 3);
		hp_json_string(o, "", buf, cut + 3);
	}
}

static void jnum(FILE *o, double v)
{
	if (v != v || v > 1e300 || v < -1e300)
		fputs("0", o);
	else
		fprintf(o, "%.6g", v);
}

/* The trimmed frames of a site, innermost first, as ids; of a stack deeper than
 * HTML_MAX_STACK_FRAMES, the innermost and the outermost, and in their place -3 - the
 * number of frames left out. */
static void site_stack(FILE *o, const struct hp_model *m, const struct hp_site *s,
		       struct frame_ids *ids)
{
	const struct hp_profile *p = m->prof;
	size_t k = 0, n = 0, depth = s->trim_hi > s->trim_lo ? s->trim_hi - s->trim_lo : 0;
	size_t inner = HTML_MAX_STACK_FRAMES * 3 / 4;
	size_t skip = depth > HTML_MAX_STACK_FRAMES ? depth - HTML_MAX_STACK_FRAMES : 0;
	putc('[', o);
	for (uint32_t li = 0; li < s->nlocations && k < s->trim_hi; li++) {
		const struct hp_location *l = &p->locations[s->locations[li]];
		for (uint32_t j = 0; j < l->nframes && k < s->trim_hi; j++, k++) {
			if (k < s->trim_lo || l->first_frame + j >= m->nframes)
				continue;
			size_t at = k - s->trim_lo;
			if (skip && at >= inner && at < inner + skip) {
				if (at == inner)
					fprintf(o, n++ ? ",%" PRId64 : "%" PRId64,
						-3 - (int64_t)skip);
				continue;
			}
			fprintf(o, n++ ? ",%" PRId32 : "%" PRId32,
				frame_id(ids, m, &m->frames[l->first_frame + j]));
		}
	}
	putc(']', o);
}

static uint64_t site_value(const struct hp_site *s, int kind)
{
	switch (kind) {
	case HP_FLAME_PEAK:
		return s->peak_bytes;
	case HP_FLAME_CALLS:
		return s->allocations;
	case HP_FLAME_ALLOCATED:
		return s->allocated_bytes;
	case HP_FLAME_LEAKED:
		return s->leaked_bytes;
	default:
		return s->temporary;
	}
}

/* The sites of the tables: the top HTML_TOP_PER_KIND of each kind, each once. */
static size_t table_sites(const struct hp_profile *p, size_t *out, unsigned char *taken)
{
	size_t n = 0;
	struct hp_rank *r = malloc((p->nsites ? p->nsites : 1) * sizeof *r);
	if (!r)
		return SIZE_MAX;
	for (int k = 0; k < HP_FLAME_KINDS; k++) {
		for (size_t i = 0; i < p->nsites; i++)
			r[i] = (struct hp_rank){site_value(&p->sites[i], k),
						p->sites[i].allocated_bytes, i};
		qsort(r, p->nsites, sizeof *r, hp_rank_cmp);
		for (size_t i = 0; i < p->nsites && i < HTML_TOP_PER_KIND && r[i].key; i++)
			if (!taken[r[i].index]) {
				taken[r[i].index] = 1;
				out[n++] = r[i].index;
			}
	}
	free(r);
	return n;
}

static uint64_t site_max_live(const struct hp_profile *p, const struct hp_site *s)
{
	uint64_t v = 0;
	for (size_t b = 0; s->series && b < p->series.nbuckets; b++)
		if (s->series[b].live_bytes > v)
			v = s->series[b].live_bytes;
	return v;
}

static const char *frame_label(const struct hp_frame *f)
{
	if (f->function)
		return f->function;
	if (f->module_path)
		return hp_basename(f->module_path);
	return "??";
}

/* Per flame node, the sum of the series of the sites ending there: what lets a range of
 * time re-scope the flame graph in the page. Sparse (non-empty buckets only) and at most
 * HTML_MAX_SERIES_POINTS points: buckets merge in pairs (hp_series_merge_site) until
 * they fit; *levels says how many times. */
static int node_series(FILE *o, const struct hp_profile *p, const struct hp_flame *fl,
		       unsigned *levels)
{
	size_t nb = p->series.nbuckets;
	*levels = 0;
	if (!nb || !fl->n)
		return 0;
	uint32_t *row = malloc(fl->n * sizeof *row);
	struct hp_site_point *tmp = malloc(nb * sizeof *tmp), *sum = NULL;
	size_t nrows = 0;
	if (!row || !tmp)
		goto oom;
	memset(row, 0xff, fl->n * sizeof *row);
	for (size_t s = 0; s < fl->nsites; s++)
		if (p->sites[s].series && row[fl->site_node[s]] == UINT32_MAX)
			row[fl->site_node[s]] = (uint32_t)nrows++;
	sum = calloc(nrows ? nrows * nb : 1, sizeof *sum);
	if (!sum)
		goto oom;
	for (size_t s = 0; s < fl->nsites; s++) {
		const struct hp_site_point *v = p->sites[s].series;
		if (!v)
			continue;
		struct hp_site_point *d = &sum[row[fl->site_node[s]] * nb];
		for (size_t b = 0; b < nb; b++) {
			d[b].allocations += v[b].allocations;
			d[b].allocated_bytes += v[b].allocated_bytes;
			d[b].live_bytes += v[b].live_bytes;
		}
	}
	for (;; (*levels)++) {
		size_t points = 0;
		for (size_t r = 0; r < nrows; r++) {
			memcpy(tmp, &sum[r * nb], nb * sizeof *tmp);
			size_t m = hp_series_merge_site(tmp, nb, *levels);
			for (size_t b = 0; b < m; b++)
				points += tmp[b].allocations || tmp[b].live_bytes;
		}
		if (points <= HTML_MAX_SERIES_POINTS || (nb >> *levels) <= 1)
			break;
	}
	int first = 1;
	for (size_t nd = 0; nd < fl->n; nd++) {
		if (row[nd] == UINT32_MAX)
			continue;
		memcpy(tmp, &sum[row[nd] * nb], nb * sizeof *tmp);
		size_t m = hp_series_merge_site(tmp, nb, *levels);
		fprintf(o, "%s[%zu", first ? "" : ",", nd);
		first = 0;
		for (size_t b = 0; b < m; b++)
			if (tmp[b].allocations || tmp[b].live_bytes)
				fprintf(o, ",%zu,%" PRIu64 ",%" PRIu64 ",%" PRIu64, b,
					tmp[b].allocations, tmp[b].allocated_bytes,
					tmp[b].live_bytes);
		putc(']', o);
	}
	free(row);
	free(tmp);
	free(sum);
	return 0;
oom:
	free(row);
	free(tmp);
	free(sum);
	return -1;
}

static int write_data(FILE *o, const struct hp_model *m)
{
	const struct hp_profile *p = m->prof;
	struct hp_flame fl;
	int rc = hp_flame_build(&fl, m);
	if (!rc)
		rc = hp_flame_prune(&fl, HTML_MAX_NODES, HTML_MIN_SHARE);
	struct frame_ids ids = {
	    .id = malloc((m->nframes ? m->nframes : 1) * sizeof *ids.id),
	    .used = malloc((m->nframes ? m->nframes : 1) * sizeof *ids.used),
	};
	size_t *tsites = malloc((p->nsites ? p->nsites : 1) * sizeof *tsites);
	unsigned char *taken = calloc(p->nsites ? p->nsites : 1, 1);
	size_t ntsites = tsites && taken ? table_sites(p, tsites, taken) : SIZE_MAX;
	if (rc || !ids.id || !ids.used || ntsites == SIZE_MAX) {
		hp_flame_release(&fl);
		free(ids.id);
		free(ids.used);
		free(tsites);
		free(taken);
		errno = rc ? -rc : ENOMEM;
		return -1;
	}
	memset(ids.id, 0xff, (m->nframes ? m->nframes : 1) * sizeof *ids.id);

	fputs("{\"version\":1,\"file\":", o);
	jstr0(o, m->file);
	fprintf(o, ",\"complete\":%d,\"running\":%d,\"warnings\":[", m->complete, m->running);
	for (size_t i = 0; i < m->nwarnings; i++) {
		if (i)
			putc(',', o);
		jstr0(o, m->warnings[i]);
	}
	fprintf(o, "],\"process\":{\"pid\":%" PRIu64 ",\"command\":", p->header.pid);
	jstr0(o, p->command);
	fputs(",\"exe\":", o);
	jstr0(o, p->header.exe);
	if (p->has_exit)
		fprintf(o, ",\"exit_status\":%" PRId64, p->exit_status);
	fprintf(o, ",\"threads\":%" PRIu64 ",\"sampled\":%d},\"summary\":{", p->threads,
		p->sample_mean != 0);
	fprintf(o,
		"\"peak_heap_bytes\":%" PRIu64 ",\"peak_rss_bytes\":%" PRIu64
		",\"allocations\":%" PRIu64 ",\"frees\":%" PRIu64 ",\"allocated_bytes\":%" PRIu64
		",\"leaked_bytes\":%" PRIu64 ",\"leaked_allocations\":%" PRIu64
		",\"temporary\":%" PRIu64 ",\"heap_bytes\":%" PRIu64 ",\"rss_bytes\":%" PRIu64
		",\"sites\":%zu,\"peak_time_s\":",
		p->peak_heap_bytes, p->peak_rss_bytes, p->allocations, p->frees, p->allocated_bytes,
		p->leaked_bytes, p->leaked_allocations, p->temporary, p->heap_bytes, p->rss_bytes,
		p->nsites);
	jnum(o, p->peak_time_s);
	fputs(",\"duration_s\":", o);
	jnum(o, p->duration_s);
	fprintf(o, "},\"leak_totals\":{\"scanned\":%d", m->leaks.have_scan);
	for (int k = 0; k < HP_LEAK_NKINDS; k++)
		fprintf(o, ",\"%s\":[%" PRIu64 ",%" PRIu64 "]", hp_leaks_kind_key(k),
			m->leaks.bytes[k], m->leaks.blocks[k]);
	fputs("},\"kinds\":[", o);
	for (int k = 0; k < HP_FLAME_KINDS; k++)
		fprintf(o, "%s\"%s\"", k ? "," : "", hp_flame_kind_name(k));

	/* The flame tree: per node parent, frame id (-1 the root, -2 "others"), merged
	 * count, and the value of each kind. */
	fprintf(o, "],\"flame_total_nodes\":%zu,\"nodes\":[", fl.n);
	for (size_t i = 0; i < fl.n; i++) {
		const struct hp_flame_node *nd = &fl.nodes[i];
		int32_t fid = nd->frame ? frame_id(&ids, m, nd->frame) : i ? -2 : -1;
		fprintf(o, "%s%" PRId64 ",%" PRId32 ",%" PRIu32, i ? "," : "",
			nd->parent == HP_FLAME_NONE ? (int64_t)-1 : (int64_t)nd->parent, fid,
			nd->merged);
		for (int k = 0; k < HP_FLAME_KINDS; k++)
			fprintf(o, ",%" PRIu64, nd->value[k]);
	}
	fputs("],\"node_series\":[", o);
	unsigned levels = 0;
	if (node_series(o, p, &fl, &levels))
		rc = -1;
	fprintf(o, "],\"node_series_merged\":%u", 1u << levels);

	fputs(",\"timeline\":[", o);
	for (size_t i = 0; i < p->ntimeline; i++) {
		const struct hp_timeline_point *t = &p->timeline[i];
		fputs(i ? ",[" : "[", o);
		jnum(o, t->t_s);
		fprintf(o, ",%" PRIu64 ",%" PRId64 "]", t->heap_bytes,
			t->has_rss ? (int64_t)t->rss_bytes : (int64_t)-1);
	}
	fputs("],\"series\":{\"bucket_s\":", o);
	jnum(o, p->series.bucket_s);
	fprintf(o, ",\"n\":%zu,\"process\":[", p->series.nbuckets);
	for (size_t b = 0; p->series.process && b < p->series.nbuckets; b++) {
		const struct hp_timeline_point *t = &p->series.process[b];
		fputs(b ? ",[" : "[", o);
		jnum(o, t->t_s);
		fprintf(o, ",%" PRIu64 "]", t->heap_bytes);
	}
	/* The sites stacked under the heap line: those with the most bytes live at once. */
	fputs("]},\"stacked\":[", o);
	struct hp_rank *r = malloc((p->nsites ? p->nsites : 1) * sizeof *r);
	if (!r)
		rc = -1;
	for (size_t i = 0; r && i < p->nsites; i++)
		r[i] = (struct hp_rank){site_max_live(p, &p->sites[i]), p->sites[i].peak_bytes, i};
	if (r)
		qsort(r, p->nsites, sizeof *r, hp_rank_cmp);
	for (size_t i = 0; r && i < p->nsites && i < HTML_STACKED_SITES && r[i].key; i++) {
		const struct hp_site *s = &p->sites[r[i].index];
		fprintf(o, "%s{\"site\":%zu,\"live\":[", i ? "," : "", r[i].index);
		for (size_t b = 0; b < p->series.nbuckets; b++)
			fprintf(o, b ? ",%" PRIu64 : "%" PRIu64, s->series[b].live_bytes);
		fputs("],\"stack\":", o);
		site_stack(o, m, s, &ids);
		putc('}', o);
		if (!taken[r[i].index]) {
			taken[r[i].index] = 1;
			tsites[ntsites++] = r[i].index;
		}
	}
	free(r);

	fputs("],\"marks\":[", o);
	for (size_t i = 0; i < p->nmarks; i++) {
		const struct hp_mark *mk = &p->marks[i];
		fputs(i ? ",[" : "[", o);
		jnum(o, mk->t_s);
		putc(',', o);
		hp_json_string(o, "", mk->label, mk->label_len);
		fprintf(o, ",%" PRIu64 "]", mk->heap_bytes);
	}

	/* Leak groups before the sites, so that their sites join the table. */
	fputs("],\"leaks\":[", o);
	for (size_t i = 0, n = 0; i < m->leaks.nsites && n < HTML_MAX_LEAKS; i++) {
		const struct hp_leak_site *ls = &m->leaks.sites[i];
		int64_t site = ls->stack && ls->stack <= p->nsites ? (int64_t)ls->stack - 1 : -1;
		fprintf(o, "%s[\"%s\",%" PRIu64 ",%" PRIu64 ",%" PRId64 "]", n++ ? "," : "",
			hp_leaks_kind_key(ls->kind), ls->bytes, ls->blocks, site);
		if (site >= 0 && !taken[site]) {
			taken[site] = 1;
			tsites[ntsites++] = (size_t)site;
		}
	}
	fputs("],\"sites\":[", o);
	for (size_t i = 0; i < ntsites; i++) {
		const struct hp_site *s = &p->sites[tsites[i]];
		fprintf(o,
			"%s{\"i\":%zu,\"peak\":%" PRIu64 ",\"calls\":%" PRIu64
			",\"allocated\":%" PRIu64 ",\"leaked\":%" PRIu64
			",\"leaked_blocks\":%" PRIu64 ",\"temporary\":%" PRIu64 ",\"stack\":",
			i ? "," : "", tsites[i], s->peak_bytes, s->allocations, s->allocated_bytes,
			s->leaked_bytes, s->leaked_allocations, s->temporary);
		site_stack(o, m, s, &ids);
		putc('}', o);
	}
	/* Every frame used above: function, file, line, module file name, inlined. */
	fputs("],\"frames\":[", o);
	for (size_t i = 0; i < ids.n; i++) {
		const struct hp_frame *f = ids.used[i];
		fputs(i ? ",[" : "[", o);
		jstr_max(o, frame_label(f));
		putc(',', o);
		jstr_max(o, f->file);
		fprintf(o, ",%u,", f->line);
		jstr0(o, f->module_path ? hp_basename(f->module_path) : NULL);
		fprintf(o, ",%d]", f->inlined);
	}
	fputs("]}", o);
	hp_flame_release(&fl);
	free(ids.id);
	free(ids.used);
	free(tsites);
	free(taken);
	if (rc)
		errno = ENOMEM;
	return rc ? -1 : 0;
}

/* Writes s, making "<" ">" "&" JSON escapes: inside a <script> element the text must
 * never hold "</script" or "<!--", and those characters only occur in JSON strings. */
static void put_script_json(FILE *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '<')
			fputs("\\u003c", o);
		else if (c == '>')
			fputs("\\u003e", o);
		else if (c == '&')
			fputs("\\u0026", o);
		else
			putc(c, o);
	}
}

static void put_html_text(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '<')
			fputs("&lt;", o);
		else if (*s == '>')
			fputs("&gt;", o);
		else if (*s == '&')
			fputs("&amp;", o);
		else
			putc(*s, o);
	}
}

static int write_html(const struct hp_model *m, const struct hp_output_options *oo)
{
	FILE *o = oo->out;
	char *data = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&data, &len);
	if (!mem)
		return -1;
	int rc = write_data(mem, m);
	int saved = errno;
	if (fclose(mem) && !rc) {
		rc = -1;
		saved = errno;
	}
	if (rc) {
		free(data);
		errno = saved;
		return -1;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"heapprof-analyze\">\n<title>heapprof: ",
	      o);
	put_html_text(o, m->prof->command && *m->prof->command ? m->prof->command : m->file);
	fputs("</title>\n<style>\n", o);
	fwrite(hp_html_css, 1, hp_html_css_len, o);
	fputs("</style>\n</head>\n<body>\n<div id=\"app\"><noscript>This report needs "
	      "JavaScript.</noscript></div>\n<script type=\"application/json\" id=\"hp-data\">",
	      o);
	put_script_json(o, data, len);
	fputs("</script>\n<script>\n", o);
	fwrite(hp_html_js, 1, hp_html_js_len, o);
	fputs("</script>\n</body>\n</html>\n", o);
	free(data);
	return ferror(o) ? -1 : 0;
}

const struct hp_output hp_output_html = {
    .name = "html", .flags = HP_OUTPUT_HIDDEN, .write = write_html};
