/* Symbolized stacks for the model: every code location of a profile symbolized once
 * (function, file:line, inlined frames) into one pool of frames, and each site's stack
 * trimmed as reports print it (of allocator, libc and heapprof frames at the innermost
 * end, of the frames below main at the outermost end: docs/json-report.md) and keyed by
 * the site key of frame.h. Not thread-safe. */
#ifndef HP_RESOLVE_H
#define HP_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "profile.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hp_resolver;
struct hp_symbol_opener;

/* Returns a resolver for a profile's modules and its `nlocations` locations, or NULL
 * with errno set. With use_symbols 0 nothing is symbolized (frames carry module and
 * address only). `warn` as for hp_symbolizer_new(). The modules must outlive the
 * resolver. */
struct hp_resolver *hp_resolver_new(const struct hp_module_info *modules, size_t nmodules,
				    size_t nlocations, int use_symbols,
				    void (*warn)(void *ctx, const char *msg), void *ctx);

/* Makes the resolver's symbolizer take the files it opens from `o` (symbolize.h), which
 * must outlive the resolver. Without symbols, nothing. */
void hp_resolver_use_opener(struct hp_resolver *rs, struct hp_symbol_opener *o);

/* For a profile that grows (hp_replay_peek): its modules, which may have moved, are now
 * modules[0..nmodules), a prefix of them the ones the resolver knew, and it has
 * nlocations locations, the first ones those it knew. Frames already symbolized stay.
 * Returns 0 or -ENOMEM. */
int hp_resolver_grow(struct hp_resolver *rs, const struct hp_module_info *modules, size_t nmodules,
		     size_t nlocations);

/* The frames of location i (at least 1: a frame of module and address when nothing is
 * known), symbolized on first use only: *frames is valid until the next call. Returns 0
 * or -ENOMEM. */
int hp_resolve_location(struct hp_resolver *rs, const struct hp_location *locs, size_t i,
			const struct hp_frame **frames, uint32_t *n);

/* Symbolizes every one of locs[0..n) and sets its first_frame and nframes (indices into
 * hp_resolver_frames()). Returns 0 or -ENOMEM. */
int hp_resolve_locations(struct hp_resolver *rs, struct hp_location *locs, size_t n);

/* The pool: every symbolized location's frames; valid until the next symbolization. */
const struct hp_frame *hp_resolver_frames(const struct hp_resolver *rs, size_t *n);

/* After hp_resolve_locations(): sets the site's nframes, trim_lo, trim_hi and key
 * (profile.h) from the locations of its stack. Returns 0 or -ENOMEM. */
int hp_resolve_site(struct hp_resolver *rs, const struct hp_location *locs, struct hp_site *site);

/* The trimming rules on an expanded stack f[0..n): returns the number of frames kept and
 * their first index in *lo. A stack of nothing but trimmed frames is kept whole. Pure. */
size_t hp_resolve_trim(const struct hp_frame *f, size_t n, size_t *lo);

void hp_resolver_free(struct hp_resolver *rs);

#ifdef __cplusplus
}
#endif
#endif
