/* The output formats: one table of every way heapprof-analyze writes what it read, each
 * format a file of its own that reads the model (model.h) and nothing else.
 *
 * Adding a format: write analyzer/report_<name>.c defining
 *     const struct hp_output hp_output_<name> = {.name = "<name>", .write = ...};
 * and add X(<name>) to HP_OUTPUTS in output.c; `--format <name>` then selects it. A
 * format with an option of its own (--pprof FILE) sets HP_OUTPUT_HIDDEN and main.c maps
 * the option to it. */
#ifndef HP_OUTPUT_H
#define HP_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "model.h"
#include "reader.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the command line asks of an output, the same for every trace of a run but the
 * index. A format writes to `out` only. */
struct hp_output_options {
	FILE *out;
	unsigned top;	      /* sites per section or in all, 0 all: --top, else the format's */
	int unicode;	      /* the locale is UTF-8: block characters in charts */
	unsigned leaks_flags; /* enum hp_leaks_print_flags (report_leaks.h) */
	unsigned leak_kinds;  /* kinds to report (lsan): bits 1 << enum hp_leak_class */
	int ntraces;	      /* traces on the command line */
	int index;	      /* traces written before this one */
	const char *arg;      /* the format's own argument, if it takes one; else NULL */
	int color;	      /* colour the text (term.h: --color, NO_COLOR, a terminal) */
	unsigned width;	      /* columns to lay text out for (term.h); 0: 100 */
};

enum hp_output_flags {
	HP_OUTPUT_HIDDEN = 1 << 0, /* not a --format value: selected by an option of its own */
	/* Reads frames through hp_model_stack() only, no site keys nor location frames:
	 * the model may symbolize only what it prints (hp_analysis_options.lazy_symbols). */
	HP_OUTPUT_LAZY_SYMBOLS = 1 << 1,
	/* Shows the memory checklist (checklist.h) whether or not --check was given: the
	 * model computes it; only --check makes its failures fail the run. */
	HP_OUTPUT_CHECKLIST = 1 << 2,
};

struct hp_output {
	const char *name;
	const char *help;     /* its --help line after --format's, NULL: none */
	unsigned flags;	      /* enum hp_output_flags */
	unsigned default_top; /* top when --top is not given; 0 all */
	/* Its own argument (hp_output_options.arg) is valid: 0, else -1; NULL: any. Checked
	 * before any trace is read, so a bad value is a usage error. */
	int (*check_arg)(const char *arg);
	/* Buckets of the per-site series it needs (hp_analysis_options.series_buckets);
	 * 0: the default. */
	unsigned series_buckets;
	/* Before the first trace and after the last, even when no trace could be read: what
	 * one document of several traces puts around them. NULL: nothing. */
	void (*begin)(const struct hp_output_options *o);
	void (*end)(const struct hp_output_options *o);
	/* One trace. Returns 0, or -1 with errno set (ENOMEM, or a write error). */
	int (*write)(const struct hp_model *m, const struct hp_output_options *o);
	/* Set instead of write by formats of the records themselves, which build no model
	 * (--dump): returns 0 at the end of the trace, -1 on a decode error (reported by
	 * the caller from the reader). */
	int (*write_records)(struct hp_reader *r, const struct hp_output_options *o);
};

/* The format named `name`, hidden ones included; NULL when there is none. */
const struct hp_output *hp_output_find(const char *name);

/* The i-th format of the table, NULL past the end (the fuzz targets run every one). */
const struct hp_output *hp_output_get(size_t i);

/* The --format values joined for messages, "text, json or lsan" (`sep` ", ", `last`
 * " or "), or for --help, "text|json|lsan" ("|", "|"). Returns buf. */
const char *hp_output_names(char *buf, size_t size, const char *sep, const char *last);

#ifdef __cplusplus
}
#endif
#endif
