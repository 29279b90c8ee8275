/* The reports (report_text.c, report_json.c): one profile in, one document out.
 * They share this input, hence one header for both. Not thread-safe. */
#ifndef HP_REPORT_H
#define HP_REPORT_H

#include <stdio.h>

#include "replay.h"
#include "resolve.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hp_leaks;

struct hp_report_input {
	const char *file; /* the trace's name as given */
	const struct hp_profile *prof;
	struct hp_resolver *res;
	int complete; /* the trace ends with END */
	int running;  /* it does not, and its process is still writing it */
	const char *const *warnings;
	size_t nwarnings;
	unsigned top;		      /* sites per section (text) or in all (json); 0 = all */
	const struct hp_leaks *leaks; /* finished leak report (leaks.h), or NULL */
	unsigned leaks_flags;	      /* enum hp_leaks_print_flags for the text report */
};

/* The default report, readable at 100 columns. `unicode` selects block characters for
 * the chart (else ASCII). Returns 0, or -1 when writing failed (errno set). */
int hp_report_text(FILE *out, const struct hp_report_input *in, int unicode);

/* One process object of docs/json-report.md (schema_version included), no newline after
 * the closing brace. Returns 0, or -1 when writing failed. */
int hp_report_json(FILE *out, const struct hp_report_input *in);

/* Writes prefix + s[0..n) as a JSON string: quotes, backslashes and control characters
 * escaped, bytes that are not valid UTF-8 replaced by U+FFFD. prefix is written as is. */
void hp_json_string(FILE *o, const char *prefix, const char *s, size_t n);

/* "1.5 KiB": human units, 1 decimal (bytes exact below 1 KiB). buf: 32 bytes. */
const char *hp_human_bytes(char *buf, uint64_t bytes);

#ifdef __cplusplus
}
#endif
#endif
