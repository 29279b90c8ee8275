/* A thread whose first allocation happens inside a libc function that holds one of
 * libc's locks while it allocates (first_alloc_*.expect). Under a recorder that calls
 * back into such a function on a thread's first event, the program deadlocks, as every
 * Rust program and the JVM once did inside pthread_getattr_np.
 *
 *   first_alloc MODE [THREADS]
 *
 * MODE names the libc call: getattr (pthread_getattr_np: the thread's own lock; on the
 * main thread it also reads /proc/self/maps through stdio), fopen, dlopen, getaddrinfo,
 * backtrace, or qsort_signal (qsort, which allocates its scratch buffer, called in a
 * SIGUSR1 handler running on an alternate signal stack). With THREADS (default 2) the
 * call is each new thread's first, and, for getattr, the main thread's too.
 *
 * Then every one of those threads makes the same known allocations in
 * after_first(): 100 blocks of 4000 + i bytes, 90 of them freed. Per thread:
 *   allocations 100, frees 90, allocated 100 x 4000 + 4950 = 404,950 bytes,
 *   leaked 10 blocks (i = 90..99): 40,000 + 945 = 40,945 bytes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#define BLOCKS 100
#define FREED 90

static const char *mode;
static void *kept[64][BLOCKS - FREED];

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static __thread volatile sig_atomic_t handled; /* the handler runs on the thread that raised */

static void on_usr1(int sig)
{
	(void)sig;
	/* 64 KiB of ints: glibc's qsort takes a malloc'd scratch buffer this size. */
	static __thread int v[16384];
	for (int i = 0; i < 16384; i++)
		v[i] = (i * 7919) % 16384;
	qsort(v, 16384, sizeof v[0], cmp_int);
	handled = v[0] == 0 && v[16383] == 16383;
}

/* The thread's first allocation happens in here, inside the libc call. */
static int first_libc_call(void)
{
	if (strcmp(mode, "getattr") == 0) {
		pthread_attr_t attr;
		if (pthread_getattr_np(pthread_self(), &attr))
			return -1;
		void *addr;
		size_t size;
		int err = pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
		return err || !size ? -1 : 0;
	}
	if (strcmp(mode, "fopen") == 0) {
		FILE *f = fopen("/proc/self/status", "r");
		if (!f)
			return -1;
		char line[256];
		int ok = fgets(line, sizeof line, f) != NULL;
		fclose(f);
		return ok ? 0 : -1;
	}
	if (strcmp(mode, "dlopen") == 0) {
		void *h = dlopen("libdl.so.2", RTLD_NOW | RTLD_LOCAL);
		return h && dlclose(h) == 0 ? 0 : -1;
	}
	if (strcmp(mode, "getaddrinfo") == 0) {
		struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
		struct addrinfo *res = NULL;
		if (getaddrinfo("localhost", "80", &hints, &res) || !res)
			return -1;
		freeaddrinfo(res);
		return 0;
	}
	if (strcmp(mode, "backtrace") == 0) {
		void *frames[16];
		return backtrace(frames, 16) > 0 ? 0 : -1;
	}
	if (strcmp(mode, "qsort_signal") == 0) {
		stack_t ss = {.ss_size = 1 << 16};
		ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_ONSTACK};
		sigemptyset(&sa.sa_mask);
		if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL) ||
		    sigaction(SIGUSR1, &sa, NULL))
			return -1;
		handled = 0;
		pthread_kill(pthread_self(), SIGUSR1);
		stack_t off = {.ss_flags = SS_DISABLE};
		sigaltstack(&off, NULL);
		munmap(ss.ss_sp, 1 << 16);
		return handled ? 0 : -1;
	}
	return -1;
}

static void after_first(void **keep)
{
	void *b[BLOCKS];
	for (int i = 0; i < BLOCKS; i++)
		b[i] = malloc(4000 + (size_t)i);
	for (int i = 0; i < FREED; i++)
		free(b[i]);
	memcpy(keep, b + FREED, sizeof(void *) * (BLOCKS - FREED));
}

static void *thread_main(void *arg)
{
	if (first_libc_call())
		return (void *)1;
	after_first(arg);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: first_alloc MODE [THREADS]\n");
		return 2;
	}
	mode = argv[1];
	int threads = argc > 2 ? atoi(argv[2]) : 2;
	if (threads < 0 || threads > 63)
		return 2;
	int main_too = strcmp(mode, "getattr") == 0;
	if (main_too && (first_libc_call() != 0))
		return 1;
	pthread_t th[64];
	for (int i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, thread_main, kept[i]))
			return 1;
	int failed = 0;
	for (int i = 0; i < threads; i++) {
		void *r;
		pthread_join(th[i], &r);
		failed |= r != NULL;
	}
	if (main_too)
		after_first(kept[threads]);
	if (failed)
		return 1;
	printf("ok %s\n", mode);
	return 0;
}
