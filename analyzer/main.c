/* heapprof-analyze: the command line. Parses the options, loads each trace into the
 * analysis model (model.h) and writes it in the chosen output format (output.h), or
 * prints its records (--dump); then evaluates the checks (checks.h). With --follow it
 * shows a live view of one trace being written instead (follow.h). */
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
#include "debuginfo.h"
#include "diff.h"
#include "flame.h"
#include "follow.h"
#include "model.h"
#include "output.h"
#include "report.h"
#include "report_diff.h"
#include "report_leaks.h"
#include "term.h"

#define PROG "heapprof-analyze"
#define PROGRESS_MIN_SIZE (64ull << 20)

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_INPUT = 2 };

struct options {
	const struct hp_output *format; /* --format; text by default */
	int dump, no_symbols, quiet, follow;
	double interval; /* --interval */
	int progress;	 /* -1 never, 0 on a terminal for large traces, 1 always */
	unsigned top;
	int top_set;
	const char *output;
	/* --collapsed KIND, --pprof FILE, --massif FILE, --dhat FILE: the option, its file,
	 * the format's own argument (KIND, --pprof-at); how many of them, and whether
	 * --format was given too (either is a usage error) */
	const char *export_opt, *export_file, *format_arg, *pprof_at;
	int nexports, format_set;
	struct hp_checks checks;
	struct hp_time_options model_time; /* checks.time, check set for HP_OUTPUT_CHECKLIST */
	int diff;			   /* --diff BASE NEW */
	struct hp_diff_budget budget;	   /* --fail-on-increase */
	enum hp_color_mode color;	   /* --color */
	struct hp_debuginfo dbg; /* "no debug info" warnings, told in one line at the end */
};

static void usage(FILE *o)
{
	char names[256];
	fprintf(o,
		"usage: " PROG " [options] TRACE...\n"
		"       " PROG " --diff [options] BASE NEW\n"
		"\n"
		"Reports the heap profile recorded by libheapprof.so in each TRACE, or how NEW's\n"
		"differs from BASE's.\n"
		"\n"
		"options:\n"
		"  --format %s\n",
		hp_output_names(names, sizeof names, "|", "|"));
	fputs("                      report format (default text); several traces in JSON give\n"
	      "                      {\"schema_version\": 1, \"processes\": [...]}; lsan prints\n"
	      "                      the leaks in LeakSanitizer's log format (ctest -T memcheck)\n",
	      o);
	const struct hp_output *f;
	for (size_t i = 0; (f = hp_output_get(i)) != NULL; i++)
		if (f->help && !(f->flags & HP_OUTPUT_HIDDEN))
			fprintf(o, "                      %s: %s\n", f->name, f->help);
	fputs("  --html FILE         write an HTML report to FILE: summary, memory over time,\n"
	      "                      flame graphs, tables of sites and leaks; one file that\n"
	      "                      opens in any browser with no network (docs/html-report.md)\n"
	      "  --svg-flamegraph KIND\n"
	      "                      an SVG flame graph (no script) of KIND: peak, calls,\n"
	      "                      allocated, leaked or temporary; to stdout or -o FILE\n"
	      "  --svg-timeline      an SVG chart of the heap and RSS over time; to stdout or -o\n",
	      o);
	fputs("  --collapsed KIND    collapsed stacks (flamegraph.pl, inferno, speedscope): one\n"
	      "                      'outer;...;inner COUNT' line per stack, KIND peak, leaked,\n"
	      "                      allocated (bytes), calls or temporary (allocations)\n"
	      "  --pprof FILE        a gzip'd pprof profile (go tool pprof, Pyroscope, Parca):\n"
	      "                      Go's heap sample types, alloc_* and inuse_*\n"
	      "  --pprof-at WHEN     inuse_* at the peak (WHEN peak, the default) or at the end\n"
	      "                      of the run (end: what was never freed)\n"
	      "  --massif FILE       valgrind massif's out-file (ms_print, massif-visualizer):\n"
	      "                      snapshots over time, detailed trees at the peak\n"
	      "  --dhat FILE         valgrind DHAT's JSON (dh_view.html): per site totals,\n"
	      "                      lifetimes, the most live, at the peak and at the end\n"
	      "                      (one TRACE only for these four)\n"
	      "  --top N             sites per section (text, default 5) or in all (json, default\n"
	      "                      all); 0 means all\n"
	      "  --dump              print every decoded record, one per line, in file order\n"
	      "  --follow            a live view of a trace being written: heap, RSS, rates and\n"
	      "                      the top sites, redrawn every --interval seconds (default\n"
	      "                      1; on a pipe one line each) until the process ends or\n"
	      "                      Ctrl-C; one TRACE only\n"
	      "  --diff BASE NEW     compare two runs site by site (sites matched by function,\n"
	      "                      file and line, so two builds line up): the change of peak,\n"
	      "                      calls, bytes allocated and leaked, per site and in total;\n"
	      "                      text, json, or --html FILE with a differential flame\n"
	      "                      graph (docs/diff.md)\n"
	      "  --fail-on-increase [MEASURE:]PERCENT[,...]\n"
	      "                      with --diff: exit 3 when NEW's total of MEASURE (peak, the\n"
	      "                      default; calls, allocated, leaked) grew by more than\n"
	      "                      PERCENT of BASE's (peak:10, calls:5,leaked:0); repeatable\n"
	      "  --color[=WHEN]      colour the text: auto (default: on a terminal, unless\n"
	      "                      NO_COLOR is set), always (the default of --color), never\n"
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
	      "     suppression file cannot be read, or a window's mark is not in it\n"
	      "  3  a check failed (--fail-on-leaks, --max-peak, --max-leaked,\n"
	      "     --max-allocations, --fail-on-increase, an item of --check); 2 takes\n"
	      "     precedence\n"
	      "\n"
	      "The text report is laid out for COLUMNS columns, else the terminal's width, else\n"
	      "100. With --diff the checks above apply to NEW.\n",
	      o);
}

static void warn(void *ctx, const char *msg)
{
	struct options *opt = ctx;
	if (!opt->quiet && !hp_debuginfo_take(&opt->dbg, msg))
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
static void progress(void *ctx, uint64_t off, uint64_t size, int done)
{
	const struct options *opt = ctx;
	if (opt->progress < 0 || (opt->progress == 0 && size <= PROGRESS_MIN_SIZE))
		return;
	int tty = isatty(2);
	if (opt->progress == 0 && !tty)
		return;
	if (done && tty) {
		fputs("\r\033[K", stderr);
		return;
	}
	char b[32];
	fprintf(stderr, "\r  %3u%% %s", (unsigned)(size ? off * 100 / size : 0),
		hp_human_bytes(b, off));
	if (done)
		fputc('\n', stderr);
}

/* --dump and other formats of the records themselves: no model. */
static int write_records(const char *path, const struct options *opt,
			 const struct hp_output_options *oo)
{
	struct hp_reader *r = hp_reader_open(path);
	if (!r) {
		fprintf(stderr, PROG ": cannot open '%s': %s\n", path, strerror(errno));
		return EXIT_INPUT;
	}
	int rc = EXIT_OK;
	char msg[sizeof((struct hp_model *)0)->error];
	if (opt->format->write_records(r, oo) < 0) {
		fprintf(stderr, PROG ": %s\n", hp_model_read_error(r, path, msg, sizeof msg));
		rc = EXIT_INPUT;
	} else if (hp_reader_truncated(r) && !opt->quiet) {
		fprintf(stderr, PROG ": warning: '%s' has %s\n", path, hp_model_truncated_warning);
	}
	hp_reader_free(r);
	return rc;
}

/* How every trace of this run is analyzed; lazy: the format prints stacks only. */
static struct hp_analysis_options analysis_options(struct options *opt, int lazy)
{
	opt->model_time = opt->checks.time;
	if (opt->format->flags & HP_OUTPUT_CHECKLIST)
		opt->model_time.check = 1;
	return (struct hp_analysis_options){
	    .no_symbols = opt->no_symbols,
	    .suppressions = &opt->checks.supp,
	    .warn = warn,
	    .progress = progress,
	    .ctx = opt,
	    .lazy_symbols = lazy,
	    .window = opt->checks.window.set ? &opt->checks.window : NULL,
	    .time = &opt->model_time,
	    .series_buckets = opt->format->series_buckets,
	};
}

/* The checks (--max-peak, --fail-on-leaks, --check, ...) on a loaded model; `name`
 * labels its verdicts when several traces are checked, else NULL. */
static void evaluate_checks(struct options *opt, const struct hp_model *m, const char *name)
{
	const struct hp_profile *p = m->prof;
	hp_checks_evaluate(&opt->checks,
			   &(struct hp_check_input){
			       .name = name,
			       .peak_heap_bytes = p->peak_heap_bytes,
			       .allocations = p->allocations,
			       .leaked_bytes = p->leaked_bytes,
			       .leaked_allocations = p->leaked_allocations,
			       .exec_replaced = p->exec_path != NULL,
			       .checklist = opt->checks.time.check ? m->checklist : NULL,
			   },
			   &m->leaks);
}

/* One trace: its model, written in the chosen format, then checked. *werr keeps the
 * errno of the first output that could not be written. */
static int analyze(const char *path, struct options *opt, const struct hp_output_options *oo,
		   int *werr)
{
	if (opt->format->write_records)
		return write_records(path, opt, oo);
	const struct hp_analysis_options ao =
	    analysis_options(opt, (opt->format->flags & HP_OUTPUT_LAZY_SYMBOLS) != 0);
	struct hp_model m;
	if (hp_model_load(&m, path, &ao)) {
		fprintf(stderr, PROG ": %s\n", m.error);
		hp_model_release(&m);
		return EXIT_INPUT;
	}
	if (opt->format->write(&m, oo) && !*werr)
		*werr = errno ? errno : EIO;
	evaluate_checks(opt, &m, oo->ntraces > 1 ? path : NULL);
	hp_model_release(&m);
	return EXIT_OK;
}

/* --diff BASE NEW: both models loaded in full (the site keys are needed), diffed, the
 * diff written in text or JSON, then the budgets and the checks (on NEW). */
static int diff(char **paths, struct options *opt, const struct hp_output_options *oo, int *werr)
{
	const struct hp_analysis_options ao = analysis_options(opt, 0);
	struct hp_model m[2];
	int rc = EXIT_OK, loaded = 0;
	for (; loaded < 2; loaded++) {
		if (hp_model_load(&m[loaded], paths[loaded], &ao)) {
			fprintf(stderr, PROG ": %s\n", m[loaded].error);
			rc = EXIT_INPUT;
			loaded++;
			break;
		}
	}
	struct hp_diff d;
	if (!rc && hp_diff_build(&d, &m[0], &m[1])) {
		fprintf(stderr, PROG ": %s\n", strerror(ENOMEM));
		rc = EXIT_INPUT;
	} else if (!rc) {
		int w = opt->format == hp_output_find("json") ? hp_diff_write_json(&d, oo)
			: opt->format == hp_output_find("html")
			    ? hp_diff_write_html(&d, &opt->budget, oo)
			    : hp_diff_write_text(&d, oo);
		if (w && !*werr)
			*werr = errno ? errno : EIO;
		opt->checks.failed += hp_diff_budget_check(&opt->budget, &d, PROG, stderr);
		evaluate_checks(opt, &m[1], paths[1]);
	}
	if (!rc)
		hp_diff_release(&d);
	for (int i = 0; i < loaded; i++)
		hp_model_release(&m[i]);
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
		OPT_INTERVAL,
		OPT_DIFF,
		OPT_FAIL_ON_INCREASE,
		OPT_COLOR,
		OPT_COLLAPSED,
		OPT_PPROF,
		OPT_PPROF_AT,
		OPT_MASSIF,
		OPT_DHAT,
		OPT_HTML,
		OPT_SVG_FLAMEGRAPH,
		OPT_SVG_TIMELINE
	};
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"top", required_argument, NULL, OPT_TOP},
	    {"dump", no_argument, NULL, OPT_DUMP},
	    {"follow", no_argument, NULL, OPT_FOLLOW},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    {"diff", no_argument, NULL, OPT_DIFF},
	    {"fail-on-increase", required_argument, NULL, OPT_FAIL_ON_INCREASE},
	    {"color", optional_argument, NULL, OPT_COLOR},
	    {"colour", optional_argument, NULL, OPT_COLOR},
	    {"collapsed", required_argument, NULL, OPT_COLLAPSED},
	    {"pprof", required_argument, NULL, OPT_PPROF},
	    {"pprof-at", required_argument, NULL, OPT_PPROF_AT},
	    {"massif", required_argument, NULL, OPT_MASSIF},
	    {"dhat", required_argument, NULL, OPT_DHAT},
	    {"html", required_argument, NULL, OPT_HTML},
	    {"svg-flamegraph", required_argument, NULL, OPT_SVG_FLAMEGRAPH},
	    {"svg-timeline", no_argument, NULL, OPT_SVG_TIMELINE},
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
			opt->format_set = 1;
			opt->format = hp_output_find(optarg);
			if (!opt->format || (opt->format->flags & HP_OUTPUT_HIDDEN)) {
				char names[256];
				fprintf(stderr, PROG ": unknown format '%s' (%s)\n", optarg,
					hp_output_names(names, sizeof names, ", ", " or "));
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
		case OPT_DIFF:
			opt->diff = 1;
			break;
		case OPT_FAIL_ON_INCREASE: {
			char err[256];
			if (hp_diff_budget_parse(&opt->budget, optarg, err, sizeof err)) {
				fprintf(stderr, PROG ": invalid --fail-on-increase '%s': %s\n",
					optarg, err);
				return EXIT_USAGE;
			}
			break;
		}
		case OPT_COLOR:
			if (!optarg) {
				opt->color = HP_COLOR_ALWAYS;
			} else if (hp_term_parse_color(optarg, &opt->color)) {
				fprintf(stderr,
					PROG
					": invalid --color '%s': expected auto, always or never\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			opt->output = optarg;
			break;
		case OPT_COLLAPSED:
			opt->format = hp_output_find("collapsed");
			opt->export_opt = "--collapsed";
			opt->nexports++;
			opt->format_arg = optarg;
			if (opt->format->check_arg(optarg)) {
				fprintf(stderr,
					PROG ": invalid --collapsed '%s': expected peak, leaked, "
					     "allocated, calls or temporary\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_PPROF:
		case OPT_MASSIF:
		case OPT_DHAT: {
			const char *name = c == OPT_PPROF    ? "pprof"
					   : c == OPT_MASSIF ? "massif"
							     : "dhat";
			opt->format = hp_output_find(name);
			opt->export_opt = c == OPT_PPROF    ? "--pprof"
					  : c == OPT_MASSIF ? "--massif"
							    : "--dhat";
			opt->export_file = optarg;
			opt->nexports++;
			break;
		}
		case OPT_PPROF_AT:
			opt->pprof_at = optarg;
			if (hp_output_find("pprof")->check_arg(optarg)) {
				fprintf(stderr,
					PROG ": invalid --pprof-at '%s': expected peak or end\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_HTML:
			opt->format = hp_output_find("html");
			opt->export_opt = "--html";
			opt->export_file = optarg;
			opt->nexports++;
			break;
		case OPT_SVG_FLAMEGRAPH:
			if (hp_flame_kind_parse(optarg) < 0) {
				fprintf(stderr,
					PROG
					": invalid --svg-flamegraph '%s': expected peak, calls, "
					"allocated, leaked or temporary\n",
					optarg);
				return EXIT_USAGE;
			}
			opt->format = hp_output_find("svg-flamegraph");
			opt->export_opt = "--svg-flamegraph";
			opt->format_arg = optarg;
			opt->nexports++;
			break;
		case OPT_SVG_TIMELINE:
			opt->format = hp_output_find("svg-timeline");
			opt->export_opt = "--svg-timeline";
			opt->nexports++;
			break;
		case OPT_PROGRESS:
			opt->progress = 1;
			break;
		case OPT_NO_PROGRESS:
			opt->progress = -1;
			break;
		case OPT_NO_SYMBOLS:
			opt->no_symbols = 1;
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

	if (opt->budget.set && !opt->diff) {
		fprintf(stderr, PROG ": --fail-on-increase needs --diff BASE NEW\n");
		return EXIT_USAGE;
	}
	if (opt->diff) {
		const struct hp_output *f = opt->format;
		if (nfiles != 2 || opt->dump || opt->follow ||
		    (f != hp_output_find("text") && f != hp_output_find("json") &&
		     f != hp_output_find("html"))) {
			fprintf(stderr, PROG ": --diff takes two traces, BASE and NEW, and writes "
					     "text, json or --html FILE\n");
			return EXIT_USAGE;
		}
	}
	if (opt->pprof_at && opt->format != hp_output_find("pprof")) {
		fprintf(stderr, PROG ": --pprof-at needs --pprof FILE\n");
		return EXIT_USAGE;
	}
	if (opt->export_opt) {
		if (opt->nexports > 1 || opt->format_set) {
			fprintf(stderr, PROG ": one report at a time: --format, --collapsed, "
					     "--pprof, --massif and --dhat exclude each other\n");
			return EXIT_USAGE;
		}
		if (nfiles != (opt->diff ? 2 : 1) || opt->follow || opt->dump) {
			fprintf(stderr, PROG ": %s takes one trace, without --follow or --dump\n",
				opt->export_opt);
			return EXIT_USAGE;
		}
		if (opt->export_file && opt->output) {
			fprintf(stderr, PROG ": %s FILE writes FILE: -o is not for it\n",
				opt->export_opt);
			return EXIT_USAGE;
		}
		if (opt->export_file)
			opt->output = opt->export_file;
		if (opt->format == hp_output_find("pprof"))
			opt->format_arg = opt->pprof_at;
	}

	if (opt->follow) {
		if (nfiles != 1 || opt->dump || opt->format != hp_output_find("text")) {
			fprintf(stderr, PROG ": --follow takes one trace and the text view only\n");
			return EXIT_USAGE;
		}
		return hp_follow(argv[optind], &(struct hp_follow_options){
						   .out = stdout,
						   .top = opt->top_set ? opt->top : 5,
						   .interval_s = opt->interval,
						   .no_symbols = opt->no_symbols,
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

	/* --dump prints records whatever the format; --leaks narrows the text report. */
	if (opt->dump)
		opt->format = hp_output_find("dump");
	else if (opt->checks.leaks_only && opt->format == hp_output_find("text"))
		opt->format = hp_output_find("leaks");
	struct hp_output_options oo = {
	    .out = out,
	    .top = opt->top_set ? opt->top : opt->format->default_top,
	    .unicode = utf8_locale(),
	    .leaks_flags = opt->checks.print_suppressions ? HP_LEAKS_PRINT_SUPPRESSIONS : 0,
	    .leak_kinds = opt->checks.fail_kinds
			      ? opt->checks.fail_kinds
			      : (1u << HP_LEAK_DEFINITE) | (1u << HP_LEAK_INDIRECT),
	    .ntraces = nfiles,
	    .color = hp_term_color(opt->color, fileno(out)),
	    .width = hp_term_width(fileno(out)),
	    .arg = opt->format_arg,
	};
	int werr = 0;
	rc = EXIT_OK;
	if (opt->diff) {
		if (!opt->top_set)
			oo.top = opt->format == hp_output_find("json") ? 0 : 5;
		rc = diff(argv + optind, opt, &oo, &werr);
	} else {
		if (opt->format->begin)
			opt->format->begin(&oo);
		for (int i = 0; i < nfiles; i++) {
			int r = analyze(argv[optind + i], opt, &oo, &werr);
			if (r)
				rc = r;
			else
				oo.index++;
		}
		if (opt->format->end)
			opt->format->end(&oo);
	}
	if ((fflush(out) || ferror(out)) && !werr)
		werr = errno ? errno : EIO;
	if (out != stdout && fclose(out) && !werr)
		werr = errno ? errno : EIO;
	hp_debuginfo_print(&opt->dbg, stderr, PROG);
	if (werr) {
		fprintf(stderr, PROG ": cannot write '%s': %s\n",
			opt->output ? opt->output : "stdout", strerror(werr));
		return EXIT_USAGE;
	}
	if (!rc && opt->checks.failed)
		rc = HP_EXIT_CHECK_FAILED;
	return rc;
}

int main(int argc, char **argv)
{
	struct options opt = {.format = hp_output_find("text")};
	hp_checks_init(&opt.checks);
	int rc = run(&opt, argc, argv);
	hp_checks_release(&opt.checks);
	hp_debuginfo_release(&opt.dbg);
	return rc;
}
