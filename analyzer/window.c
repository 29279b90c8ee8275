/* --at, --range and --from (window.h). */
#include "window.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One edge: "peak", "end", "start", seconds with an optional unit, or a mark label.
 * Returns 0 or -EINVAL with err set. */
static int parse_edge(struct hp_window_edge *e, const char *s, size_t n, char *err, size_t size)
{
	char buf[HP_WINDOW_LABEL_MAX];
	if (n >= sizeof buf) {
		snprintf(err, size, "a mark label is at most %d bytes", HP_WINDOW_LABEL_MAX - 1);
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(e, 0, sizeof *e);
	if (!n || strcmp(buf, "end") == 0 || strcmp(buf, "start") == 0)
		return 0; /* HP_EDGE_NONE: the trace's own edge */
	if (strcmp(buf, "peak") == 0) {
		e->kind = HP_EDGE_PEAK;
		return 0;
	}
	if (strncmp(buf, "mark:", 5) == 0) {
		if (!buf[5]) {
			snprintf(err, size, "empty mark label");
			return -EINVAL;
		}
		e->kind = HP_EDGE_MARK;
		memcpy(e->label, buf + 5, n - 4);
		return 0;
	}
	char *end;
	double v = strtod(buf, &end);
	if (end != buf && ((buf[0] >= '0' && buf[0] <= '9') || buf[0] == '.')) {
		double mult = !strcmp(end, "") || !strcmp(end, "s")	 ? 1
			      : !strcmp(end, "ms")			 ? 1e-3
			      : !strcmp(end, "us")			 ? 1e-6
			      : !strcmp(end, "m") || !strcmp(end, "min") ? 60
			      : !strcmp(end, "h")			 ? 3600
									 : -1;
		if (mult < 0 || !isfinite(v) || v < 0) {
			snprintf(err, size,
				 "expected seconds (2.5, 2.5s, 1500ms, 2m), peak, end or a mark "
				 "label (mark:LABEL)");
			return -EINVAL;
		}
		e->kind = HP_EDGE_SECONDS;
		e->seconds = v * mult;
		return 0;
	}
	e->kind = HP_EDGE_MARK;
	memcpy(e->label, buf, n + 1);
	return 0;
}

int hp_window_parse(struct hp_window *w, const char *opt, const char *arg, char *err, size_t size)
{
	char why[160];
	int rc = 0;
	why[0] = 0;
	if (!strcmp(opt, "range")) {
		const char *dots = strstr(arg, "..");
		if (!dots) {
			snprintf(why, sizeof why,
				 "expected A..B (seconds or mark labels; either may "
				 "be empty)");
			rc = -EINVAL;
		} else if (w->set) {
			snprintf(why, sizeof why, "--range takes the place of --at and --from");
			rc = -EINVAL;
		} else {
			rc = parse_edge(&w->from, arg, (size_t)(dots - arg), why, sizeof why);
			if (!rc)
				rc =
				    parse_edge(&w->to, dots + 2, strlen(dots + 2), why, sizeof why);
			if (!rc && w->from.kind == HP_EDGE_PEAK) {
				snprintf(why, sizeof why,
					 "a window can end at the peak, not start there");
				rc = -EINVAL;
			}
			if (!rc && w->from.kind == HP_EDGE_SECONDS &&
			    w->to.kind == HP_EDGE_SECONDS && w->to.seconds <= w->from.seconds) {
				snprintf(why, sizeof why, "the end must come after the start");
				rc = -EINVAL;
			}
		}
	} else {
		int at = !strcmp(opt, "at");
		struct hp_window_edge *e = at ? &w->to : &w->from;
		if (e->kind != HP_EDGE_NONE || (w->set && strstr(w->spec, "--range"))) {
			snprintf(why, sizeof why, "given twice, or with --range");
			rc = -EINVAL;
		} else {
			rc = parse_edge(e, arg, strlen(arg), why, sizeof why);
			if (!rc && !at && e->kind == HP_EDGE_PEAK) {
				snprintf(why, sizeof why,
					 "a window can end at the peak, not start there");
				rc = -EINVAL;
			}
		}
	}
	if (rc) {
		snprintf(err, size, "invalid --%s '%s': %s", opt, arg, why);
		return rc;
	}
	size_t len = strlen(w->spec);
	snprintf(w->spec + len, sizeof w->spec - len, "%s--%s %s", len ? " " : "", opt, arg);
	w->set = 1;
	return 0;
}
