/* Opening a module's file for symbolize.c: the build-id checks, the local search for its
 * debug info, and the opener that does both on a thread of its own ahead of need
 * (symbolize.h's hp_symbol_opener). Used by symbolize.c only. */
#ifndef HP_SYMBOLIZE_OPEN_H
#define HP_SYMBOLIZE_OPEN_H

#include <elfutils/libdwfl.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize.h"

/* Which file a module is: its path and recorded build-id (none: any file at the path).
 * A symbolizer's files and an opener's are told apart by the same rule. */
struct hp_file_id {
	char *path;
	uint8_t *build_id;
	size_t build_id_len;
};

/* Sets id to copies of path and build-id. Returns 0 or -ENOMEM (id then empty). */
int hp_file_id_set(struct hp_file_id *id, const char *path, const uint8_t *build_id,
		   size_t build_id_len);

/* Is id the file (path, build-id)? */
int hp_file_id_is(const struct hp_file_id *id, const char *path, const uint8_t *build_id,
		  size_t build_id_len);

void hp_file_id_release(struct hp_file_id *id);

/* A module's file as opened: its own Dwfl holding the one module (symbolize.c says why),
 * and the one warning the open gave. */
struct hp_opened {
	Dwfl *dwfl;	    /* NULL when never begun; else dwfl_end() it */
	Dwfl_Module *mod;   /* set when the file can be symbolized (ok) */
	int ok;		    /* its symbol table at least is usable */
	char warning[4352]; /* "" or the warning, as hp_symbolizer's warn gets it */
};

/* The debug roots in libdwfl's syntax (":.debug:ROOT..."): /usr/lib/debug, or
 * HEAPPROF_DEBUGINFO_PATH's absolute entries. malloc'd; NULL when out of memory. */
char *hp_debuginfo_path_new(void);

/* Fills the libdwfl callbacks of a local-only search along *debuginfo_path. Every Dwfl
 * begun with them keeps pointers to both: they must outlive it. */
void hp_open_callbacks(Dwfl_Callbacks *cb, char **debuginfo_path);

/* Opens `path` and checks it against the recorded build-id (none: trusted), with
 * callbacks of hp_open_callbacks(). Every problem yields one warning; a missing file,
 * a build-id mismatch or a file that is no ELF leave out->ok 0. Pseudo paths ("",
 * "[vdso]") are not opened: ok 0, no warning. */
void hp_open_file(const Dwfl_Callbacks *cb, const char *path, const uint8_t *build_id,
		  size_t build_id_len, struct hp_opened *out);

/* When `o` has opened, or is opening, the file (path, build-id) along the same debug
 * roots as `debuginfo_path`: waits for it, moves the result to *out and returns 1. Else
 * returns 0 (the caller opens it; a queued open of it is dropped). */
int hp_symbol_opener_take(struct hp_symbol_opener *o, const char *path, const uint8_t *build_id,
			  size_t build_id_len, const char *debuginfo_path, struct hp_opened *out);

#endif
