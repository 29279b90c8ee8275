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

#include "checklist.h"
#include "flame.h"
#include "html_page.h"
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

static int write_data(FILE *o, const void *model)
{
	const struct hp_model *m = model;
	const struct hp_profile *p = m->prof;
	struct hp_flame fl;
	int rc = hp_flame_build(&fl, m);
	if (!rc)
		rc = hp_flame_prune(&fl, HTML_MAX_NODES, HTML_MIN_SHARE);
	struct hp_html_frames ids;
	int idsrc = hp_html_frames_init(&ids, &m, 1);
	size_t *tsites = malloc((p->nsites ? p->nsites : 1) * sizeof *tsites);
	unsigned char *taken = calloc(p->nsites ? p->nsites : 1, 1);
	size_t ntsites = tsites && taken ? table_sites(p, tsites, taken) : SIZE_MAX;
	if (rc || idsrc || ntsites == SIZE_MAX) {
		hp_flame_release(&fl);
		hp_html_frames_release(&ids);
		free(tsites);
		free(taken);
		errno = rc ? -rc : ENOMEM;
		return -1;
	}

	fputs("{\"version\":1,\"file\":", o);
	hp_json_str0(o, m->file);
	fprintf(o, ",\"complete\":%d,\"running\":%d,\"warnings\":[", m->complete, m->running);
	for (size_t i = 0; i < m->nwarnings; i++) {
		if (i)
			putc(',', o);
		hp_json_str0(o, m->warnings[i]);
	}
	fprintf(o, "],\"process\":{\"pid\":%" PRIu64 ",\"command\":", p->header.pid);
	hp_json_str0(o, p->command);
	fputs(",\"exe\":", o);
	hp_json_str0(o, p->header.exe);
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
	hp_html_jnum(o, p->peak_time_s);
	fputs(",\"duration_s\":", o);
	hp_html_jnum(o, p->duration_s);
	fprintf(o, "},\"leak_totals\":{\"scanned\":%d", m->leaks.have_scan);
	for (int k = 0; k < HP_LEAK_NKINDS; k++)
		fprintf(o, ",\"%s\":[%" PRIu64 ",%" PRIu64 "]", hp_leaks_kind_key(k),
			m->leaks.bytes[k], m->leaks.blocks[k]);
	/* The memory checklist (with the defaults unless --check's options were given). */
	fputs("},\"checklist\":", o);
	if (m->checklist) {
		static const char *const verdict[] = {"na", "pass", "fail"};
		const struct hp_checklist *c = m->checklist;
		fprintf(o, "{\"failed\":%u,\"items\":[", c->failed);
		for (int i = 0; i < HP_CHECK_NITEMS; i++) {
			const struct hp_check_item *it = &c->item[i];
			char a[48], b[48];
			fprintf(o, "%s[\"%s\",", i ? "," : "", it->key);
			hp_json_str0(o, it->title);
			fprintf(o, ",\"%s\",", verdict[it->verdict]);
			hp_json_str0(o, hp_checklist_value(it, it->measured, a));
			putc(',', o);
			hp_json_str0(o, hp_checklist_value(it, it->threshold, b));
			putc(',', o);
			hp_json_str0(o, it->option);
			putc(',', o);
			hp_json_str0(o, it->note);
			putc(']', o);
		}
		fputs("]}", o);
	} else {
		fputs("null", o);
	}
	fputs(",\"kinds\":[", o);
	for (int k = 0; k < HP_FLAME_KINDS; k++)
		fprintf(o, "%s\"%s\"", k ? "," : "", hp_flame_kind_name(k));

	fprintf(o, "],\"flame_total_nodes\":%zu,", fl.n);
	hp_html_write_nodes(o, &ids, &fl);
	fputs(",\"node_series\":[", o);
	unsigned levels = 0;
	if (node_series(o, p, &fl, &levels))
		rc = -1;
	fprintf(o, "],\"node_series_merged\":%u", 1u << levels);

	fputs(",\"timeline\":[", o);
	for (size_t i = 0; i < p->ntimeline; i++) {
		const struct hp_timeline_point *t = &p->timeline[i];
		fputs(i ? ",[" : "[", o);
		hp_html_jnum(o, t->t_s);
		fprintf(o, ",%" PRIu64 ",%" PRId64 "]", t->heap_bytes,
			t->has_rss ? (int64_t)t->rss_bytes : (int64_t)-1);
	}
	fputs("],\"series\":{\"bucket_s\":", o);
	hp_html_jnum(o, p->series.bucket_s);
	fprintf(o, ",\"n\":%zu,\"process\":[", p->series.nbuckets);
	for (size_t b = 0; p->series.process && b < p->series.nbuckets; b++) {
		const struct hp_timeline_point *t = &p->series.process[b];
		fputs(b ? ",[" : "[", o);
		hp_html_jnum(o, t->t_s);
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
		hp_html_site_stack(o, &ids, m, s);
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
		hp_html_jnum(o, mk->t_s);
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
		hp_html_site_stack(o, &ids, m, s);
		putc('}', o);
	}
	fputs("],", o);
	hp_html_write_frames(o, &ids);
	putc('}', o);
	hp_flame_release(&fl);
	hp_html_frames_release(&ids);
	free(tsites);
	free(taken);
	if (rc)
		errno = ENOMEM;
	return rc ? -1 : 0;
}

static int write_html(const struct hp_model *m, const struct hp_output_options *oo)
{
	const struct hp_profile *p = m->prof;
	return hp_html_write_page(oo->out, p->command && *p->command ? p->command : m->file,
				  write_data, m, hp_html_report_js, hp_html_report_js_len);
}

const struct hp_output hp_output_html = {
    .name = "html", .flags = HP_OUTPUT_HIDDEN | HP_OUTPUT_CHECKLIST, .write = write_html};
