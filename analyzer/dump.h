/* `heapprof-analyze --dump`: every decoded record, one per line, in file order. The
 * format is documented in main.c's --help and relied upon by tests. */
#ifndef HP_DUMP_H
#define HP_DUMP_H

#include <stdio.h>

#include "reader.h"

/* Prints every item of `r` to `out`. Returns what the last hp_reader_next() returned:
 * 0 at the end of the trace, -1 on a decode error (the caller reports it). */
int hp_dump(FILE *out, struct hp_reader *r);

/* Writes n bytes as dump.c and the text report print strings: printable ASCII as is,
 * backslash and anything else as \\ and \xNN, so a record stays on one line. */
void hp_dump_string(FILE *out, const char *s, size_t n);

#endif
