/* Offline symbolization with libdw: module-relative addresses -> function, file:line,
 * inlined frames. The only analyzer file that knows libdw. */
#ifndef HP_SYMBOLIZE_H
#define HP_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct hp_symbolizer;

/* The warning of a module without debug info, as `warn` gets it: the prefix, the module's
 * path, the suffix. heapprof-analyze gathers these into one line (debuginfo.h). */
#define HP_SYMBOLIZE_NO_DEBUG_INFO_PREFIX "no debug info for '"
#define HP_SYMBOLIZE_NO_DEBUG_INFO_SUFFIX "'; its frames get function names only"

/* Returns a new symbolizer, or NULL with errno set. `warn` is called once per problem
 * (missing binary, build-id mismatch, no debug info) with a message naming the module;
 * NULL means print "heapprof-analyze: warning: <msg>" on stderr. */
struct hp_symbolizer *hp_symbolizer_new(void (*warn)(void *ctx, const char *msg), void *ctx);

/* Registers a module as recorded in the trace (MODULE record). `module_id` is the trace's
 * id; `bias` is the load bias. Returns 0, or a negative errno (the module then yields
 * no symbols, and the warning has been given). Cheap: files are opened lazily on the
 * first lookup in that module. */
int hp_symbolizer_add_module(struct hp_symbolizer *s, uint64_t module_id, const char *path,
			     const uint8_t *build_id, size_t build_id_len, uint64_t bias);

/* Symbolizes `vaddr`, an address in the module's own ELF address space (runtime ip
 * minus bias). When `is_return_address` is set the lookup uses vaddr - 1 so the line
 * is the call's. Fills the source-level fields (function, mangled, file, line, column,
 * inlined) of at most `max` frames, innermost first: an address inside inlined code
 * yields the inlined callee first (inlined = 1), then each caller up to the real
 * function (inlined = 0). The other fields are zero. Returns how many (0 when nothing
 * is known). Strings are owned by the symbolizer and valid until hp_symbolizer_free().
 * Results are cached per (module, vaddr). */
int hp_symbolize(struct hp_symbolizer *s, uint64_t module_id, uint64_t vaddr, int is_return_address,
		 struct hp_frame *out, int max);

void hp_symbolizer_free(struct hp_symbolizer *s);

/* An opener: opens modules' files (the build-id checks, the search for debug info and
 * libdw's inflating of compressed debug sections, most of a symbolization's time) on a
 * thread of its own, in the order they are added, while the caller does other work (the
 * replay, as model.c uses it). A symbolizer given the opener takes each file it needs
 * from it, waiting for one still being opened, and opens itself one not begun yet. A
 * file's warning is given by the symbolizer that takes it, when it first needs it, as
 * without an opener: a file opened and never taken gives none. */
struct hp_symbol_opener;

/* Returns a new opener (its thread starts with the first file), or NULL with errno set. */
struct hp_symbol_opener *hp_symbol_opener_new(void);

/* Queues the file of a module (path and recorded build-id, as hp_symbolizer_add_module()
 * takes them) unless queued before. Returns 0, or a negative errno (nothing queued:
 * the symbolizer opens it when needed). */
int hp_symbol_opener_add(struct hp_symbol_opener *o, const char *path, const uint8_t *build_id,
			 size_t build_id_len);

/* Waits until the thread has opened every file queued and not taken (tests). */
void hp_symbol_opener_drain(struct hp_symbol_opener *o);

/* Makes s take the files it opens from o, which must outlive s. */
void hp_symbolizer_set_opener(struct hp_symbolizer *s, struct hp_symbol_opener *o);

/* Stops the thread (after the file it is opening) and frees every file nobody took. */
void hp_symbol_opener_free(struct hp_symbol_opener *o);

#endif
