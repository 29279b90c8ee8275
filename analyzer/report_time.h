/* The time-aware parts of the text and JSON reports (docs/time-analysis.md): the window
 * a report describes, the memory checklist of --check, "Suspected leaks (growing, still
 * reachable)" and the timeline of the top sites stacked, RSS and marks. Each reads the
 * model only (m->prof, m->growth, m->checklist) and writes nothing when its part is
 * absent. Not thread-safe (stacks of a lazily symbolized model). */
#ifndef HP_REPORT_TIME_H
#define HP_REPORT_TIME_H

#include <stdio.h>

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "  window       ..." under the report's header, when a window was asked for. */
void hp_report_window_text(FILE *o, const struct hp_model *m);

/* The checklist and the growth sections, each after a blank line. top: sites shown (0
 * all). Returns 0 or -1 (ENOMEM). */
int hp_report_time_text(FILE *o, const struct hp_model *m, unsigned top);

/* The live heap of the top sites stacked, with RSS and marks, when growth is shown.
 * Returns 0 or -1 (ENOMEM). */
int hp_report_timeline_text(FILE *o, const struct hp_model *m);

/* The "window", "checks", "growth" and "series" members of a JSON process object, each
 * "  \"name\": {...},\n", those present only. Returns 0 or -1 (ENOMEM). */
int hp_report_time_json(FILE *o, const struct hp_model *m, unsigned top);

#ifdef __cplusplus
}
#endif
#endif
