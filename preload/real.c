/* dlsym(RTLD_NEXT) resolution and the bootstrap buffer; see real.h. */
#define _GNU_SOURCE
#include "real.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "os.h"

struct hp_real hp_real;

/* dlsym allocates a few hundred bytes at most (dlerror state); 64 KiB is ample. */
#define BOOTSTRAP_SIZE (64u << 10)
#define BOOTSTRAP_HDR 16u

static alignas(4096) unsigned char bootstrap[BOOTSTRAP_SIZE];
static atomic_size_t bootstrap_used;
static atomic_int resolve_state; /* 0 not started, 1 running, 2 done */

/* RTLD_NEXT when preloaded; RTLD_DEFAULT when loaded into a running process (attach.c),
 * where the objects after us are our own dependencies, and the program's allocator is
 * the global binding. */
static void *scope = RTLD_NEXT;

void hp_real_use_global_scope(void)
{
	scope = RTLD_DEFAULT;
	/* A call forwarded before (gdb's) resolved them in the other scope: again. */
	atomic_store(&resolve_state, 0);
}

void *hp_real_sym(const char *name)
{
	return dlsym(scope, name);
}

static const char *const cxx_names[HP_CXX_OPS] = {
    [HP_ZNWM] = "_Znwm",
    [HP_ZNAM] = "_Znam",
    [HP_ZNWM_NOTHROW] = "_ZnwmRKSt9nothrow_t",
    [HP_ZNAM_NOTHROW] = "_ZnamRKSt9nothrow_t",
    [HP_ZNWM_ALIGN] = "_ZnwmSt11align_val_t",
    [HP_ZNAM_ALIGN] = "_ZnamSt11align_val_t",
    [HP_ZNWM_ALIGN_NOTHROW] = "_ZnwmSt11align_val_tRKSt9nothrow_t",
    [HP_ZNAM_ALIGN_NOTHROW] = "_ZnamSt11align_val_tRKSt9nothrow_t",
    [HP_ZDLPV] = "_ZdlPv",
    [HP_ZDAPV] = "_ZdaPv",
    [HP_ZDLPVM] = "_ZdlPvm",
    [HP_ZDAPVM] = "_ZdaPvm",
    [HP_ZDLPV_NOTHROW] = "_ZdlPvRKSt9nothrow_t",
    [HP_ZDAPV_NOTHROW] = "_ZdaPvRKSt9nothrow_t",
    [HP_ZDLPV_ALIGN] = "_ZdlPvSt11align_val_t",
    [HP_ZDAPV_ALIGN] = "_ZdaPvSt11align_val_t",
    [HP_ZDLPVM_ALIGN] = "_ZdlPvmSt11align_val_t",
    [HP_ZDAPVM_ALIGN] = "_ZdaPvmSt11align_val_t",
    [HP_ZDLPV_ALIGN_NOTHROW] = "_ZdlPvSt11align_val_tRKSt9nothrow_t",
    [HP_ZDAPV_ALIGN_NOTHROW] = "_ZdaPvSt11align_val_tRKSt9nothrow_t",
};
_Static_assert(HP_CXX_OPS == sizeof(hp_real.cxx) / sizeof(hp_real.cxx[0]), "one slot an operator");

int hp_real_resolve_late(void)
{
	int missing = 0;
	for (int i = 0; i < HP_CXX_OPS; i++) {
		if (hp_real_cxx((enum hp_cxx_op)i))
			continue;
		void *f = dlsym(scope, cxx_names[i]);
		if (f)
			atomic_store_explicit(&hp_real.cxx[i], f, memory_order_release);
		else
			missing = 1;
	}
	return missing;
}

#define RESOLVE(field, name) (*(void **)&hp_real.field = dlsym(scope, name))

void hp_real_init(void)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&resolve_state, &expected, 1))
		return;
	/* malloc and free first: dlsym's own allocations then mostly need only them. */
	RESOLVE(malloc, "malloc");
	RESOLVE(free, "free");
	RESOLVE(calloc, "calloc");
	RESOLVE(realloc, "realloc");
	RESOLVE(reallocarray, "reallocarray");
	RESOLVE(posix_memalign, "posix_memalign");
	RESOLVE(aligned_alloc, "aligned_alloc");
	RESOLVE(memalign, "memalign");
	RESOLVE(valloc, "valloc");
	RESOLVE(pvalloc, "pvalloc");
	RESOLVE(malloc_usable_size, "malloc_usable_size");
	RESOLVE(dlopen, "dlopen");
	RESOLVE(dlclose, "dlclose");
	RESOLVE(execve, "execve");
	RESOLVE(execv, "execv");
	RESOLVE(execvp, "execvp");
	RESOLVE(execvpe, "execvpe");
	RESOLVE(fexecve, "fexecve");
	RESOLVE(execveat, "execveat");
	RESOLVE(exit_, "_exit");
	RESOLVE(Exit_, "_Exit");
	RESOLVE(fork, "fork");
	RESOLVE(pthread_setname_np, "pthread_setname_np");
	RESOLVE(setuid, "setuid");
	RESOLVE(setgid, "setgid");
	RESOLVE(seteuid, "seteuid");
	RESOLVE(setegid, "setegid");
	RESOLVE(setreuid, "setreuid");
	RESOLVE(setregid, "setregid");
	RESOLVE(setresuid, "setresuid");
	RESOLVE(setresgid, "setresgid");
	RESOLVE(setgroups, "setgroups");
	RESOLVE(initgroups, "initgroups");
	RESOLVE(dup2, "dup2");
	RESOLVE(dup3, "dup3");
	hp_real_resolve_late();
	atomic_store(&resolve_state, 2);
}

void *hp_bootstrap_alloc(size_t align, size_t size)
{
	if (align < BOOTSTRAP_HDR)
		align = BOOTSTRAP_HDR;
	if (align > 4096 || size > BOOTSTRAP_SIZE) {
		errno = ENOMEM;
		return NULL;
	}
	size_t need = (size + BOOTSTRAP_HDR + align + 15) & ~(size_t)15;
	size_t old = atomic_fetch_add(&bootstrap_used, need);
	if (old + need > BOOTSTRAP_SIZE) {
		errno = ENOMEM;
		return NULL;
	}
	uintptr_t base = (uintptr_t)bootstrap + old + BOOTSTRAP_HDR;
	uintptr_t p = (base + align - 1) & ~(uintptr_t)(align - 1);
	memcpy((void *)(p - sizeof(size_t)), &size, sizeof(size));
	return (void *)p;
}

int hp_bootstrap_owns(const void *p)
{
	return (const unsigned char *)p >= bootstrap &&
	       (const unsigned char *)p < bootstrap + BOOTSTRAP_SIZE;
}

size_t hp_bootstrap_size(const void *p)
{
	size_t size;
	memcpy(&size, (const unsigned char *)p - sizeof(size_t), sizeof(size));
	return size;
}
