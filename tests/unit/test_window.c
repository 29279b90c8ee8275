/* analyzer/window.c: --at, --range and --from edges, their combinations and their
 * errors. (tests/time/check_time.py checks what the replay makes of them.) */
#include "check.h"

#include <errno.h>
#include <string.h>

#include "window.h"

static int parse(struct hp_window *w, const char *opt, const char *arg, char *err)
{
	return hp_window_parse(w, opt, arg, err, 256);
}

static void test_edges(void)
{
	struct hp_window w = {0};
	char err[256];
	CHECK(parse(&w, "at", "2.5", err) == 0);
	CHECK_I64(w.to.kind, HP_EDGE_SECONDS);
	CHECK(w.to.seconds == 2.5);
	CHECK_I64(w.from.kind, HP_EDGE_NONE);
	CHECK(w.set);
	CHECK_STR(w.spec, "--at 2.5");

	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "at", "1500ms", err) == 0 && w.to.seconds == 1.5);
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "at", "2m", err) == 0 && w.to.seconds == 120);
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "at", "peak", err) == 0 && w.to.kind == HP_EDGE_PEAK);
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "at", "end", err) == 0 && w.to.kind == HP_EDGE_NONE && w.set);
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "at", "warmup", err) == 0 && w.to.kind == HP_EDGE_MARK);
	CHECK_STR(w.to.label, "warmup");
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "at", "mark:peak", err) == 0 && w.to.kind == HP_EDGE_MARK);
	CHECK_STR(w.to.label, "peak");
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "at", "mark:10", err) == 0 && w.to.kind == HP_EDGE_MARK);
	CHECK_STR(w.to.label, "10");
}

static void test_combinations(void)
{
	struct hp_window w = {0};
	char err[256];
	CHECK(parse(&w, "range", "half..done", err) == 0);
	CHECK(w.from.kind == HP_EDGE_MARK && w.to.kind == HP_EDGE_MARK);
	CHECK_STR(w.from.label, "half");
	CHECK_STR(w.to.label, "done");

	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "range", "..5", err) == 0);
	CHECK(w.from.kind == HP_EDGE_NONE && w.to.kind == HP_EDGE_SECONDS && w.to.seconds == 5);
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "range", "warmup..", err) == 0);
	CHECK(w.from.kind == HP_EDGE_MARK && w.to.kind == HP_EDGE_NONE);

	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "from", "warmup", err) == 0);
	CHECK(parse(&w, "at", "30", err) == 0);
	CHECK(w.from.kind == HP_EDGE_MARK && w.to.kind == HP_EDGE_SECONDS);
	CHECK_STR(w.spec, "--from warmup --at 30");
}

static void test_errors(void)
{
	struct hp_window w = {0};
	char err[256];
	CHECK(parse(&w, "range", "5", err) == -EINVAL);
	CHECK(strstr(err, "invalid --range '5'") != NULL);
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "range", "2..1", err) == -EINVAL);
	CHECK(strstr(err, "after the start") != NULL);
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "range", "peak..", err) == -EINVAL);
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "from", "peak", err) == -EINVAL);
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "at", "3x", err) == -EINVAL);
	CHECK(strstr(err, "expected seconds") != NULL);
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "at", "mark:", err) == -EINVAL);
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "at", "1", err) == 0);
	CHECK(parse(&w, "at", "2", err) == -EINVAL);	   /* twice */
	CHECK(parse(&w, "range", "1..2", err) == -EINVAL); /* with --at */
	char long_label[300];
	memset(long_label, 'x', sizeof long_label - 1);
	long_label[sizeof long_label - 1] = 0;
	memset(&w, 0, sizeof w);
	CHECK(parse(&w, "at", long_label, err) == -EINVAL);
}

int main(void)
{
	test_edges();
	test_combinations();
	test_errors();
	return check_done();
}
