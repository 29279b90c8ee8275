/* The real functions behind the interposed ones, resolved with dlsym(RTLD_NEXT), and
 * the static bootstrap buffer that serves allocations made while dlsym runs. */
#ifndef HP_REAL_H
#define HP_REAL_H

#include <pthread.h>
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
};

extern struct hp_real hp_real;

/* Resolves every libc function once; a no-op afterwards and while it runs (calls made
 * by dlsym itself find NULL pointers and use the bootstrap buffer). Thread-safe. */
void hp_real_init(void);

/* dlsym(RTLD_NEXT, name), for the C++ operators resolved on first use. */
void *hp_real_sym(const char *name);

/* Bootstrap allocation: never freed, zeroed, align a power of two <= 4096.
 * NULL when the buffer is exhausted (ENOMEM). Thread-safe, lock-free. */
void *hp_bootstrap_alloc(size_t align, size_t size);

/* 1 when p lies in the bootstrap buffer. */
int hp_bootstrap_owns(const void *p);

/* Requested size of a bootstrap block. */
size_t hp_bootstrap_size(const void *p);

#endif
