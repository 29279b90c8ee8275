/* RTLD_DEEPBIND objects bound to the global allocator; see deepbind.h.
 *
 * Rare path (one walk of each new object's relocations per DEEPBIND dlopen): dladdr,
 * dlsym and mprotect are fine here. Constructors run inside the dlopen, before the
 * patch: their allocations go to libc unrecorded (a later free of such a block is a
 * free of an unknown address to the analyzer). */
#define _GNU_SOURCE
#include "deepbind.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "os.h"
#include "real.h"

#if defined(__x86_64__)
#define R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define R_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define R_GLOB_DAT R_AARCH64_GLOB_DAT
#endif

#define MAX_FNS 64

static int adds_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(unsigned long long *)arg = info->dlpi_adds;
	return 1;
}

unsigned long long hp_deepbind_adds(void)
{
	unsigned long long adds = 0;
	dl_iterate_phdr(adds_cb, &adds);
	return adds;
}

/* What the dynamic section of lm says, addresses made absolute. */
struct dyn {
	const ElfW(Sym) * symtab;
	const char *strtab;
	const ElfW(Rela) * rela, *jmprel;
	size_t relasz, pltrelsz;
	int jmprel_rela;
	ElfW(Addr) runpath, rpath; /* string table offsets, or ~0 */
};

/* glibc relocates the pointers in l_ld in place where the section is writable; an
 * address below the load base is still an offset. */
static uintptr_t absolute(const struct link_map *lm, ElfW(Addr) p)
{
	return p < lm->l_addr ? lm->l_addr + p : p;
}

static int read_dyn(const struct link_map *lm, struct dyn *d)
{
	memset(d, 0, sizeof(*d));
	d->runpath = d->rpath = ~(ElfW(Addr))0;
	if (!lm->l_ld)
		return -1;
	for (const ElfW(Dyn) *e = lm->l_ld; e->d_tag != DT_NULL; e++) {
		switch (e->d_tag) {
		case DT_SYMTAB:
			d->symtab = (const void *)absolute(lm, e->d_un.d_ptr);
			break;
		case DT_STRTAB:
			d->strtab = (const void *)absolute(lm, e->d_un.d_ptr);
			break;
		case DT_RELA:
			d->rela = (const void *)absolute(lm, e->d_un.d_ptr);
			break;
		case DT_RELASZ:
			d->relasz = e->d_un.d_val;
			break;
		case DT_JMPREL:
			d->jmprel = (const void *)absolute(lm, e->d_un.d_ptr);
			break;
		case DT_PLTRELSZ:
			d->pltrelsz = e->d_un.d_val;
			break;
		case DT_PLTREL:
			d->jmprel_rela = e->d_un.d_val == DT_RELA;
			break;
		case DT_RUNPATH:
			d->runpath = e->d_un.d_val;
			break;
		case DT_RPATH:
			d->rpath = e->d_un.d_val;
			break;
		}
	}
	return d->strtab ? 0 : -1;
}

const char *hp_deepbind_path(const char *file, const void *caller, char *buf, size_t cap)
{
	Dl_info info;
	struct link_map *lm = NULL;
	struct dyn d;
	if (!file || strchr(file, '/') || !dladdr1(caller, &info, (void **)&lm, RTLD_DL_LINKMAP) ||
	    !lm || read_dyn(lm, &d))
		return file;
	ElfW(Addr) off = d.runpath != ~(ElfW(Addr))0 ? d.runpath : d.rpath;
	if (off == ~(ElfW(Addr))0)
		return file;
	char origin[PATH_MAX];
	size_t ol;
	if (lm->l_name && lm->l_name[0]) {
		ol = strnlen(lm->l_name, sizeof(origin) - 1);
		memcpy(origin, lm->l_name, ol);
	} else {
		ssize_t r = readlink("/proc/self/exe", origin, sizeof(origin) - 1);
		ol = r > 0 ? (size_t)r : 0;
	}
	while (ol > 0 && origin[ol - 1] != '/')
		ol--;
	if (ol > 1)
		ol--; /* drop the slash, keep "/" for the root */
	size_t fl = strlen(file);
	for (const char *p = d.strtab + off; *p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		size_t n = 0;
		int ok = ol > 0;
		for (size_t i = 0; ok && i < len;) {
			const char *s = p + i;
			size_t tok = !strncmp(s, "${ORIGIN}", 9) ? 9 : 0;
			if (!tok && !strncmp(s, "$ORIGIN", 7) && (i + 7 == len || s[7] == '/'))
				tok = 7;
			if (tok) {
				ok = n + ol < cap;
				if (ok)
					memcpy(buf + n, origin, ol);
				n += ol;
				i += tok;
			} else if (*s == '$') {
				ok = 0; /* $LIB, $PLATFORM: left to the loader's own search */
			} else {
				ok = n + 1 < cap;
				if (ok)
					buf[n++] = *s;
				i++;
			}
		}
		if (ok && n > 0 && n + 1 + fl < cap) {
			buf[n] = '/';
			memcpy(buf + n + 1, file, fl + 1);
			if (access(buf, F_OK) == 0)
				return buf;
		}
		p += len + (end != NULL);
	}
	return file;
}

/* The writable range and the RELRO range of the object at lm. */
struct ranges {
	const struct link_map *lm;
	uintptr_t rw_lo[8], rw_hi[8];
	int nrw;
	uintptr_t relro_lo, relro_hi;
	int found;
};

static int ranges_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct ranges *r = arg;
	if (info->dlpi_addr != r->lm->l_addr || !info->dlpi_name || !r->lm->l_name ||
	    strcmp(info->dlpi_name, r->lm->l_name))
		return 0;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && r->nrw < 8) {
			r->rw_lo[r->nrw] = lo;
			r->rw_hi[r->nrw++] = hi;
		} else if (ph->p_type == PT_GNU_RELRO) {
			r->relro_lo = lo & ~(page - 1); /* as glibc's _dl_protect_relro */
			r->relro_hi = hi & ~(page - 1);
		}
	}
	r->found = 1;
	return 1;
}

/* Room for one more entry in log; 0 or -ENOMEM. */
static int log_room(struct hp_got_log *log)
{
	if (log->n < log->cap)
		return 0;
	size_t cap = log->cap ? 2 * log->cap : 256;
	struct hp_got_entry *v = hp_os_map(cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	if (log->v) {
		memcpy(v, log->v, log->n * sizeof *v);
		hp_os_unmap(log->v, log->cap * sizeof *v);
	}
	log->v = v;
	log->cap = cap;
	return 0;
}

/* Writes fn into slot, a pointer of r's object, logging the old value in log (unless
 * NULL). 1 when written, 0 when the slot is not in a writable segment, -ENOMEM when the
 * log cannot grow (nothing written). */
static int write_slot(void **slot, void *fn, const struct ranges *r, struct hp_got_log *log)
{
	uintptr_t a = (uintptr_t)slot;
	int writable = 0;
	for (int i = 0; i < r->nrw; i++)
		writable |= a >= r->rw_lo[i] && a + sizeof(void *) <= r->rw_hi[i];
	if (!writable)
		return 0;
	if (log && log_room(log))
		return -ENOMEM;
	void *old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (a >= r->relro_lo && a < r->relro_hi) {
		uintptr_t psz = (uintptr_t)sysconf(_SC_PAGESIZE);
		void *page = (void *)(a & ~(psz - 1));
		if (mprotect(page, psz, PROT_READ | PROT_WRITE))
			return 0;
		__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
		mprotect(page, psz, PROT_READ);
	} else {
		__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	}
	if (log)
		log->v[log->n++] = (struct hp_got_entry){slot, old, fn};
	return 1;
}

static int never_patch(const struct link_map *lm, const struct link_map *self,
		       const struct link_map *libc)
{
	if (lm == self || lm == libc || !lm->l_name || !lm->l_name[0])
		return 1;
	const char *base = strrchr(lm->l_name, '/');
	base = base ? base + 1 : lm->l_name;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "ld-linux", 8) ||
	       !strncmp(base, "ld64.so", 7);
}

static const struct link_map *module_of(const void *addr)
{
	Dl_info info;
	struct link_map *lm = NULL;
	return dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP) ? lm : NULL;
}

/* What our entry point for fns[i] forwards to (cached per call); NULL if nothing. */
static void *next_of(const struct hp_deepbind_fn *fns, size_t i, void **cache, char *done)
{
	if (!done[i]) {
		done[i] = 1;
		cache[i] = hp_real_sym(fns[i].name);
		if (!cache[i])
			(void)dlerror(); /* the program's dlopen succeeded: no error to show */
	}
	return cache[i];
}

static int patch_rela(void *handle, const struct link_map *lm, const struct dyn *d,
		      const ElfW(Rela) * rel, size_t size, const struct ranges *r,
		      const struct hp_deepbind_fn *fns, size_t n, void **cache, char *done,
		      struct hp_got_log *log)
{
	if (!rel || !d->symtab)
		return 0;
	for (size_t k = 0; k < size / sizeof(*rel); k++) {
		unsigned type = (unsigned)ELF64_R_TYPE(rel[k].r_info);
		size_t si = ELF64_R_SYM(rel[k].r_info);
		if ((type != R_JUMP_SLOT && type != R_GLOB_DAT) || si == 0 ||
		    d->symtab[si].st_shndx != SHN_UNDEF)
			continue; /* the object's own definition stays its own */
		const char *name = d->strtab + d->symtab[si].st_name;
		size_t i;
		for (i = 0; i < n && strcmp(fns[i].name, name); i++)
			;
		if (i == n)
			continue;
		void **slot = (void **)(lm->l_addr + rel[k].r_offset);
		void *cur = *slot, *next;
		if (cur == fns[i].fn || !(next = next_of(fns, i, cache, done)))
			continue;
		if (cur != next) {
			/* Lazy and unresolved yet (it points into the object's own PLT): patch
			 * only when it would bind where we forward to. */
			if (type != R_JUMP_SLOT || module_of(cur) != lm)
				continue;
			void *would = dlsym(handle, name);
			if (!would)
				(void)dlerror();
			if (would != next)
				continue;
		}
		if (write_slot(slot, fns[i].fn, r, log) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Patches one object's JUMP_SLOT and GLOB_DAT relocations. 0 or -ENOMEM. */
static int patch_object(void *handle, const struct link_map *lm, const struct hp_deepbind_fn *fns,
			size_t n, void **cache, char *done, struct hp_got_log *log)
{
	struct dyn d;
	if (read_dyn(lm, &d))
		return 0;
	struct ranges r = {.lm = lm};
	dl_iterate_phdr(ranges_cb, &r);
	if (!r.found)
		return 0;
	int err = patch_rela(handle, lm, &d, d.jmprel_rela ? d.jmprel : NULL, d.pltrelsz, &r, fns,
			     n, cache, done, log);
	return err ? err
		   : patch_rela(handle, lm, &d, d.rela, d.relasz, &r, fns, n, cache, done, log);
}

void hp_deepbind_patch(void *handle, unsigned long long adds_before,
		       const struct hp_deepbind_fn *fns, size_t n)
{
#if defined(R_JUMP_SLOT)
	struct link_map *lm = NULL;
	unsigned long long adds = hp_deepbind_adds();
	if (adds <= adds_before || n > MAX_FNS || dlinfo(handle, RTLD_DI_LINKMAP, &lm) || !lm)
		return; /* nothing new: bound before, without DEEPBIND or already patched */
	void *cache[MAX_FNS];
	char done[MAX_FNS] = {0};
	const struct link_map *self = module_of((const void *)hp_deepbind_patch);
	const struct link_map *libc = module_of((const void *)getpid);
	for (unsigned long long k = adds - adds_before; lm && k > 0; lm = lm->l_next, k--)
		if (!never_patch(lm, self, libc))
			patch_object(handle, lm, fns, n, cache, done, NULL);
#else
	(void)handle;
	(void)adds_before;
	(void)fns;
	(void)n;
#endif
}

int hp_deepbind_patch_all(const struct hp_deepbind_fn *fns, size_t n, struct hp_got_log *log)
{
#if defined(R_JUMP_SLOT)
	struct link_map *lm = NULL;
	void *main = dlopen(NULL, RTLD_LAZY | RTLD_NOLOAD);
	if (n > MAX_FNS || !main || dlinfo(main, RTLD_DI_LINKMAP, &lm) || !lm) {
		(void)dlerror();
		return 0;
	}
	void *cache[MAX_FNS];
	char done[MAX_FNS] = {0};
	const struct link_map *self = module_of((const void *)hp_deepbind_patch_all);
	const struct link_map *libc = module_of((const void *)getpid);
	/* The first map is the program's own, with an empty name: patched too. */
	for (; lm; lm = lm->l_next) {
		if (lm == self || lm == libc || (lm->l_prev && never_patch(lm, self, libc)))
			continue;
		int err = patch_object(RTLD_DEFAULT, lm, fns, n, cache, done, log);
		if (err)
			return err;
	}
	return 0;
#else
	(void)fns;
	(void)n;
	(void)log;
	return 0;
#endif
}

void hp_deepbind_restore(struct hp_got_log *log)
{
	for (size_t i = log->n; i-- > 0;) {
		const struct hp_got_entry *e = &log->v[i];
		const struct link_map *lm = module_of(e->slot);
		if (!lm || __atomic_load_n(e->slot, __ATOMIC_ACQUIRE) != e->new_)
			continue; /* unloaded, or rewritten since (by the loader or the program) */
		struct ranges r = {.lm = lm};
		dl_iterate_phdr(ranges_cb, &r);
		if (r.found)
			write_slot(e->slot, e->old, &r, NULL);
	}
	if (log->v)
		hp_os_unmap(log->v, log->cap * sizeof *log->v);
	*log = (struct hp_got_log){0};
}
