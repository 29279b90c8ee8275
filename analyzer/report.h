/* What the reports (report_*.c) and the live view (follow.c) share: string, count and
 * size formatting, and the order of ranked sites. Each report is an output format of
 * output.h; none is thread-safe. */
#ifndef HP_REPORT_H
#define HP_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes prefix + s[0..n) as a JSON string: quotes, backslashes and control characters
 * escaped, bytes that are not valid UTF-8 replaced by U+FFFD. prefix is written as is. */
void hp_json_string(FILE *o, const char *prefix, const char *s, size_t n);

/* A JSON string, or null for NULL (hp_json_string() without prefix). */
void hp_json_str0(FILE *o, const char *s);

/* A JSON number to 6 significant digits, or null for NaN and infinities. */
void hp_json_number(FILE *o, double v);

struct hp_frame;

/* A frame as the JSON reports give it: {"function", "file", "line", "module", "inlined"}
 * and, with_address, its module-relative "address" (docs/json-report.md). */
void hp_json_frame(FILE *o, const struct hp_frame *f, int with_address);

/* "1.5 KiB": human units, 1 decimal (bytes exact below 1 KiB). buf: 32 bytes. */
const char *hp_human_bytes(char *buf, uint64_t bytes);

/* A double (a rate, a sum, a mean) rounded to a count for printing: NaN and negatives are
 * 0, anything from 2^64 up is UINT64_MAX. A plain cast of an out-of-range double is
 * undefined, and a corrupt trace's figures can be anything. */
static inline uint64_t hp_round_u64(double v)
{
	if (!(v > 0))
		return 0;
	return v < 18446744073709551615.0 ? (uint64_t)(v + 0.5) : UINT64_MAX;
}

/* "1,234,567". buf: 32 bytes. */
const char *hp_human_count(char *buf, uint64_t v);

struct hp_frame;
struct hp_profile;

/* The row under a chart of `cols` columns over the run: each mark's number ('1'..'9',
 * then '+') at its time's column, spaces elsewhere; row holds cols + 1 bytes. */
void hp_report_marks_row(char *row, int cols, const struct hp_profile *p);

/* Writes one frame of a stack as the text reports do, "        at f (file.c:12)\n", the
 * location dimmed when `color` (term.h). */
void hp_report_print_frame(FILE *o, const struct hp_frame *f, int color);

/* A site to rank: by key, then key2, both largest first, then by index (a stable order
 * whatever qsort does with ties). */
struct hp_rank {
	uint64_t key, key2;
	size_t index;
};

/* qsort()'s comparison of two struct hp_rank. */
int hp_rank_cmp(const void *a, const void *b);

#ifdef __cplusplus
}
#endif
#endif
