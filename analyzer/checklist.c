/* The memory checklist of --check (checklist.h). */
#include "checklist.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "growth.h"
#include "model.h"
#include "report.h"

/* The smallest live heap fragmentation is told from: below it the recorder's buffers,
 * the allocator's own pages and the program's stacks dominate RSS's growth. */
#define FRAG_MIN_HEAP (4u << 20)

void hp_time_options_init(struct hp_time_options *o)
{
	*o = (struct hp_time_options){
	    .max_growth = -1,
	    .max_peak = HP_TIME_UNSET,
	    .max_rss = HP_TIME_UNSET,
	    .max_alloc_rate = HP_TIME_UNSET,
	    .max_alloc_calls = HP_TIME_UNSET,
	    .max_fragmentation = -1,
	};
}

const char *hp_checklist_value(const struct hp_check_item *it, double v, char *buf)
{
	char b[32];
	if (!isfinite(v) || v < 0)
		snprintf(buf, 48, "-");
	else if (it->unit[0] == '%')
		snprintf(buf, 48, "%.1f%%", v * 100);
	else if (it->unit[0] == 'c')
		snprintf(buf, 48, "%s calls/s", hp_human_count(b, hp_round_u64(v)));
	else if (it->unit[1] == '/')
		snprintf(buf, 48, "%s/s", hp_human_bytes(b, hp_round_u64(v)));
	else
		snprintf(buf, 48, "%s", hp_human_bytes(b, hp_round_u64(v)));
	return buf;
}

static void judge(struct hp_check_item *it)
{
	it->verdict = it->measured <= it->threshold ? HP_VERDICT_PASS : HP_VERDICT_FAIL;
}

static uint64_t or_default(uint64_t v, uint64_t budget, uint64_t dflt)
{
	return v != HP_TIME_UNSET ? v : budget ? budget : dflt;
}

/* RSS the heap does not use, estimated from the timeline: at the last point where RSS
 * is at its peak, (RSS - first RSS sample - live heap) / (RSS - first RSS sample). */
static void fragmentation(const struct hp_profile *p, struct hp_check_item *it)
{
	const struct hp_timeline_point *peak = NULL;
	uint64_t base = 0;
	int have_base = 0;
	for (size_t i = 0; i < p->ntimeline; i++) {
		const struct hp_timeline_point *t = &p->timeline[i];
		if (!t->has_rss)
			continue;
		if (!have_base) {
			base = t->rss_bytes;
			have_base = 1;
		}
		if (!peak || t->rss_bytes >= peak->rss_bytes)
			peak = t;
	}
	if (!peak || p->peak_heap_bytes < FRAG_MIN_HEAP || peak->rss_bytes <= base) {
		it->verdict = HP_VERDICT_NA;
		snprintf(it->note, sizeof it->note, "%s",
			 !peak ? "no RSS sample in the trace"
			       : "a peak heap under 4 MiB: too small to tell from RSS");
		return;
	}
	double share = (double)(peak->rss_bytes - base);
	double unused = share - (double)peak->heap_bytes;
	it->measured = unused > 0 ? unused / share : 0;
	char a[32], b[32], c[32];
	snprintf(it->note, sizeof it->note,
		 "an estimate: at %.3f s RSS %s, %s over its first sample, live heap %s", peak->t_s,
		 hp_human_bytes(a, peak->rss_bytes), hp_human_bytes(b, peak->rss_bytes - base),
		 hp_human_bytes(c, peak->heap_bytes));
	judge(it);
}

int hp_checklist_compute(const struct hp_model *m, const struct hp_time_options *o,
			 struct hp_checklist **out)
{
	const struct hp_profile *p = m->prof;
	const struct hp_growth *g = m->growth;
	struct hp_checklist *c = calloc(1, sizeof *c);
	*out = c;
	if (!c)
		return -ENOMEM;
	static const struct {
		const char *key, *title, *option, *unit;
	} spec[HP_CHECK_NITEMS] = {
	    {"heap_stable", "heap stable under load", "--max-growth", "B/s"},
	    {"no_leaks", "no definite or indirect leaks", NULL, "B"},
	    {"peak_heap", "peak heap", "--max-peak", "B"},
	    {"peak_rss", "peak RSS", "--max-rss", "B"},
	    {"alloc_rate", "allocation rate, busiest 1 s", "--max-alloc-rate", "B/s"},
	    {"alloc_calls", "allocation calls, busiest 1 s", "--max-alloc-calls", "calls/s"},
	    {"fragmentation", "fragmentation", "--max-fragmentation", "%"},
	};
	for (int i = 0; i < HP_CHECK_NITEMS; i++) {
		struct hp_check_item *it = &c->item[i];
		it->key = spec[i].key;
		it->title = spec[i].title;
		it->option = spec[i].option;
		it->unit = spec[i].unit;
		it->measured = it->threshold = NAN;
	}
	char a[32];
	uint64_t budget = o->budget;

	struct hp_check_item *it = &c->item[HP_CHECK_HEAP_STABLE];
	it->threshold = o->max_growth >= 0
			    ? o->max_growth
			    : HP_CHECK_DEFAULT_GROWTH_PER_HOUR * (double)p->peak_heap_bytes / 3600;
	if (!g || !g->enough) {
		snprintf(it->note, sizeof it->note,
			 "too few points after warm-up to fit growth (%zu, %d needed)",
			 g ? g->npoints : 0, HP_GROWTH_MIN_POINTS);
	} else {
		it->measured = g->ngrowing ? g->sites[0].slope : 0;
		if (g->ngrowing)
			snprintf(it->note, sizeof it->note,
				 "%zu growing site%s; the fastest is #1 of \"Suspected leaks\"",
				 g->ngrowing, g->ngrowing == 1 ? "" : "s");
		else
			snprintf(it->note, sizeof it->note, "no site grows steadily after warm-up");
		judge(it);
	}

	it = &c->item[HP_CHECK_NO_LEAKS];
	it->threshold = 0;
	if (m->leaks.have_scan && m->leaks.finished) {
		it->measured =
		    (double)(m->leaks.bytes[HP_LEAK_DEFINITE] + m->leaks.bytes[HP_LEAK_INDIRECT]);
		snprintf(it->note, sizeof it->note,
			 "%" PRIu64 " definitely and %" PRIu64 " indirectly lost blocks",
			 m->leaks.blocks[HP_LEAK_DEFINITE], m->leaks.blocks[HP_LEAK_INDIRECT]);
		judge(it);
	} else {
		snprintf(it->note, sizeof it->note, "%s",
			 p->window.closed ? "the leak scan is of the exit, after the window"
					  : "no leak scan in the trace (HEAPPROF_LEAK_SCAN=0, or "
					    "the process did not exit)");
	}

	it = &c->item[HP_CHECK_PEAK_HEAP];
	it->threshold = (double)or_default(o->max_peak, budget, HP_CHECK_DEFAULT_BUDGET);
	it->measured = (double)p->peak_heap_bytes;
	snprintf(it->note, sizeof it->note, "at %.3f s", p->peak_time_s);
	judge(it);

	it = &c->item[HP_CHECK_PEAK_RSS];
	it->threshold = (double)or_default(o->max_rss, budget, HP_CHECK_DEFAULT_BUDGET);
	if (p->peak_rss_bytes) {
		it->measured = (double)p->peak_rss_bytes;
		judge(it);
	} else {
		snprintf(it->note, sizeof it->note, "no RSS sample in the trace");
	}

	const struct hp_busiest_window *bw = &p->busiest;
	double w = bw->width_s > 0 ? bw->width_s : 1;
	double from_s = p->window.active ? p->window.from_s : 0;
	int short_run = p->duration_s - from_s < w;
	it = &c->item[HP_CHECK_ALLOC_RATE];
	it->threshold = (double)or_default(o->max_alloc_rate, 0, HP_CHECK_DEFAULT_ALLOC_RATE);
	it->measured = (double)bw->bytes; /* in a window of 1 s: per second */
	snprintf(it->note, sizeof it->note, "%s in (%.3f s, %.3f s]%s",
		 hp_human_bytes(a, bw->bytes), fmax(bw->bytes_end_s - w, 0), bw->bytes_end_s,
		 short_run ? "; the run is shorter than 1 s: all of it" : "");
	judge(it);

	it = &c->item[HP_CHECK_ALLOC_CALLS];
	it->threshold = (double)or_default(o->max_alloc_calls, 0, HP_CHECK_DEFAULT_ALLOC_CALLS);
	it->measured = (double)bw->calls;
	snprintf(it->note, sizeof it->note, "%s calls in (%.3f s, %.3f s]%s",
		 hp_human_count(a, bw->calls), fmax(bw->calls_end_s - w, 0), bw->calls_end_s,
		 short_run ? "; the run is shorter than 1 s: all of it" : "");
	judge(it);

	it = &c->item[HP_CHECK_FRAGMENTATION];
	it->threshold =
	    o->max_fragmentation >= 0 ? o->max_fragmentation : HP_CHECK_DEFAULT_FRAGMENTATION;
	fragmentation(p, it);

	for (int i = 0; i < HP_CHECK_NITEMS; i++)
		c->failed += c->item[i].verdict == HP_VERDICT_FAIL;
	return 0;
}
