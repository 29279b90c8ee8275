/* analyzer/diff.c and report_diff.c: two models built by hand, matched by site key (the
 * same frames in another directory and at other ips), same-key sites merged, a forced
 * key collision kept apart, the orders, the budgets and their messages, the reports. */
#define _GNU_SOURCE /* open_memstream */
#include "check.h"

#include <math.h>
#include <stdlib.h>

#include "diff.h"
#include "model.h"
#include "report_diff.h"

#define CONTAINS(hay, needle)                                                                      \
	CHECK_(strstr((hay), (needle)) != NULL, "output contains %s", (needle))

static const struct hp_diff_site *entry_of(const struct hp_diff *d, const struct hp_site *s)
{
	for (size_t i = 0; i < d->nsites; i++)
		if (d->sites[i].base.site == s || d->sites[i].new.site == s)
			return &d->sites[i];
	return NULL;
}

static void test_percent_delta(void)
{
	CHECK(hp_diff_percent(0, 0) == 0);
	CHECK(isinf(hp_diff_percent(0, 5)));
	CHECK(hp_diff_percent(100, 50) == -50);
	CHECK(hp_diff_percent(1000, 1100) == 10);
	struct hp_diff_side a = {.value = {0}}, b = {.value = {UINT64_MAX}};
	CHECK_I64(hp_diff_delta(&a, &b, HP_DIFF_PEAK), INT64_MAX);
	CHECK_I64(hp_diff_delta(&b, &a, HP_DIFF_PEAK), INT64_MIN);
	a.value[HP_DIFF_CALLS] = 7;
	CHECK_I64(hp_diff_delta(&a, &b, HP_DIFF_CALLS), -7);
}

static void test_budget_parse(void)
{
	char err[256];
	struct hp_diff_budget b = {0};
	CHECK(hp_diff_budget_parse(&b, "peak:10", err, sizeof err) == 0);
	CHECK(b.set == 1u << HP_DIFF_PEAK && b.percent[HP_DIFF_PEAK] == 10);
	b = (struct hp_diff_budget){0};
	CHECK(hp_diff_budget_parse(&b, "2.5%", err, sizeof err) == 0);
	CHECK(b.set == 1u << HP_DIFF_PEAK && b.percent[HP_DIFF_PEAK] == 2.5);
	CHECK(hp_diff_budget_parse(&b, "calls:5,leaked:0,allocated:1e1", err, sizeof err) == 0);
	CHECK_U64(b.set, 15);
	CHECK(b.percent[HP_DIFF_CALLS] == 5 && b.percent[HP_DIFF_LEAKED] == 0 &&
	      b.percent[HP_DIFF_ALLOCATED] == 10);
	static const char *const bad[] = {"",	      "size:5",	  "peak:",    "peak:-1", "peak:x",
					  "calls:5,", "peak:nan", "peak:inf", ":5",	 "peak:5:6",
					  "peak: 5",  "peak:+5",  "%",	      "peak:5%%"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		CHECK_(hp_diff_budget_parse(&b, bad[i], err, sizeof err) < 0 && err[0],
		       "'%s' is refused with a message", bad[i]);
	}
	CHECK(hp_diff_budget_parse(&b, "size:5", err, sizeof err) < 0 &&
	      strstr(err, "unknown measure 'size'"));
}

int main(void)
{
	test_percent_delta();
	test_budget_parse();

	/* BASE: A twice (two sites of one stack: merged), B, C. NEW, in another directory
	 * and at other ips: A, B, D, whose key is forced to C's (a collision). */
	struct hp_module_info bmod[] = {
	    {.id = 1, .path = "/base/prog", .build_id = (const uint8_t *)""}};
	struct hp_module_info nmod[] = {
	    {.id = 1, .path = "/new/prog", .build_id = (const uint8_t *)""}};
	struct hp_location bloc[] = {{.ip = 0x1010, .address = 0x10, .module = 0},
				     {.ip = 0x1020, .address = 0x20, .module = 0},
				     {.ip = 0x1030, .address = 0x30, .module = 0}};
	struct hp_location nloc[] = {{.ip = 0x9010, .address = 0x10, .module = 0},
				     {.ip = 0x9020, .address = 0x20, .module = 0},
				     {.ip = 0x9040, .address = 0x40, .module = 0}};
	static const uint32_t l0[] = {0}, l1[] = {1}, l2[] = {2};
	struct hp_site bs[] = {
	    {.allocations = 3,
	     .allocated_bytes = 300,
	     .peak_bytes = 100,
	     .locations = l0,
	     .nlocations = 1},
	    {.allocations = 1,
	     .allocated_bytes = 1000,
	     .peak_bytes = 1000,
	     .leaked_bytes = 1000,
	     .leaked_allocations = 1,
	     .locations = l1,
	     .nlocations = 1},
	    {.allocations = 7, .allocated_bytes = 70, .locations = l2, .nlocations = 1},
	    {.allocations = 2,
	     .allocated_bytes = 200,
	     .peak_bytes = 0,
	     .locations = l0,
	     .nlocations = 1},
	};
	struct hp_site ns[] = {
	    {.allocations = 10,
	     .allocated_bytes = 1000,
	     .peak_bytes = 50,
	     .locations = l0,
	     .nlocations = 1},
	    {.allocations = 1,
	     .allocated_bytes = 500,
	     .peak_bytes = 500,
	     .locations = l1,
	     .nlocations = 1},
	    {.allocations = 4,
	     .allocated_bytes = 40,
	     .temporary = 4,
	     .locations = l2,
	     .nlocations = 1},
	};
	struct hp_profile bp = {.allocations = 13,
				.allocated_bytes = 1570,
				.peak_heap_bytes = 1000,
				.leaked_bytes = 1000,
				.leaked_allocations = 1,
				.sites = bs,
				.nsites = 4,
				.modules = bmod,
				.nmodules = 1,
				.locations = bloc,
				.nlocations = 3,
				.command = "prog"};
	struct hp_profile np = {.allocations = 15,
				.allocated_bytes = 1540,
				.peak_heap_bytes = 1100,
				.temporary = 4,
				.sites = ns,
				.nsites = 3,
				.modules = nmod,
				.nmodules = 1,
				.locations = nloc,
				.nlocations = 3,
				.command = "prog"};
	struct hp_model bm = {0}, nm = {0};
	const struct hp_analysis_options ao = {.no_symbols = 1};
	CHECK(hp_model_resolve(&bm, &bp, &ao) == 0);
	CHECK(hp_model_resolve(&nm, &np, &ao) == 0);
	bm.file = "base.zst";
	nm.file = "new.zst";
	CHECK(bs[0].key == bs[3].key && bs[0].key == ns[0].key && bs[1].key == ns[1].key);
	CHECK(bs[2].key != ns[2].key);
	ns[2].key = bs[2].key; /* a collision: other frames, the same key */

	struct hp_diff d;
	CHECK(hp_diff_build(&d, &bm, &nm) == 0);
	CHECK_U64(d.nsites, 4);
	CHECK_U64(d.matched, 2);
	CHECK_U64(d.added, 1);
	CHECK_U64(d.removed, 1);
	const struct hp_diff_site *a = entry_of(&d, &bs[0]), *b = entry_of(&d, &bs[1]);
	const struct hp_diff_site *c = entry_of(&d, &bs[2]), *dd = entry_of(&d, &ns[2]);
	CHECK(a && b && c && dd && c != dd);
	if (a && b && c && dd) {
		CHECK(entry_of(&d, &bs[3]) == NULL && a->new.site == &ns[0]); /* merged into A */
		CHECK_U64(a->base.nsites, 2);
		CHECK_U64(a->base.value[HP_DIFF_CALLS], 5);
		CHECK_U64(a->base.value[HP_DIFF_ALLOCATED], 500);
		CHECK_U64(a->new.value[HP_DIFF_CALLS], 10);
		CHECK_I64(hp_diff_delta(&a->base, &a->new, HP_DIFF_PEAK), -50);
		CHECK_I64(hp_diff_delta(&b->base, &b->new, HP_DIFF_LEAKED), -1000);
		CHECK(c->new.site == NULL && dd->base.site == NULL);
		CHECK_U64(dd->new.temporary, 4);
	}
	/* By peak: B (500), A (50), then C (calls 7), D (calls 4). By calls: C, A, D, B. */
	CHECK(d.sites[0].base.site == &bs[1] && d.sites[1].base.site == &bs[0] &&
	      d.sites[2].base.site == &bs[2] && d.sites[3].new.site == &ns[2]);
	hp_diff_sort(&d, HP_DIFF_CALLS);
	CHECK(d.sites[0].base.site == &bs[2] && d.sites[1].base.site == &bs[0] &&
	      d.sites[2].new.site == &ns[2] && d.sites[3].base.site == &bs[1]);
	CHECK_U64(d.new_total.value[HP_DIFF_PEAK], 1100);

	/* Budgets on the totals: peak +10% exactly, calls +15.4%, leaked -100%. */
	char *text = NULL;
	size_t len = 0;
	struct hp_diff_budget bud = {0};
	char err[256];
	FILE *f = open_memstream(&text, &len);
	CHECK(hp_diff_budget_parse(&bud, "peak:10,leaked:0,allocated:0", err, sizeof err) == 0);
	CHECK(hp_diff_budget_check(&bud, &d, "prog", f) == 0);
	bud = (struct hp_diff_budget){0};
	CHECK(hp_diff_budget_parse(&bud, "peak:9.99,calls:15.38", err, sizeof err) == 0);
	CHECK(hp_diff_budget_check(&bud, &d, "prog", f) == 2);
	fclose(f);
	CONTAINS(text,
		 "prog: check failed: peak heap grew by 10.000% (1000 B -> 1.1 KiB), more than "
		 "the 9.99% allowed (--fail-on-increase peak:9.99)\n");
	CONTAINS(text, "prog: check failed: calls grew by 15.385% (13 -> 15)");
	free(text);
	bud = (struct hp_diff_budget){0};
	CHECK(hp_diff_budget_parse(&bud, "calls:15.39", err, sizeof err) == 0);
	CHECK(hp_diff_budget_check(&bud, &d, "prog", stderr) == 0);
	/* From nothing, any growth fails, whatever the budget. */
	d.base_total.value[HP_DIFF_LEAKED] = 0;
	d.new_total.value[HP_DIFF_LEAKED] = 1;
	bud = (struct hp_diff_budget){0};
	CHECK(hp_diff_budget_parse(&bud, "leaked:1000000", err, sizeof err) == 0);
	f = open_memstream(&text, &len);
	CHECK(hp_diff_budget_check(&bud, &d, "prog", f) == 1);
	fclose(f);
	CONTAINS(text, "leaked bytes grew by from nothing");
	free(text);
	d.base_total.value[HP_DIFF_LEAKED] = 1000;
	d.new_total.value[HP_DIFF_LEAKED] = 0;

	/* The reports. */
	f = open_memstream(&text, &len);
	struct hp_output_options o = {.out = f, .top = 0, .width = 100};
	CHECK(hp_diff_write_json(&d, &o) == 0);
	fclose(f);
	CONTAINS(text, "\"sites_matched\": 2, \"sites_added\": 1, \"sites_removed\": 1");
	CONTAINS(text, "\"peak\": {\"base\": 1000, \"new\": 1100, \"change\": 100, \"percent\": "
		       "10.000000}");
	CONTAINS(text, "\"status\": \"removed\", \"base_sites\": 1, \"new_sites\": 0");
	CONTAINS(text, "\"status\": \"matched\", \"base_sites\": 2, \"new_sites\": 1");
	CONTAINS(text, "\"calls\": {\"base\": 0, \"new\": 4, \"change\": 4, \"percent\": null}");
	CONTAINS(text, "\"leaked\": {\"base\": 1000, \"new\": 0, \"change\": -1000, \"percent\": "
		       "-100.000000}");
	/* By peak: B's entry first. */
	CHECK(strstr(text, "\"peak\": {\"base\": 1000, \"new\": 500") <
	      strstr(text, "\"peak\": {\"base\": 100, \"new\": 50"));
	free(text);
	f = open_memstream(&text, &len);
	o = (struct hp_output_options){.out = f, .top = 1, .width = 100, .color = 1};
	CHECK(hp_diff_write_text(&d, &o) == 0);
	fclose(f);
	CONTAINS(text, "top 1 change of peak heap");
	CONTAINS(text, "\033[32m-500 B -50.0%\033[0m  1000 B -> 500 B\n");
	CONTAINS(text, "        at ?? \033[2m(prog+0x20)\033[0m\n");
	CONTAINS(text, "  sites  2 in both, 1 new, 1 gone");
	CONTAINS(text, "+15.4%");
	free(text);

	hp_diff_release(&d);
	hp_model_release(&bm);
	hp_model_release(&nm);
	return check_done();
}
