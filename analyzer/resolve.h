/* Sites' stacks as reports print them: symbolized (function, file:line, inlined frames)
 * and trimmed of allocator, libc and heapprof frames at the innermost end and of the
 * frames below main at the outermost end. Each distinct (module, address) is symbolized
 * once, and only for the stacks a report asks for. Not thread-safe. */
#ifndef HP_RESOLVE_H
#define HP_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "replay.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hp_resolved_frame {
	const char *function; /* demangled; NULL when unknown */
	const char *file;     /* NULL without line info */
	unsigned line;	      /* 0 when unknown */
	int inlined;	      /* 1: inlined into the next frame */
	const char *module;   /* absolute path; NULL when the ip is in no known module */
	uint64_t address;     /* module-relative (the ip when module is NULL) */
};

struct hp_resolver;

/* Returns a resolver for a profile, or NULL with errno set. With use_symbols 0 nothing is
 * symbolized (frames carry module and address only). `warn` as for hp_symbolizer_new(). */
struct hp_resolver *hp_resolver_new(const struct hp_profile *p, int use_symbols,
				    void (*warn)(void *ctx, const char *msg), void *ctx);

/* Resolves a site's stack, innermost first, trimmed. *out points into the resolver and is
 * valid until the next call. Returns the number of frames (0 for a site without stack). */
size_t hp_resolve_site(struct hp_resolver *rs, const struct hp_site *site,
		       const struct hp_resolved_frame **out);

/* As hp_resolve_site(), but every frame: the allocator's, libc's, the recorder's and
 * those below main included (leak suppressions match them, as LeakSanitizer does). */
size_t hp_resolve_site_untrimmed(struct hp_resolver *rs, const struct hp_site *site,
				 const struct hp_resolved_frame **out);

/* Returns the file name part of a path ("libc.so.6" for "/lib/libc.so.6"). */
const char *hp_basename(const char *path);

void hp_resolver_free(struct hp_resolver *rs);

#ifdef __cplusplus
}
#endif
#endif
