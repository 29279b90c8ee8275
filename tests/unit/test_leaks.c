/* Unit tests of analyzer/leaks.c, checks.c and report_leaks.c on a synthetic scan. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"

#include "../../analyzer/checks.h"
#include "../../analyzer/leaks.h"
#include "../../analyzer/report_leaks.h"

/* Stack 1: make_node <- main; stack 2: helper <- main; stack 3: libstdc++'s pool. */
static int resolve(void *ctx, uint32_t stack, int untrimmed, struct hp_stack *out)
{
	(void)ctx;
	(void)untrimmed;
	static const struct hp_frame main_f = {
	    .function = "main", .file = "/src/t.c", .line = 40, .module_path = "/bin/t"};
	static const struct hp_frame make_node = {
	    .function = "make_node", .file = "/src/list.c", .line = 12, .module_path = "/bin/t"};
	static const struct hp_frame helper = {
	    .function = "helper", .file = "/src/\"q\".c", .line = 7, .module_path = "/bin/t"};
	static const struct hp_frame pool = {.function = "(anonymous namespace)::pool::pool()",
					     .module_path =
						 "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
					     .address = 0xa1b2};
	out->n = 0;
	switch (stack) {
	case 1:
		return hp_stack_push(out, &make_node) || hp_stack_push(out, &main_f) ? -ENOMEM : 0;
	case 2:
		return hp_stack_push(out, &helper) || hp_stack_push(out, &main_f) ? -ENOMEM : 0;
	case 3:
		return hp_stack_push(out, &pool);
	}
	return 0;
}

static void feed(struct hp_leaks *lk)
{
	struct hp_leak_scan scan = {.nblocks = 6};
	hp_leaks_set_scan(lk, &scan);
	/* a list: head definite, two nodes indirect, all from make_node */
	CHECK_I64(hp_leaks_add_block(lk, 0x1000, HP_LEAK_DEFINITE), 0);
	CHECK_I64(hp_leaks_add_block(lk, 0x1100, HP_LEAK_INDIRECT), 0);
	CHECK_I64(hp_leaks_add_block(lk, 0x1200, HP_LEAK_INDIRECT), 0);
	/* helper: one definite, one possibly lost */
	CHECK_I64(hp_leaks_add_block(lk, 0x2000, HP_LEAK_DEFINITE), 0);
	CHECK_I64(hp_leaks_add_block(lk, 0x2100, HP_LEAK_POSSIBLE), 0);
	/* libstdc++ pool: reachable, suppressed by the built-ins */
	CHECK_I64(hp_leaks_add_block(lk, 0x9000, HP_LEAK_REACHABLE), 0);
	/* a scanned block the live set lacks */
	CHECK_I64(hp_leaks_add_block(lk, 0x7000, HP_LEAK_DEFINITE), 0);
	CHECK_I64(hp_leaks_add_block(lk, 0x7100, 4), -EINVAL);
	/* live set, in no particular order */
	hp_leaks_add_live(lk, 0x2100, 100, 2);
	hp_leaks_add_live(lk, 0x1200, 32, 1);
	hp_leaks_add_live(lk, 0x9000, 73728, 3);
	hp_leaks_add_live(lk, 0x1000, 32, 1);
	hp_leaks_add_live(lk, 0x2000, 64, 2);
	hp_leaks_add_live(lk, 0x1100, 32, 1);
	hp_leaks_add_live(lk, 0x8000, 5, 1); /* live, not scanned: ignored */
}

static void test_join(void)
{
	struct hp_checks c;
	hp_checks_init(&c);
	char *argv[] = {"prog",
			"--leaks",
			"x.zst",
			"--fail-on-leaks",
			"--max-leaked",
			"64",
			"--print-suppressions",
			"--",
			"--leaks",
			NULL};
	int argc = 9;
	CHECK_I64(hp_checks_take_options(&c, &argc, argv), 0);
	CHECK_I64(argc, 4);
	CHECK_STR(argv[1], "x.zst");
	CHECK_STR(argv[2], "--");
	CHECK_STR(argv[3], "--leaks");
	CHECK(argv[4] == NULL);
	CHECK(c.leaks_only && c.print_suppressions);
	CHECK_U64(c.fail_kinds, (1u << HP_LEAK_DEFINITE) | (1u << HP_LEAK_INDIRECT));
	CHECK_U64(c.max_leaked, 64);

	struct hp_leaks lk;
	hp_leaks_init(&lk, &c.supp);
	feed(&lk);
	CHECK_I64(hp_leaks_finish(&lk, resolve, NULL), 0);
	CHECK_U64(lk.bytes[HP_LEAK_DEFINITE], 96);
	CHECK_U64(lk.blocks[HP_LEAK_DEFINITE], 2);
	CHECK_U64(lk.bytes[HP_LEAK_INDIRECT], 64);
	CHECK_U64(lk.blocks[HP_LEAK_INDIRECT], 2);
	CHECK_U64(lk.bytes[HP_LEAK_POSSIBLE], 100);
	CHECK_U64(lk.blocks[HP_LEAK_POSSIBLE], 1);
	CHECK_U64(lk.bytes[HP_LEAK_REACHABLE], 0);
	CHECK_U64(lk.suppressed_bytes[HP_LEAK_REACHABLE], 73728);
	CHECK_U64(lk.unattributed_blocks, 1);
	CHECK_U64(lk.nsites, 4);
	/* sorted by bytes, then blocks: possible 100 (helper), then 64 B in 2 blocks
	 * (indirect, make_node) before 64 B in 1 (definite, helper), then definite 32 */
	CHECK_I64(lk.sites[0].kind, HP_LEAK_POSSIBLE);
	CHECK_I64(lk.sites[1].kind, HP_LEAK_INDIRECT);
	CHECK_U64(lk.sites[1].blocks, 2);
	CHECK_I64(lk.sites[2].kind, HP_LEAK_DEFINITE);
	CHECK_U64(lk.sites[2].stack, 2);
	CHECK_I64(lk.sites[3].kind, HP_LEAK_DEFINITE);
	CHECK_U64(lk.sites[3].bytes, 32);

	struct hp_check_input in = {.peak_heap_bytes = 12u << 20, .allocations = 10};
	FILE *saved = stderr;
	char *errtext = NULL;
	size_t errlen = 0;
	stderr = open_memstream(&errtext, &errlen);
	CHECK_U64(hp_checks_evaluate(&c, &in, &lk), 3);
	c.max_peak = 10u << 20;
	c.max_leaked = HP_CHECK_UNSET;
	c.fail_kinds = 0;
	c.max_allocations = 9;
	CHECK_U64(hp_checks_evaluate(&c, &in, &lk), 2);
	fclose(stderr);
	stderr = saved;
	CHECK_STR(
	    errtext,
	    "heapprof-analyze: check failed: leaked 160 B (definitely lost or indirectly lost) "
	    "exceeds --max-leaked 64 B\n"
	    "heapprof-analyze: check failed: definitely lost 96 B in 2 blocks (--fail-on-leaks)\n"
	    "heapprof-analyze: check failed: indirectly lost 64 B in 2 blocks (--fail-on-leaks)\n"
	    "heapprof-analyze: check failed: peak heap 12.0 MiB exceeds --max-peak 10 MiB\n"
	    "heapprof-analyze: check failed: 10 allocations exceed --max-allocations 9\n");
	CHECK_U64(c.failed, 5);
	free(errtext);

	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	hp_leaks_print_text(m, &lk, HP_LEAKS_PRINT_SUPPRESSIONS);
	fclose(m);
	CHECK(strstr(text, "  definitely lost: 96 B in 2 blocks\n") != NULL);
	CHECK(strstr(text, "indirectly lost: 64 B in 2 blocks, allocated at\n"
			   "    #0  make_node /src/list.c:12 (t)\n") != NULL);
	CHECK(strstr(text, "leak:(anonymous namespace)::pool::pool  (built-in:") != NULL);
	free(text);

	m = open_memstream(&text, &len);
	hp_leaks_print_json(m, &lk, 2);
	fclose(m);
	CHECK(strstr(text, "\"definitely_lost\": {\"bytes\": 96, \"blocks\": 2}") != NULL);
	CHECK(strstr(text, "\"file\": \"/src/\\\"q\\\".c\"") != NULL);
	CHECK(
	    strstr(text, "{\"kind\": \"possible\", \"bytes\": 100, \"blocks\": 1, \"stack\": [") !=
	    NULL);
	free(text);

	m = open_memstream(&text, &len);
	CHECK_U64(
	    hp_leaks_print_lsan(m, &lk, 42, (1u << HP_LEAK_DEFINITE) | (1u << HP_LEAK_INDIRECT)),
	    3);
	fclose(m);
	CHECK(strstr(text, "==42==ERROR: LeakSanitizer: detected memory leaks\n") != NULL);
	CHECK(strstr(text, "Indirect leak of 64 byte(s) in 2 object(s) allocated from:\n"
			   "    #0 0x0 in make_node /src/list.c:12\n") != NULL);
	CHECK(strstr(text, "SUMMARY: LeakSanitizer: 160 byte(s) leaked in 4 allocation(s).\n") !=
	      NULL);
	free(text);

	hp_leaks_release(&lk);
	hp_checks_release(&c);
}

static void test_program_suppressions_and_fallback(void)
{
	struct hp_suppressions none;
	hp_suppress_init(&none);
	struct hp_leaks lk;
	hp_leaks_init(&lk, &none);
	const char prog[] = "# from the program\nleak:helper\n";
	CHECK_I64(hp_leaks_add_program_suppressions(&lk, prog, sizeof(prog) - 1), 0);
	feed(&lk);
	CHECK_I64(hp_leaks_finish(&lk, resolve, NULL), 0);
	CHECK_U64(lk.bytes[HP_LEAK_DEFINITE], 32);
	CHECK_U64(lk.bytes[HP_LEAK_POSSIBLE], 0);
	CHECK_U64(lk.bytes[HP_LEAK_REACHABLE], 73728); /* no built-ins here */
	CHECK_U64(lk.suppressed_blocks[HP_LEAK_DEFINITE], 1);
	CHECK_U64(lk.supp.nrules, 1);
	CHECK_U64(lk.supp.rules[0].hits, 2);
	CHECK_U64(lk.supp.rules[0].bytes, 164);
	hp_leaks_release(&lk);

	/* no scan: live at exit */
	hp_leaks_init(&lk, &none);
	hp_leaks_add_live(&lk, 0x10, 10, 1);
	hp_leaks_add_live(&lk, 0x20, 20, 1);
	CHECK_I64(hp_leaks_finish(&lk, resolve, NULL), 0);
	CHECK_U64(lk.bytes[HP_LEAK_LIVE], 30);
	CHECK_U64(lk.blocks[HP_LEAK_LIVE], 2);
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	hp_leaks_print_json(m, &lk, 0);
	fclose(m);
	CHECK_STR(text, "null");
	free(text);
	m = open_memstream(&text, &len);
	hp_leaks_print_text(m, &lk, 0);
	fclose(m);
	CHECK(strstr(text, "no reachability scan") != NULL);
	CHECK(strstr(text, "live at exit: 30 B in 2 blocks, allocated at") != NULL);
	free(text);

	/* bad program suppressions: reported, ignored */
	struct hp_leaks bad;
	hp_leaks_init(&bad, &none);
	CHECK_I64(hp_leaks_add_program_suppressions(&bad, "oops", 4), 0);
	CHECK_I64(hp_leaks_finish(&bad, resolve, NULL), -EINVAL);
	CHECK_STR(bad.supp_error, "__lsan_default_suppressions:1: not a leak suppression: 'oops'");
	hp_leaks_release(&bad);
	hp_leaks_release(&lk);
	hp_suppress_release(&none);
}

static void test_sizes(void)
{
	uint64_t v = 0;
	CHECK_I64(hp_checks_parse_size("4096", &v), 0);
	CHECK_U64(v, 4096);
	CHECK_I64(hp_checks_parse_size("10M", &v), 0);
	CHECK_U64(v, 10u << 20);
	CHECK_I64(hp_checks_parse_size("512KiB", &v), 0);
	CHECK_U64(v, 512u << 10);
	CHECK_I64(hp_checks_parse_size("1G", &v), 0);
	CHECK_U64(v, 1u << 30);
	CHECK_I64(hp_checks_parse_size("1.5k", &v), 0);
	CHECK_U64(v, 1536);
	CHECK_I64(hp_checks_parse_size("2MB", &v), 0);
	CHECK_U64(v, 2000000);
	CHECK_I64(hp_checks_parse_size("100B", &v), 0);
	CHECK_U64(v, 100);
	CHECK_I64(hp_checks_parse_size("-1", &v), -EINVAL);
	CHECK_I64(hp_checks_parse_size("10X", &v), -EINVAL);
	CHECK_I64(hp_checks_parse_size("", &v), -EINVAL);
	CHECK_I64(hp_checks_parse_size("M", &v), -EINVAL);
	char b[32];
	CHECK_STR(hp_checks_format_size(512, 0, b, sizeof(b)), "512 B");
	CHECK_STR(hp_checks_format_size(10u << 20, 1, b, sizeof(b)), "10 MiB");
	CHECK_STR(hp_checks_format_size(10u << 20, 0, b, sizeof(b)), "10.0 MiB");
	CHECK_STR(hp_checks_format_size(1536, 1, b, sizeof(b)), "1.5 KiB");

	struct hp_checks c;
	hp_checks_init(&c);
	CHECK_I64(hp_checks_parse_option(&c, "--fail-on-leaks=possible,reachable", NULL), 1);
	CHECK_U64(c.fail_kinds, (1u << HP_LEAK_POSSIBLE) | (1u << HP_LEAK_REACHABLE));
	CHECK_I64(hp_checks_parse_option(&c, "--fail-on-leaks=all", NULL), 1);
	CHECK_U64(c.fail_kinds, 0xf);
	CHECK_I64(hp_checks_parse_option(&c, "--max-peak", "1G"), 2);
	CHECK_I64(hp_checks_parse_option(&c, "--max-allocations=1000", NULL), 1);
	CHECK_U64(c.max_allocations, 1000);
	CHECK_I64(hp_checks_parse_option(&c, "--top", "3"), 0);
	CHECK_I64(hp_checks_parse_option(&c, "--leaksx", NULL), 0);
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w");
	CHECK_I64(hp_checks_parse_option(&c, "--fail-on-leaks=lost", NULL), -1);
	CHECK_I64(hp_checks_parse_option(&c, "--max-peak", NULL), -1);
	CHECK_I64(hp_checks_parse_option(&c, "--max-leaked", "lots"), -1);
	CHECK_I64(hp_checks_parse_option(&c, "--max-allocations", "-5"), -1);
	char *argv[] = {"prog", "--suppressions", "/nonexistent/x.supp", NULL};
	int argc = 3;
	CHECK_I64(hp_checks_take_options(&c, &argc, argv), 2);
	fclose(stderr);
	stderr = saved;
	hp_checks_release(&c);
}

int main(void)
{
	test_join();
	test_program_suppressions_and_fallback();
	test_sizes();
	return check_done();
}
