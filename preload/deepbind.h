/* Objects dlopen()ed with RTLD_DEEPBIND look symbols up in their own scope first, where
 * libc comes before the preload: their malloc and free bypass the recorder. This module
 * points those objects' GOT slots for the allocator names back at the global binding
 * (ours), and resolves a bare library name against the caller's RUNPATH, which the
 * (non-tail) call from our dlopen would otherwise lose. */
#ifndef HP_DEEPBIND_H
#define HP_DEEPBIND_H

#include <stddef.h>

struct hp_deepbind_fn {
	const char *name;
	void *fn; /* the global binding, our entry point when preloaded */
};

/* The loader's count of objects ever loaded (dl_iterate_phdr's dlpi_adds). */
unsigned long long hp_deepbind_adds(void);

/* For a bare name (no '/'): the first "<dir>/<file>" that exists for the DT_RUNPATH
 * (or DT_RPATH) directories of the object holding caller, $ORIGIN expanded, written
 * into buf; else file itself. Entries with other $ tokens are skipped. */
const char *hp_deepbind_path(const char *file, const void *caller, char *buf, size_t cap);

/* After a successful dlopen(handle) with RTLD_DEEPBIND, when the loader's adds count
 * went from adds_before up: rewrites the JUMP_SLOT and GLOB_DAT relocations against
 * the names in fns, of the object and the objects loaded with it (never libc, ld.so
 * or us), whose slot holds what we forward to (the next definition after us), or is
 * still lazily unresolved and would bind there. RELRO pages are made writable for the
 * write and read-only again. The caller must hide its allocations; dlerror() is left
 * clear. */
void hp_deepbind_patch(void *handle, unsigned long long adds_before,
		       const struct hp_deepbind_fn *fns, size_t n);

/* The GOT slots a patching rewrote, to be put back (attach.c's detach). mmap'd memory. */
struct hp_got_entry {
	void **slot;
	void *old, *new_;
};
struct hp_got_log {
	struct hp_got_entry *v;
	size_t n, cap;
};

/* For a library loaded into a running process (attach.c), after hp_real_use_global_scope:
 * patches every loaded object, the main program included (never libc, ld.so or us), as
 * hp_deepbind_patch does the new ones, so that the slots bound to the program's
 * allocator (hp_real_sym) point at fns' entry points; each write is logged. Slots that
 * hold fns' entry points already are left alone: called again, it patches only what
 * was loaded since. Returns 0, or -ENOMEM when the log cannot grow (that slot stays as
 * it was). Not thread-safe: the caller serializes calls; allocations must be hidden. */
int hp_deepbind_patch_all(const struct hp_deepbind_fn *fns, size_t n, struct hp_got_log *log);

/* Puts back, newest first, every logged slot that still holds what was written there and
 * whose object is still loaded; then empties the log. */
void hp_deepbind_restore(struct hp_got_log *log);

#endif
