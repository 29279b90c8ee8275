/* Stack resolution for the model: each location symbolized once into a pool, with its
 * frames' trimming class and site-key hash computed once, so a site costs a pass over
 * integers; and the trimming rules of docs/json-report.md. */
#include "resolve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "symbolize.h"

#define MAX_SYM_FRAMES 64

/* A frame's part in trimming. */
enum { C_INNER = 1 << 0, C_MAIN = 1 << 1, C_BELOW_MAIN = 1 << 2, C_UNNAMED = 1 << 3 };

struct hp_resolver {
	const struct hp_module_info *modules;
	size_t nmodules;
	struct hp_symbolizer *sym;
	struct hp_frame *pool;
	uint8_t *cls;	/* per pool frame */
	uint64_t *keys; /* per pool frame: hp_frame_key() */
	size_t pool_len, pool_cap, cls_cap, keys_cap;
	uint32_t *idx; /* a site's expanded stack, pool indices */
	size_t idx_cap;
	uint32_t *loc_first, *loc_count; /* per location: its frames in the pool; UINT32_MAX */
	size_t nlocations;		 /* first: not symbolized yet */
};

/* Registers modules [rs->nmodules, nmodules) with the symbolizer. */
static void add_modules(struct hp_resolver *rs, const struct hp_module_info *modules,
			size_t nmodules)
{
	for (size_t i = rs->nmodules; rs->sym && i < nmodules; i++) {
		const struct hp_module_info *m = &modules[i];
		/* A failure is reported by the symbolizer; the module yields no symbols. */
		hp_symbolizer_add_module(rs->sym, m->id, m->path, m->build_id, m->build_id_len,
					 m->bias);
	}
	rs->modules = modules;
	rs->nmodules = nmodules;
}

int hp_resolver_grow(struct hp_resolver *rs, const struct hp_module_info *modules, size_t nmodules,
		     size_t nlocations)
{
	if (nlocations > rs->nlocations) {
		uint32_t *first = realloc(rs->loc_first, nlocations * sizeof *first);
		if (first)
			rs->loc_first = first;
		uint32_t *count = first ? realloc(rs->loc_count, nlocations * sizeof *count) : NULL;
		if (!count)
			return -ENOMEM;
		rs->loc_count = count;
		memset(rs->loc_first + rs->nlocations, 0xff,
		       (nlocations - rs->nlocations) * sizeof *rs->loc_first);
		rs->nlocations = nlocations;
	}
	add_modules(rs, modules, nmodules);
	return 0;
}

struct hp_resolver *hp_resolver_new(const struct hp_module_info *modules, size_t nmodules,
				    size_t nlocations, int use_symbols,
				    void (*warn)(void *ctx, const char *msg), void *ctx)
{
	struct hp_resolver *rs = calloc(1, sizeof *rs);
	if (!rs)
		return NULL;
	rs->nlocations = nlocations;
	rs->loc_first = malloc((nlocations ? nlocations : 1) * sizeof *rs->loc_first);
	rs->loc_count = malloc((nlocations ? nlocations : 1) * sizeof *rs->loc_count);
	if (!rs->loc_first || !rs->loc_count) {
		hp_resolver_free(rs);
		errno = ENOMEM;
		return NULL;
	}
	memset(rs->loc_first, 0xff, nlocations * sizeof *rs->loc_first);
	if (use_symbols) {
		rs->sym = hp_symbolizer_new(warn, ctx);
		if (!rs->sym) {
			int err = errno;
			hp_resolver_free(rs);
			errno = err ? err : ENOMEM;
			return NULL;
		}
	}
	add_modules(rs, modules, nmodules);
	return rs;
}

void hp_resolver_use_opener(struct hp_resolver *rs, struct hp_symbol_opener *o)
{
	if (rs->sym)
		hp_symbolizer_set_opener(rs->sym, o);
}

void hp_resolver_free(struct hp_resolver *rs)
{
	if (!rs)
		return;
	if (rs->sym)
		hp_symbolizer_free(rs->sym);
	free(rs->pool);
	free(rs->cls);
	free(rs->keys);
	free(rs->idx);
	free(rs->loc_first);
	free(rs->loc_count);
	free(rs);
}

static int starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_allocator_function(const char *fn)
{
	static const char *const names[] = {
	    "malloc",
	    "calloc",
	    "realloc",
	    "reallocarray",
	    "free",
	    "memalign",
	    "posix_memalign",
	    "aligned_alloc",
	    "valloc",
	    "pvalloc",
	    "__libc_malloc",
	    "__libc_calloc",
	    "__libc_realloc",
	    "__libc_memalign",
	    "__libc_valloc",
	    "__libc_pvalloc",
	    "__posix_memalign",
	    "_int_malloc",
	    "_int_realloc",
	    "_int_memalign",
	    "tcache_init",
	    "malloc_hook_ini",
	    "__malloc_hook_ini",
	};
	if (!fn)
		return 0;
	if (starts_with(fn, "operator new") || starts_with(fn, "operator delete"))
		return 1;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(fn, names[i]) == 0)
			return 1;
	return 0;
}

/* Innermost frames to drop: the recorder's, and the allocator's (libc, libstdc++). */
static int is_trimmed_inner(const struct hp_frame *f)
{
	const char *mod = hp_basename(f->module_path);
	if (starts_with(mod, "libheapprof"))
		return 1;
	if (is_allocator_function(f->function))
		return 1;
	/* Without symbols, libstdc++'s frames at the top are operator new's. */
	if (!f->function && starts_with(mod, "libstdc++"))
		return 1;
	return 0;
}

/* The process's start-up frames under main. glibc 2.34 on: __libc_start_main_impl is the
 * DWARF name of what the symbol table calls __libc_start_main@@GLIBC_2.34. */
static int is_below_main(const char *fn)
{
	return fn &&
	       (strcmp(fn, "_start") == 0 || strcmp(fn, "__libc_start_main") == 0 ||
		strcmp(fn, "__libc_start_main_impl") == 0 ||
		strcmp(fn, "__libc_start_call_main") == 0 || starts_with(fn, "__libc_start_main@"));
}

static unsigned classify(const struct hp_frame *f)
{
	unsigned c = is_trimmed_inner(f) ? C_INNER : 0;
	if (f->function && strcmp(f->function, "main") == 0)
		c |= C_MAIN;
	if (is_below_main(f->function))
		c |= C_BELOW_MAIN;
	if (!f->function)
		c |= C_UNNAMED;
	return c;
}

/* The trimming rules over the classes of an expanded stack of n frames: cls(ctx, i). */
static size_t trim_range(size_t n, unsigned (*cls)(const void *ctx, size_t i), const void *ctx,
			 size_t *first)
{
	size_t lo = 0, hi = n;
	while (lo < hi && (cls(ctx, lo) & C_INNER))
		lo++;
	/* Keep the untrimmed stack when trimming would leave nothing. */
	if (lo == hi)
		lo = 0;
	for (size_t i = hi; i-- > lo;) {
		if (cls(ctx, i) & C_MAIN) {
			hi = i + 1;
			break;
		}
	}
	/* The start-up frames go: the outermost run of them, and of unnamed frames among
	 * and after them (a stripped executable's _start; its main, unnamed, stays). */
	size_t h = hi;
	while (h > lo + 1 && (cls(ctx, h - 1) & (C_BELOW_MAIN | C_UNNAMED)))
		h--;
	while (h < hi && !(cls(ctx, h) & C_BELOW_MAIN))
		h++;
	hi = h;
	*first = lo;
	return hi - lo;
}

static unsigned frame_cls(const void *ctx, size_t i)
{
	return classify(&((const struct hp_frame *)ctx)[i]);
}

size_t hp_resolve_trim(const struct hp_frame *f, size_t n, size_t *lo)
{
	return trim_range(n, frame_cls, f, lo);
}

/* Symbolizes location i into the pool, on its first use. Returns 0 or -ENOMEM. */
static int symbolize(struct hp_resolver *rs, const struct hp_location *locs, size_t i)
{
	if (rs->loc_first[i] != UINT32_MAX)
		return 0;
	struct hp_frame sf[MAX_SYM_FRAMES];
	const struct hp_location *l = &locs[i];
	const struct hp_module_info *m =
	    l->module >= 0 && (size_t)l->module < rs->nmodules ? &rs->modules[l->module] : NULL;
	int k = 0;
	if (rs->sym && m)
		k = hp_symbolize(rs->sym, m->id, l->address, 1, sf, MAX_SYM_FRAMES);
	if (k <= 0) {
		k = 1;
		memset(sf, 0, sizeof sf[0]);
	}
	size_t need = rs->pool_len + (size_t)k;
	if (need >= UINT32_MAX ||
	    hp_array_reserve((void **)&rs->pool, &rs->pool_cap, need, sizeof *rs->pool, 1024) ||
	    hp_array_reserve((void **)&rs->cls, &rs->cls_cap, need, sizeof *rs->cls, 1024) ||
	    hp_array_reserve((void **)&rs->keys, &rs->keys_cap, need, sizeof *rs->keys, 1024))
		return -ENOMEM;
	rs->loc_first[i] = (uint32_t)rs->pool_len;
	rs->loc_count[i] = (uint32_t)k;
	for (int j = 0; j < k; j++) {
		struct hp_frame *o = &rs->pool[rs->pool_len];
		*o = sf[j];
		o->ip = l->ip;
		o->address = l->address;
		o->module = m ? l->module : -1;
		o->location = (uint32_t)i;
		o->module_path = m ? m->path : NULL;
		rs->cls[rs->pool_len] = (uint8_t)classify(o);
		rs->keys[rs->pool_len] = hp_frame_key(o);
		rs->pool_len++;
	}
	return 0;
}

int hp_resolve_location(struct hp_resolver *rs, const struct hp_location *locs, size_t i,
			const struct hp_frame **frames, uint32_t *n)
{
	if (i >= rs->nlocations || symbolize(rs, locs, i))
		return -ENOMEM;
	*frames = rs->pool + rs->loc_first[i];
	*n = rs->loc_count[i];
	return 0;
}

int hp_resolve_locations(struct hp_resolver *rs, struct hp_location *locs, size_t n)
{
	for (size_t i = 0; i < n && i < rs->nlocations; i++) {
		if (symbolize(rs, locs, i))
			return -ENOMEM;
		locs[i].first_frame = rs->loc_first[i];
		locs[i].nframes = rs->loc_count[i];
	}
	return 0;
}

const struct hp_frame *hp_resolver_frames(const struct hp_resolver *rs, size_t *n)
{
	*n = rs->pool_len;
	return rs->pool;
}

static unsigned pool_cls(const void *ctx, size_t i)
{
	const struct hp_resolver *rs = ctx;
	return rs->cls[rs->idx[i]];
}

int hp_resolve_site(struct hp_resolver *rs, const struct hp_location *locs, struct hp_site *site)
{
	size_t n = 0;
	for (uint32_t i = 0; i < site->nlocations; i++) {
		const struct hp_location *l = &locs[site->locations[i]];
		if (hp_array_reserve((void **)&rs->idx, &rs->idx_cap, n + l->nframes,
				     sizeof *rs->idx, 256))
			return -ENOMEM;
		for (uint32_t k = 0; k < l->nframes; k++)
			rs->idx[n++] = l->first_frame + k;
	}
	size_t lo, kept = trim_range(n, pool_cls, rs, &lo);
	uint64_t key = HP_STACK_KEY_INIT;
	for (size_t i = lo; i < lo + kept; i++)
		key = hp_stack_key_add(key, rs->keys[rs->idx[i]]);
	site->nframes = (uint32_t)n;
	site->trim_lo = (uint32_t)lo;
	site->trim_hi = (uint32_t)(lo + kept);
	site->key = key;
	return 0;
}
