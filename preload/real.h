/* The real functions behind the interposed ones, resolved with dlsym(RTLD_NEXT), and
 * the static bootstrap buffer that serves allocations made while dlsym runs.
 *
 * Everything is resolved by the first interposed call of the process (dlsym takes the
 * loader's lock, which is recursive, once, normally in our constructor). The C++
 * operators live in libstdc++, which may be loaded later: those still missing are
 * looked up again by the writer thread after the loaded modules change, never by an
 * application thread inside operator new (docs/preload-safety.md). */
#ifndef HP_REAL_H
#define HP_REAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

struct hp_real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*reallocarray)(void *, size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	void *(*dlopen)(const char *, int);
	int (*dlclose)(void *);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execv)(const char *, char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	void (*exit_)(int); /* _exit */
	void (*Exit_)(int); /* _Exit */
	pid_t (*fork)(void);
	int (*pthread_setname_np)(pthread_t, const char *);
	int (*setuid)(uid_t);
	int (*setgid)(gid_t);
	int (*seteuid)(uid_t);
	int (*setegid)(gid_t);
	int (*setreuid)(uid_t, uid_t);
	int (*setregid)(gid_t, gid_t);
	int (*setresuid)(uid_t, uid_t, uid_t);
	int (*setresgid)(gid_t, gid_t, gid_t);
	int (*setgroups)(size_t, const gid_t *);
	int (*initgroups)(const char *, gid_t);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	/* The C++ operators by enum hp_cxx_op; NULL until libstdc++ (or whoever defines
	 * them after us) is loaded. Read with hp_real_cxx(). */
	void *_Atomic cxx[20];
};

/* The C++ operators: new, new[] (plain, nothrow, aligned, aligned nothrow), then
 * delete, delete[] (plain, sized, nothrow, aligned, sized aligned, aligned nothrow). */
enum hp_cxx_op {
	HP_ZNWM,
	HP_ZNAM,
	HP_ZNWM_NOTHROW,
	HP_ZNAM_NOTHROW,
	HP_ZNWM_ALIGN,
	HP_ZNAM_ALIGN,
	HP_ZNWM_ALIGN_NOTHROW,
	HP_ZNAM_ALIGN_NOTHROW,
	HP_ZDLPV,
	HP_ZDAPV,
	HP_ZDLPVM,
	HP_ZDAPVM,
	HP_ZDLPV_NOTHROW,
	HP_ZDAPV_NOTHROW,
	HP_ZDLPV_ALIGN,
	HP_ZDAPV_ALIGN,
	HP_ZDLPVM_ALIGN,
	HP_ZDAPVM_ALIGN,
	HP_ZDLPV_ALIGN_NOTHROW,
	HP_ZDAPV_ALIGN_NOTHROW,
	HP_CXX_OPS
};

extern struct hp_real hp_real;

/* Resolves every libc function once; a no-op afterwards and while it runs (calls made
 * by dlsym itself find NULL pointers and use the bootstrap buffer). Thread-safe. */
void hp_real_init(void);

/* dlsym(RTLD_NEXT, name): only where the caller is the loader's already (the
 * RTLD_DEEPBIND patching inside dlopen). RTLD_DEFAULT after hp_real_use_global_scope. */
void *hp_real_sym(const char *name);

/* Before hp_real_init, when the library was loaded into a running process rather than
 * preloaded (attach.c): the real functions are the program's global bindings. */
void hp_real_use_global_scope(void);

/* The real C++ operator op, or NULL while none is loaded. Lock-free. */
static inline void *hp_real_cxx(enum hp_cxx_op op)
{
	return atomic_load_explicit(&hp_real.cxx[op], memory_order_acquire);
}

/* Looks up the C++ operators still missing (the writer thread, after modules changed).
 * Returns 1 when some are still missing. */
int hp_real_resolve_late(void);

/* Bootstrap allocation: never freed, zeroed, align a power of two <= 4096.
 * NULL when the buffer is exhausted (ENOMEM). Thread-safe, lock-free. */
void *hp_bootstrap_alloc(size_t align, size_t size);

/* 1 when p lies in the bootstrap buffer. */
int hp_bootstrap_owns(const void *p);

/* Requested size of a bootstrap block. */
size_t hp_bootstrap_size(const void *p);

#endif
