/* heapprof-analyze --diff --html FILE BASE NEW: the diff of two runs as one self-contained
 * page (docs/diff.md, docs/html-report.md): the totals of both runs and their change, the
 * budgets of --fail-on-increase, a differential flame graph (both runs' stacks in one
 * tree: width the chosen run's share, colour the change, red grew and blue shrank) and
 * the table of the sites that changed most. Rendered by analyzer/html/diff.js.
 *
 * Size bound: the tree at most DIFF_MAX_NODES nodes (each at least DIFF_MIN_SHARE of a
 * kind's total in either run, smaller children merged into "others", so at most twice
 * that many), the table at most DIFF_TOP_PER_MEASURE sites per measure, stacks and names
 * as html_page.h bounds them. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flame.h"
#include "html_page.h"
#include "report.h"
#include "report_diff.h"
#include "report_html_assets.h"

#define DIFF_MAX_NODES 5000
#define DIFF_MIN_SHARE 1e-4
#define DIFF_TOP_PER_MEASURE 100

struct page {
	struct hp_diff *d;
	const struct hp_diff_budget *budget;
};

static void run_json(FILE *o, const struct hp_model *m)
{
	const struct hp_profile *p = m->prof;
	fputs("{\"file\":", o);
	hp_json_str0(o, m->file);
	fputs(",\"command\":", o);
	hp_json_str0(o, p->command);
	fputs(",\"exe\":", o);
	hp_json_str0(o, p->header.exe);
	fprintf(o, ",\"pid\":%" PRIu64 ",\"complete\":%d,\"sampled\":%d,\"duration_s\":",
		p->header.pid, m->complete, p->sample_mean != 0);
	hp_html_jnum(o, p->duration_s);
	putc('}', o);
}

static void side_json(FILE *o, const struct hp_diff_side *s)
{
	for (int k = 0; k < HP_DIFF_NMEASURES; k++)
		fprintf(o, k ? ",%" PRIu64 : "[%" PRIu64, s->value[k]);
	putc(']', o);
}

static int write_data(FILE *o, const void *arg)
{
	const struct page *pg = arg;
	struct hp_diff *d = pg->d;
	struct hp_flame fl;
	int rc = hp_flame_build_diff(&fl, d->base, d->new);
	if (!rc)
		rc = hp_flame_prune(&fl, DIFF_MAX_NODES, DIFF_MIN_SHARE);
	struct hp_html_frames ids;
	const struct hp_model *models[2] = {d->base, d->new};
	int idsrc = hp_html_frames_init(&ids, models, 2);
	struct hp_diff_site *picked =
	    malloc(HP_DIFF_NMEASURES * DIFF_TOP_PER_MEASURE * sizeof *picked);
	if (rc || idsrc || !picked) {
		hp_flame_release(&fl);
		hp_html_frames_release(&ids);
		free(picked);
		errno = rc ? -rc : ENOMEM;
		return -1;
	}

	fputs("{\"version\":1,\"runs\":[", o);
	run_json(o, d->base);
	putc(',', o);
	run_json(o, d->new);
	fprintf(o, "],\"matched\":%zu,\"added\":%zu,\"removed\":%zu,\"measures\":[", d->matched,
		d->added, d->removed);
	for (int k = 0; k < HP_DIFF_NMEASURES; k++)
		fprintf(o, "%s\"%s\"", k ? "," : "", hp_diff_measure_name(k));
	fputs("],\"totals\":{\"base\":", o);
	side_json(o, &d->base_total);
	fputs(",\"new\":", o);
	side_json(o, &d->new_total);
	fputs("},\"budgets\":[", o);
	for (int k = 0, n = 0; pg->budget && k < HP_DIFF_NMEASURES; k++) {
		if (!(pg->budget->set & (1u << k)))
			continue;
		fprintf(o, "%s[\"%s\",", n++ ? "," : "", hp_diff_measure_name(k));
		hp_html_jnum(o, pg->budget->percent[k]);
		fprintf(o, ",%d]", hp_diff_budget_exceeded(pg->budget, d, k));
	}
	fputs("],\"kinds\":[", o);
	for (int k = 0; k < HP_FLAME_KINDS; k++)
		fprintf(o, "%s\"%s\"", k ? "," : "", hp_flame_kind_name(k));

	fputs("],", o);
	hp_html_write_nodes(o, &ids, &fl); /* NEW's values, then BASE's */

	/* The sites that changed most by each measure, each once (an entry is its pair of
	 * first sites, unique, as sorting moves the entries); the stack BASE's, or NEW's
	 * for a site only NEW has (as the text report shows it). */
	fputs(",\"sites\":[", o);
	size_t n = 0;
	for (int k = 0; k < HP_DIFF_NMEASURES; k++) {
		hp_diff_sort(d, k);
		for (size_t i = 0; i < d->nsites && i < DIFF_TOP_PER_MEASURE; i++) {
			const struct hp_diff_site *e = &d->sites[i];
			if (!hp_diff_delta(&e->base, &e->new, k))
				break; /* sorted by the size of the change: the rest are 0 */
			size_t j = 0;
			while (j < n && (picked[j].base.site != e->base.site ||
					 picked[j].new.site != e->new.site))
				j++;
			if (j == n)
				picked[n++] = *e;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct hp_diff_site *e = &picked[i];
		fprintf(o,
			"%s{\"key\":\"%016" PRIx64 "\",\"status\":\"%s\",\"base\":", i ? "," : "",
			e->key,
			!e->base.site  ? "added"
			: !e->new.site ? "removed"
				       : "matched");
		side_json(o, &e->base);
		fputs(",\"new\":", o);
		side_json(o, &e->new);
		fputs(",\"stack\":", o);
		if (e->base.site)
			hp_html_site_stack(o, &ids, d->base, e->base.site);
		else
			hp_html_site_stack(o, &ids, d->new, e->new.site);
		putc('}', o);
	}
	fputs("],", o);
	hp_html_write_frames(o, &ids);
	putc('}', o);
	hp_flame_release(&fl);
	hp_html_frames_release(&ids);
	free(picked);
	return 0;
}

int hp_diff_write_html(struct hp_diff *d, const struct hp_diff_budget *budget,
		       const struct hp_output_options *o)
{
	const struct page pg = {d, budget};
	const char *title =
	    d->new->prof->command && * d->new->prof->command ? d->new->prof->command : d->new->file;
	return hp_html_write_page(o->out, title, write_data, &pg, hp_html_diff_js,
				  hp_html_diff_js_len);
}
