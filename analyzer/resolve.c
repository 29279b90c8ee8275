/* Stack resolution for reports: a cache of symbolized (module, address) pairs in front
 * of the symbolizer, and the trimming rules of docs/json-report.md. */
#include "resolve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "symbolize.h"

#define MAX_SYM_FRAMES 64

struct slot {
	uint64_t vaddr;
	int32_t module;
	uint32_t first, count;
	int used;
};

struct hp_resolver {
	const struct hp_profile *prof;
	struct hp_symbolizer *sym;
	struct slot *cache;
	size_t cache_mask, cache_len;
	struct hp_resolved_frame *pool;
	size_t pool_len, pool_cap;
	struct hp_resolved_frame *out;
	size_t out_cap;
};

const char *hp_basename(const char *path)
{
	if (!path)
		return NULL;
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

struct hp_resolver *hp_resolver_new(const struct hp_profile *p, int use_symbols,
				    void (*warn)(void *ctx, const char *msg), void *ctx)
{
	struct hp_resolver *rs = calloc(1, sizeof *rs);
	if (!rs)
		return NULL;
	rs->prof = p;
	rs->cache_mask = 1023;
	rs->cache = calloc(rs->cache_mask + 1, sizeof *rs->cache);
	if (!rs->cache)
		goto oom;
	if (use_symbols) {
		rs->sym = hp_symbolizer_new(warn, ctx);
		if (!rs->sym)
			goto oom;
		for (size_t i = 0; i < p->nmodules; i++) {
			const struct hp_module_info *m = &p->modules[i];
			/* A failure is reported by the symbolizer; the module yields no symbols. */
			hp_symbolizer_add_module(rs->sym, m->id, m->path, m->build_id,
						 m->build_id_len, m->bias);
		}
	}
	return rs;
oom:
	hp_resolver_free(rs);
	errno = ENOMEM;
	return NULL;
}

void hp_resolver_free(struct hp_resolver *rs)
{
	if (!rs)
		return;
	if (rs->sym)
		hp_symbolizer_free(rs->sym);
	free(rs->cache);
	free(rs->pool);
	free(rs->out);
	free(rs);
}

static size_t slot_hash(int32_t module, uint64_t vaddr)
{
	uint64_t h = (vaddr ^ ((uint64_t)(uint32_t)module << 40)) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 24);
}

static int cache_grow(struct hp_resolver *rs)
{
	size_t n = (rs->cache_mask + 1) * 2;
	struct slot *c = calloc(n, sizeof *c);
	if (!c)
		return -1;
	for (size_t i = 0; i <= rs->cache_mask; i++) {
		if (!rs->cache[i].used)
			continue;
		size_t j = slot_hash(rs->cache[i].module, rs->cache[i].vaddr) & (n - 1);
		while (c[j].used)
			j = (j + 1) & (n - 1);
		c[j] = rs->cache[i];
	}
	free(rs->cache);
	rs->cache = c;
	rs->cache_mask = n - 1;
	return 0;
}

static int reserve(struct hp_resolved_frame **v, size_t *cap, size_t need)
{
	return hp_array_reserve((void **)v, cap, need, sizeof **v, 256);
}

/* Symbolizes one frame through the cache; returns its slot or NULL on OOM. */
static const struct slot *lookup(struct hp_resolver *rs, const struct hp_frame *f)
{
	size_t i = slot_hash(f->module, f->vaddr) & rs->cache_mask;
	for (; rs->cache[i].used; i = (i + 1) & rs->cache_mask)
		if (rs->cache[i].vaddr == f->vaddr && rs->cache[i].module == f->module)
			return &rs->cache[i];

	struct hp_sym_frame sf[MAX_SYM_FRAMES];
	int n = 0;
	const struct hp_module_info *m = f->module >= 0 ? &rs->prof->modules[f->module] : NULL;
	if (rs->sym && m)
		n = hp_symbolize(rs->sym, m->id, f->vaddr, 1, sf, MAX_SYM_FRAMES);
	if (n <= 0) {
		n = 1;
		memset(sf, 0, sizeof sf[0]);
	}
	if (reserve(&rs->pool, &rs->pool_cap, rs->pool_len + (size_t)n))
		return NULL;
	for (int k = 0; k < n; k++) {
		struct hp_resolved_frame *o = &rs->pool[rs->pool_len + (size_t)k];
		o->function = sf[k].function;
		o->file = sf[k].file;
		o->line = sf[k].line;
		o->inlined = sf[k].inlined;
		o->module = m ? m->path : NULL;
		o->address = f->vaddr;
	}
	struct slot *s = &rs->cache[i];
	s->used = 1;
	s->vaddr = f->vaddr;
	s->module = f->module;
	s->first = (uint32_t)rs->pool_len;
	s->count = (uint32_t)n;
	rs->pool_len += (size_t)n;
	if (++rs->cache_len * 2 > rs->cache_mask + 1) {
		size_t first = s->first, count = s->count;
		if (cache_grow(rs))
			return NULL;
		/* The slot moved: find it again. */
		for (i = slot_hash(f->module, f->vaddr) & rs->cache_mask;
		     !(rs->cache[i].vaddr == f->vaddr && rs->cache[i].module == f->module &&
		       rs->cache[i].first == first && rs->cache[i].count == count);
		     i = (i + 1) & rs->cache_mask)
			;
		return &rs->cache[i];
	}
	return s;
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
static int is_trimmed_inner(const struct hp_resolved_frame *f)
{
	const char *mod = hp_basename(f->module);
	if (starts_with(mod, "libheapprof"))
		return 1;
	if (is_allocator_function(f->function))
		return 1;
	/* Without symbols, libstdc++'s frames at the top are operator new's. */
	if (!f->function && starts_with(mod, "libstdc++"))
		return 1;
	return 0;
}

static int is_below_main(const char *fn)
{
	return fn &&
	       (strcmp(fn, "_start") == 0 || strcmp(fn, "__libc_start_main") == 0 ||
		strcmp(fn, "__libc_start_call_main") == 0 || starts_with(fn, "__libc_start_main@"));
}

/* Every frame of a site's stack, inlined ones expanded, into rs->out; 0 on OOM. */
static size_t expand(struct hp_resolver *rs, const struct hp_site *site)
{
	size_t n = 0;
	for (uint32_t i = 0; i < site->nframes; i++) {
		const struct slot *s = lookup(rs, &site->frames[i]);
		if (!s)
			return 0;
		if (reserve(&rs->out, &rs->out_cap, n + s->count))
			return 0;
		memcpy(rs->out + n, rs->pool + s->first, s->count * sizeof *rs->out);
		n += s->count;
	}
	return n;
}

size_t hp_resolve_site_untrimmed(struct hp_resolver *rs, const struct hp_site *site,
				 const struct hp_resolved_frame **out)
{
	size_t n = expand(rs, site);
	*out = n ? rs->out : NULL;
	return n;
}

size_t hp_resolve_site(struct hp_resolver *rs, const struct hp_site *site,
		       const struct hp_resolved_frame **out)
{
	size_t n = expand(rs, site);
	/* Keep the untrimmed stack when trimming would leave nothing. */
	size_t lo = 0, hi = n;
	while (lo < hi && is_trimmed_inner(&rs->out[lo]))
		lo++;
	if (lo == hi)
		lo = 0;
	for (size_t i = hi; i-- > lo;) {
		if (rs->out[i].function && strcmp(rs->out[i].function, "main") == 0) {
			hi = i + 1;
			break;
		}
	}
	while (hi > lo + 1 && is_below_main(rs->out[hi - 1].function))
		hi--;
	*out = n ? rs->out + lo : NULL;
	return hi - lo;
}
