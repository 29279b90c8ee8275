/* Offline symbolization with libdw (see symbolize.h).
 *
 * Each distinct file (path + build-id) gets its own Dwfl holding that one module, reported
 * at base 0 with add_p_vaddr set: dwfl addresses are then the ELF's own vaddrs for ET_DYN
 * and ET_EXEC alike, which is what callers pass. (With a shared Dwfl, a library re-loaded
 * at the same range after dlclose would be refused as DWFL_E_OVERLAP.) Modules sharing a
 * file share its Dwfl, its result cache and its one warning.
 *
 * Files are opened, and their debug info searched (locally only), by symbolize_open.c,
 * on first use or ahead of it by an opener.
 *
 * Not thread-safe: one symbolizer per thread. */
#include "symbolize.h"

#include "symbolize_open.h"
#include "symtab.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demangle_rust.h"

/* libstdc++'s demangler; the analyzer links stdc++ for it. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

#define MAX_INLINE_DEPTH 64 /* deeper inline chains are cut at the innermost 64 frames */

enum file_state { FILE_UNOPENED, FILE_OK, FILE_UNUSABLE };

struct cache_slot {
	uint64_t addr;
	uint32_t first; /* index into hp_symbolizer.frames */
	uint16_t count;
	uint8_t used;
};

struct cu_range {
	Dwarf_Addr lo, hi;
	Dwarf_Off die; /* the CU DIE's offset */
};

struct file {
	struct file *next;
	struct hp_file_id id;
	enum file_state state;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	struct cache_slot *cache; /* open addressing, power-of-two capacity */
	size_t cache_cap, cache_len;
	struct cu_range *cus; /* sorted by lo; built only when .debug_aranges fail */
	size_t ncus;
	int cus_built;
	struct hp_symtab syms; /* for the frames DWARF does not name */
};

struct module_slot {
	uint64_t id;
	struct file *file; /* NULL: empty slot */
};

struct hp_symbolizer {
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
	Dwfl_Callbacks callbacks;	 /* each Dwfl keeps a pointer to it */
	char *debuginfo_path;		 /* dwfl syntax: ":.debug:/usr/lib/debug" */
	struct hp_symbol_opener *opener; /* or NULL */
	struct file *files;
	struct module_slot *modules;
	size_t modules_cap, modules_len;
	struct hp_frame *frames; /* every cached frame, strings interned */
	size_t frames_len, frames_cap;
	char **strings; /* interned strings, open addressing */
	size_t strings_cap, strings_len;
};

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_str(const char *p)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	while (*p)
		h = (h ^ (unsigned char)*p++) * 0x100000001b3ULL;
	return h;
}

static void warnf(struct hp_symbolizer *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void warnf(struct hp_symbolizer *s, const char *fmt, ...)
{
	char msg[4096 + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->warn)
		s->warn(s->warn_ctx, msg);
	else
		fprintf(stderr, "heapprof-analyze: warning: %s\n", msg);
}

/* Returns the interned copy of `str`, or NULL when out of memory. */
static const char *intern(struct hp_symbolizer *s, const char *str)
{
	if (s->strings_len * 2 >= s->strings_cap) {
		size_t cap = s->strings_cap ? s->strings_cap * 2 : 256;
		char **tab = calloc(cap, sizeof(*tab));
		if (!tab)
			return NULL;
		for (size_t i = 0; i < s->strings_cap; i++) {
			if (!s->strings[i])
				continue;
			size_t j = hash_str(s->strings[i]) & (cap - 1);
			while (tab[j])
				j = (j + 1) & (cap - 1);
			tab[j] = s->strings[i];
		}
		free(s->strings);
		s->strings = tab;
		s->strings_cap = cap;
	}
	size_t i = hash_str(str) & (s->strings_cap - 1);
	for (; s->strings[i]; i = (i + 1) & (s->strings_cap - 1)) {
		if (strcmp(s->strings[i], str) == 0)
			return s->strings[i];
	}
	char *copy = strdup(str);
	if (!copy)
		return NULL;
	s->strings[i] = copy;
	s->strings_len++;
	return copy;
}

/* A Rust or C++ (Itanium ABI) name demangled and interned, with the linkage name
 * interned in *mangled; anything else interned as is (*mangled NULL). Rust first: its
 * legacy names are valid C++ names, which __cxa_demangle shows hashed. */
static const char *intern_symbol(struct hp_symbolizer *s, const char *name, const char **mangled)
{
	*mangled = NULL;
	if (!name || !*name)
		return NULL;
	char *rust = hp_demangle_rust(name); /* NULL but for _R... and Rust's _ZN...E */
	if (rust) {
		const char *r = intern(s, rust);
		free(rust);
		*mangled = r ? intern(s, name) : NULL;
		return r;
	}
	if (name[0] == '_' && name[1] == 'Z') {
		int status = -1;
		char *plain = __cxa_demangle(name, NULL, NULL, &status);
		if (plain && status == 0) {
			const char *r = intern(s, plain);
			free(plain);
			*mangled = r ? intern(s, name) : NULL;
			return r;
		}
		free(plain);
	}
	return intern(s, name);
}

static void set_function(struct hp_symbolizer *s, struct hp_frame *fr, const char *name)
{
	fr->function = intern_symbol(s, name, &fr->mangled);
}

/* ---- debug info lookup, local only ---- */

/* ---- files and modules ---- */

/* Opens the file on first use, or takes it from the opener; its warning is given now. */
static void file_open(struct hp_symbolizer *s, struct file *f)
{
	struct hp_opened o;
	if (!s->opener || !hp_symbol_opener_take(s->opener, f->id.path, f->id.build_id,
						 f->id.build_id_len, s->debuginfo_path, &o))
		hp_open_file(&s->callbacks, f->id.path, f->id.build_id, f->id.build_id_len, &o);
	f->dwfl = o.dwfl;
	f->mod = o.mod;
	f->state = o.ok ? FILE_OK : FILE_UNUSABLE;
	if (o.warning[0])
		warnf(s, "%s", o.warning);
}

static struct file *file_get(struct hp_symbolizer *s, const char *path, const uint8_t *build_id,
			     size_t build_id_len)
{
	for (struct file *f = s->files; f; f = f->next) {
		if (hp_file_id_is(&f->id, path, build_id, build_id_len))
			return f;
	}
	struct file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (hp_file_id_set(&f->id, path, build_id, build_id_len)) {
		free(f);
		return NULL;
	}
	f->next = s->files;
	s->files = f;
	return f;
}

static struct module_slot *module_slot(struct hp_symbolizer *s, uint64_t id)
{
	if (!s->modules_cap)
		return NULL;
	size_t i = hash64(id) & (s->modules_cap - 1);
	for (; s->modules[i].file; i = (i + 1) & (s->modules_cap - 1)) {
		if (s->modules[i].id == id)
			return &s->modules[i];
	}
	return &s->modules[i];
}

static int modules_grow(struct hp_symbolizer *s)
{
	size_t cap = s->modules_cap ? s->modules_cap * 2 : 64;
	struct module_slot *tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < s->modules_cap; i++) {
		if (!s->modules[i].file)
			continue;
		size_t j = hash64(s->modules[i].id) & (cap - 1);
		while (tab[j].file)
			j = (j + 1) & (cap - 1);
		tab[j] = s->modules[i];
	}
	free(s->modules);
	s->modules = tab;
	s->modules_cap = cap;
	return 0;
}

/* ---- lookup ---- */

static const char *die_function_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = NULL;

	/* The linkage name demangles to the qualified C++ name; C has only DW_AT_name. */
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		name = dwarf_formstring(&attr);
	if (!name)
		name = dwarf_diename(die);
	return name;
}

static int is_function_scope(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

static int cmp_cu_range(const void *a, const void *b)
{
	const struct cu_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void build_cu_index(struct file *f, Dwarf *dw)
{
	Dwarf_Off off = 0, next;
	size_t hsize, cap = 0;

	f->cus_built = 1;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		Dwarf_Addr base, lo, hi;
		ptrdiff_t it = 0;
		if (dwarf_offdie(dw, off + hsize, &cu)) {
			while ((it = dwarf_ranges(&cu, it, &base, &lo, &hi)) > 0) {
				if (hi <= lo)
					continue;
				if (f->ncus == cap) {
					size_t ncap = cap ? cap * 2 : 64;
					struct cu_range *r = realloc(f->cus, ncap * sizeof(*r));
					if (!r)
						goto out;
					f->cus = r;
					cap = ncap;
				}
				f->cus[f->ncus++] = (struct cu_range){lo, hi, off + hsize};
			}
		}
		off = next;
	}
out:
	if (f->ncus)
		qsort(f->cus, f->ncus, sizeof(*f->cus), cmp_cu_range);
}

/* The CU DIE holding `addr`. libdwfl finds it through .debug_aranges, which clang does not
 * emit (and elfutils before 0.191 has no fallback): then the CUs' own ranges are indexed,
 * once per file. */
static Dwarf_Die *cu_at(struct file *f, Dwarf_Addr addr, Dwarf_Die *mem, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(f->mod, addr, bias);
	if (cu)
		return cu;
	Dwarf *dw = dwfl_module_getdwarf(f->mod, bias);
	if (!dw)
		return NULL;
	if (!f->cus_built)
		build_cu_index(f, dw);
	Dwarf_Addr a = addr - *bias;
	size_t lo = 0, hi = f->ncus;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->cus[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Ranges rarely overlap; look back a little past a range that ends too early. */
	for (size_t i = lo; i-- > 0 && lo - i <= 16;) {
		if (a < f->cus[i].hi)
			return dwarf_offdie(dw, f->cus[i].die, mem);
	}
	return NULL;
}

/* The line table's file:line for `pc` (a DWARF address) in `cu`. */
static void line_at(struct hp_symbolizer *s, Dwarf_Die *cu, Dwarf_Addr pc, struct hp_frame *fr)
{
	Dwarf_Line *line = cu ? dwarf_getsrc_die(cu, pc) : NULL;
	const char *src = line ? dwarf_linesrc(line, NULL, NULL) : NULL;
	int lineno = 0, col = 0;

	fr->file = src ? intern(s, src) : NULL;
	fr->line = src && dwarf_lineno(line, &lineno) == 0 && lineno > 0 ? (unsigned)lineno : 0;
	fr->column = fr->line && dwarf_linecol(line, &col) == 0 && col > 0 ? (unsigned)col : 0;
}

/* The DWARF frames at `pc` in `cu`, innermost first: the innermost gets the line table's
 * file:line, each caller the call site recorded in the inlined scope below it. */
static int dwarf_frames(struct hp_symbolizer *s, Dwarf_Die *cu, Dwarf_Addr pc, struct hp_frame *out,
			int max)
{
	Dwarf_Die *scopes = NULL, *chain = NULL;
	int n = 0, nscopes = dwarf_getscopes(cu, pc, &scopes);
	/* dwarf_getscopes continues into an inlined function's abstract definition; the
	 * physical nesting (who inlined whom) comes from the innermost scope's parents. */
	int nchain = nscopes > 0 ? dwarf_getscopes_die(&scopes[0], &chain) : 0;
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	if (nchain > 0)
		dwarf_getsrcfiles(cu, &files, &nfiles);

	const char *call_file = NULL;
	unsigned call_line = 0, call_column = 0;
	for (int i = 0; i < nchain && n < max; i++) {
		Dwarf_Die *die = &chain[i];
		if (!is_function_scope(die))
			continue;
		struct hp_frame *fr = &out[n];
		memset(fr, 0, sizeof *fr);
		set_function(s, fr, die_function_name(die));
		fr->inlined = dwarf_tag(die) == DW_TAG_inlined_subroutine;
		if (n == 0) {
			line_at(s, cu, pc, fr);
		} else {
			fr->file = call_file;
			fr->line = call_line;
			fr->column = call_column;
		}
		n++;
		if (!fr->inlined)
			break;
		Dwarf_Attribute attr;
		Dwarf_Word v;
		const char *src = NULL;
		call_line = call_column = 0;
		if (files && dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &v) == 0 &&
		    v < nfiles)
			src = dwarf_filesrc(files, v, NULL, NULL);
		call_file = src ? intern(s, src) : NULL;
		if (call_file && dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &v) == 0)
			call_line = (unsigned)v;
		if (call_line &&
		    dwarf_formudata(dwarf_attr(die, DW_AT_call_column, &attr), &v) == 0)
			call_column = (unsigned)v;
	}
	free(scopes);
	free(chain);
	return n;
}

static int lookup(struct hp_symbolizer *s, struct file *f, uint64_t addr, struct hp_frame *out,
		  int max)
{
	Dwarf_Die mem;
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = cu_at(f, addr, &mem, &bias);
	int n = cu ? dwarf_frames(s, cu, addr - bias, out, max) : 0;
	if (n > 0 && out[n - 1].function)
		return n;
	const char *elfname = hp_symtab_lookup(&f->syms, f->mod, addr);
	if (n > 0) {
		/* The outermost DWARF function had no name: the symbol table's is the same code. */
		set_function(s, &out[n - 1], elfname);
		return n;
	}
	memset(&out[0], 0, sizeof out[0]);
	line_at(s, cu, addr - bias, &out[0]);
	if (!elfname && !out[0].file)
		return 0;
	set_function(s, &out[0], elfname);
	return 1;
}

static struct cache_slot *cache_slot(struct file *f, uint64_t addr)
{
	size_t i = hash64(addr) & (f->cache_cap - 1);
	for (; f->cache[i].used; i = (i + 1) & (f->cache_cap - 1)) {
		if (f->cache[i].addr == addr)
			break;
	}
	return &f->cache[i];
}

static int cache_grow(struct file *f)
{
	size_t cap = f->cache_cap ? f->cache_cap * 2 : 256;
	struct cache_slot *old = f->cache;
	size_t old_cap = f->cache_cap;

	f->cache = calloc(cap, sizeof(*f->cache));
	if (!f->cache) {
		f->cache = old;
		return -ENOMEM;
	}
	f->cache_cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].used)
			*cache_slot(f, old[i].addr) = old[i];
	}
	free(old);
	return 0;
}

/* Returns the cache entry for `addr`, symbolizing it on first sight; NULL when out of memory. */
static struct cache_slot *cached_lookup(struct hp_symbolizer *s, struct file *f, uint64_t addr)
{
	if (f->cache_len * 2 >= f->cache_cap && cache_grow(f) != 0)
		return NULL;
	struct cache_slot *slot = cache_slot(f, addr);
	if (slot->used)
		return slot;

	struct hp_frame tmp[MAX_INLINE_DEPTH];
	int n = lookup(s, f, addr, tmp, MAX_INLINE_DEPTH);
	if (s->frames_len + (size_t)n > s->frames_cap) {
		size_t cap = s->frames_cap ? s->frames_cap * 2 : 1024;
		struct hp_frame *frames =
		    cap <= UINT32_MAX ? realloc(s->frames, cap * sizeof(*frames)) : NULL;
		if (!frames)
			return NULL;
		s->frames = frames;
		s->frames_cap = cap;
	}
	if (n > 0)
		memcpy(s->frames + s->frames_len, tmp, (size_t)n * sizeof(*tmp));
	slot->addr = addr;
	slot->first = (uint32_t)s->frames_len;
	slot->count = (uint16_t)n;
	slot->used = 1;
	s->frames_len += (size_t)n;
	f->cache_len++;
	return slot;
}

/* ---- public ---- */

struct hp_symbolizer *hp_symbolizer_new(void (*warn)(void *ctx, const char *msg), void *ctx)
{
	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOSYS;
		return NULL;
	}
	struct hp_symbolizer *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->warn = warn;
	s->warn_ctx = ctx;
	s->debuginfo_path = hp_debuginfo_path_new();
	if (!s->debuginfo_path) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	hp_open_callbacks(&s->callbacks, &s->debuginfo_path);
	return s;
}

int hp_symbolizer_add_module(struct hp_symbolizer *s, uint64_t module_id, const char *path,
			     const uint8_t *build_id, size_t build_id_len, uint64_t bias)
{
	if (!path)
		path = "";
	if (!build_id)
		build_id_len = 0;
	if (s->modules_len * 2 >= s->modules_cap && modules_grow(s) != 0)
		return -ENOMEM;
	struct module_slot *slot = module_slot(s, module_id);
	if (slot->file) {
		warnf(s, "module id %llu is registered twice (%s, then %s); keeping the first",
		      (unsigned long long)module_id, slot->file->id.path, path);
		return -EEXIST;
	}
	struct file *f = file_get(s, path, build_id, build_id_len);
	if (!f)
		return -ENOMEM;
	slot->id = module_id;
	slot->file = f;
	s->modules_len++;
	return 0;
}

int hp_symbolize(struct hp_symbolizer *s, uint64_t module_id, uint64_t vaddr, int is_return_address,
		 struct hp_frame *out, int max)
{
	struct module_slot *slot = module_slot(s, module_id);
	if (!slot || !slot->file)
		return 0;
	struct file *f = slot->file;
	if (f->state == FILE_UNOPENED)
		file_open(s, f);
	if (f->state != FILE_OK)
		return 0;

	uint64_t addr = is_return_address && vaddr ? vaddr - 1 : vaddr;
	struct cache_slot *c = cached_lookup(s, f, addr);
	if (!c || max <= 0)
		return 0;
	int n = c->count < max ? c->count : max;
	if (n > 0)
		memcpy(out, s->frames + c->first, (size_t)n * sizeof(*out));
	return n;
}

void hp_symbolizer_set_opener(struct hp_symbolizer *s, struct hp_symbol_opener *o)
{
	s->opener = o;
}

void hp_symbolizer_free(struct hp_symbolizer *s)
{
	if (!s)
		return;
	for (struct file *f = s->files, *next; f; f = next) {
		next = f->next;
		if (f->dwfl)
			dwfl_end(f->dwfl);
		free(f->cache);
		hp_symtab_release(&f->syms);
		free(f->cus);
		hp_file_id_release(&f->id);
		free(f);
	}
	for (size_t i = 0; i < s->strings_cap; i++)
		free(s->strings[i]);
	free(s->strings);
	free(s->modules);
	free(s->frames);
	free(s->debuginfo_path);
	free(s);
}
