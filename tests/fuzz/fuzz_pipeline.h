/* What heapprof-analyze does with an untrusted trace, minus symbolization, for the fuzz
 * targets: reader -> the analysis model (replay, leak join, suppressions) -> every output
 * format of the table (output.h); then the same bytes again through --dump. Nothing here
 * opens a file named by the trace; output goes to /dev/null.
 *
 * Besides the sanitizers, a few contracts are checked (a violation aborts, which
 * libFuzzer reports as a crash):
 *   - after -1, every later hp_reader_next() returns -1 again;
 *   - hp_reader_format_error() and hp_read_error_name() give NUL-terminated strings;
 *   - a decode error is never HP_READ_OK, and a clean end never leaves an error set;
 *   - LEAK_BLOCKS: v1 addresses ascending, v2 slot keys nonzero and 16-aligned, classes
 *     at most definite;
 *   - hp_dump() sees the same outcome (end or error) as the model;
 *   - the model's sites: trimmed range within the stack, key = hp_stack_key() of the
 *     trimmed frames, series within HP_SERIES_BUCKETS and, unsampled, summing to the
 *     site's totals;
 *   - a model diffed with itself (diff.h, all three diff reports) changes nothing.
 * Inputs of odd size load the model as the command line does (symbols on demand), even
 * ones as formats that read keys and locations need it. */
#ifndef HP_FUZZ_PIPELINE_H
#define HP_FUZZ_PIPELINE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "dump.h"
#include "model.h"
#include "output.h"
#include "reader.h"
#include "report_diff.h"
#include "suppress.h"

#define HP_FUZZ_CHECK(c)                                                                           \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: fuzz contract violated: %s\n", __FILE__, __LINE__, \
				#c);                                                               \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static FILE *hp_fuzz_sink(void)
{
	static FILE *f;
	if (!f && !(f = fopen("/dev/null", "w")))
		abort();
	return f;
}

static void hp_fuzz_check_model(const struct hp_model *m, int lazy)
{
	const struct hp_profile *p = m->prof;
	struct hp_stack st = {0};
	HP_FUZZ_CHECK(p->ntimeline <= HP_TIMELINE_MAX_POINTS);
	HP_FUZZ_CHECK(p->series.nbuckets <= HP_SERIES_BUCKETS);
	for (size_t i = 0; i < p->nlocations && !lazy; i++)
		HP_FUZZ_CHECK(p->locations[i].nframes >= 1 &&
			      p->locations[i].first_frame + p->locations[i].nframes <= m->nframes);
	for (size_t i = 0; i < p->nsites + p->nhint_sites; i++) {
		const struct hp_site *s =
		    i < p->nsites ? &p->sites[i] : &p->hint_sites[i - p->nsites];
		if (!lazy) {
			HP_FUZZ_CHECK(s->trim_lo <= s->trim_hi && s->trim_hi <= s->nframes);
			HP_FUZZ_CHECK(s->nframes >= s->nlocations);
		}
		if (hp_model_stack(m, s, 0, &st) == 0 && !lazy) {
			HP_FUZZ_CHECK(st.n == s->trim_hi - s->trim_lo);
			HP_FUZZ_CHECK(hp_stack_key(st.v, st.n) == s->key);
		}
		if (hp_model_stack(m, s, HP_STACK_UNTRIMMED, &st) == 0)
			HP_FUZZ_CHECK(st.n >= s->nlocations);
		HP_FUZZ_CHECK(!s->hint || !s->series);
		if (p->sample_mean || !s->series)
			continue;
		uint64_t calls = 0, bytes = 0;
		for (size_t k = 0; k < p->series.nbuckets; k++) {
			calls += s->series[k].allocations;
			bytes += s->series[k].allocated_bytes;
		}
		HP_FUZZ_CHECK(calls == s->allocations && bytes == s->allocated_bytes);
		HP_FUZZ_CHECK(s->series[p->series.nbuckets - 1].live_bytes == s->leaked_bytes);
	}
	hp_stack_release(&st);
}

/* Every format that reads a model, as with --top 5 and with --top 0. */
static void hp_fuzz_outputs(const struct hp_model *m)
{
	const struct hp_output *f;
	for (size_t i = 0; (f = hp_output_get(i)) != NULL; i++) {
		if (!f->write)
			continue;
		for (unsigned top = 0; top <= 5; top += 5) {
			struct hp_output_options o = {
			    .out = hp_fuzz_sink(),
			    .top = top,
			    .unicode = 1,
			    .leaks_flags = 1, /* HP_LEAKS_PRINT_SUPPRESSIONS */
			    .leak_kinds = 0xf,
			    .ntraces = 1,
			};
			if (f->begin)
				f->begin(&o);
			f->write(m, &o);
			if (f->end)
				f->end(&o);
		}
	}
}

/* --diff of the model with itself, in each of its reports (text, JSON, the page with its
 * differential flame graph): nothing added or removed, no site changed. */
static void hp_fuzz_self_diff(const struct hp_model *m)
{
	struct hp_diff d;
	if (hp_diff_build(&d, m, m) == 0) {
		HP_FUZZ_CHECK(d.added == 0 && d.removed == 0);
		for (size_t i = 0; i < d.nsites; i++)
			for (int k = 0; k < HP_DIFF_NMEASURES; k++)
				HP_FUZZ_CHECK(hp_diff_delta(&d.sites[i].base, &d.sites[i].new,
							    (enum hp_diff_measure)k) == 0);
		struct hp_diff_budget b = {.set = 0xf};
		struct hp_output_options o = {.out = hp_fuzz_sink(), .top = 5, .ntraces = 2};
		hp_diff_write_text(&d, &o);
		hp_diff_write_json(&d, &o);
		hp_diff_write_html(&d, &b, &o);
		HP_FUZZ_CHECK(hp_diff_budget_check(&b, &d, "fuzz", hp_fuzz_sink()) == 0);
	}
	hp_diff_release(&d);
}

/* The reader's contracts on each item, as the model takes it. */
static void hp_fuzz_item(void *ctx, const struct hp_reader *r, const struct hp_item *it)
{
	(void)ctx;
	if (it->kind != HP_REC_LEAK_BLOCKS)
		return;
	for (uint32_t i = 0; i < it->u.leak_blocks.count; i++) {
		/* v1: ascending addresses; v2: slots' keys in any order; v3: block keys (0:
		 * none) in any order */
		HP_FUZZ_CHECK(hp_reader_version(r) != 1 || i == 0 ||
			      it->u.leak_blocks.addr[i] > it->u.leak_blocks.addr[i - 1]);
		HP_FUZZ_CHECK(hp_reader_version(r) != 2 ||
			      (it->u.leak_blocks.addr[i] && !(it->u.leak_blocks.addr[i] & 15)));
		HP_FUZZ_CHECK(it->u.leak_blocks.cls[i] <= HP_LEAK_DEFINITE);
	}
}

/* `dump`: also run the bytes through hp_dump(). fuzz_reader leaves it out: its inputs are
 * mostly stopped by zstd, and decompressing a 16 MiB frame twice halves its speed. */
static int hp_fuzz_pipeline(const uint8_t *data, size_t size, int dump)
{
	struct hp_reader *r = hp_reader_open_mem(data, size, "fuzz");
	if (!r)
		return 0;
	struct hp_suppressions base;
	hp_suppress_init(&base);
	hp_suppress_add_defaults(&base);
	/* Odd sizes take the command line's path (symbols on demand), even ones the model
	 * filled for formats that read keys and locations. */
	int lazy = (int)(size & 1);
	const struct hp_analysis_options ao = {
	    .no_symbols = 1, .suppressions = &base, .item = hp_fuzz_item, .lazy_symbols = lazy};
	struct hp_model m;
	int rc = hp_model_load_reader(&m, r, "fuzz", &ao);
	int outcome = -2; /* out of memory: nothing to compare */
	struct hp_item it;
	char msg[256];
	if (hp_reader_error(r) != HP_READ_OK) {
		outcome = -1;
		HP_FUZZ_CHECK(rc != 0);
		HP_FUZZ_CHECK(hp_reader_next(r, &it) == -1);
		const char *e = hp_reader_format_error(r, msg, sizeof msg);
		HP_FUZZ_CHECK(e && memchr(e, 0, sizeof msg));
		HP_FUZZ_CHECK(strlen(hp_read_error_name(hp_reader_error(r))) > 0);
		HP_FUZZ_CHECK(memchr(m.error, 0, sizeof m.error) && m.error[0]);
	} else if (rc == 0) {
		outcome = 0;
		hp_fuzz_check_model(&m, lazy);
		hp_fuzz_outputs(&m);
		if (!lazy)
			hp_fuzz_self_diff(&m);
	}
	hp_model_release(&m);
	hp_suppress_release(&base);
	hp_reader_free(r);

	/* --dump decodes the same bytes through the same reader: same outcome. */
	if (dump && outcome != -2 && (r = hp_reader_open_mem(data, size, "fuzz"))) {
		int d = hp_dump(hp_fuzz_sink(), r);
		HP_FUZZ_CHECK(d == outcome);
		hp_reader_free(r);
	}
	return 0;
}

#endif
