/* heapprof-analyze's leak-check options and the checks that fail a test. */
#include "checks.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROG "heapprof-analyze"
#define DEFAULT_FAIL_KINDS ((1u << HP_LEAK_DEFINITE) | (1u << HP_LEAK_INDIRECT))

void hp_checks_init(struct hp_checks *c)
{
	memset(c, 0, sizeof(*c));
	c->max_peak = c->max_leaked = c->max_allocations = HP_CHECK_UNSET;
	hp_suppress_init(&c->supp);
	hp_time_options_init(&c->time);
}

void hp_checks_release(struct hp_checks *c)
{
	hp_suppress_release(&c->supp);
	free(c->supp_files);
}

int hp_checks_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {
	    {"", 1},
	    {"B", 1},
	    {"K", 1024.0},
	    {"KiB", 1024.0},
	    {"KB", 1e3},
	    {"M", 1048576.0},
	    {"MiB", 1048576.0},
	    {"MB", 1e6},
	    {"G", 1073741824.0},
	    {"GiB", 1073741824.0},
	    {"GB", 1e9},
	    {"T", 1099511627776.0},
	    {"TiB", 1099511627776.0},
	    {"TB", 1e12},
	};
	if (!s || !(*s >= '0' && *s <= '9'))
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix) != 0)
			continue;
		/* "Kb"/"kb" read as K: case only matters to pedants, and bits are no size. */
		double bytes = v * units[i].mult;
		if (bytes >= 18446744073709551615.0)
			return -EINVAL;
		*out = (uint64_t)(bytes + 0.5);
		return 0;
	}
	return -EINVAL;
}

const char *hp_checks_format_size(uint64_t bytes, int exact, char *buf, size_t size)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", bytes);
		return buf;
	}
	int u = 0;
	uint64_t div = 1024;
	while (u < 5 && bytes / div >= 1024) {
		div *= 1024;
		u++;
	}
	if (exact && bytes % div == 0)
		snprintf(buf, size, "%" PRIu64 " %s", bytes / div, unit[u]);
	else
		snprintf(buf, size, "%.1f %s", (double)bytes / (double)div, unit[u]);
	return buf;
}

static int parse_kinds(const char *s, unsigned *out)
{
	static const struct {
		const char *name;
		int cls;
	} names[] = {
	    {"definite", HP_LEAK_DEFINITE},
	    {"indirect", HP_LEAK_INDIRECT},
	    {"possible", HP_LEAK_POSSIBLE},
	    {"reachable", HP_LEAK_REACHABLE},
	    {"all", -1},
	};
	unsigned kinds = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		size_t i = 0;
		for (; i < sizeof(names) / sizeof(names[0]); i++) {
			if (strlen(names[i].name) == n && strncmp(s, names[i].name, n) == 0)
				break;
		}
		if (i == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		kinds |= names[i].cls < 0 ? 0xfu : 1u << names[i].cls;
		s += n;
		if (*s == ',')
			s++;
	}
	if (!kinds)
		return -EINVAL;
	*out = kinds;
	return 0;
}

/* "--name" or "--name=value" or "--name value". Returns the arguments used, or 0. */
static int match_opt(const char *arg, const char *name, const char *next, int needs_value,
		     const char **value)
{
	size_t n = strlen(name);
	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (arg[n] != 0)
		return 0;
	if (needs_value) {
		*value = next;
		return 2;
	}
	*value = NULL;
	return 1;
}

static int need(const char *opt, const char *value)
{
	if (value)
		return 0;
	fprintf(stderr, PROG ": option '%s' requires a value\n", opt);
	return -1;
}

static int size_opt(const char *opt, const char *value, uint64_t *out)
{
	if (need(opt, value))
		return -1;
	if (hp_checks_parse_size(value, out)) {
		fprintf(stderr, PROG ": invalid size '%s' for %s (e.g. 512KiB, 10M, 1G, 4096)\n",
			value, opt);
		return -1;
	}
	return 0;
}

/* RATE: a SIZE per second, "/s", "/min" or "/h" after it optional. */
static int rate_opt(const char *opt, const char *value, double *out)
{
	if (need(opt, value))
		return -1;
	char buf[64];
	const char *slash = strchr(value, '/');
	size_t n = slash ? (size_t)(slash - value) : strlen(value);
	double per = !slash || !strcmp(slash, "/s") ? 1
		     : !strcmp(slash, "/min")	    ? 60
		     : !strcmp(slash, "/h")	    ? 3600
						    : 0;
	uint64_t bytes;
	if (n < sizeof buf) {
		memcpy(buf, value, n);
		buf[n] = 0;
	}
	if (n >= sizeof buf || !per || hp_checks_parse_size(buf, &bytes)) {
		fprintf(stderr,
			PROG ": invalid rate '%s' for %s (bytes per second: 100M, 100M/s, 1G/h)\n",
			value, opt);
		return -1;
	}
	*out = (double)bytes / per;
	return 0;
}

static int count_opt(const char *opt, const char *value, uint64_t *out)
{
	if (need(opt, value))
		return -1;
	char *end;
	errno = 0;
	double v = strtod(value, &end);
	double mult = !strcmp(end, "") || !strcmp(end, "/s")	 ? 1
		      : !strcmp(end, "K") || !strcmp(end, "K/s") ? 1e3
		      : !strcmp(end, "M") || !strcmp(end, "M/s") ? 1e6
								 : 0;
	if (errno || end == value || !mult || !(v >= 0) || v * mult > 1e18 || *value == '-') {
		fprintf(stderr, PROG ": invalid count '%s' for %s (e.g. 1000000, 1M, 500K/s)\n",
			value, opt);
		return -1;
	}
	*out = (uint64_t)(v * mult + 0.5);
	return 0;
}

/* The options of the window, growth and the checklist. Returns as hp_checks_parse_option. */
static int parse_time_option(struct hp_checks *c, const char *arg, const char *next)
{
	static const char *const window_opts[] = {"at", "range", "from"};
	const char *v;
	int used;
	for (size_t i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof name, "--%s", window_opts[i]);
		if ((used = match_opt(arg, name, next, 1, &v))) {
			char err[512];
			if (need(name, v))
				return -1;
			if (hp_window_parse(&c->window, window_opts[i], v, err, sizeof err)) {
				fprintf(stderr, PROG ": %s\n", err);
				return -1;
			}
			return used;
		}
	}
	if ((used = match_opt(arg, "--check", next, 0, &v)) && !v) {
		c->time.check = 1;
		return used;
	}
	if ((used = match_opt(arg, "--growth", next, 0, &v)) && !v) {
		c->time.growth = 1;
		return used;
	}
	if ((used = match_opt(arg, "--no-growth", next, 0, &v)) && !v) {
		c->time.growth = -1;
		return used;
	}
	if ((used = match_opt(arg, "--budget", next, 1, &v)))
		return size_opt("--budget", v, &c->time.budget) ? -1 : used;
	if ((used = match_opt(arg, "--max-rss", next, 1, &v)))
		return size_opt("--max-rss", v, &c->time.max_rss) ? -1 : used;
	if ((used = match_opt(arg, "--max-growth", next, 1, &v)))
		return rate_opt("--max-growth", v, &c->time.max_growth) ? -1 : used;
	if ((used = match_opt(arg, "--max-alloc-rate", next, 1, &v))) {
		double r;
		if (rate_opt("--max-alloc-rate", v, &r))
			return -1;
		c->time.max_alloc_rate = (uint64_t)(r + 0.5);
		return used;
	}
	if ((used = match_opt(arg, "--max-alloc-calls", next, 1, &v)))
		return count_opt("--max-alloc-calls", v, &c->time.max_alloc_calls) ? -1 : used;
	if ((used = match_opt(arg, "--timeline-sites", next, 1, &v))) {
		uint64_t n;
		if (count_opt("--timeline-sites", v, &n))
			return -1;
		if (n < 1 || n > 26) {
			fprintf(stderr, PROG ": invalid --timeline-sites '%s': 1 to 26\n", v);
			return -1;
		}
		c->time.timeline_sites = (unsigned)n;
		return used;
	}
	if ((used = match_opt(arg, "--max-fragmentation", next, 1, &v))) {
		if (need("--max-fragmentation", v))
			return -1;
		char *end;
		double f = strtod(v, &end);
		int pct = !strcmp(end, "%");
		if (end == v || (*end && !pct) || !(f >= 0) || (!pct && f > 1) || f > 100) {
			fprintf(stderr,
				PROG ": invalid --max-fragmentation '%s': a percentage (20%%) or a "
				     "fraction (0.2)\n",
				v);
			return -1;
		}
		c->time.max_fragmentation = pct ? f / 100 : f;
		return used;
	}
	return 0;
}

int hp_checks_parse_option(struct hp_checks *c, const char *arg, const char *next)
{
	const char *v;
	int used;
	if ((used = parse_time_option(c, arg, next)))
		return used;
	if ((used = match_opt(arg, "--leaks", next, 0, &v)) && !v) {
		c->leaks_only = 1;
		return used;
	}
	if ((used = match_opt(arg, "--print-suppressions", next, 0, &v)) && !v) {
		c->print_suppressions = 1;
		return used;
	}
	if ((used = match_opt(arg, "--no-default-suppressions", next, 0, &v)) && !v) {
		c->no_default_supp = 1;
		return used;
	}
	if ((used = match_opt(arg, "--fail-on-leaks", next, 0, &v))) {
		if (!v) {
			c->fail_kinds = DEFAULT_FAIL_KINDS;
		} else if (parse_kinds(v, &c->fail_kinds)) {
			fprintf(stderr,
				PROG ": invalid leak kinds '%s' for --fail-on-leaks "
				     "(a list of definite,indirect,possible,reachable or all)\n",
				v);
			return -1;
		}
		return used;
	}
	if ((used = match_opt(arg, "--suppressions", next, 1, &v))) {
		if (need("--suppressions", v) || !*v) {
			if (v)
				fprintf(stderr, PROG ": empty file name for --suppressions\n");
			return -1;
		}
		const char **f = realloc(c->supp_files, (c->nsupp_files + 1) * sizeof(*f));
		if (!f) {
			fprintf(stderr, PROG ": out of memory\n");
			return -1;
		}
		f[c->nsupp_files++] = v;
		c->supp_files = f;
		return used;
	}
	if ((used = match_opt(arg, "--max-peak", next, 1, &v)))
		return size_opt("--max-peak", v, &c->max_peak) ? -1 : used;
	if ((used = match_opt(arg, "--max-leaked", next, 1, &v)))
		return size_opt("--max-leaked", v, &c->max_leaked) ? -1 : used;
	if ((used = match_opt(arg, "--max-allocations", next, 1, &v))) {
		if (need("--max-allocations", v))
			return -1;
		char *end;
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		if (errno || end == v || *end || *v == '-') {
			fprintf(stderr, PROG ": invalid count '%s' for --max-allocations\n", v);
			return -1;
		}
		c->max_allocations = n;
		return used;
	}
	return 0;
}

int hp_checks_take_options(struct hp_checks *c, int *argc, char **argv)
{
	int out = 1, i = 1;
	while (i < *argc) {
		if (strcmp(argv[i], "--") == 0)
			break;
		int used = hp_checks_parse_option(c, argv[i], i + 1 < *argc ? argv[i + 1] : NULL);
		if (used < 0)
			return 1;
		if (used == 0)
			argv[out++] = argv[i++];
		else
			i += used;
	}
	while (i < *argc)
		argv[out++] = argv[i++];
	argv[out] = NULL;
	*argc = out;
	c->time.max_peak = c->max_peak;

	for (size_t k = 0; k < c->nsupp_files; k++) {
		char err[512];
		if (hp_suppress_add_file(&c->supp, c->supp_files[k], err, sizeof(err))) {
			fprintf(stderr, PROG ": %s\n", err);
			return 2;
		}
	}
	if (!c->no_default_supp && hp_suppress_add_defaults(&c->supp)) {
		fprintf(stderr, PROG ": out of memory\n");
		return 2;
	}
	return 0;
}

void hp_checks_usage(FILE *out)
{
	fputs("Leak check (docs/leak-check.md):\n"
	      "  --leaks                    show only the leak report\n"
	      "  --suppressions FILE        LeakSanitizer-format suppressions (leak:PATTERN);\n"
	      "                             repeatable\n"
	      "  --no-default-suppressions  do not suppress the built-in one-time allocations\n"
	      "                             of ld.so, glibc and libstdc++\n"
	      "  --print-suppressions       list the suppressions that matched\n"
	      "Checks (exit status 3 when one fails):\n"
	      "  --fail-on-leaks[=KINDS]    fail when blocks of KINDS remain at exit: a comma\n"
	      "                             list of definite,indirect,possible,reachable, or\n"
	      "                             all (default definite,indirect)\n"
	      "  --max-peak SIZE            fail when the peak heap exceeds SIZE (10M, 512KiB)\n"
	      "  --max-leaked SIZE          fail when the leaked bytes (of the --fail-on-leaks\n"
	      "                             kinds; live at exit without a leak scan) exceed SIZE\n"
	      "  --max-allocations N        fail when there were more than N allocations\n"
	      "Time (docs/time-analysis.md):\n"
	      "  --at T                     the live set at T: seconds (2.5, 1500ms), peak,\n"
	      "                             end, or a mark label (mark:LABEL); every report\n"
	      "                             then describes [start, T)\n"
	      "  --range A..B               only the events in [A, B): the allocations made\n"
	      "                             in it, and of those what is live at B\n"
	      "  --from MARK                the window starts at a mark (or a time)\n"
	      "  --growth, --no-growth      growth over time of every site (default: shown\n"
	      "                             for traces of 5 s or more): \"Suspected leaks\"\n"
	      "  --budget SIZE              project when the live heap reaches SIZE\n"
	      "  --timeline-sites N         sites stacked in the timelines (default 3)\n"
	      "  --check                    the memory checklist, each item PASS, FAIL or\n"
	      "                             N/A; exit status 3 when one fails. Thresholds:\n"
	      "  --max-growth RATE          fitted growth of any site (default 10% of the\n"
	      "                             peak heap per hour; 4K/s, 10M/h)\n"
	      "  --max-rss SIZE             peak RSS (default --budget, else 500MB); --max-peak\n"
	      "                             likewise for the peak heap\n"
	      "  --max-alloc-rate RATE      bytes allocated in the busiest second (100MB/s)\n"
	      "  --max-alloc-calls N        calls in the busiest second (default 1M)\n"
	      "  --max-fragmentation P      RSS the heap does not use, estimated (20%)\n",
	      out);
}

static void fail(struct hp_checks *c, unsigned *n, const struct hp_check_input *in, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));

static void fail(struct hp_checks *c, unsigned *n, const struct hp_check_input *in, const char *fmt,
		 ...)
{
	va_list ap;
	fputs(PROG ": check failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (in->name)
		fprintf(stderr, " in '%s'", in->name);
	fputc('\n', stderr);
	(*n)++;
	c->failed++;
}

/* "definitely and indirectly lost", "definitely, indirectly or possibly lost", ... */
static const char *kinds_phrase(unsigned kinds, char *buf, size_t size)
{
	static const int order[] = {HP_LEAK_DEFINITE, HP_LEAK_INDIRECT, HP_LEAK_POSSIBLE,
				    HP_LEAK_REACHABLE};
	static const char *const word[] = {[HP_LEAK_DEFINITE] = "definitely lost",
					   [HP_LEAK_INDIRECT] = "indirectly lost",
					   [HP_LEAK_POSSIBLE] = "possibly lost",
					   [HP_LEAK_REACHABLE] = "still reachable"};
	size_t len = 0;
	unsigned left = __builtin_popcount(kinds & 0xf);
	buf[0] = 0;
	for (size_t i = 0; i < 4; i++) {
		if (!(kinds & (1u << order[i])))
			continue;
		left--;
		len +=
		    (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s", word[order[i]],
				     left > 1	 ? ", "
				     : left == 1 ? " or "
						 : "");
	}
	return buf;
}

unsigned hp_checks_evaluate(struct hp_checks *c, const struct hp_check_input *in,
			    const struct hp_leaks *lk)
{
	unsigned n = 0;
	char a[32], b[32], k[96];
	int scanned = lk && lk->have_scan && lk->finished;
	if (in->checklist) {
		for (int i = 0; i < HP_CHECK_NITEMS; i++) {
			const struct hp_check_item *it = &in->checklist->item[i];
			char m[48], t[48];
			if (it->verdict != HP_VERDICT_FAIL)
				continue;
			fail(c, &n, in, "%s: %s exceeds %s%s%s (--check)", it->title,
			     hp_checklist_value(it, it->measured, m),
			     hp_checklist_value(it, it->threshold, t), it->option ? " " : "",
			     it->option ? it->option : "");
		}
	}
	if (c->max_peak != HP_CHECK_UNSET && in->peak_heap_bytes > c->max_peak && !in->checklist)
		fail(c, &n, in, "peak heap %s exceeds --max-peak %s",
		     hp_checks_format_size(in->peak_heap_bytes, 0, a, sizeof(a)),
		     hp_checks_format_size(c->max_peak, 1, b, sizeof(b)));
	if (c->max_allocations != HP_CHECK_UNSET && in->allocations > c->max_allocations)
		fail(c, &n, in, "%" PRIu64 " allocations exceed --max-allocations %" PRIu64,
		     in->allocations, c->max_allocations);
	if (c->max_leaked != HP_CHECK_UNSET) {
		unsigned kinds = c->fail_kinds ? c->fail_kinds : DEFAULT_FAIL_KINDS;
		uint64_t leaked = 0;
		if (scanned) {
			for (int i = 0; i < 4; i++)
				if (kinds & (1u << i))
					leaked += lk->bytes[i];
			kinds_phrase(kinds, k, sizeof(k));
		} else if (lk && lk->finished) {
			leaked = lk->bytes[HP_LEAK_LIVE]; /* suppressions applied */
			snprintf(k, sizeof(k), "live at exit, no leak scan");
		} else {
			leaked = in->leaked_bytes;
			snprintf(k, sizeof(k), "live at exit, no leak scan");
		}
		if (leaked > c->max_leaked && !(in->exec_replaced && !scanned))
			fail(c, &n, in, "leaked %s (%s) exceeds --max-leaked %s",
			     hp_checks_format_size(leaked, 0, a, sizeof(a)), k,
			     hp_checks_format_size(c->max_leaked, 1, b, sizeof(b)));
	}
	if (c->fail_kinds) {
		if (!scanned) {
			if (!in->exec_replaced)
				fprintf(stderr,
					PROG
					": warning: %s%s%shas no leak scan (HEAPPROF_LEAK_SCAN=0, "
					"or the process was killed): --fail-on-leaks not checked\n",
					in->name ? "'" : "", in->name ? in->name : "the trace",
					in->name ? "' " : " ");
		} else {
			static const int order[] = {HP_LEAK_DEFINITE, HP_LEAK_INDIRECT,
						    HP_LEAK_POSSIBLE, HP_LEAK_REACHABLE};
			for (size_t i = 0; i < 4; i++) {
				int kind = order[i];
				if (!(c->fail_kinds & (1u << kind)) || !lk->blocks[kind])
					continue;
				fail(c, &n, in, "%s %s in %" PRIu64 " block%s (--fail-on-leaks)",
				     hp_leaks_kind_name(kind),
				     hp_checks_format_size(lk->bytes[kind], 0, a, sizeof(a)),
				     lk->blocks[kind], lk->blocks[kind] == 1 ? "" : "s");
			}
		}
	}
	return n;
}
