/* The reports of a diff of two runs (diff.h): text, JSON and HTML (docs/diff.md). They read the
 * struct hp_diff and the two models it points to, nothing else. Not thread-safe. */
#ifndef HP_REPORT_DIFF_H
#define HP_REPORT_DIFF_H

#include "diff.h"
#include "output.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The text report: the runs, the change of the totals, then per measure the top o->top
 * sites (0: all) whose figure changed, largest change first, each with its stack. Laid
 * out for o->width columns, coloured when o->color. Sorts d->sites. Returns 0, or -1
 * with errno set. */
int hp_diff_write_text(struct hp_diff *d, const struct hp_output_options *o);

/* The JSON document of docs/diff.md; o->top sites (0: all) by the change of peak, then
 * of the other measures. Sorts d->sites. Returns 0, or -1 with errno set. */
int hp_diff_write_json(struct hp_diff *d, const struct hp_output_options *o);

/* The page of --diff --html (report_diff_html.c): the totals, the budgets (NULL or none
 * set: no budgets), the differential flame graph and the sites that changed most. Sorts
 * d->sites. Returns 0, or -1 with errno set. */
int hp_diff_write_html(struct hp_diff *d, const struct hp_diff_budget *budget,
		       const struct hp_output_options *o);

#ifdef __cplusplus
}
#endif
#endif
