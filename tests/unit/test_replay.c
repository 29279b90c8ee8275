/* analyzer/replay.c: exact totals, peak, per-site numbers, temporaries and leaks on
 * known event sequences, with threads merged by time across EVENTS records and rounds. */
#include "check.h"
#include "trace_builder.h"

#include <math.h>
#include <stdlib.h>

#include "reader.h"
#include "replay.h"
#include "sampling.h"
#include "window.h"

#define A 0x10000
#define B 0x20000
#define C 0x30000
#define D 0x40000
#define E 0x1234567 /* unaligned: the _ABS forms */

static const uint64_t seg[][3] = {{0x0, 0x10000, 5}};

/* Replays a built trace with `buckets` per site series (0: the default); returns the
 * profile (owned by *rp). */
static const struct hp_profile *replay_n(struct tb *b, struct hp_replay **rp, unsigned buckets)
{
	struct hp_reader *r = hp_reader_open_mem(b->out.data, b->out.len, "t.zst");
	*rp = hp_replay_new(buckets);
	struct hp_item it;
	int rc;
	while ((rc = hp_reader_next(r, &it)) > 0)
		CHECK(hp_replay_item(*rp, &it) == 0);
	CHECK(rc == 0);
	hp_reader_free(r);
	const struct hp_profile *p = hp_replay_finish(*rp);
	CHECK(p != NULL);
	return p;
}

static const struct hp_profile *replay(struct tb *b, struct hp_replay **rp)
{
	return replay_n(b, rp, 0);
}

/* The site whose innermost frame has this module-relative address. */
static const struct hp_site *site_at(const struct hp_profile *p, uint64_t vaddr)
{
	for (size_t i = 0; i < p->nsites; i++)
		if (p->sites[i].nlocations &&
		    p->locations[p->sites[i].locations[0]].address == vaddr)
			return &p->sites[i];
	return NULL;
}

/*   t   thread  event                      heap
 *   10  T0      alloc 100 A  (stack 1)      100
 *   20  T1      alloc 200 B  (stack 2)      300
 *   30  T0      free A       temporary      200
 *   40  T1      alloc 50 A   (stack 2)      250   address reused across threads
 *   50  T0      alloc 1000 C (stack 3 = 1)  1250
 *   60  T1      free B                      1050
 *   70  T0      realloc C->D 2000 (stack 1) 2050  peak; releasing C is temporary
 *   80  T1      free A                      2000
 *   90  T0      free unknown                2000  ignored
 *  100  T0      alloc 7 E (stack 2)         2007
 * T1's events are written before T0's in each round, so only a merge by time orders
 * A's free (t=30) before its reuse (t=40). */
static void test_two_threads(void)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.pid = 7, .exe = "/bin/prog"});
	tb_module(&b, 1, "/bin/prog", "", 0, 0x400000, 1, seg);
	uint64_t s1[] = {0x401000, 0x402000}, s2[] = {0x401100, 0x402000};
	tb_stack(&b, 1, 2, s1);
	tb_stack(&b, 2, 2, s2);
	tb_stack(&b, 3, 2, s1); /* same frames as stack 1 */
	tb_thread(&b, 0, 7, 0);
	tb_thread(&b, 1, 8, 0);
	tb_alloc(&b, 1, 20, 200, 2, B);
	tb_alloc(&b, 1, 40, 50, 2, A);
	tb_flush_events(&b);
	tb_alloc(&b, 0, 10, 100, 1, A);
	tb_free(&b, 0, 30, A);
	tb_alloc(&b, 0, 50, 1000, 3, C);
	tb_flush_events(&b);
	tb_round(&b, 45);
	tb_frame(&b);
	tb_free(&b, 1, 60, B);
	tb_free(&b, 1, 80, A);
	tb_flush_events(&b);
	tb_realloc(&b, 0, 70, C, 2000, 1, D);
	tb_free(&b, 0, 90, 0xdead0);
	tb_alloc(&b, 0, 100, 7, 2, E);
	tb_flush_events(&b);
	tb_round(&b, 150);
	tb_rss(&b, 120, 4096);
	tb_exit(&b, 190, 0);
	tb_end(&b, 200, 10, 0);
	tb_frame(&b);

	struct hp_replay *rp;
	const struct hp_profile *p = replay(&b, &rp);
	CHECK_U64(p->allocations, 6);
	CHECK_U64(p->frees, 4);
	CHECK_U64(p->allocated_bytes, 3357);
	CHECK_U64(p->peak_heap_bytes, 2050);
	CHECK(fabs(p->peak_time_s - 70e-9) < 1e-15);
	CHECK_U64(p->leaked_bytes, 2007);
	CHECK_U64(p->leaked_allocations, 2);
	CHECK_U64(p->temporary, 2);
	CHECK_U64(p->threads, 2);
	CHECK_U64(p->peak_rss_bytes, 4096);
	CHECK(fabs(p->duration_s - 200e-9) < 1e-15);
	CHECK(p->has_exit && p->exit_status == 0);
	CHECK_U64(p->nsites, 2);

	const struct hp_site *x = site_at(p, 0x1000), *y = site_at(p, 0x1100);
	CHECK(x && y);
	if (x && y) {
		CHECK_U64(x->allocations, 3);
		CHECK_U64(x->allocated_bytes, 3100);
		CHECK_U64(x->peak_bytes, 2000);
		CHECK_U64(x->peak_allocations, 1); /* D */
		CHECK_U64(x->object_size, 0);	   /* 100, 1000, 2000 */
		CHECK_U64(x->leaked_bytes, 2000);
		CHECK_U64(x->leaked_allocations, 1);
		CHECK_U64(x->temporary, 2);
		CHECK_U64(x->nlocations, 2);
		CHECK_U64(p->locations[x->locations[1]].address, 0x2000);
		CHECK_U64(p->locations[x->locations[1]].ip, 0x402000);
		CHECK(p->locations[x->locations[0]].module == 0);
		/* Locations in order of first appearance, shared between stacks. */
		CHECK_U64(p->nlocations, 3);
		CHECK_U64(x->locations[0], 0);
		CHECK_U64(x->locations[1], 1);
		CHECK_U64(y->locations[0], 2);
		CHECK_U64(y->locations[1], 1);
		CHECK_U64(y->allocations, 3);
		CHECK_U64(y->allocated_bytes, 257);
		CHECK_U64(y->peak_bytes, 50);
		CHECK_U64(y->peak_allocations, 1); /* the second A */
		CHECK_U64(y->leaked_bytes, 7);
		CHECK_U64(y->leaked_allocations, 1);
		CHECK_U64(y->temporary, 0);
	}
	uint64_t tl_max = 0;
	CHECK(p->ntimeline >= 1 && p->ntimeline <= HP_TIMELINE_MAX_POINTS);
	for (size_t i = 0; i < p->ntimeline; i++)
		if (p->timeline[i].heap_bytes > tl_max)
			tl_max = p->timeline[i].heap_bytes;
	CHECK_U64(tl_max, 2050);
	CHECK(p->timeline[p->ntimeline - 1].has_rss);
	CHECK_U64(p->timeline[p->ntimeline - 1].rss_bytes, 4096);
	hp_replay_free(rp);
	tb_release(&b);
}

/* Equal times: a free is applied before an allocation, whatever the file order; an
 * allocation of a live address replaces it without counting a free.
 * Merged: 5 T1 alloc 10 A; 300 T1 free A; 300 T0 alloc 30 A; 301 T1 alloc 40 B;
 * 302 T1 alloc 50 B (replaces). */
static void test_ties_and_tolerance(void)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.pid = 1});
	tb_thread(&b, 0, 1, 0);
	tb_thread(&b, 1, 2, 0);
	tb_alloc(&b, 1, 5, 10, 0, A);
	tb_flush_events(&b);
	tb_alloc(&b, 0, 300, 30, 0, A); /* written first, same time as T1's free */
	tb_flush_events(&b);
	tb_free(&b, 1, 300, A);
	tb_alloc(&b, 1, 301, 40, 0, B);
	tb_alloc(&b, 1, 302, 50, 0, B); /* B live: replaced, no free counted */
	tb_flush_events(&b);
	tb_end(&b, 400, 5, 0);
	tb_frame(&b);
	struct hp_replay *rp;
	const struct hp_profile *p = replay(&b, &rp);
	CHECK_U64(p->allocations, 4);
	CHECK_U64(p->frees, 1);
	CHECK_U64(p->leaked_bytes, 80);
	CHECK_U64(p->leaked_allocations, 2);
	CHECK_U64(p->peak_heap_bytes, 80);
	CHECK_U64(p->temporary, 1); /* T1 freed its own latest allocation at t=300 */
	hp_replay_free(rp);
	tb_release(&b);
}

/* Modules: an ip maps through the module map in effect when its stack is read. */
static void test_modules(void)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.pid = 1});
	tb_module(&b, 1, "/lib/a.so", "\x01", 1, 0x7f0000000000, 1, seg);
	uint64_t ip = 0x7f0000001234;
	tb_stack(&b, 1, 1, &ip);
	tb_module_unload(&b, 1, 1);
	tb_module(&b, 2, "/lib/b.so", "\x02", 1, 0x7f0000001000, 1, seg);
	tb_stack(&b, 2, 1, &ip);
	uint64_t nowhere = 0x10;
	tb_stack(&b, 3, 1, &nowhere);
	tb_thread(&b, 0, 1, 0);
	tb_alloc(&b, 0, 1, 1, 1, A);
	tb_alloc(&b, 0, 2, 2, 2, B);
	tb_alloc(&b, 0, 3, 3, 3, C);
	tb_flush_events(&b);
	tb_end(&b, 4, 3, 0);
	tb_frame(&b);
	struct hp_replay *rp;
	const struct hp_profile *p = replay(&b, &rp);
	CHECK_U64(p->nsites, 3);
	CHECK_U64(p->nmodules, 2);
	const struct hp_site *a = site_at(p, 0x1234), *bb = site_at(p, 0x234),
			     *c = site_at(p, 0x10);
	CHECK(a && bb && c);
	if (a && bb && c) {
		CHECK_STR(p->modules[p->locations[a->locations[0]].module].path, "/lib/a.so");
		CHECK_STR(p->modules[p->locations[bb->locations[0]].module].path, "/lib/b.so");
		CHECK(p->locations[c->locations[0]].module == -1);
		/* One ip in two modules: two locations. */
		CHECK(a->locations[0] != bb->locations[0]);
		CHECK_U64(p->locations[c->locations[0]].ip, 0x10);
		/* Mappings: the segments' runtime range. */
		CHECK_U64(p->modules[0].start, 0x7f0000000000);
		CHECK_U64(p->modules[0].limit, 0x7f0000010000);
		CHECK_U64(p->modules[1].start, 0x7f0000001000);
	}
	hp_replay_free(rp);
	tb_release(&b);
}

/* A long run: the timeline stays within 1000 points and keeps the peak. */
static void test_timeline(void)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.pid = 1});
	tb_thread(&b, 0, 1, 0);
	uint64_t t = 0;
	for (int i = 0; i < 20000; i++) {
		t += 500000; /* 0.5 ms: 10 s in all */
		tb_alloc(&b, 0, t, i == 12345 ? 1000000 : 64, 0, A);
		tb_free(&b, 0, t + 1, A);
		if (i % 1000 == 999) {
			tb_flush_events(&b);
			tb_rss(&b, t, (uint64_t)i * 4096);
			tb_round(&b, t);
			tb_frame(&b);
		}
	}
	tb_flush_events(&b);
	tb_end(&b, t + 10, 40000, 0);
	tb_frame(&b);
	struct hp_replay *rp;
	const struct hp_profile *p = replay(&b, &rp);
	CHECK(p->ntimeline > 500 && p->ntimeline <= HP_TIMELINE_MAX_POINTS);
	uint64_t mx = 0;
	for (size_t i = 0; i < p->ntimeline; i++)
		if (p->timeline[i].heap_bytes > mx)
			mx = p->timeline[i].heap_bytes;
	CHECK_U64(mx, 1000000);
	CHECK_U64(p->peak_heap_bytes, 1000000);
	CHECK_U64(p->temporary, 20000);
	CHECK(fabs(p->timeline[p->ntimeline - 1].t_s - p->duration_s) < 1e-9);
	CHECK(fabs(p->duration_s - 10.00000001) < 1e-6);
	hp_replay_free(rp);
	tb_release(&b);
}

/* Version 3: thread 1 frees blocks thread 0 allocated in the same time unit, and its
 * EVENTS record comes first (a later round wrote thread 0's): the releases wait for
 * their allocations, so nothing is left live and every free counts. */
static void test_v3_release_before_alloc(void)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.version = 3, .time_shift = 20});
	tb_module(&b, 1, "/bin/prog", NULL, 0, 0x400000, 1, seg);
	uint64_t s1[] = {0x401000}, s2[] = {0x402000};
	tb_stack(&b, 1, 1, s1);
	tb_stack(&b, 2, 1, s2);
	tb_thread(&b, 0, 100, 0);
	tb_thread(&b, 1, 101, 0);
	/* Thread 0's events, buffered and written after thread 1's. */
	uint64_t x = tb3_alloc(&b, 0, 5, 1000, 1);
	uint64_t y = tb3_alloc(&b, 0, 5, 3000, 1);
	tb3_free(&b, 1, 5, x);
	uint64_t z = tb3_realloc(&b, 1, 5, y, 0, 500, 2);
	tb3_free(&b, 1, 6, z);
	struct tb_thread t0 = b.thr[0];
	b.thr[0].ev.len = 0;
	tb_flush_events(&b); /* thread 1 only */
	tb_round(&b, 5);
	b.thr[0] = t0;
	tb_flush_events(&b);
	tb_round(&b, 7);
	tb_end(&b, 8, 5, 0);
	tb_frame(&b);
	struct hp_replay *rp;
	const struct hp_profile *p = replay(&b, &rp);
	CHECK_U64(p->allocations, 3);
	CHECK_U64(p->frees, 3);
	CHECK_U64(p->leaked_bytes, 0);
	CHECK_U64(p->leaked_allocations, 0);
	CHECK_U64(p->allocated_bytes, 4500);
	CHECK_U64(p->peak_heap_bytes, 4000);
	hp_replay_free(rp);
	tb_release(&b);
}

static void check_point(const struct hp_site_point *p, uint64_t live, uint64_t calls,
			uint64_t bytes, const char *what, size_t i)
{
	CHECK_(p->live_bytes == live && p->allocations == calls && p->allocated_bytes == bytes,
	       "%s[%zu] = {%" PRIu64 ", %" PRIu64 ", %" PRIu64 "}, expected {%" PRIu64 ", %" PRIu64
	       ", %" PRIu64 "}",
	       what, i, p->live_bytes, p->allocations, p->allocated_bytes, live, calls, bytes);
}

#define MS 1000000 /* time units of 1 ns: the builder's header */

/* Per-site series (64 buckets) on a known sequence, at 1 ms buckets and, with one late
 * event, after the clock doubled to 2 ms (pairs merged):
 *   0.5 ms  alloc 100 A (x)    0.7 ms  alloc 10 B (y)
 *   2.5 ms  alloc 200 C (x)    2.6 ms  free A
 *  10.5 ms  free C             30.2 ms RSS 8192
 *  [100.5 ms alloc 5 D (y), with `late`] */
static void test_series(int late)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.pid = 1});
	tb_module(&b, 1, "/bin/prog", "", 0, 0x400000, 1, seg);
	uint64_t s1[] = {0x401000}, s2[] = {0x401100};
	tb_stack(&b, 1, 1, s1);
	tb_stack(&b, 2, 1, s2);
	tb_thread(&b, 0, 1, 0);
	tb_alloc(&b, 0, MS / 2, 100, 1, A);
	tb_alloc(&b, 0, 7 * MS / 10, 10, 2, B);
	tb_alloc(&b, 0, 5 * MS / 2, 200, 1, C);
	tb_free(&b, 0, 26 * MS / 10, A);
	tb_free(&b, 0, 105 * MS / 10, C);
	if (late)
		tb_alloc(&b, 0, 1005 * MS / 10, 5, 2, D);
	tb_flush_events(&b);
	tb_rss(&b, 302 * MS / 10, 8192);
	tb_end(&b, 1010 * MS / 10, 6, 0);
	tb_frame(&b);
	struct hp_replay *rp;
	const struct hp_profile *p = replay_n(&b, &rp, 64);
	const struct hp_site *x = site_at(p, 0x1000), *y = site_at(p, 0x1100);
	const struct hp_series_info *si = &p->series;
	CHECK(x && y && x->series && y->series);
	if (!x || !y || !x->series || !y->series)
		goto out;
	if (!late) {
		CHECK_U64(si->nbuckets, 31);
		CHECK(fabs(si->bucket_s - 1e-3) < 1e-12);
		check_point(&x->series[0], 100, 1, 100, "x", 0);
		check_point(&x->series[1], 100, 0, 0, "x", 1);
		check_point(&x->series[2], 200, 1, 200, "x", 2);
		for (size_t i = 3; i < 10; i++)
			check_point(&x->series[i], 200, 0, 0, "x", i);
		for (size_t i = 10; i < 31; i++)
			check_point(&x->series[i], 0, 0, 0, "x", i);
		check_point(&y->series[0], 10, 1, 10, "y", 0);
		for (size_t i = 1; i < 31; i++)
			check_point(&y->series[i], 10, 0, 0, "y", i);
		/* The process on the same buckets: heap maxima, last RSS. */
		CHECK_U64(si->process[0].heap_bytes, 110);
		CHECK_U64(si->process[1].heap_bytes, 110);
		CHECK_U64(si->process[2].heap_bytes, 310);
		CHECK_U64(si->process[3].heap_bytes, 210);
		CHECK_U64(si->process[10].heap_bytes, 210);
		CHECK_U64(si->process[11].heap_bytes, 10);
		CHECK(!si->process[29].has_rss && si->process[30].has_rss);
		CHECK_U64(si->process[30].rss_bytes, 8192);
		CHECK(fabs(si->process[2].t_s - 3e-3) < 1e-12);
	} else {
		/* 100.5 ms is past 64 buckets of 1 ms: 51 buckets of 2 ms. */
		CHECK_U64(si->nbuckets, 51);
		CHECK(fabs(si->bucket_s - 2e-3) < 1e-12);
		check_point(&x->series[0], 100, 1, 100, "x", 0);
		check_point(&x->series[1], 200, 1, 200, "x", 1);
		for (size_t i = 2; i < 5; i++)
			check_point(&x->series[i], 200, 0, 0, "x", i);
		for (size_t i = 5; i < 51; i++)
			check_point(&x->series[i], 0, 0, 0, "x", i);
		check_point(&y->series[0], 10, 1, 10, "y", 0);
		for (size_t i = 1; i < 50; i++)
			check_point(&y->series[i], 10, 0, 0, "y", i);
		check_point(&y->series[50], 15, 1, 5, "y", 50);
		CHECK_U64(si->process[1].heap_bytes, 310);
		CHECK_U64(si->process[5].heap_bytes, 210);
		CHECK_U64(si->process[6].heap_bytes, 10);
		CHECK_U64(si->process[50].heap_bytes, 15);
		CHECK_U64(si->process[15].rss_bytes, 8192);
		CHECK(!si->process[14].has_rss);
	}
out:
	hp_replay_free(rp);
	tb_release(&b);
}

/* Many doublings over a long run with many sites: each site's series sums to its totals
 * and ends at its leaked bytes, the process's series keeps the peak, and a site bucket is
 * a whole number (a power of two) of timeline intervals; for any count of buckets (0:
 * the default; over the maximum: the maximum). */
static void test_series_long(unsigned buckets)
{
	unsigned want = !buckets			  ? HP_SERIES_BUCKETS
			: buckets > HP_SERIES_MAX_BUCKETS ? HP_SERIES_MAX_BUCKETS
							  : buckets;
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.pid = 1});
	tb_module(&b, 1, "/bin/prog", "", 0, 0x400000, 1, seg);
	for (uint64_t k = 1; k <= 50; k++) {
		uint64_t ip = 0x401000 + 16 * k;
		tb_stack(&b, k, 1, &ip);
	}
	tb_thread(&b, 0, 1, 0);
	uint64_t t = 0;
	for (int i = 0; i < 30000; i++) {
		t += 333333; /* 10 s in all */
		uint64_t k = 1 + (uint64_t)(i * 7) % 50, addr = 0x100000 + 16 * (uint64_t)(i % 997);
		if (i >= 997)
			tb_free(&b, 0, t, addr);
		tb_alloc(&b, 0, t, i == 20000 ? 5000000 : 16 + k, k, addr);
		if (i % 1000 == 999) {
			tb_flush_events(&b);
			tb_round(&b, t);
			tb_frame(&b);
		}
	}
	tb_flush_events(&b);
	tb_end(&b, t + 10, 60000, 0);
	tb_frame(&b);
	struct hp_replay *rp;
	const struct hp_profile *p = replay_n(&b, &rp, buckets);
	const struct hp_series_info *si = &p->series;
	CHECK_(si->nbuckets > want / 2 && si->nbuckets <= want, "%zu buckets of %u", si->nbuckets,
	       want);
	CHECK_U64(p->nsites, 50);
	uint64_t calls = 0, peak = 0;
	for (size_t i = 0; i < p->nsites; i++) {
		const struct hp_site *s = &p->sites[i];
		uint64_t c = 0, bytes = 0;
		for (size_t k = 0; k < si->nbuckets; k++) {
			c += s->series[k].allocations;
			bytes += s->series[k].allocated_bytes;
		}
		CHECK_U64(c, s->allocations);
		CHECK_U64(bytes, s->allocated_bytes);
		CHECK_U64(s->series[si->nbuckets - 1].live_bytes, s->leaked_bytes);
		calls += c;
	}
	CHECK_U64(calls, 30000);
	for (size_t k = 0; k < si->nbuckets; k++)
		if (si->process[k].heap_bytes > peak)
			peak = si->process[k].heap_bytes;
	CHECK_U64(peak, p->peak_heap_bytes);
	double ratio = si->bucket_s / p->timeline[0].t_s;
	CHECK(ratio >= 1 && fabs(ratio - exp2(round(log2(ratio)))) < 1e-9);
	CHECK(fabs(si->process[si->nbuckets - 1].t_s - p->duration_s) < 1e-12);
	hp_replay_free(rp);
	tb_release(&b);
}

/* A first event late in the run: the timeline's buckets widen before the sites' clock
 * has seen an event, and the sites' buckets still line up with them. */
static void test_series_late_start(void)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.pid = 1});
	tb_thread(&b, 0, 1, 0);
	tb_alloc(&b, 0, 10000 * (uint64_t)MS, 64, 0, A);
	tb_alloc(&b, 0, 10001 * (uint64_t)MS, 32, 0, B);
	tb_free(&b, 0, 10500 * (uint64_t)MS, A);
	tb_flush_events(&b);
	tb_end(&b, 10600 * (uint64_t)MS, 3, 0);
	tb_frame(&b);
	struct hp_replay *rp;
	const struct hp_profile *p = replay(&b, &rp);
	const struct hp_series_info *si = &p->series;
	CHECK(si->nbuckets > HP_SERIES_BUCKETS / 2 && si->nbuckets <= HP_SERIES_BUCKETS);
	CHECK_U64(p->nsites, 1);
	if (p->nsites == 1 && si->nbuckets) {
		const struct hp_site_point *v = p->sites[0].series;
		uint64_t calls = 0;
		for (size_t k = 0; k < si->nbuckets; k++)
			calls += v[k].allocations;
		CHECK_U64(calls, 2);
		CHECK_U64(v[si->nbuckets - 1].live_bytes, 32);
		CHECK_U64(v[0].live_bytes, 0);
		/* 10.6 s into 32 buckets of 2^k ms: 512 ms each. */
		CHECK(fabs(si->bucket_s - 0.512) < 1e-9);
		size_t k10 = (size_t)(10.0 / si->bucket_s);
		CHECK_U64(v[k10].allocations, 2);
		CHECK_U64(v[k10].live_bytes, 96);
	}
	hp_replay_free(rp);
	tb_release(&b);
}

/* Blocks live at the peak (pprof inuse_objects there) and a site's one block size (pprof's
 * bytes label):
 *   10 alloc 16 A (site 1)  20 alloc 16 B (site 1)  30 alloc 100 C (site 2): peak 132
 *   40 free A  50 alloc 16 D (site 1): 132 again, not a new peak  60 free C
 *   70 alloc 5 E (site 2)
 * At the peak site 1 holds 2 blocks, site 2 one; site 1's blocks all had 16 bytes. */
static void test_peak_blocks_and_size(void)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.pid = 7, .exe = "/bin/prog"});
	tb_module(&b, 1, "/bin/prog", "", 0, 0x400000, 1, seg);
	uint64_t s1[] = {0x401000, 0x402000}, s2[] = {0x401100, 0x402000};
	tb_stack(&b, 1, 2, s1);
	tb_stack(&b, 2, 2, s2);
	tb_thread(&b, 0, 7, 0);
	tb_alloc(&b, 0, 10, 16, 1, A);
	tb_alloc(&b, 0, 20, 16, 1, B);
	tb_alloc(&b, 0, 30, 100, 2, C);
	tb_free(&b, 0, 40, A);
	tb_alloc(&b, 0, 50, 16, 1, D);
	tb_free(&b, 0, 60, C);
	tb_alloc(&b, 0, 70, 5, 2, E);
	tb_flush_events(&b);
	tb_round(&b, 80);
	tb_end(&b, 90, 7, 0);
	tb_frame(&b);

	struct hp_replay *rp;
	const struct hp_profile *p = replay(&b, &rp);
	CHECK_U64(p->peak_heap_bytes, 132);
	const struct hp_site *x = site_at(p, 0x1000), *y = site_at(p, 0x1100);
	CHECK(x && y);
	if (x && y) {
		CHECK_U64(x->peak_bytes, 32);
		CHECK_U64(x->peak_allocations, 2);
		CHECK_U64(x->leaked_allocations, 2);
		CHECK_U64(x->object_size, 16);
		CHECK_U64(y->peak_bytes, 100);
		CHECK_U64(y->peak_allocations, 1);
		CHECK_U64(y->object_size, 0); /* 100 and 5 */
		/* DHAT's figures: the most live at once, and lifetimes, those live at the
		 * end to the end: A 10..40, B 20..end, D 50..end; C 30..60, E 70..end. */
		CHECK_U64(x->max_bytes, 32);
		CHECK_U64(x->max_allocations, 2);
		CHECK_U64(y->max_bytes, 100);
		CHECK_U64(y->max_allocations, 1);
		double spu = p->seconds_per_unit, end = p->duration_s;
		CHECK(spu > 0 && end > 70 * spu);
		CHECK(fabs(x->lifetime_s - (30 * spu + (end - 20 * spu) + (end - 50 * spu))) <
		      1e-12);
		CHECK(fabs(y->lifetime_s - (30 * spu + (end - 70 * spu))) < 1e-12);
	}
	hp_replay_free(rp);
	tb_release(&b);
}

/* A sampled trace: each site's calls are an estimate rounded on its own, and the totals
 * are the sums of what the sites show. Three sites of one 20,000-byte block each, with
 * a mean of 64 KiB: each weighs w = 3.80 calls, shown as 4; the totals are 12, not
 * round(3 w) = 11, so the sites add up to the summary (pprof's samples to the report). */
static void test_sampled_totals(void)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b,
		  &(struct tb_header_args){.pid = 7, .exe = "/bin/prog", .sample_bytes = 65536});
	tb_module(&b, 1, "/bin/prog", "", 0, 0x400000, 1, seg);
	uint64_t s1[] = {0x401000, 0x402000}, s2[] = {0x401100, 0x402000},
		 s3[] = {0x401200, 0x402000};
	tb_stack(&b, 1, 2, s1);
	tb_stack(&b, 2, 2, s2);
	tb_stack(&b, 3, 2, s3);
	tb_thread(&b, 0, 7, 0);
	tb_alloc(&b, 0, 10, 20000, 1, A);
	tb_alloc(&b, 0, 20, 20000, 2, B);
	tb_alloc(&b, 0, 30, 20000, 3, C);
	tb_flush_events(&b);
	tb_round(&b, 40);
	tb_end(&b, 50, 7, 0);
	tb_frame(&b);

	double w = hp_sample_weight(20000, 65536);
	CHECK(llround(3 * w) != 3 * llround(w)); /* the case where rounding once differs */
	struct hp_replay *rp;
	const struct hp_profile *p = replay(&b, &rp);
	CHECK_U64(p->nsites, 3);
	uint64_t calls = 0, leaked = 0;
	for (size_t i = 0; i < p->nsites; i++) {
		CHECK_U64(p->sites[i].allocations, (uint64_t)llround(w));
		calls += p->sites[i].allocations;
		leaked += p->sites[i].leaked_allocations;
	}
	CHECK_U64(p->allocations, calls);
	CHECK_U64(p->leaked_allocations, leaked);
	CHECK_U64(calls, 3 * (uint64_t)llround(w));
	hp_replay_free(rp);
	tb_release(&b);
}

/* A recorder writes an RSS sample only when the RSS changed, so a window that opens
 * after the last sample still has the RSS that sample holds: it is the window's peak RSS
 * (it was 0 when only the samples inside the window counted). A later, larger sample
 * after the window closes is not. */
static void test_window_rss_held(void)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.pid = 1, .exe = "/bin/prog"});
	tb_module(&b, 1, "/bin/prog", "", 0, 0x400000, 1, seg);
	uint64_t s1[] = {0x401000};
	tb_stack(&b, 1, 1, s1);
	tb_thread(&b, 0, 1, 0);
	tb_rss(&b, 1 * MS, 12288);
	tb_alloc(&b, 0, 2 * MS, 100, 1, A);
	tb_alloc(&b, 0, 500 * MS, 50, 1, B);
	tb_free(&b, 0, 600 * MS, A);
	tb_flush_events(&b);
	tb_round(&b, 700 * MS);
	tb_rss(&b, 900 * MS, 1 << 20);
	tb_end(&b, 1000 * MS, 4, 0);
	tb_frame(&b);

	struct hp_window w = {0};
	char err[256];
	CHECK(hp_window_parse(&w, "range", "0.4..0.8", err, sizeof err) == 0);
	struct hp_reader *r = hp_reader_open_mem(b.out.data, b.out.len, "t.zst");
	struct hp_replay *rp = hp_replay_new(0);
	hp_replay_set_window(rp, &w);
	struct hp_item it;
	int rc;
	while ((rc = hp_reader_next(r, &it)) > 0)
		CHECK(hp_replay_item(rp, &it) == 0);
	CHECK(rc == 0);
	hp_reader_free(r);
	const struct hp_profile *p = hp_replay_finish(rp);
	CHECK(p != NULL);
	CHECK_U64(p->allocations, 1);
	CHECK_U64(p->peak_rss_bytes, 12288);
	hp_replay_free(rp);
	tb_release(&b);
}

int main(void)
{
	test_sampled_totals();
	test_peak_blocks_and_size();
	test_v3_release_before_alloc();
	test_two_threads();
	test_ties_and_tolerance();
	test_modules();
	test_timeline();
	test_series(0);
	test_series(1);
	test_series_long(0);
	test_series_long(2);
	test_series_long(64);
	test_series_long(5000);
	test_series_late_start();
	test_window_rss_held();
	return check_done();
}
