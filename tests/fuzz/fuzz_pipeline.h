/* What heapprof-analyze does with an untrusted trace, minus symbolization, for the fuzz
 * targets: reader -> replay -> reports (text, JSON) and, when the analyzer has them, the
 * leak join and leak reports; then the same bytes again through --dump. Nothing here
 * opens a file named by the trace; output goes to /dev/null.
 *
 * Besides the sanitizers, a few contracts of reader.h are checked (a violation aborts,
 * which libFuzzer reports as a crash):
 *   - after -1, every later hp_reader_next() returns -1 again;
 *   - hp_reader_format_error() and hp_read_error_name() give NUL-terminated strings;
 *   - a decode error is never HP_READ_OK, and a clean end never leaves an error set;
 *   - hp_dump() sees the same outcome (end or error) as the pull loop. */
#ifndef HP_FUZZ_PIPELINE_H
#define HP_FUZZ_PIPELINE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "reader.h"
#include "replay.h"
#include "report.h"
#include "resolve.h"
#ifdef HP_FUZZ_HAVE_LEAKS
#include "leaks.h"
#include "suppress.h"
#endif
#ifdef HP_FUZZ_HAVE_REPORT_LEAKS
#include "report_leaks.h"
#endif

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

static void hp_fuzz_warn(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

#ifdef HP_FUZZ_HAVE_LEAKS
/* The live set at the end, computed apart from replay.c (which does not expose its own
 * yet): every touch of an address in order; an address is live when its last touch is an
 * allocation. Capped so a huge input cannot make the harness itself the slow part. */
#define HP_FUZZ_MAX_TOUCHES (1u << 20)
struct hp_fuzz_touch {
	uint64_t addr, size, seq;
	uint32_t stack;
	int alloc;
};
struct hp_fuzz_live {
	struct hp_fuzz_touch *t;
	size_t n, cap;
	uint64_t seq;
};

static void hp_fuzz_touch(struct hp_fuzz_live *l, uint64_t addr, uint64_t size, uint32_t stack,
			  int alloc)
{
	if (l->n == l->cap) {
		if (l->cap >= HP_FUZZ_MAX_TOUCHES)
			return;
		size_t c = l->cap ? 2 * l->cap : 256;
		struct hp_fuzz_touch *nt = realloc(l->t, c * sizeof *nt);
		if (!nt)
			abort();
		l->t = nt;
		l->cap = c;
	}
	l->t[l->n++] = (struct hp_fuzz_touch){addr, size, l->seq++, stack, alloc};
}

static int hp_fuzz_touch_cmp(const void *a, const void *b)
{
	const struct hp_fuzz_touch *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Synthetic frames so that suppression matching runs: a libc module for odd stacks, a
 * function name for the others. */
static int hp_fuzz_resolve(void *ctx, uint32_t stack, int untrimmed, struct hp_leak_frame *out,
			   int max)
{
	(void)ctx;
	(void)untrimmed;
	if (!stack || max < 2)
		return 0;
	memset(out, 0, 2 * sizeof *out);
	out[0].module = (stack & 1) ? "/lib/x86_64-linux-gnu/libc.so.6" : "/usr/bin/test";
	out[0].function = (stack & 2) ? "_dl_allocate_tls" : NULL;
	out[0].address = stack;
	out[1].function = "main";
	out[1].file = "test.c";
	out[1].line = stack;
	return (stack & 4) ? 2 : 1;
}
#endif

static void hp_fuzz_reports(const struct hp_profile *p, int truncated)
{
	struct hp_resolver *res = hp_resolver_new(p, 0, hp_fuzz_warn, NULL);
	if (!res)
		return;
	const char *warnings[] = {"fuzz"};
	struct hp_report_input in = {
	    .file = "fuzz",
	    .prof = p,
	    .res = res,
	    .complete = !truncated,
	    .warnings = warnings,
	    .nwarnings = 1,
	    .top = 5,
	};
	hp_report_text(hp_fuzz_sink(), &in, 1);
	in.top = 0;
	hp_report_json(hp_fuzz_sink(), &in);
	for (size_t i = 0; i < p->nsites; i++) {
		const struct hp_resolved_frame *f;
		size_t n = hp_resolve_site(res, &p->sites[i], &f);
		HP_FUZZ_CHECK(n <= p->sites[i].nframes || p->sites[i].nframes == 0);
	}
	hp_resolver_free(res);
}

/* `dump`: also run the bytes through hp_dump(). fuzz_reader leaves it out: its inputs are
 * mostly stopped by zstd, and decompressing a 16 MiB frame twice halves its speed. */
static int hp_fuzz_pipeline(const uint8_t *data, size_t size, int dump)
{
	struct hp_reader *r = hp_reader_open_mem(data, size, "fuzz");
	if (!r)
		return 0;
	struct hp_replay *rp = hp_replay_new();
	if (!rp) {
		hp_reader_free(r);
		return 0;
	}
#ifdef HP_FUZZ_HAVE_LEAKS
	struct hp_leaks lk;
	struct hp_suppressions base;
	struct hp_fuzz_live live = {0};
	hp_suppress_init(&base);
	hp_suppress_add_defaults(&base);
	hp_leaks_init(&lk, &base);
#endif
	struct hp_item it;
	int n;
	while ((n = hp_reader_next(r, &it)) > 0) {
		if (hp_replay_item(rp, &it)) {
			n = -2;
			break;
		}
#ifdef HP_FUZZ_HAVE_LEAKS
		switch (it.kind) {
		case HP_ITEM_ALLOC:
			hp_fuzz_touch(&live, it.u.ev.addr, it.u.ev.size, it.u.ev.stack, 1);
			break;
		case HP_ITEM_FREE:
			hp_fuzz_touch(&live, it.u.ev.addr, 0, 0, 0);
			break;
		case HP_ITEM_REALLOC:
			hp_fuzz_touch(&live, it.u.ev.old, 0, 0, 0);
			hp_fuzz_touch(&live, it.u.ev.addr, it.u.ev.size, it.u.ev.stack, 1);
			break;
		case HP_REC_LEAK_SCAN: {
			struct hp_leak_scan s = {.time = it.u.leak_scan.time,
						 .flags = it.u.leak_scan.flags,
						 .nblocks = it.u.leak_scan.nblocks};
			memcpy(s.bytes, it.u.leak_scan.bytes, sizeof s.bytes);
			memcpy(s.blocks, it.u.leak_scan.blocks, sizeof s.blocks);
			hp_leaks_set_scan(&lk, &s);
			break;
		}
		case HP_REC_SUPPRESSIONS:
			hp_leaks_add_program_suppressions(&lk, it.u.suppressions.text,
							  it.u.suppressions.text_len);
			break;
		case HP_REC_LEAK_BLOCKS:
			for (uint32_t i = 0; i < it.u.leak_blocks.count; i++) {
				/* v1: ascending addresses; v2: slots' keys in any order;
				 * v3: block keys (0: none) in any order */
				HP_FUZZ_CHECK(hp_reader_version(r) != 1 || i == 0 ||
					      it.u.leak_blocks.addr[i] >
						  it.u.leak_blocks.addr[i - 1]);
				HP_FUZZ_CHECK(
				    hp_reader_version(r) != 2 ||
				    (it.u.leak_blocks.addr[i] && !(it.u.leak_blocks.addr[i] & 15)));
				HP_FUZZ_CHECK(it.u.leak_blocks.cls[i] <= HP_LEAK_DEFINITE);
				hp_leaks_add_block(&lk, it.u.leak_blocks.addr[i],
						   it.u.leak_blocks.cls[i]);
			}
			break;
		}
#endif
	}
	char msg[256];
	if (n == -1) {
		HP_FUZZ_CHECK(hp_reader_error(r) != HP_READ_OK);
		HP_FUZZ_CHECK(hp_reader_next(r, &it) == -1);
		const char *m = hp_reader_format_error(r, msg, sizeof msg);
		HP_FUZZ_CHECK(m && memchr(m, 0, sizeof msg));
		HP_FUZZ_CHECK(strlen(hp_read_error_name(hp_reader_error(r))) > 0);
	} else if (n == 0) {
		HP_FUZZ_CHECK(hp_reader_error(r) == HP_READ_OK);
		const struct hp_profile *p = hp_replay_finish(rp);
		if (p) {
			HP_FUZZ_CHECK(p->ntimeline <= HP_TIMELINE_MAX_POINTS);
			hp_fuzz_reports(p, hp_reader_truncated(r));
		}
#ifdef HP_FUZZ_HAVE_LEAKS
		if (live.n > 1)
			qsort(live.t, live.n, sizeof *live.t, hp_fuzz_touch_cmp);
		for (size_t i = 0; i < live.n; i++)
			if ((i + 1 == live.n || live.t[i + 1].addr != live.t[i].addr) &&
			    live.t[i].alloc)
				hp_leaks_add_live(&lk, live.t[i].addr, live.t[i].size,
						  live.t[i].stack);
		hp_leaks_finish(&lk, hp_fuzz_resolve, NULL);
#ifdef HP_FUZZ_HAVE_REPORT_LEAKS
		hp_leaks_print_text(hp_fuzz_sink(), &lk, HP_LEAKS_PRINT_SUPPRESSIONS);
		hp_leaks_print_json(hp_fuzz_sink(), &lk, 2);
		hp_leaks_print_lsan(hp_fuzz_sink(), &lk, 42, 0xf);
#endif
#endif
	}
	int outcome = n;
#ifdef HP_FUZZ_HAVE_LEAKS
	free(live.t);
	hp_leaks_release(&lk);
	hp_suppress_release(&base);
#endif
	hp_replay_free(rp);
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
