/* heapprof-analyze: the command line. Decodes each trace, replays it, joins the leak
 * scan with the live set, and prints a report (text, JSON or LeakSanitizer's log) or a
 * record dump; then evaluates the checks (checks.h). */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <heapprof/version.h>

#include "checks.h"
#include "dump.h"
#include "follow.h"
#include "leaks.h"
#include "reader.h"
#include "replay.h"
#include "report.h"
#include "report_leaks.h"
#include "resolve.h"

#define PROG "heapprof-analyze"
#define PROGRESS_MIN_SIZE (64ull << 20)

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_INPUT = 2 };

struct options {
	int json, lsan, dump, symbols, quiet, follow;
	double interval;
	int progress; /* -1 never, 0 on a terminal for large traces, 1 always */
	unsigned top;
	int top_set;
	int nfiles;
	const char *output;
	struct hp_checks checks;
};

static void usage(FILE *o)
{
	fputs("usage: " PROG " [options] TRACE...\n"
	      "\n"
	      "Reports the heap profile recorded by libheapprof.so in each TRACE.\n"
	      "\n"
	      "options:\n"
	      "  --format text|json|lsan\n"
	      "                      report format (default text); several traces in JSON give\n"
	      "                      {\"schema_version\": 1, \"processes\": [...]}; lsan prints\n"
	      "                      the leaks in LeakSanitizer's log format (ctest -T memcheck)\n"
	      "  --top N             sites per section (text, default 5) or in all (json, default\n"
	      "                      all); 0 means all\n"
	      "  --dump              print every decoded record, one per line, in file order\n"
	      "  --follow            a live view of a trace being written: heap, RSS, rates and\n"
	      "                      the top sites, redrawn every --interval seconds (default\n"
	      "                      1; on a pipe one line each) until the process ends or\n"
	      "                      Ctrl-C; one TRACE only\n"
	      "  -o, --output FILE   write the report to FILE instead of stdout\n"
	      "  --no-symbols        do not symbolize: frames show module and address\n"
	      "  --progress          show reading progress on stderr (default: only when stderr\n"
	      "                      is a terminal and the trace is over 64 MiB)\n"
	      "  --no-progress       never show progress\n"
	      "  -q, --quiet         print no warnings\n"
	      "  -h, --help          print this help and exit\n"
	      "  --version           print the version and exit\n"
	      "\n",
	      o);
	hp_checks_usage(o);
	fputs("\n"
	      "exit status:\n"
	      "  0  success (a trace cut short is reported with a warning)\n"
	      "  1  usage error, or the output cannot be written\n"
	      "  2  a trace cannot be read, or is corrupt or not a heapprof trace, or a\n"
	      "     suppression file cannot be read\n"
	      "  3  a check failed (--fail-on-leaks, --max-peak, --max-leaked,\n"
	      "     --max-allocations); 2 takes precedence\n",
	      o);
}

static void warn_symbols(void *ctx, const char *msg)
{
	const struct options *opt = ctx;
	if (!opt->quiet)
		fprintf(stderr, PROG ": warning: %s\n", msg);
}

static int utf8_locale(void)
{
	const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
	for (int i = 0; i < 3; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
	}
	return 0;
}

/* On a terminal the line is redrawn and erased at the end; in a log (--progress with
 * stderr redirected) the last state stays, on a line of its own. */
static void progress(struct hp_reader *r, int done)
{
	int tty = isatty(2);
	if (done && tty) {
		fputs("\r\033[K", stderr);
		return;
	}
	char b[32];
	uint64_t off = hp_reader_offset(r), size = hp_reader_size(r);
	fprintf(stderr, "\r  %3u%% %s", (unsigned)(size ? off * 100 / size : 0),
		hp_human_bytes(b, off));
	if (done)
		fputc('\n', stderr);
}

/* Reports a decode error; returns EXIT_INPUT. */
static int decode_error(struct hp_reader *r, const char *path)
{
	char msg[256];
	if (hp_reader_error(r) == HP_READ_ERR_IO)
		fprintf(stderr, PROG ": cannot read '%s': %s\n", path,
			strerror(hp_reader_errno(r)));
	else if (hp_reader_error(r) == HP_READ_ERR_NOMEM)
		fprintf(stderr, PROG ": cannot analyze '%s': %s\n", path, strerror(ENOMEM));
	else
		fprintf(stderr, PROG ": '%s' is not a heapprof trace: %s\n", path,
			hp_reader_format_error(r, msg, sizeof msg));
	return EXIT_INPUT;
}

static const char truncated_msg[] =
    "no trailer: the process did not exit cleanly (killed?); reporting what was recorded";
static const char running_msg[] =
    "no trailer yet: the process is still running; reporting what was recorded so far";

/* The reader loop's share of the leak check: the recorder's records at exit. Returns 0
 * or a negative errno. */
static int leak_item(struct hp_leaks *lk, const struct hp_item *it)
{
	switch (it->kind) {
	case HP_REC_LEAK_SCAN: {
		/* The record lists definite, indirect, possible, reachable; hp_leak_scan is
		 * indexed by enum hp_leak_class. */
		static const int cls[4] = {HP_LEAK_DEFINITE, HP_LEAK_INDIRECT, HP_LEAK_POSSIBLE,
					   HP_LEAK_REACHABLE};
		struct hp_leak_scan scan = {.time = it->u.leak_scan.time,
					    .flags = it->u.leak_scan.flags,
					    .nblocks = it->u.leak_scan.nblocks};
		for (int i = 0; i < 4; i++) {
			scan.bytes[cls[i]] = it->u.leak_scan.bytes[i];
			scan.blocks[cls[i]] = it->u.leak_scan.blocks[i];
		}
		hp_leaks_set_scan(lk, &scan);
		return 0;
	}
	case HP_REC_LEAK_BLOCKS:
		for (uint32_t i = 0; i < it->u.leak_blocks.count; i++) {
			int rc = hp_leaks_add_block(lk, it->u.leak_blocks.addr[i],
						    it->u.leak_blocks.cls[i]);
			if (rc)
				return rc;
		}
		return 0;
	case HP_REC_SUPPRESSIONS:
		return hp_leaks_add_program_suppressions(lk, it->u.suppressions.text,
							 it->u.suppressions.text_len);
	default:
		return 0;
	}
}

struct leak_ctx {
	struct hp_leaks *lk;
	const struct hp_profile *prof;
	struct hp_resolver *res;
	int oom;
};

static void add_live(void *ctx, uint64_t addr, uint64_t size, const struct hp_site *site)
{
	struct leak_ctx *c = ctx;
	size_t index = site ? (size_t)(site - c->prof->sites) : SIZE_MAX;
	/* The key is the site's index + 1; 0 (no stack) when it does not fit. */
	uint32_t key = index < UINT32_MAX ? (uint32_t)index + 1 : 0;
	if (hp_leaks_add_live(c->lk, addr, size, key))
		c->oom = 1;
}

/* hp_leaks_resolve_fn: key k is prof->sites[k - 1]. Untrimmed frames for suppression
 * matching, the reports' trimmed ones for printing. */
static int resolve_leak_stack(void *ctx, uint32_t stack, int untrimmed, struct hp_leak_frame *out,
			      int max)
{
	struct leak_ctx *c = ctx;
	if (!stack || stack > c->prof->nsites || max <= 0)
		return 0;
	const struct hp_site *site = &c->prof->sites[stack - 1];
	const struct hp_resolved_frame *f;
	size_t n = untrimmed ? hp_resolve_site_untrimmed(c->res, site, &f)
			     : hp_resolve_site(c->res, site, &f);
	if (n > (size_t)max)
		n = (size_t)max;
	for (size_t i = 0; i < n; i++)
		out[i] = (struct hp_leak_frame){
		    .function = f[i].function,
		    .file = f[i].file,
		    .module = f[i].module,
		    .line = f[i].line,
		    .inlined = f[i].inlined,
		    .address = f[i].address,
		};
	return (int)n;
}

static int analyze(const char *path, struct options *opt, FILE *out, int index, int multi)
{
	struct hp_reader *r = hp_reader_open(path);
	if (!r) {
		fprintf(stderr, PROG ": cannot open '%s': %s\n", path, strerror(errno));
		return EXIT_INPUT;
	}
	int rc = EXIT_OK;
	if (opt->dump) {
		if (hp_dump(out, r) < 0)
			rc = decode_error(r, path);
		else if (hp_reader_truncated(r) && !opt->quiet)
			fprintf(stderr, PROG ": warning: '%s' has %s\n", path, truncated_msg);
		hp_reader_free(r);
		return rc;
	}

	struct hp_replay *rp = hp_replay_new();
	if (!rp) {
		fprintf(stderr, PROG ": cannot analyze '%s': %s\n", path, strerror(errno));
		hp_reader_free(r);
		return EXIT_INPUT;
	}
	struct hp_leaks lk;
	hp_leaks_init(&lk, &opt->checks.supp);
	int show_progress = opt->progress > 0 || (opt->progress == 0 && isatty(2) &&
						  hp_reader_size(r) > PROGRESS_MIN_SIZE);
	struct hp_item it;
	int n;
	uint32_t tick = 0;
	while ((n = hp_reader_next(r, &it)) > 0) {
		if (hp_replay_item(rp, &it) || leak_item(&lk, &it)) {
			n = -2;
			break;
		}
		if (show_progress && !(++tick & 0xffff))
			progress(r, 0);
	}
	if (show_progress)
		progress(r, 1);
	const struct hp_profile *p = NULL;
	if (n == -1)
		rc = decode_error(r, path);
	else if (n == -2 || !(p = hp_replay_finish(rp))) {
		fprintf(stderr, PROG ": cannot analyze '%s': %s\n", path, strerror(ENOMEM));
		rc = EXIT_INPUT;
	}
	if (rc) {
		hp_leaks_release(&lk);
		hp_replay_free(rp);
		hp_reader_free(r);
		return rc;
	}

	const char *warnings[4];
	char lost[96], err[600];
	size_t nw = 0;
	int truncated = hp_reader_truncated(r);
	int running = truncated && hp_follow_writing(p->header.pid, path);
	if (truncated) {
		warnings[nw++] = running ? running_msg : truncated_msg;
		if (!opt->quiet)
			fprintf(stderr, PROG ": warning: '%s' has %s\n", path, warnings[nw - 1]);
	}
	if (p->end_lost) {
		snprintf(lost, sizeof lost, "%" PRIu64 " events could not be recorded",
			 p->end_lost);
		warnings[nw++] = lost;
		if (!opt->quiet)
			fprintf(stderr, PROG ": warning: '%s': %s\n", path, lost);
	}
	if (p->error) {
		snprintf(err, sizeof err, "the recorder stopped: %s", p->error);
		warnings[nw++] = err;
		if (!opt->quiet)
			fprintf(stderr, PROG ": warning: '%s': %s\n", path, err);
	}

	/* The resolver outlives the leak report: its printers resolve stacks lazily. */
	struct hp_resolver *res = hp_resolver_new(p, opt->symbols, warn_symbols, (void *)opt);
	struct leak_ctx lc = {.lk = &lk, .prof = p, .res = res};
	int lrc = 0;
	if (res) {
		hp_replay_foreach_live(rp, add_live, &lc);
		lrc = lc.oom ? -ENOMEM : hp_leaks_finish(&lk, resolve_leak_stack, &lc);
	}
	if (!res || lrc == -ENOMEM) {
		fprintf(stderr, PROG ": cannot analyze '%s': %s\n", path,
			strerror(res ? ENOMEM : errno));
		rc = EXIT_INPUT;
	} else {
		if (lrc == -EINVAL && !opt->quiet)
			fprintf(stderr,
				PROG
				": warning: '%s': the program's suppressions were ignored: %s\n",
				path, lk.supp_error);
		struct hp_report_input in = {
		    .file = path,
		    .prof = p,
		    .res = res,
		    .complete = !truncated,
		    .running = running,
		    .warnings = warnings,
		    .nwarnings = nw,
		    .top = opt->top_set ? opt->top : (opt->json ? 0 : 5),
		    .leaks = &lk,
		    .leaks_flags = opt->checks.print_suppressions ? HP_LEAKS_PRINT_SUPPRESSIONS : 0,
		};
		if (opt->lsan) {
			unsigned kinds = opt->checks.fail_kinds
					     ? opt->checks.fail_kinds
					     : (1u << HP_LEAK_DEFINITE) | (1u << HP_LEAK_INDIRECT);
			hp_leaks_print_lsan(out, &lk, p->header.pid, kinds);
		} else if (opt->json) {
			if (multi)
				fputs(index ? ",\n" : "\n", out);
			hp_report_json(out, &in);
			if (!multi)
				putc('\n', out);
		} else if (opt->checks.leaks_only) {
			if (index)
				putc('\n', out);
			if (opt->nfiles > 1) {
				fputs("heapprof leak report: ", out);
				hp_dump_string(out, path, strlen(path));
				fprintf(out, " (pid %" PRIu64 ")\n", p->header.pid);
			}
			hp_leaks_print_text(out, &lk, in.leaks_flags);
		} else {
			if (index)
				putc('\n', out);
			hp_report_text(out, &in, utf8_locale());
		}
		hp_checks_evaluate(&opt->checks,
				   &(struct hp_check_input){
				       .name = opt->nfiles > 1 ? path : NULL,
				       .peak_heap_bytes = p->peak_heap_bytes,
				       .allocations = p->allocations,
				       .leaked_bytes = p->leaked_bytes,
				       .leaked_allocations = p->leaked_allocations,
				       .exec_replaced = p->exec_path != NULL,
				   },
				   &lk);
	}
	hp_leaks_release(&lk);
	hp_resolver_free(res);
	hp_replay_free(rp);
	hp_reader_free(r);
	return rc;
}

static int parse_top(const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 1000000000ul || s[0] == '-')
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int run(struct options *opt, int argc, char **argv)
{
	enum {
		OPT_FORMAT = 256,
		OPT_TOP,
		OPT_DUMP,
		OPT_NO_SYMBOLS,
		OPT_VERSION,
		OPT_PROGRESS,
		OPT_NO_PROGRESS,
		OPT_FOLLOW,
		OPT_INTERVAL
	};
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"top", required_argument, NULL, OPT_TOP},
	    {"dump", no_argument, NULL, OPT_DUMP},
	    {"follow", no_argument, NULL, OPT_FOLLOW},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    {"output", required_argument, NULL, 'o'},
	    {"no-symbols", no_argument, NULL, OPT_NO_SYMBOLS},
	    {"progress", no_argument, NULL, OPT_PROGRESS},
	    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {NULL, 0, NULL, 0},
	};
	int c, rc;
	if ((rc = hp_checks_take_options(&opt->checks, &argc, argv)))
		return rc;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			opt->json = strcmp(optarg, "json") == 0;
			opt->lsan = strcmp(optarg, "lsan") == 0;
			if (!opt->json && !opt->lsan && strcmp(optarg, "text") != 0) {
				fprintf(stderr, PROG ": unknown format '%s' (text, json or lsan)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_TOP:
			if (parse_top(optarg, &opt->top)) {
				fprintf(stderr, PROG ": invalid --top '%s': expected a number\n",
					optarg);
				return EXIT_USAGE;
			}
			opt->top_set = 1;
			break;
		case OPT_DUMP:
			opt->dump = 1;
			break;
		case OPT_FOLLOW:
			opt->follow = 1;
			break;
		case OPT_INTERVAL: {
			char *end;
			opt->interval = strtod(optarg, &end);
			if (*end || !(opt->interval >= 0.01 && opt->interval <= 3600)) {
				fprintf(stderr,
					PROG ": invalid --interval '%s': seconds, 0.01 to 3600\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'o':
			opt->output = optarg;
			break;
		case OPT_PROGRESS:
			opt->progress = 1;
			break;
		case OPT_NO_PROGRESS:
			opt->progress = -1;
			break;
		case OPT_NO_SYMBOLS:
			opt->symbols = 0;
			break;
		case 'q':
			opt->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case OPT_VERSION:
			printf(PROG " %s\n", HEAPPROF_VERSION_STRING);
			return EXIT_OK;
		case ':':
			fprintf(stderr, PROG ": option '%s' needs an argument\n", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (optopt)
				fprintf(stderr, PROG ": unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, PROG ": unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	int nfiles = argc - optind;
	if (nfiles < 1) {
		fprintf(stderr, PROG ": no trace given\n");
		usage(stderr);
		return EXIT_USAGE;
	}

	if (opt->follow) {
		if (nfiles != 1 || opt->dump || opt->json || opt->lsan) {
			fprintf(stderr, PROG ": --follow takes one trace and the text view only\n");
			return EXIT_USAGE;
		}
		return hp_follow(argv[optind], &(struct hp_follow_options){
						   .out = stdout,
						   .top = opt->top_set ? opt->top : 5,
						   .interval_s = opt->interval,
						   .symbols = opt->symbols,
						   .quiet = opt->quiet,
					       });
	}

	FILE *out = stdout;
	if (opt->output && !(out = fopen(opt->output, "w"))) {
		fprintf(stderr, PROG ": cannot open '%s' for writing: %s\n", opt->output,
			strerror(errno));
		return EXIT_USAGE;
	}
	static char outbuf[1 << 16];
	setvbuf(out, outbuf, _IOFBF, sizeof outbuf);

	opt->nfiles = nfiles;
	int multi = opt->json && !opt->dump && nfiles > 1, done = 0;
	rc = EXIT_OK;
	if (multi)
		fputs("{\"schema_version\": 1, \"processes\": [", out);
	for (int i = 0; i < nfiles; i++) {
		int r = analyze(argv[optind + i], opt, out, done, multi);
		if (r)
			rc = r;
		else
			done++;
	}
	if (multi)
		fputs("\n]}\n", out);
	if (fflush(out) || ferror(out) || (out != stdout && fclose(out))) {
		fprintf(stderr, PROG ": cannot write '%s': %s\n",
			opt->output ? opt->output : "stdout", strerror(errno));
		return EXIT_USAGE;
	}
	if (!rc && opt->checks.failed)
		rc = HP_EXIT_CHECK_FAILED;
	return rc;
}

int main(int argc, char **argv)
{
	struct options opt = {.symbols = 1};
	hp_checks_init(&opt.checks);
	int rc = run(&opt, argc, argv);
	hp_checks_release(&opt.checks);
	return rc;
}
