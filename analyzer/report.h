/* What the reports (report_*.c) share: string and size formatting. Each report is an
 * output format of output.h; none is thread-safe. */
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

/* "1.5 KiB": human units, 1 decimal (bytes exact below 1 KiB). buf: 32 bytes. */
const char *hp_human_bytes(char *buf, uint64_t bytes);

#ifdef __cplusplus
}
#endif
#endif
