/* analyzer/report_json.c: the document of docs/json-report.md, with strings escaped
 * whatever bytes they hold, written from a model built by hand. */
#define _GNU_SOURCE /* open_memstream */
#include "check.h"

#include <stdlib.h>

#include <math.h>

#include "model.h"
#include "output.h"
#include "report.h"

static char *render(const struct hp_model *m, unsigned top)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const struct hp_output *json = hp_output_find("json");
	CHECK(json != NULL);
	struct hp_output_options o = {.out = f, .top = top, .ntraces = 1};
	CHECK(json && json->write(m, &o) == 0);
	fclose(f);
	return text;
}

#define CONTAINS(hay, needle)                                                                      \
	CHECK_(strstr((hay), (needle)) != NULL, "output contains %s", (needle))

/* The reports' conversion of a computed figure to a count: rounded, and a value no
 * uint64_t holds saturates instead of being cast (undefined; the fuzzer's find). */
static void test_round_u64(void)
{
	CHECK_U64(hp_round_u64(2.5), 3);
	CHECK_U64(hp_round_u64(2.49), 2);
	CHECK_U64(hp_round_u64(0), 0);
	CHECK_U64(hp_round_u64(-7), 0);
	CHECK_U64(hp_round_u64(NAN), 0);
	CHECK_U64(hp_round_u64(1.8446744073709552e19), UINT64_MAX);
	CHECK_U64(hp_round_u64(INFINITY), UINT64_MAX);
	CHECK_U64(hp_round_u64(9.0e18), 9000000000000000000ull);
	char b[32];
	CHECK_STR(hp_human_bytes(b, hp_round_u64(1e30)), hp_human_bytes((char[32]){0}, UINT64_MAX));
}

int main(void)
{
	test_round_u64();
	struct hp_module_info mods[] = {
	    {.id = 1, .path = "/odd\\dir/\"lib\".so", .build_id = (const uint8_t *)""},
	};
	struct hp_location locs[] = {{.ip = 0x7abc, .address = 0xabc, .module = 0},
				     {.ip = 0x42, .address = 0x42, .module = -1}};
	const uint32_t stack[] = {0, 1};
	struct hp_site sites[] = {
	    {.allocations = 3,
	     .allocated_bytes = 300,
	     .peak_bytes = 100,
	     .nlocations = 2,
	     .locations = stack},
	    {.allocations = 9,
	     .allocated_bytes = 900,
	     .peak_bytes = 200,
	     .leaked_bytes = 7,
	     .leaked_allocations = 1,
	     .temporary = 2},
	};
	struct hp_timeline_point tl[] = {{0.5, 10, 0, 0}, {1.0, 20, 4096, 1}};
	struct hp_profile p = {
	    .header = {.version = 1, .pid = 12, .ppid = 1, .exe = "/bin/a\tb"},
	    .command = "echo \"hi\"\n\x01\xff\xc3\xa9",
	    .has_exit = 1,
	    .exit_status = -1,
	    .allocations = 12,
	    .frees = 11,
	    .allocated_bytes = 1200,
	    .peak_heap_bytes = 300,
	    .peak_time_s = 0.25,
	    .duration_s = 1.0,
	    .threads = 1,
	    .sites = sites,
	    .nsites = 2,
	    .modules = mods,
	    .nmodules = 1,
	    .locations = locs,
	    .nlocations = 2,
	    .timeline = tl,
	    .ntimeline = 2,
	};
	struct hp_model m = {0};
	CHECK(hp_model_resolve(&m, &p, &(struct hp_analysis_options){.no_symbols = 1}) == 0);
	m.file = "t.zst";
	m.warnings[0] = "no trailer";
	m.nwarnings = 1;
	char *j = render(&m, 0);
	CONTAINS(j, "\"schema_version\": 1");
	CONTAINS(j, "\"complete\": false, \"warnings\": [\"no trailer\"]");
	CONTAINS(j, "\"command\": \"echo \\\"hi\\\"\\n\\u0001\\ufffd\xc3\xa9\"");
	CONTAINS(j, "\"exe\": \"/bin/a\\tb\"");
	CONTAINS(j, "\"exit_status\": -1");
	CONTAINS(j, "\"peak_time_s\": 0.25");
	CONTAINS(j, "\"allocation_rate_per_s\": 12");
	CONTAINS(j, "\"module\": \"/odd\\\\dir/\\\"lib\\\".so\"");
	CONTAINS(j, "\"function\": null, \"file\": null, \"line\": null");
	CONTAINS(j, "\"address\": \"0xabc\"");
	CONTAINS(j, "\"module\": null, \"inlined\": false, \"address\": \"0x42\"");
	CONTAINS(j, "{\"t_s\": 0.5, \"heap_bytes\": 10, \"rss_bytes\": null}");
	CONTAINS(j, "{\"t_s\": 1, \"heap_bytes\": 20, \"rss_bytes\": 4096}");
	CONTAINS(j, "\"leaks\": null");
	/* Sorted by peak: the 200-byte site first. */
	CHECK(strstr(j, "\"peak_bytes\": 200") < strstr(j, "\"peak_bytes\": 100"));
	free(j);

	/* --top 1 keeps the first site only. */
	j = render(&m, 1);
	CHECK(strstr(j, "\"peak_bytes\": 100") == NULL);
	free(j);
	hp_model_release(&m);
	return check_done();
}
