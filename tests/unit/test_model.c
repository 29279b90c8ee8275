/* analyzer/model.c and output.c: one trace loaded into the model (replay, leak join,
 * suppressions, warnings, completeness, pprof ids, site keys across two layouts), the
 * errors heapprof-analyze prints, the live view's model of a trace still being written,
 * and the table of output formats. */
#define _GNU_SOURCE /* open_memstream */
#include "check.h"
#include "trace_builder.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model.h"
#include "output.h"

static const uint64_t seg[][3] = {{0x0, 0x10000, 5}};

struct said {
	char text[8][600];
	int n, progress_done, progress_calls;
};

static void on_warn(void *ctx, const char *msg)
{
	struct said *s = ctx;
	if (s->n < 8)
		snprintf(s->text[s->n++], sizeof s->text[0], "%s", msg);
}

static void on_progress(void *ctx, uint64_t off, uint64_t size, int done)
{
	struct said *s = ctx;
	(void)off;
	(void)size;
	s->progress_calls++;
	s->progress_done += done;
}

/* v2 trace of one process at load bias `bias`: make (stack 1) leaks 100 bytes in slot 5
 * (definitely lost), keep (stack 2) 40 bytes in slot 7 (still reachable), and a block
 * freed. `end`: with its trailer; `lost`: END's lost count; `supp`: a SUPPRESSIONS
 * record. */
static void build(struct tb *b, uint64_t bias, int end, uint64_t lost, const char *supp,
		  const char *error)
{
	tb_init(b);
	tb_header(b, &(struct tb_header_args){.version = 2, .pid = 42, .exe = "/bin/prog"});
	tb_module(b, 1, "/bin/prog", "", 0, bias, 1, seg);
	uint64_t s1[] = {bias + 0x1100, bias + 0x2000}, s2[] = {bias + 0x1200, bias + 0x2000},
		 s3[] = {bias + 0x1300};
	tb_stack(b, 1, 2, s1);
	tb_stack(b, 3, 1, s3); /* a stack no event uses: its location is not reported */
	tb_stack(b, 2, 2, s2);
	tb_thread(b, 0, 42, 0);
	tb2_alloc_slot(b, 0, 1000, 100, 1, 5);
	tb2_alloc_slot(b, 0, 2000, 40, 2, 7);
	tb2_alloc_slot(b, 0, 3000, 8, 2, 9);
	tb2_free(b, 0, 4000, 9);
	tb_flush_events(b);
	tb_frame(b);
	if (supp) {
		tb_buf_u(&b->raw, HP_REC_SUPPRESSIONS);
		tb_buf_u(&b->raw, 5000);
		tb_buf_str(&b->raw, supp, strlen(supp));
	}
	if (error)
		tb_error(b, 5500, error);
	static const uint64_t bytes[4] = {100, 0, 0, 40}, blocks[4] = {1, 0, 0, 1};
	tb_leak_scan(b, 6000, 0, bytes, blocks, 2);
	static const uint64_t slots[2] = {5, 7};
	static const unsigned cls[2] = {HP_LEAK_DEFINITE, HP_LEAK_REACHABLE};
	tb2_leak_blocks(b, 2, slots, cls);
	tb_frame(b);
	if (end) {
		tb_exit(b, 7000, 0);
		tb_end(b, 7000, 4, lost);
		tb_frame(b);
	}
}

static int load(struct hp_model *m, struct tb *b, const struct hp_analysis_options *o)
{
	struct hp_reader *r = hp_reader_open_mem(b->out.data, b->out.len, "t.zst");
	int rc = hp_model_load_reader(m, r, "t.zst", o);
	hp_reader_free(r);
	return rc;
}

static const struct hp_site *site_with(const struct hp_model *m, uint64_t address)
{
	const struct hp_profile *p = m->prof;
	for (size_t i = 0; i < p->nsites; i++)
		if (p->sites[i].nlocations &&
		    p->locations[p->sites[i].locations[0]].address == address)
			return &p->sites[i];
	return NULL;
}

static char *render(const struct hp_model *m, const char *format)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const struct hp_output *out = hp_output_find(format);
	struct hp_output_options o = {
	    .out = f, .top = 5, .ntraces = 1, .leak_kinds = 1u << HP_LEAK_DEFINITE};
	CHECK(out && out->write && out->write(m, &o) == 0);
	fclose(f);
	return text;
}

static void test_complete(void)
{
	struct tb b;
	struct said said = {0};
	struct hp_suppressions base;
	hp_suppress_init(&base);
	build(&b, 0x400000, 1, 0, NULL, NULL);
	struct hp_model m;
	const struct hp_analysis_options o = {.no_symbols = 1,
					      .suppressions = &base,
					      .warn = on_warn,
					      .progress = on_progress,
					      .ctx = &said};
	CHECK_I64(load(&m, &b, &o), 0);
	CHECK(m.complete);
	CHECK_U64(m.nwarnings, 0);
	CHECK_I64(said.n, 0);
	CHECK_I64(said.progress_done, 1);
	CHECK_STR(m.file, "t.zst");
	const struct hp_profile *p = m.prof;
	CHECK_U64(p->header.pid, 42);
	CHECK_U64(p->allocations, 3);
	CHECK_U64(p->peak_heap_bytes, 148);
	CHECK_U64(p->leaked_bytes, 140);
	CHECK_U64(p->nsites, 2);
	/* Locations of reported stacks only, in order of first appearance: pprof ids 1..3. */
	CHECK_U64(p->nlocations, 3);
	CHECK_U64(p->locations[0].address, 0x1100);
	CHECK_U64(p->locations[1].address, 0x2000);
	CHECK_U64(p->locations[2].address, 0x1200);
	CHECK_U64(p->locations[1].ip, 0x402000);
	CHECK_U64(m.nframes, 3); /* one frame each without symbols */
	for (size_t i = 0; i < p->nlocations; i++) {
		CHECK_U64(p->locations[i].nframes, 1);
		CHECK_U64(m.frames[p->locations[i].first_frame].location, i);
	}
	/* The mapping of module 0: pprof id 1. */
	CHECK_U64(p->nmodules, 1);
	CHECK_STR(p->modules[0].path, "/bin/prog");
	CHECK_U64(p->modules[0].start, 0x400000);
	CHECK_U64(p->modules[0].limit, 0x410000);

	/* The leak join: the scan's classes, each block's size and stack from the replay. */
	CHECK(m.leaks.have_scan && m.leaks.finished);
	CHECK_U64(m.leaks.bytes[HP_LEAK_DEFINITE], 100);
	CHECK_U64(m.leaks.bytes[HP_LEAK_REACHABLE], 40);
	CHECK_U64(m.leaks.nsites, 2);

	/* Stacks through the model: frames of module and address, keyed. */
	const struct hp_site *make = site_with(&m, 0x1100), *keep = site_with(&m, 0x1200);
	CHECK(make && keep);
	struct hp_stack st = {0};
	if (make && keep) {
		CHECK_I64(hp_model_stack(&m, make, 0, &st), 0);
		CHECK_U64(st.n, 2);
		CHECK_STR(st.v[0].module_path, "/bin/prog");
		CHECK_U64(st.v[1].address, 0x2000);
		CHECK_U64(make->key, hp_stack_key(st.v, st.n));
		CHECK(make->key != keep->key);
		CHECK_U64(make->series[p->series.nbuckets - 1].live_bytes, 100);
	}
	char *t = render(&m, "lsan");
	CHECK(strstr(t, "Direct leak of 100 byte(s) in 1 object(s)") != NULL);
	CHECK(strstr(t, "40 byte") == NULL);
	free(t);
	t = render(&m, "text");
	CHECK(strstr(t, "heapprof report: t.zst\n") == t);
	CHECK(strstr(t, "definitely lost: 100 B in 1 block") != NULL);
	free(t);

	/* The same program loaded elsewhere: other ips, the same sites by key. */
	struct tb b2;
	build(&b2, 0x7f0000000000, 1, 0, NULL, NULL);
	struct hp_model m2;
	CHECK_I64(load(&m2, &b2, &o), 0);
	const struct hp_site *make2 = site_with(&m2, 0x1100);
	CHECK(make2 && m2.prof->locations[0].ip != p->locations[0].ip);
	if (make && make2)
		CHECK_U64(make2->key, make->key);
	hp_model_release(&m2);
	tb_release(&b2);

	/* Symbols on demand (the command line's reports): the same stacks, no keys. */
	struct hp_model lz;
	struct hp_analysis_options lo = o;
	lo.lazy_symbols = 1;
	struct hp_stack st2 = {0};
	CHECK_I64(load(&lz, &b, &lo), 0);
	CHECK(lz.frames == NULL && lz.nframes == 0);
	for (size_t i = 0; i < p->nsites; i++) {
		const struct hp_site *e = &p->sites[i], *l = &lz.prof->sites[i];
		CHECK_U64(l->key, 0);
		for (unsigned flags = 0; flags <= HP_STACK_UNTRIMMED; flags++) {
			CHECK_I64(hp_model_stack(&m, e, flags, &st), 0);
			CHECK_I64(hp_model_stack(&lz, l, flags, &st2), 0);
			CHECK(hp_stack_equal(st.v, st.n, st2.v, st2.n));
			CHECK(st.n == st2.n && (!st.n || st.v[0].ip == st2.v[0].ip));
		}
	}
	CHECK_U64(lz.leaks.bytes[HP_LEAK_DEFINITE], 100);
	t = render(&lz, "text");
	char *te = render(&m, "text");
	CHECK_STR(t, te);
	free(t);
	free(te);
	hp_stack_release(&st2);
	hp_model_release(&lz);

	hp_stack_release(&st);
	hp_model_release(&m);
	CHECK(m.prof == NULL && m.replay == NULL);
	hp_suppress_release(&base);
	tb_release(&b);
}

static void test_warnings(void)
{
	struct tb b;
	struct said said = {0};
	struct hp_model m;
	const struct hp_analysis_options o = {.no_symbols = 1, .warn = on_warn, .ctx = &said};

	build(&b, 0x400000, 0, 0, "not a rule\n", "writer: disk full");
	CHECK_I64(load(&m, &b, &o), 0);
	CHECK(!m.complete);
	CHECK_U64(m.nwarnings, 2);
	CHECK_STR(m.warnings[0], hp_model_truncated_warning);
	CHECK_STR(m.warnings[1], "the recorder stopped: writer: disk full");
	CHECK_I64(said.n, 3);
	CHECK_STR(said.text[0], "'t.zst' has no trailer: the process did not exit cleanly "
				"(killed?); reporting what was recorded");
	CHECK_STR(said.text[1], "'t.zst': the recorder stopped: writer: disk full");
	CHECK(strncmp(said.text[2], "'t.zst': the program's suppressions were ignored: ", 50) == 0);
	hp_model_release(&m);
	tb_release(&b);

	said.n = 0;
	build(&b, 0x400000, 1, 3, NULL, NULL);
	CHECK_I64(load(&m, &b, &o), 0);
	CHECK(m.complete);
	CHECK_U64(m.nwarnings, 1);
	CHECK_STR(m.warnings[0], "3 events could not be recorded");
	CHECK_STR(said.text[0], "'t.zst': 3 events could not be recorded");
	hp_model_release(&m);
	tb_release(&b);
}

static void test_errors(void)
{
	struct hp_model m;
	const struct hp_analysis_options o = {.no_symbols = 1};
	CHECK_I64(hp_model_load(&m, "/nonexistent/t.zst", &o), -ENOENT);
	CHECK_STR(m.error, "cannot open '/nonexistent/t.zst': No such file or directory");
	hp_model_release(&m);

	static const char junk[] = "this is not zstd";
	struct hp_reader *r = hp_reader_open_mem(junk, sizeof junk, "j.zst");
	CHECK_I64(hp_model_load_reader(&m, r, "j.zst", &o), -EINVAL);
	CHECK(strncmp(m.error, "'j.zst' is not a heapprof trace: ", 33) == 0);
	hp_model_release(&m);
	hp_reader_free(r);

	/* From a file, as the command line loads it. */
	struct tb b;
	char path[] = "/tmp/test_model.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	build(&b, 0x400000, 1, 0, NULL, NULL);
	CHECK(tb_write_file(&b, path) == 0);
	CHECK_I64(hp_model_load(&m, path, &o), 0);
	CHECK_STR(m.file, path);
	CHECK_U64(m.prof->allocations, 3);
	hp_model_release(&m);
	unlink(path);
	tb_release(&b);
}

/* Pool objects (heapprof_alloc_hint) and marks: hint sites keep their own stacks, even
 * when no allocation of the malloc family has them, and no series. */
static void test_hints(void)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.version = 3, .pid = 9, .exe = "/bin/pool"});
	tb_module(&b, 1, "/bin/pool", "", 0, 0x400000, 1, seg);
	uint64_t s1[] = {0x401100, 0x402000}, s2[] = {0x401300}, s3[] = {0x401400, 0x402000};
	tb_stack(&b, 1, 2, s1);
	tb_stack(&b, 2, 1, s2); /* unused */
	tb_stack(&b, 3, 2, s3); /* hints only */
	tb_stack(&b, 4, 2, s3); /* the same frames under another id */
	tb_thread(&b, 0, 9, 0);
	tb3_alloc(&b, 0, 1000, 4096, 1);
	uint64_t pooled = tb3_alloc_hint(&b, 0, 2000, 64, 3);
	tb3_alloc_hint(&b, 0, 2100, 32, 4);
	tb3_free(&b, 0, 2200, pooled);
	tb_flush_events(&b);
	tb3_mark(&b, 2150, "after the pool");
	tb_exit(&b, 3000, 0);
	tb_end(&b, 3000, 4, 0);
	tb_frame(&b);
	for (int lazy = 0; lazy < 2; lazy++) {
		struct hp_model m;
		const struct hp_analysis_options o = {.no_symbols = 1, .lazy_symbols = lazy};
		CHECK_I64(load(&m, &b, &o), 0);
		const struct hp_profile *p = m.prof;
		CHECK_U64(p->nsites, 1);
		CHECK_U64(p->nhint_sites, 2);
		CHECK_U64(p->hint_allocations, 2);
		CHECK_U64(p->hint_live_bytes, 32);
		CHECK_U64(p->peak_heap_bytes, 4096);
		CHECK_U64(p->nmarks, 1);
		CHECK_U64(p->nlocations, 3); /* 0x1100, 0x2000, 0x1400; 0x1300 dropped */
		struct hp_stack st = {0};
		for (size_t i = 0; i < p->nhint_sites; i++) {
			const struct hp_site *h = &p->hint_sites[i];
			CHECK(h->hint && h->series == NULL);
			CHECK_U64(h->nlocations, 2);
			CHECK_U64(p->locations[h->locations[0]].address, 0x1400);
			CHECK_U64(p->locations[h->locations[1]].address, 0x2000);
			CHECK_I64(hp_model_stack(&m, h, 0, &st), 0);
			CHECK_U64(st.n, 2);
			CHECK_U64(st.v[0].address, 0x1400);
			if (!lazy)
				CHECK_U64(h->key, hp_stack_key(st.v, st.n));
		}
		if (!lazy)
			CHECK_U64(p->hint_sites[0].key, p->hint_sites[1].key);
		CHECK_U64(p->sites[0].series[p->series.nbuckets - 1].live_bytes, 4096);
		char *j = render(&m, "json");
		CHECK(strstr(j, "\"hints\": {\"allocations\": 2") != NULL);
		CHECK(strstr(j, "\"label\": \"after the pool\"") != NULL);
		free(j);
		hp_stack_release(&st);
		hp_model_release(&m);
	}
	tb_release(&b);
}

/* The first site of p whose innermost location is at `address`, or NULL. */
static const struct hp_site *peek_site(const struct hp_profile *p, uint64_t address, size_t *index)
{
	for (size_t i = 0; i < p->nsites; i++)
		if (p->sites[i].nlocations &&
		    p->locations[p->sites[i].locations[0]].address == address) {
			*index = i;
			return &p->sites[i];
		}
	return NULL;
}

static void append(int fd, const struct tb *b, size_t *written)
{
	size_t n = b->out.len - *written;
	CHECK(write(fd, b->out.data + *written, n) == (ssize_t)n);
	*written = b->out.len;
}

/* A child that holds path open until killed, as the process writing a trace does. */
static pid_t holder(const char *path)
{
	int ready[2];
	char c = 0;
	if (pipe(ready))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		c = open(path, O_RDONLY) >= 0;
		if (write(ready[1], &c, 1) == 1)
			pause();
		_exit(0);
	}
	if (pid > 0 && (read(ready[0], &c, 1) != 1 || !c)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(ready[0]);
	close(ready[1]);
	return pid;
}

/* The live view's model (hp_model_follow): a trace read as it grows, each site at the
 * same index from one peek to the next, the stacks of locations first seen after the
 * first peek symbolized too, the end once followed no more. A trace without its trailer
 * that its process holds open is `running`; an attached trace says when recording
 * began. */
static void test_follow(void)
{
	char path[] = "/tmp/test_model.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	pid_t child = holder(path);
	CHECK(child > 0);
	struct tb b;
	uint64_t pid = (uint64_t)child;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.version = 3,
					       .flags = HP_HDR_ATTACHED,
					       .pid = pid,
					       .realtime_ns = 1700000000123456789ull,
					       .exe = "/bin/live"});
	tb_module(&b, 1, "/bin/live", "", 0, 0x400000, 1, seg);
	uint64_t s1[] = {0x401100, 0x402000}, s2[] = {0x401200, 0x402000};
	tb_stack(&b, 1, 2, s1);
	tb_thread(&b, 0, pid, 0);
	uint64_t first = tb3_alloc(&b, 0, 1000, 100, 1);
	tb3_alloc(&b, 0, 1100, 50, 1);
	tb_flush_events(&b);
	tb_round(&b, 2000);
	tb_frame(&b);

	size_t written = 0;
	append(fd, &b, &written);
	struct hp_model m;
	const struct hp_analysis_options o = {.no_symbols = 1};
	CHECK_I64(hp_model_follow(&m, path, &o), 0);
	CHECK_I64(hp_model_follow_read(&m), 0);
	CHECK_I64(hp_model_peek(&m), 0);
	const struct hp_profile *p = m.prof;
	size_t i1 = 0, i2 = 0;
	const struct hp_site *s = peek_site(p, 0x1100, &i1);
	CHECK(s != NULL);
	CHECK_U64(s ? s->allocations : 0, 2);
	CHECK_U64(s ? s->leaked_bytes : 0, 150);
	CHECK_U64(p->heap_bytes, 150);
	CHECK_U64(p->nlocations, 2);
	CHECK(p->attached);
	struct hp_stack st = {0};
	CHECK_I64(hp_model_stack(&m, s, 0, &st), 0);
	CHECK_U64(st.n, 2);

	/* Its report while this process writes it, and once it does not. */
	struct hp_model r;
	CHECK_I64(hp_model_load(&r, path, &o), 0);
	CHECK(!r.complete && r.running);
	CHECK_STR(r.warnings[0], hp_model_running_warning);
	CHECK(r.prof->attached && r.prof->attached_realtime_ns == 1700000000123456789ull);
	char *t = render(&r, "text");
	CHECK(strstr(t, "  attached     at 2023-11-14 22:13:20 UTC (heapprof -p); blocks "
			"allocated before are not counted\n") != NULL);
	CHECK(strstr(t, "incomplete (no trailer yet: the process is still running)") != NULL);
	free(t);
	char *j = render(&r, "json");
	CHECK(strstr(j, "\"complete\": false, \"running\": true, \"warnings\"") != NULL);
	CHECK(strstr(j, "\"attached\": true, \"attached_at_realtime_s\": 1700000000.123") != NULL);
	free(j);
	hp_model_release(&r);

	tb_stack(&b, 2, 2, s2);
	tb3_alloc(&b, 0, 3000, 70, 2);
	tb3_free(&b, 0, 3100, first);
	tb_flush_events(&b);
	tb_round(&b, 4000);
	tb_frame(&b);
	append(fd, &b, &written);
	CHECK_I64(hp_model_follow_read(&m), 0);
	CHECK_I64(hp_model_peek(&m), 0);
	p = m.prof;
	CHECK(&p->sites[i1] == peek_site(p, 0x1100, &i1));
	CHECK_U64(p->sites[i1].leaked_bytes, 50);
	s = peek_site(p, 0x1200, &i2);
	CHECK(s != NULL && i2 != i1);
	CHECK_U64(p->nlocations, 3);
	CHECK_I64(hp_model_stack(&m, s, 0, &st), 0);
	CHECK_U64(st.n, 2);
	CHECK_U64(st.n ? st.v[0].address : 0, 0x1200);

	tb_exit(&b, 5000, 0);
	tb_end(&b, 5000, 5, 0);
	tb_frame(&b);
	append(fd, &b, &written);
	CHECK_I64(hp_model_follow_read(&m), 0); /* its writer may write on */
	hp_model_follow_stop(&m);
	CHECK_I64(hp_model_follow_read(&m), 1);
	CHECK_I64(hp_model_peek(&m), 0);
	CHECK(m.prof->has_end && m.prof->has_exit);
	CHECK_U64(m.prof->heap_bytes, 120);
	hp_model_release(&m);

	/* Cut short, and its process gone: not running. */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(fd);
	CHECK(truncate(path, (off_t)b.out.len - 3) == 0);
	CHECK_I64(hp_model_load(&r, path, &o), 0);
	CHECK(!r.complete && !r.running);
	CHECK_STR(r.warnings[0], hp_model_truncated_warning);
	hp_model_release(&r);
	hp_stack_release(&st);
	unlink(path);
	tb_release(&b);
}

static void test_table(void)
{
	char names[64];
	CHECK_STR(hp_output_names(names, sizeof names, ", ", " or "), "text, json or lsan");
	CHECK_STR(hp_output_names(names, sizeof names, "|", "|"), "text|json|lsan");
	CHECK_STR(hp_output_names(names, 8, ", ", " or "), "text, j"); /* cut, terminated */
	const struct hp_output *dump = hp_output_find("dump"), *leaks = hp_output_find("leaks");
	CHECK(dump && dump->write_records && !dump->write && (dump->flags & HP_OUTPUT_HIDDEN));
	CHECK(leaks && leaks->write && (leaks->flags & HP_OUTPUT_HIDDEN));
	CHECK(hp_output_find("xml") == NULL);
	CHECK_U64(hp_output_find("text")->default_top, 5);
	CHECK_U64(hp_output_find("json")->default_top, 0);
	size_t n = 0;
	while (hp_output_get(n))
		n++;
	CHECK_U64(n, 12);
	/* The exports: selected by options of their own, each checking its argument. */
	const char *exports[] = {"collapsed", "pprof", "massif", "dhat"};
	for (int i = 0; i < 4; i++) {
		const struct hp_output *f = hp_output_find(exports[i]);
		CHECK(f && f->write && (f->flags & HP_OUTPUT_HIDDEN));
	}
	CHECK(hp_output_find("collapsed")->check_arg("temporary") == 0);
	CHECK(hp_output_find("collapsed")->check_arg("bytes") == -1);
	CHECK(hp_output_find("pprof")->check_arg("end") == 0);
	CHECK(hp_output_find("pprof")->check_arg("start") == -1);
	CHECK_U64(hp_output_find("massif")->series_buckets, 64);
	/* Formats with options of their own (--html, --svg-*): no --format value. */
	const char *own[] = {"html", "svg-flamegraph", "svg-timeline"};
	for (int i = 0; i < 3; i++)
		CHECK(hp_output_find(own[i]) && (hp_output_find(own[i])->flags & HP_OUTPUT_HIDDEN));
}

int main(void)
{
	test_complete();
	test_warnings();
	test_errors();
	test_hints();
	test_follow();
	test_table();
	return check_done();
}
