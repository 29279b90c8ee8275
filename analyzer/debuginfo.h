/* The "no debug info" warnings of a run of heapprof-analyze, gathered into one line with
 * a hint of the Debian packages whose -dbgsym packages would help:
 *
 *   heapprof-analyze: warning: no debug info for 2 modules (libc.so.6, libstdc++.so.6):
 *   their frames get function names only; the -dbgsym packages of libc6 (libc.so.6),
 *   libstdc++6 (libstdc++.so.6) would help (Debian's debug archive, or debuginfod)
 *
 * The packages come from dpkg's file lists (/var/lib/dpkg/info/PKG.list, or under
 * $DPKG_ADMINDIR), searched in-process at the end of the run for every module listed;
 * from one run of `dpkg-query -S` where the lists cannot be read.
 * HEAPPROF_DPKG_QUERY names a program to run instead (same arguments, same output), or
 * none when set but empty.
 * Not thread-safe. */
#ifndef HP_DEBUGINFO_H
#define HP_DEBUGINFO_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hp_debuginfo {
	char **paths; /* modules without debug info, each once, in order of the warnings */
	size_t n, cap;
};

/* When msg is the symbolizer's warning of a module without debug info
 * (HP_SYMBOLIZE_NO_DEBUG_INFO_PREFIX...), keeps its path and returns 1; else returns 0
 * (the caller prints msg as it is). Out of memory, the path is dropped. */
int hp_debuginfo_take(struct hp_debuginfo *d, const char *msg);

/* Prints the one line above on `err` ("<prog>: warning: ..."), nothing when no module
 * was taken. With one module, its full path is named. */
void hp_debuginfo_print(const struct hp_debuginfo *d, FILE *err, const char *prog);

void hp_debuginfo_release(struct hp_debuginfo *d);

#ifdef __cplusplus
}
#endif
#endif
