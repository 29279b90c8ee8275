/* The leak report in text, JSON and LeakSanitizer's log format (for `ctest -T memcheck`).
 * Each printer takes a finished struct hp_leaks (leaks.h); none is thread-safe. */
#ifndef HP_REPORT_LEAKS_H
#define HP_REPORT_LEAKS_H

#include <stdint.h>
#include <stdio.h>

#include "leaks.h"

#ifdef __cplusplus
extern "C" {
#endif

enum hp_leaks_print_flags {
	HP_LEAKS_PRINT_SUPPRESSIONS = 1 << 0, /* --print-suppressions: the rules that matched */
	HP_LEAKS_PRINT_NO_REACHABLE = 1 << 1, /* omit the still-reachable sites */
};

/* The text section: per-class totals, then each site (kind, bytes, blocks, stack). Without
 * a scan, says so and shows the blocks live at exit. */
void hp_leaks_print_text(FILE *out, const struct hp_leaks *lk, unsigned flags);

/* The value of the JSON report's "leaks" key (docs/json-report.md): `null` without a scan,
 * else an object. `indent` is the indentation of the line holding the key, in spaces;
 * nothing is printed after the closing brace. */
void hp_leaks_print_json(FILE *out, const struct hp_leaks *lk, int indent);

/* A LeakSanitizer-style log ("==PID==ERROR: LeakSanitizer: detected memory leaks",
 * "Direct leak of N byte(s) in M object(s) allocated from:", frames, SUMMARY), one
 * record per site of the kinds in `kinds` (bits 1 << enum hp_leak_class; definite and
 * possible print as Direct, indirect as Indirect). Prints nothing when there is none, or
 * when there is no scan. Returns the number of records printed. */
unsigned hp_leaks_print_lsan(FILE *out, const struct hp_leaks *lk, uint64_t pid, unsigned kinds);

#ifdef __cplusplus
}
#endif
#endif
