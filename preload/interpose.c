/* The exported entry points: each is the real call plus an hp_rec_* or hp_lifecycle_*
 * call. Nothing else lives here. Compiled with -fno-builtin (the compiler must not
 * turn these into calls to themselves) and -fexceptions (a throwing operator new
 * unwinds through us and must clear the busy flag on the way). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "deepbind.h"
#include "fdguard.h"
#include "lifecycle.h"
#include "os.h"
#include "real.h"
#include "recorder.h"

#define EXPORT __attribute__((visibility("default")))

/* Resolves the real functions on the first call; NULL while dlsym itself runs. */
#define REAL(fn) (HP_LIKELY(hp_real.fn != NULL) ? hp_real.fn : (hp_real_init(), hp_real.fn))

#define INLINE static inline __attribute__((always_inline))

/* The real C++ operator op (NULL while none is loaded: new_fallback serves); the first
 * interposed call of the process resolves everything first. Never dlsym here: operator
 * new may be called with any lock held. */
INLINE void *cxx_op(enum hp_cxx_op op)
{
	void *f = hp_real_cxx(op);
	if (HP_UNLIKELY(!f) && !hp_real.malloc) {
		hp_real_init();
		f = hp_real_cxx(op);
	}
	return f;
}

/* The recorded call shared by the allocating entry points (real resolved already). */
INLINE void *alloc_sized(void *(*real)(size_t), size_t size)
{
	if (!hp_rec_enter_leaf())
		return real(size);
	void *p = real(size);
	hp_rec_alloc(p, size);
	return p;
}

INLINE void *alloc_aligned(void *(*real)(size_t, size_t), size_t align, size_t size)
{
	if (!hp_rec_enter_leaf())
		return real(align, size);
	void *p = real(align, size);
	hp_rec_alloc(p, size);
	return p;
}

EXPORT void *malloc(size_t size)
{
	if (HP_UNLIKELY(!REAL(malloc)))
		return hp_bootstrap_alloc(16, size);
	return alloc_sized(hp_real.malloc, size);
}

EXPORT void free(void *p)
{
	if (!p || HP_UNLIKELY(hp_bootstrap_owns(p)))
		return;
	if (!hp_rec_enter_leaf()) {
		REAL(free)(p);
		return;
	}
	hp_rec_free(p);
	hp_real.free(p);
	hp_rec_leave();
}

EXPORT void *calloc(size_t n, size_t size)
{
	if (HP_UNLIKELY(!REAL(calloc))) {
		size_t total;
		if (__builtin_mul_overflow(n, size, &total)) {
			errno = ENOMEM;
			return NULL;
		}
		return hp_bootstrap_alloc(16, total);
	}
	if (!hp_rec_enter_leaf())
		return hp_real.calloc(n, size);
	void *p = hp_real.calloc(n, size);
	hp_rec_alloc(p, n * size);
	return p;
}

/* realloc of a bootstrap block: copy it into p, a new block of size bytes. */
static void *bootstrap_copy(void *p, const void *old, size_t size)
{
	if (p) {
		size_t n = hp_bootstrap_size(old);
		memcpy(p, old, n < size ? n : size);
	}
	return p;
}

EXPORT void *realloc(void *old, size_t size)
{
	if (HP_UNLIKELY(!REAL(realloc))) {
		void *p = hp_bootstrap_alloc(16, size);
		return old ? bootstrap_copy(p, old, size) : p;
	}
	if (HP_UNLIKELY(old && hp_bootstrap_owns(old)))
		return bootstrap_copy(malloc(size), old, size); /* into a real, recorded block */
	if (!hp_rec_enter_leaf())
		return hp_real.realloc(old, size);
	hp_rec_realloc_begin(old);
	void *p = hp_real.realloc(old, size);
	hp_rec_realloc(old, p, size);
	return p;
}

EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	size_t total;
	if (HP_UNLIKELY(!REAL(reallocarray) || (old && hp_bootstrap_owns(old)))) {
		if (__builtin_mul_overflow(n, size, &total)) {
			errno = ENOMEM;
			return NULL;
		}
		return realloc(old, total);
	}
	if (!hp_rec_enter_leaf())
		return hp_real.reallocarray(old, n, size);
	hp_rec_realloc_begin(old);
	void *p = hp_real.reallocarray(old, n, size);
	hp_rec_realloc(old, p, __builtin_mul_overflow(n, size, &total) ? SIZE_MAX : total);
	return p;
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	if (HP_UNLIKELY(!REAL(posix_memalign))) {
		if (align % sizeof(void *) || (align & (align - 1)) || !align)
			return EINVAL;
		*out = hp_bootstrap_alloc(align, size);
		return *out ? 0 : ENOMEM;
	}
	if (!hp_rec_enter_leaf())
		return hp_real.posix_memalign(out, align, size);
	int err = hp_real.posix_memalign(out, align, size);
	hp_rec_alloc(err ? NULL : *out, size);
	return err;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (HP_UNLIKELY(!REAL(aligned_alloc)))
		return hp_bootstrap_alloc(align, size);
	return alloc_aligned(hp_real.aligned_alloc, align, size);
}

EXPORT void *memalign(size_t align, size_t size)
{
	if (HP_UNLIKELY(!REAL(memalign)))
		return hp_bootstrap_alloc(align, size);
	return alloc_aligned(hp_real.memalign, align, size);
}

EXPORT void *valloc(size_t size)
{
	if (HP_UNLIKELY(!REAL(valloc)))
		return hp_bootstrap_alloc(4096, size);
	return alloc_sized(hp_real.valloc, size);
}

EXPORT void *pvalloc(size_t size)
{
	if (HP_UNLIKELY(!REAL(pvalloc)))
		return hp_bootstrap_alloc(4096, (size + 4095) & ~(size_t)4095);
	return alloc_sized(hp_real.pvalloc, size);
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (p && HP_UNLIKELY(hp_bootstrap_owns(p)))
		return hp_bootstrap_size(p);
	return REAL(malloc_usable_size) ? hp_real.malloc_usable_size(p) : 0;
}

/* C++ operators, resolved on first use (libstdc++ may be loaded later, or never). Each
 * is recorded here once; the malloc libstdc++ calls inside runs hidden. */

static void scope_end(int *own)
{
	if (*own)
		hp_rec_leave();
}
#define SCOPE __attribute__((cleanup(scope_end))) int

static HP_COLD void *new_fallback(size_t align, size_t size, int nothrow)
{
	void *p = NULL;
	if (REAL(aligned_alloc) && align > 16)
		p = hp_real.aligned_alloc(align, (size + align - 1) & ~(align - 1));
	else if (REAL(malloc))
		p = hp_real.malloc(size ? size : 1);
	if (!p && !nothrow) {
		hp_os_say("out of memory in operator new", NULL, NULL);
		abort();
	}
	return p;
}

/* params names size (and align for the aligned forms); args forwards them. */
#define DEFINE_NEW(sym, op, params, args, align, nothrow)                                          \
	EXPORT void *sym params                                                                    \
	{                                                                                          \
		SCOPE own = hp_rec_enter();                                                        \
		void *(*real_)params;                                                              \
		*(void **)&real_ = cxx_op(op);                                                     \
		void *p = real_ ? real_ args : new_fallback(align, size, nothrow);                 \
		if (own) {                                                                         \
			own = 0;                                                                   \
			hp_rec_alloc(p, size);                                                     \
		}                                                                                  \
		return p;                                                                          \
	}

/* Deletes never throw. extra carries the size/alignment/nothrow arguments. */
#define DEFINE_DELETE(sym, op, params, args)                                                       \
	EXPORT void sym params                                                                     \
	{                                                                                          \
		if (!p || HP_UNLIKELY(hp_bootstrap_owns(p)))                                       \
			return;                                                                    \
		int own = hp_rec_enter();                                                          \
		if (own)                                                                           \
			hp_rec_free(p);                                                            \
		void(*real_) params;                                                               \
		*(void **)&real_ = cxx_op(op);                                                     \
		if (real_)                                                                         \
			real_ args;                                                                \
		else if (REAL(free))                                                               \
			hp_real.free(p);                                                           \
		if (own)                                                                           \
			hp_rec_leave();                                                            \
	}

DEFINE_NEW(_Znwm, HP_ZNWM, (size_t size), (size), 0, 0)
DEFINE_NEW(_Znam, HP_ZNAM, (size_t size), (size), 0, 0)
DEFINE_NEW(_ZnwmRKSt9nothrow_t, HP_ZNWM_NOTHROW, (size_t size, const void *tag), (size, tag), 0, 1)
DEFINE_NEW(_ZnamRKSt9nothrow_t, HP_ZNAM_NOTHROW, (size_t size, const void *tag), (size, tag), 0, 1)
DEFINE_NEW(_ZnwmSt11align_val_t, HP_ZNWM_ALIGN, (size_t size, size_t align), (size, align), align,
	   0)
DEFINE_NEW(_ZnamSt11align_val_t, HP_ZNAM_ALIGN, (size_t size, size_t align), (size, align), align,
	   0)
DEFINE_NEW(_ZnwmSt11align_val_tRKSt9nothrow_t, HP_ZNWM_ALIGN_NOTHROW,
	   (size_t size, size_t align, const void *tag), (size, align, tag), align, 1)
DEFINE_NEW(_ZnamSt11align_val_tRKSt9nothrow_t, HP_ZNAM_ALIGN_NOTHROW,
	   (size_t size, size_t align, const void *tag), (size, align, tag), align, 1)

DEFINE_DELETE(_ZdlPv, HP_ZDLPV, (void *p), (p))
DEFINE_DELETE(_ZdaPv, HP_ZDAPV, (void *p), (p))
DEFINE_DELETE(_ZdlPvm, HP_ZDLPVM, (void *p, size_t n), (p, n))
DEFINE_DELETE(_ZdaPvm, HP_ZDAPVM, (void *p, size_t n), (p, n))
DEFINE_DELETE(_ZdlPvRKSt9nothrow_t, HP_ZDLPV_NOTHROW, (void *p, const void *t), (p, t))
DEFINE_DELETE(_ZdaPvRKSt9nothrow_t, HP_ZDAPV_NOTHROW, (void *p, const void *t), (p, t))
DEFINE_DELETE(_ZdlPvSt11align_val_t, HP_ZDLPV_ALIGN, (void *p, size_t a), (p, a))
DEFINE_DELETE(_ZdaPvSt11align_val_t, HP_ZDAPV_ALIGN, (void *p, size_t a), (p, a))
DEFINE_DELETE(_ZdlPvmSt11align_val_t, HP_ZDLPVM_ALIGN, (void *p, size_t n, size_t a), (p, n, a))
DEFINE_DELETE(_ZdaPvmSt11align_val_t, HP_ZDAPVM_ALIGN, (void *p, size_t n, size_t a), (p, n, a))
DEFINE_DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t, HP_ZDLPV_ALIGN_NOTHROW,
	      (void *p, size_t a, const void *t), (p, a, t))
DEFINE_DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t, HP_ZDAPV_ALIGN_NOTHROW,
	      (void *p, size_t a, const void *t), (p, a, t))

/* Loader. dlopen resolves a bare name against the *caller's* RUNPATH/$ORIGIN, so
 * for a name without '/' we must be invisible: a sibling call (jmp) keeps the
 * caller's return address, and the writer's per-round check of the loader's
 * counters picks the module up before any stack that uses it is written. */
/* RTLD_DEEPBIND puts libc before us in the object's own scope, so its malloc and free
 * would bypass the recorder. Rare: a plain call (the caller's RUNPATH is searched by
 * hp_deepbind_path, as the loader would for the caller), then the object's allocator
 * GOT slots are pointed back at the global binding. */
static HP_COLD void *dlopen_deepbind(const char *file, int flags, const void *caller)
{
	static const struct hp_deepbind_fn fns[] = {
#define FN(sym) {#sym, (void *)sym}
	    FN(malloc),
	    FN(free),
	    FN(calloc),
	    FN(realloc),
	    FN(reallocarray),
	    FN(posix_memalign),
	    FN(aligned_alloc),
	    FN(memalign),
	    FN(valloc),
	    FN(pvalloc),
	    FN(malloc_usable_size),
	    FN(_Znwm),
	    FN(_Znam),
	    FN(_ZnwmRKSt9nothrow_t),
	    FN(_ZnamRKSt9nothrow_t),
	    FN(_ZnwmSt11align_val_t),
	    FN(_ZnamSt11align_val_t),
	    FN(_ZnwmSt11align_val_tRKSt9nothrow_t),
	    FN(_ZnamSt11align_val_tRKSt9nothrow_t),
	    FN(_ZdlPv),
	    FN(_ZdaPv),
	    FN(_ZdlPvm),
	    FN(_ZdaPvm),
	    FN(_ZdlPvRKSt9nothrow_t),
	    FN(_ZdaPvRKSt9nothrow_t),
	    FN(_ZdlPvSt11align_val_t),
	    FN(_ZdaPvSt11align_val_t),
	    FN(_ZdlPvmSt11align_val_t),
	    FN(_ZdaPvmSt11align_val_t),
	    FN(_ZdlPvSt11align_val_tRKSt9nothrow_t),
	    FN(_ZdaPvSt11align_val_tRKSt9nothrow_t),
#undef FN
	};
	if (atomic_load(&hp_state) == HP_STATE_OFF)
		return REAL(dlopen)(file, flags);
	hp_guard_hide();
	void *h = NULL;
	if (file && !strchr(file, '/')) {
		/* Loaded already (by name or soname): the loader would return it, whoever asks. */
		h = REAL(dlopen)(file, flags | RTLD_NOLOAD);
		if (!h)
			(void)dlerror();
	}
	if (!h) {
		char path[PATH_MAX];
		unsigned long long before = hp_deepbind_adds();
		h = REAL(dlopen)(hp_deepbind_path(file, caller, path, sizeof(path)), flags);
		if (h)
			hp_deepbind_patch(h, before, fns, sizeof(fns) / sizeof(fns[0]));
	}
	hp_guard_unhide();
	hp_lifecycle_modules_changed();
	return h;
}

EXPORT void *dlopen(const char *file, int flags)
{
	if (HP_UNLIKELY(flags & RTLD_DEEPBIND))
		return dlopen_deepbind(file, flags, __builtin_return_address(0));
	if (!file || !strchr(file, '/'))
		return REAL(dlopen)(file, flags);
	void *h = REAL(dlopen)(file, flags);
	hp_lifecycle_modules_changed();
	return h;
}

EXPORT int dlclose(void *handle)
{
	int r = REAL(dlclose)(handle);
	if (r == 0)
		hp_lifecycle_code_unloaded();
	hp_lifecycle_modules_changed();
	return r;
}

/* exec: flush everything and write EXEC + END first; a failed exec records on. */
EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	hp_lifecycle_exec(path);
	return REAL(execve)(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	hp_lifecycle_exec(path);
	return REAL(execv)(path, argv);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	hp_lifecycle_exec(file);
	return REAL(execvp)(file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	hp_lifecycle_exec(file);
	return REAL(execvpe)(file, argv, envp);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	char path[32] = "/proc/self/fd/";
	*hp_os_utoa(path + strlen(path), (uint64_t)(fd < 0 ? 0 : fd)) = '\0';
	hp_lifecycle_exec(path);
	return REAL(fexecve)(fd, argv, envp);
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	hp_lifecycle_exec(path);
	return REAL(execveat)(dirfd, path, argv, envp, flags);
}

/* execl*: glibc's versions call its internal execve, so they are rebuilt here. */
#define COLLECT_ARGS(first, ap, argv, n)                                                           \
	do {                                                                                       \
		va_start(ap, first);                                                               \
		for (n = 1; va_arg(ap, const char *); n++)                                         \
			;                                                                          \
		va_end(ap);                                                                        \
	} while (0)

#define FILL_ARGS(first, ap, argv, n)                                                              \
	do {                                                                                       \
		va_start(ap, first);                                                               \
		argv[0] = (char *)first;                                                           \
		for (size_t i_ = 1; i_ <= n; i_++)                                                 \
			argv[i_] = va_arg(ap, char *);                                             \
	} while (0)

EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;
	COLLECT_ARGS(arg, ap, argv, n);
	char *argv[n + 1];
	FILL_ARGS(arg, ap, argv, n);
	va_end(ap);
	return execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	size_t n;
	COLLECT_ARGS(arg, ap, argv, n);
	char *argv[n + 1];
	FILL_ARGS(arg, ap, argv, n);
	va_end(ap);
	return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;
	COLLECT_ARGS(arg, ap, argv, n);
	char *argv[n + 1];
	FILL_ARGS(arg, ap, argv, n);
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

EXPORT pid_t fork(void)
{
	pid_t pid = REAL(fork)();
	if (pid > 0)
		hp_lifecycle_forked(pid);
	return pid;
}

EXPORT void _exit(int status)
{
	hp_lifecycle_exit(status);
	if (REAL(exit_))
		hp_real.exit_(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

EXPORT void _Exit(int status)
{
	hp_lifecycle_exit(status);
	if (REAL(Exit_))
		hp_real.Exit_(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

/* set*id: glibc has every thread repeat the call, the writer too, which lacks the
 * capabilities the caller may have set up for itself (capset, PR_SET_KEEPCAPS): its
 * call fails and glibc aborts the process. So the writer thread is stopped around it.
 * initgroups calls libc's internal setgroups. */
#define DEFINE_SETXID(sym, params, args)                                                           \
	EXPORT int sym params                                                                      \
	{                                                                                          \
		if (!REAL(sym)) {                                                                  \
			errno = ENOSYS;                                                            \
			return -1;                                                                 \
		}                                                                                  \
		int token = hp_lifecycle_setxid_begin();                                           \
		int ret_ = hp_real.sym args;                                                       \
		hp_lifecycle_setxid_end(token);                                                    \
		return ret_;                                                                       \
	}

DEFINE_SETXID(setuid, (uid_t u), (u))
DEFINE_SETXID(setgid, (gid_t g), (g))
DEFINE_SETXID(seteuid, (uid_t u), (u))
DEFINE_SETXID(setegid, (gid_t g), (g))
DEFINE_SETXID(setreuid, (uid_t r, uid_t e), (r, e))
DEFINE_SETXID(setregid, (gid_t r, gid_t e), (r, e))
DEFINE_SETXID(setresuid, (uid_t r, uid_t e, uid_t s), (r, e, s))
DEFINE_SETXID(setresgid, (gid_t r, gid_t e, gid_t s), (r, e, s))
DEFINE_SETXID(setgroups, (size_t n, const gid_t *list), (n, list))
DEFINE_SETXID(initgroups, (const char *user, gid_t group), (user, group))

/* dup2/dup3 onto the trace's descriptor: ours moves to another number first, and the
 * program gets the number it asked for. */
EXPORT int dup2(int oldfd, int newfd)
{
	if (!REAL(dup2))
		return (int)syscall(SYS_dup3, oldfd, newfd, 0); /* never reached in practice */
	int spare = oldfd != newfd ? hp_fdguard_claim(newfd) : -1;
	int r = hp_real.dup2(oldfd, newfd);
	hp_fdguard_claimed(spare, r >= 0);
	return r;
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (!REAL(dup3))
		return (int)syscall(SYS_dup3, oldfd, newfd, flags);
	int spare = oldfd != newfd ? hp_fdguard_claim(newfd) : -1;
	int r = hp_real.dup3(oldfd, newfd, flags);
	hp_fdguard_claimed(spare, r >= 0);
	return r;
}

EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
	int r = REAL(pthread_setname_np) ? hp_real.pthread_setname_np(th, name) : ENOSYS;
	if (r == 0 && atomic_load(&hp_state) >= HP_STATE_RECORDING)
		hp_rec_thread_name(th, name);
	return r;
}
