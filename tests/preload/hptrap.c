/* libhptrap.so: preloaded before libheapprof.so, it aborts the program when the recorder
 * (or libunwind on its behalf) calls a libc function outside the allowed list of
 * docs/preload-safety.md while an allocator call of the application is in progress.
 *
 *   LD_PRELOAD=libhptrap.so:libheapprof.so PROGRAM...
 *
 * Its malloc family forwards to the next definition (libheapprof.so's) and counts the
 * calls in progress on the thread; the functions below are the ones heapprof or
 * libunwind import that take a lock of libc's (stdio, the environment, the loader, the
 * locale, a thread's own lock, the fork and exit handler lists), allocate, or are
 * thread cancellation points. Called inside an allocator call, each says which and
 * aborts; otherwise it forwards. Two exceptions, both in the allowed list: libunwind's
 * own reads of unwind information (dl_iterate_phdr, whose lock is recursive, and file
 * I/O for .debug_frame), and heapprof's first call, before it records (dlsym, whose
 * lock is recursive, and getenv), which may come from inside malloc when a library's
 * constructor allocates before heapprof's runs.
 *
 * Calls libc makes internally never come here (they do not go through the PLT), so
 * what is caught is exactly what the profiler's code asks of libc. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <locale.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static __thread int in_entry; /* allocator calls of this thread in progress */
static uintptr_t unwinder_lo, unwinder_hi;
static int (*is_recording)(void);

/* ---- the report ---- */

static void say(const char *a, const char *b)
{
	char line[256];
	size_t n = 0;
	for (const char *p = a; *p && n < sizeof line - 2; p++)
		line[n++] = *p;
	for (const char *p = b; *p && n < sizeof line - 2; p++)
		line[n++] = *p;
	line[n++] = '\n';
	syscall(SYS_write, 2, line, n);
}

enum allowance {
	NEVER,	  /* never inside an allocator call */
	UNWINDER, /* only libunwind's own (reading unwind information) */
	STARTING, /* only before heapprof records: its first call resolves the real functions */
};

static void check(const char *name, const void *caller, enum allowance allow)
{
	if (!in_entry)
		return;
	if (allow == UNWINDER && (uintptr_t)caller - unwinder_lo < unwinder_hi - unwinder_lo)
		return;
	if (allow == STARTING && (!is_recording || !is_recording()))
		return;
	if (allow == UNWINDER && (!is_recording || !is_recording()))
		return; /* heapprof's first call: its own key */
	char hex[19] = "0x";
	for (int i = 0; i < 16; i++)
		hex[2 + i] = "0123456789abcdef"[((uintptr_t)caller >> (60 - 4 * i)) & 15];
	hex[18] = '\0';
	say("hptrap: inside an allocator call, the profiler called ", name);
	say("hptrap: caller ", hex);
	abort();
}

/* ---- resolution ---- */

/* dlsym allocates (its error state): while it resolves malloc & co., a static buffer. */
static _Alignas(16) unsigned char boot[1 << 16];
static _Atomic size_t boot_used;
static __thread int resolving; /* this thread is in dlsym for us: its allocations come from boot */

static void *boot_alloc(size_t size)
{
	size_t n = (size + 15) & ~(size_t)15;
	size_t at = atomic_fetch_add(&boot_used, n);
	return at + n > sizeof boot ? NULL : boot + at;
}

static int boot_owns(const void *p)
{
	return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof boot;
}

/* libc's dlsym, found without calling dlsym (ours traps). */
__attribute__((used)) static void *(*real_dlsym)(void *, const char *);

static void *next(const char *name)
{
	resolving++;
	if (!real_dlsym)
		*(void **)&real_dlsym = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
	if (!real_dlsym)
		*(void **)&real_dlsym = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
	void *f = real_dlsym ? real_dlsym(RTLD_NEXT, name) : NULL;
	resolving--;
	if (!f) {
		say("hptrap: cannot resolve ", name);
		abort();
	}
	return f;
}

/* The next definition of name, looked up once; var caches it. */
#define NEXT(var, name) (var ? var : (*(void **)&var = next(name), var))
#define RESOLVE(var, name) ((void)NEXT(var, name))

/* ---- the allocator calls ---- */

static void *(*next_malloc)(size_t);
static void (*next_free)(void *);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);

EXPORT void *malloc(size_t size)
{
	if (resolving)
		return boot_alloc(size);
	RESOLVE(next_malloc, "malloc");
	in_entry++;
	void *p = next_malloc(size);
	in_entry--;
	return p;
}

EXPORT void free(void *p)
{
	if (!p || boot_owns(p) || resolving)
		return; /* dlsym's own frees while it resolves ours are leaked: a few bytes */
	RESOLVE(next_free, "free");
	in_entry++;
	next_free(p);
	in_entry--;
}

EXPORT void *calloc(size_t n, size_t size)
{
	if (resolving)
		return boot_alloc(n * size); /* zeroed: static */
	RESOLVE(next_calloc, "calloc");
	in_entry++;
	void *p = next_calloc(n, size);
	in_entry--;
	return p;
}

EXPORT void *realloc(void *old, size_t size)
{
	if (resolving)
		return boot_alloc(size);
	if (old && boot_owns(old)) {
		void *p = malloc(size);
		if (p)
			memcpy(p, old, size < 64 ? size : 64); /* dlerror's strings only */
		return p;
	}
	RESOLVE(next_realloc, "realloc");
	in_entry++;
	void *p = next_realloc(old, size);
	in_entry--;
	return p;
}

/* The rest of the family, forwarded the same way. */
#define ENTRY(ret, name, params, args)                                                             \
	EXPORT ret name params                                                                     \
	{                                                                                          \
		static ret(*next_) params;                                                         \
		RESOLVE(next_, #name);                                                             \
		in_entry++;                                                                        \
		ret r_ = next_ args;                                                               \
		in_entry--;                                                                        \
		return r_;                                                                         \
	}
#define ENTRY_VOID(name, params, args)                                                             \
	EXPORT void name params                                                                    \
	{                                                                                          \
		static void(*next_) params;                                                        \
		RESOLVE(next_, #name);                                                             \
		in_entry++;                                                                        \
		next_ args;                                                                        \
		in_entry--;                                                                        \
	}

ENTRY(void *, reallocarray, (void *p, size_t n, size_t s), (p, n, s))
ENTRY(int, posix_memalign, (void **out, size_t a, size_t s), (out, a, s))
ENTRY(void *, aligned_alloc, (size_t a, size_t s), (a, s))
ENTRY(void *, memalign, (size_t a, size_t s), (a, s))
ENTRY(void *, valloc, (size_t s), (s))
ENTRY(void *, pvalloc, (size_t s), (s))
ENTRY(void *, _Znwm, (size_t s), (s))
ENTRY(void *, _Znam, (size_t s), (s))
ENTRY_VOID(_ZdlPv, (void *p), (p))
ENTRY_VOID(_ZdaPv, (void *p), (p))
ENTRY_VOID(_ZdlPvm, (void *p, size_t n), (p, n))
ENTRY_VOID(_ZdaPvm, (void *p, size_t n), (p, n))

/* ---- the trapped functions ---- */

#define TRAP(allow, ret, name, params, args)                                                       \
	EXPORT ret name params                                                                     \
	{                                                                                          \
		static ret(*next_) params;                                                         \
		check(#name, __builtin_return_address(0), allow);                                  \
		return NEXT(next_, #name) args;                                                    \
	}
#define TRAP_VOID(allow, name, params, args)                                                       \
	EXPORT void name params                                                                    \
	{                                                                                          \
		static void(*next_) params;                                                        \
		check(#name, __builtin_return_address(0), allow);                                  \
		NEXT(next_, #name) args;                                                           \
	}

/* A thread's own lock (and stdio for the main thread): the Rust/JVM deadlock. */
TRAP(NEVER, int, pthread_getattr_np, (pthread_t t, pthread_attr_t *a), (t, a))
TRAP(NEVER, int, pthread_attr_getstack, (const pthread_attr_t *a, void **p, size_t *s), (a, p, s))
/* Threads, fork and exit handler lists, keys. */
TRAP(NEVER, int, pthread_create,
     (pthread_t * t, const pthread_attr_t *a, void *(*f)(void *), void *x), (t, a, f, x))
TRAP(NEVER, int, pthread_join, (pthread_t t, void **r), (t, r))
/* libunwind creates the key of unw_backtrace's per-thread cache on its first use; glibc
 * takes no lock for it. heapprof creates its own in its first call. */
TRAP(UNWINDER, int, pthread_key_create, (pthread_key_t * k, void (*d)(void *)), (k, d))
TRAP(NEVER, int, __register_atfork, (void (*p)(void), void (*a)(void), void (*c)(void), void *d),
     (p, a, c, d))
TRAP(NEVER, int, on_exit, (void (*f)(int, void *), void *a), (f, a))
TRAP(NEVER, int, atexit, (void (*f)(void)), (f))
TRAP(NEVER, int, __cxa_atexit, (void (*f)(void *), void *a, void *d), (f, a, d))
/* stdio. */
TRAP(NEVER, FILE *, fopen, (const char *p, const char *m), (p, m))
TRAP(NEVER, FILE *, fopen64, (const char *p, const char *m), (p, m))
TRAP(NEVER, FILE *, fdopen, (int fd, const char *m), (fd, m))
TRAP(NEVER, int, fclose, (FILE * f), (f))
TRAP(NEVER, int, fflush, (FILE * f), (f))
TRAP(NEVER, char *, fgets, (char *s, int n, FILE *f), (s, n, f))
TRAP(NEVER, size_t, fread, (void *p, size_t s, size_t n, FILE *f), (p, s, n, f))
TRAP(NEVER, size_t, fwrite, (const void *p, size_t s, size_t n, FILE *f), (p, s, n, f))
TRAP(NEVER, int, fputs, (const char *s, FILE *f), (s, f))
TRAP(NEVER, int, vfprintf, (FILE * f, const char *fmt, va_list ap), (f, fmt, ap))
TRAP(NEVER, int, vsnprintf, (char *s, size_t n, const char *fmt, va_list ap), (s, n, fmt, ap))
TRAP(NEVER, int, vsprintf, (char *s, const char *fmt, va_list ap), (s, fmt, ap))
/* The environment (setenv's lock), the locale and its messages, the time zone. */
/* getenv takes no lock but races with setenv: read once, by heapprof's first call. */
TRAP(STARTING, char *, getenv, (const char *n), (n))
TRAP(STARTING, char *, secure_getenv, (const char *n), (n))
TRAP(NEVER, int, setenv, (const char *n, const char *v, int o), (n, v, o))
TRAP(NEVER, int, unsetenv, (const char *n), (n))
TRAP(NEVER, int, putenv, (char *s), (s))
TRAP(NEVER, char *, strerror, (int e), (e))
TRAP(NEVER, char *, setlocale, (int c, const char *l), (c, l))
TRAP_VOID(NEVER, tzset, (void), ())
/* The loader. */
/* dlsym(RTLD_NEXT) looks up from its caller's module: the real one must see heapprof's
 * return address, so ours checks and then jumps to it, the arguments untouched. */
__attribute__((used, visibility("hidden"))) void hptrap_dlsym_check(const void *caller)
{
	check("dlsym", caller, STARTING);
	if (!real_dlsym)
		next("malloc"); /* resolves real_dlsym */
}

#if defined(__x86_64__)
EXPORT __attribute__((naked)) void *dlsym(void *handle __attribute__((unused)),
					  const char *symbol __attribute__((unused)))
{
	__asm__("push %rdi\n\t"
		"push %rsi\n\t"
		"sub $8, %rsp\n\t"
		"mov 24(%rsp), %rdi\n\t"
		"call hptrap_dlsym_check\n\t"
		"add $8, %rsp\n\t"
		"pop %rsi\n\t"
		"pop %rdi\n\t"
		"jmp *real_dlsym(%rip)\n\t");
}
#endif

TRAP(NEVER, void *, dlopen, (const char *f, int m), (f, m))
TRAP(NEVER, int, dlclose, (void *h), (h))
TRAP(NEVER, char *, dlerror, (void), ())
TRAP(NEVER, int, dladdr, (const void *a, Dl_info *i), (a, i))
TRAP(NEVER, int, dladdr1, (const void *a, Dl_info *i, void **x, int f), (a, i, x, f))
TRAP(NEVER, int, dlinfo, (void *h, int r, void *a), (h, r, a))
TRAP(UNWINDER, int, dl_iterate_phdr, (int (*cb)(struct dl_phdr_info *, size_t, void *), void *d),
     (cb, d))
/* Allocating, NSS, sorting, syslog: none is the recorder's business. */
TRAP(NEVER, char *, realpath, (const char *p, char *r), (p, r))
TRAP(NEVER, int, getaddrinfo,
     (const char *n, const char *s, const struct addrinfo *h, struct addrinfo **r), (n, s, h, r))
TRAP_VOID(NEVER, qsort, (void *b, size_t n, size_t s, int (*c)(const void *, const void *)),
	  (b, n, s, c))
TRAP_VOID(NEVER, vsyslog, (int p, const char *fmt, va_list ap), (p, fmt, ap))
TRAP(NEVER, DIR *, opendir, (const char *p), (p))
/* Cancellation points (and file I/O): libunwind's own reads of unwind information only. */
TRAP(UNWINDER, ssize_t, read, (int fd, void *b, size_t n), (fd, b, n))
TRAP(UNWINDER, ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))
TRAP(UNWINDER, ssize_t, pread, (int fd, void *b, size_t n, off_t o), (fd, b, n, o))
TRAP(UNWINDER, ssize_t, pread64, (int fd, void *b, size_t n, off_t o), (fd, b, n, o))
TRAP(UNWINDER, int, close, (int fd), (fd))
TRAP(UNWINDER, int, pipe2, (int fds[2], int f), (fds, f))
TRAP(UNWINDER, int, nanosleep, (const struct timespec *r, struct timespec *m), (r, m))
TRAP(UNWINDER, int, clock_nanosleep,
     (clockid_t c, int f, const struct timespec *r, struct timespec *m), (c, f, r, m))
TRAP(UNWINDER, int, usleep, (useconds_t u), (u))
TRAP(UNWINDER, unsigned, sleep, (unsigned s), (s))
TRAP(UNWINDER, long, sysconf, (int n), (n))

/* The variadic ones. */
#define TRAP_OPEN(name)                                                                            \
	EXPORT int name(const char *path, int flags, ...)                                          \
	{                                                                                          \
		static int (*next_)(const char *, int, ...);                                       \
		check(#name, __builtin_return_address(0), UNWINDER);                               \
		unsigned mode = 0;                                                                 \
		if (flags & (O_CREAT | __O_TMPFILE)) {                                             \
			va_list ap;                                                                \
			va_start(ap, flags);                                                       \
			mode = va_arg(ap, unsigned);                                               \
			va_end(ap);                                                                \
		}                                                                                  \
		return NEXT(next_, #name)(path, flags, mode);                                      \
	}
TRAP_OPEN(open)
TRAP_OPEN(open64)

EXPORT int openat(int dir, const char *path, int flags, ...)
{
	static int (*next_)(int, const char *, int, ...);
	check("openat", __builtin_return_address(0), UNWINDER);
	unsigned mode = 0;
	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, unsigned);
		va_end(ap);
	}
	return NEXT(next_, "openat")(dir, path, flags, mode);
}

#define TRAP_PRINTF(name, params, vcall)                                                           \
	EXPORT int name params                                                                     \
	{                                                                                          \
		check(#name, __builtin_return_address(0), NEVER);                                  \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		int r_ = vcall;                                                                    \
		va_end(ap);                                                                        \
		return r_;                                                                         \
	}
TRAP_PRINTF(printf, (const char *fmt, ...), vfprintf(stdout, fmt, ap))
TRAP_PRINTF(fprintf, (FILE * f, const char *fmt, ...), vfprintf(f, fmt, ap))
TRAP_PRINTF(snprintf, (char *s, size_t n, const char *fmt, ...), vsnprintf(s, n, fmt, ap))
TRAP_PRINTF(sprintf, (char *s, const char *fmt, ...), vsprintf(s, fmt, ap))

EXPORT void syslog(int pri, const char *fmt, ...)
{
	check("syslog", __builtin_return_address(0), NEVER);
	va_list ap;
	va_start(ap, fmt);
	vsyslog(pri, fmt, ap);
	va_end(ap);
}

/* ---- start ---- */

static int find_unwinder(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	if (!strstr(info->dlpi_name, "libunwind"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			unwinder_lo = info->dlpi_addr + ph->p_vaddr;
			unwinder_hi = unwinder_lo + ph->p_memsz;
		}
	}
	return 1;
}

__attribute__((constructor)) static void hptrap_init(void)
{
	dl_iterate_phdr(find_unwinder, NULL);
	next("malloc"); /* resolves real_dlsym */
	*(void **)&is_recording = real_dlsym(RTLD_DEFAULT, "heapprof_is_recording");
	if (!unwinder_hi || !is_recording)
		say("hptrap: ",
		    "libheapprof.so (and its libunwind) must be preloaded after libhptrap.so");
}
