/* rt_torture: small programs run under libheapprof.so by tests/real/run_case.py.
 *
 * One executable, one mode per behaviour: `rt_torture MODE [ARGS]`. Every block the
 * program itself allocates has a "marked" size (MARK_BASE + 16 * k, k < MARK_KINDS) that
 * libc never requests, so the driver can find exactly these allocations in
 * `heapprof-analyze --dump` and compare them with the counters printed here.
 * Output is deterministic except for lines starting with `pid`, which the driver parses. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <heapprof/heapprof.h>

#define MARK_BASE 2000
#define MARK_KINDS 8

extern char **environ;

static atomic_ulong n_alloc, n_free;
static const char *self_path;

static size_t mark_size(unsigned long i)
{
	return MARK_BASE + 16 * (i % MARK_KINDS);
}

static void *__attribute__((noinline)) mark_alloc(unsigned long i)
{
	char *p = malloc(mark_size(i));
	if (!p) {
		fprintf(stderr, "rt_torture: out of memory\n");
		exit(99);
	}
	p[0] = (char)i;
	atomic_fetch_add(&n_alloc, 1);
	return p;
}

static void __attribute__((noinline)) mark_free(void *p)
{
	if (!p)
		return;
	free(p);
	atomic_fetch_add(&n_free, 1);
}

static void die(const char *what)
{
	fprintf(stderr, "rt_torture: %s: %s\n", what, strerror(errno));
	exit(98);
}

static void flush_trace(void)
{
	if (heapprof_flush)
		heapprof_flush();
}

static void print_counts(const char *tag)
{
	printf("%s allocs=%lu frees=%lu\n", tag, atomic_load(&n_alloc), atomic_load(&n_free));
	fflush(stdout);
}

/* About `k` times a few ns of work that does not allocate. */
static void spin(int k)
{
	volatile unsigned x = 1;
	for (int i = 0; i < k; i++)
		x = x * 1103515245u + 12345u;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Allocates n marked blocks, frees them, 64 live at most. */
static void churn(unsigned long n)
{
	void *live[64] = {0};
	for (unsigned long i = 0; i < n; i++) {
		mark_free(live[i % 64]);
		live[i % 64] = mark_alloc(i);
	}
	for (int i = 0; i < 64; i++)
		mark_free(live[i]);
}

static int mode_basic(int argc, char **argv)
{
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000;
	churn(n);
	print_counts("basic");
	return 0;
}

static int mode_child(int argc, char **argv)
{
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000;
	churn(n);
	/* Children share stdout with the parent: one write, no interleaving. */
	char line[128];
	int len = snprintf(line, sizeof(line), "pid %d child allocs=%lu frees=%lu\n", (int)getpid(),
			   atomic_load(&n_alloc), atomic_load(&n_free));
	if (write(1, line, len) != len)
		return 97;
	return 0;
}

static atomic_int hammer_stop;

static void *hammer(void *arg)
{
	(void)arg;
	while (!atomic_load(&hammer_stop)) {
		void *p = malloc(48);
		free(p);
	}
	return NULL;
}

/* fork without exec while other threads allocate: a lock held across fork deadlocks
 * the child. Each child allocates N marked blocks and returns from exit(). */
static int mode_fork(int argc, char **argv)
{
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000;
	int forks = argc > 3 ? atoi(argv[3]) : 8;
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, hammer, NULL))
			die("pthread_create");
	churn(100);
	int bad = 0;
	for (int i = 0; i < forks; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			atomic_store(&n_alloc, 0);
			atomic_store(&n_free, 0);
			churn(n);
			exit(atomic_load(&n_alloc) == n + 0 ? 0 : 3);
		}
		int st;
		if (waitpid(pid, &st, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
		printf("pid %d fork child\n", (int)pid);
	}
	atomic_store(&hammer_stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	printf("fork children=%d bad=%d\n", forks, bad);
	print_counts("parent");
	return 0;
}

/* Parent forks a child that forks a grandchild and exits; the grandchild outlives it. */
static int mode_doublefork(int argc, char **argv)
{
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000;
	int pfd[2];
	if (pipe(pfd))
		die("pipe");
	churn(100);
	fflush(stdout);
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		close(pfd[0]);
		int ready[2];
		if (pipe(ready))
			die("pipe");
		pid_t gc = fork();
		if (gc < 0)
			die("fork");
		if (gc == 0) {
			close(ready[0]);
			char line[64];
			int len = snprintf(line, sizeof(line), "pid %d grandchild ppid %d\n",
					   (int)getpid(), (int)getppid());
			if (write(1, line, len) != len)
				_exit(97);
			close(ready[1]); /* now the child may exit */
			atomic_store(&n_alloc, 0);
			churn(n);
			exit(atomic_load(&n_alloc) == n ? 0 : 3);
			/* pfd[1] closes at exit: the parent reads EOF */
		}
		close(ready[1]);
		char c;
		while (read(ready[0], &c, 1) > 0)
			;
		exit(0);
	}
	close(pfd[1]);
	int st;
	if (waitpid(child, &st, 0) < 0)
		die("waitpid");
	char c;
	while (read(pfd[0], &c, 1) > 0) /* EOF once the grandchild has exited */
		;
	printf("pid %d child\n", (int)child);
	printf("doublefork child_status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	print_counts("parent");
	return 0;
}

static int wait_child(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		die("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int mode_vfork(int argc, char **argv)
{
	const char *n = argc > 2 ? argv[2] : "1000";
	churn(100);
	fflush(stdout);
	char *args[] = {(char *)self_path, "child", (char *)n, NULL};
	pid_t pid = vfork();
	if (pid < 0)
		die("vfork");
	if (pid == 0) {
		execv(self_path, args);
		_exit(127);
	}
	int rc = wait_child(pid);
	printf("pid %d vfork child\n", (int)pid);
	printf("vfork child_status=%d\n", rc);
	print_counts("parent");
	return 0;
}

static int mode_spawn(int argc, char **argv)
{
	const char *n = argc > 2 ? argv[2] : "1000";
	churn(100);
	fflush(stdout);
	char *args[] = {(char *)self_path, "child", (char *)n, NULL};
	pid_t pid;
	int err = posix_spawn(&pid, self_path, NULL, NULL, args, environ);
	if (err) {
		errno = err;
		die("posix_spawn");
	}
	int rc = wait_child(pid);
	printf("pid %d spawn child\n", (int)pid);
	printf("spawn child_status=%d\n", rc);
	print_counts("parent");
	return 0;
}

static int mode_system(int argc, char **argv)
{
	churn(100);
	fflush(stdout);
	int st = system("/bin/echo from-system; exit 3");
	printf("system status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	print_counts("parent");
	return 0;
}

/* ---- threads: 64 alive at once, blocks freed by other threads ---- */

#define POOL_SLOTS 1024
static void *pool[POOL_SLOTS];
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned long thread_ops;

static void *pool_worker(void *arg)
{
	unsigned long seed = (unsigned long)(uintptr_t)arg * 2654435761u + 1;
	for (unsigned long i = 0; i < thread_ops; i++) {
		void *p = mark_alloc(i + seed);
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		unsigned slot = (unsigned)(seed >> 33) % POOL_SLOTS;
		pthread_mutex_lock(&pool_mu);
		void *old = pool[slot];
		pool[slot] = p;
		pthread_mutex_unlock(&pool_mu);
		mark_free(old); /* most likely allocated by another thread */
	}
	return NULL;
}

static int mode_threads(int argc, char **argv)
{
	int alive = argc > 2 ? atoi(argv[2]) : 64;
	int total = argc > 3 ? atoi(argv[3]) : 256;
	thread_ops = argc > 4 ? strtoul(argv[4], NULL, 0) : 1000;
	pthread_t *th = calloc(alive, sizeof(*th));
	int started = 0, next_join = 0;
	for (; started < alive && started < total; started++)
		if (pthread_create(&th[started], NULL, pool_worker, (void *)(uintptr_t)started))
			die("pthread_create");
	/* Replace the oldest thread as it exits until `total` have run. */
	while (started < total) {
		int k = next_join++ % alive;
		pthread_join(th[k], NULL);
		if (pthread_create(&th[k], NULL, pool_worker, (void *)(uintptr_t)started))
			die("pthread_create");
		started++;
	}
	for (int i = 0; i < alive && i < total; i++)
		pthread_join(th[i], NULL);
	free(th);
	for (int i = 0; i < POOL_SLOTS; i++)
		mark_free(pool[i]);
	printf("threads=%d alive=%d\n", total, alive);
	print_counts("threads");
	return 0;
}

/* ---- signals: a handler that allocates interrupts allocations ---- */

static volatile sig_atomic_t sig_hits;

static void alloc_handler(int sig)
{
	int saved = errno;
	/* Size 1000 is never used outside the handler, so glibc serves it from this
	 * thread's tcache without a lock (no native deadlock). */
	char *p = malloc(1000);
	if (p) {
		p[0] = (char)sig;
		free(p);
	}
	sig_hits++;
	errno = saved;
}

static int mode_signal(int argc, char **argv)
{
	double dur = (argc > 2 ? atoi(argv[2]) : 400) / 1000.0;
	free(malloc(1000)); /* warm the tcache bin the handler uses */
	struct sigaction sa = {0};
	sa.sa_handler = alloc_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPROF, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 500}, {0, 500}};
	setitimer(ITIMER_PROF, &it, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	double end = now_s() + dur;
	void *live[32] = {0};
	unsigned long i = 0;
	/* Bounded: the trace stays small whatever the speed under the recorder. */
	while (now_s() < end && i < 150000) {
		for (int k = 0; k < 256; k++, i++) {
			mark_free(live[i % 32]);
			live[i % 32] = mark_alloc(i);
			spin(100);
		}
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_PROF, &off, NULL);
	setitimer(ITIMER_REAL, &off, NULL);
	for (int k = 0; k < 32; k++)
		mark_free(live[k]);
	printf("pid %d hits=%d\n", (int)getpid(), (int)sig_hits);
	printf("signal done\n");
	print_counts("signal");
	return 0;
}

/* ---- longjmp out of deep allocating frames ---- */

#define DIVE_MAX 1000
static jmp_buf dive_env;
static void *dive_blocks[DIVE_MAX];
static int dive_depth;

static void __attribute__((noinline)) dive(int d)
{
	if (d >= DIVE_MAX)
		return;
	dive_blocks[d] = mark_alloc((unsigned long)d);
	if (d + 1 >= dive_depth)
		longjmp(dive_env, 1);
	dive(d + 1);
	__asm__ volatile("" ::: "memory"); /* not a tail call: keep the frames */
}

static int mode_longjmp(int argc, char **argv)
{
	dive_depth = argc > 2 ? atoi(argv[2]) : 200;
	int reps = argc > 3 ? atoi(argv[3]) : 200;
	if (dive_depth < 1 || dive_depth > DIVE_MAX)
		dive_depth = 200;
	for (volatile int r = 0; r < reps; r++) {
		if (!setjmp(dive_env))
			dive(0);
		for (int d = 0; d < dive_depth; d++)
			mark_free(dive_blocks[d]);
	}
	printf("longjmp depth=%d reps=%d\n", dive_depth, reps);
	print_counts("longjmp");
	return 0;
}

/* ---- dlopen / dlclose, RTLD_DEEPBIND ---- */

static int mode_dlopen(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int n = argc > 3 ? atoi(argv[3]) : 1000;
	long total = 0;
	for (int i = 0; i < n; i++) {
		void *h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fprintf(stderr, "rt_torture: dlopen: %s\n", dlerror());
			return 4;
		}
		long (*work)(int) = (long (*)(int))dlsym(h, "rt_dlib_work");
		if (!work) {
			fprintf(stderr, "rt_torture: dlsym: %s\n", dlerror());
			return 4;
		}
		total += work(4);
		if (dlclose(h)) {
			fprintf(stderr, "rt_torture: dlclose: %s\n", dlerror());
			return 4;
		}
	}
	printf("dlopen n=%d lib_allocs=%ld\n", n, total);
	return 0;
}

static int mode_deepbind(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	void *h = dlopen(argv[2], RTLD_NOW | RTLD_DEEPBIND);
	if (!h) {
		fprintf(stderr, "rt_torture: dlopen: %s\n", dlerror());
		return 4;
	}
	long (*work)(int) = (long (*)(int))dlsym(h, "rt_dlib_work");
	void *(*lib_alloc)(size_t) = (void *(*)(size_t))dlsym(h, "rt_dlib_alloc");
	void (*lib_free)(void *) = (void (*)(void *))dlsym(h, "rt_dlib_free");
	if (!work || !lib_alloc || !lib_free)
		return 4;
	long total = work(100);
	/* Blocks cross the boundary both ways: the library's malloc, our free, and back. */
	for (int i = 0; i < 100; i++) {
		char *p = lib_alloc(3000);
		memset(p, 1, 3000);
		free(p);
		char *q = malloc(3000);
		memset(q, 2, 3000);
		lib_free(q);
		total += 1;
	}
	char *r = lib_alloc(100);
	r = realloc(r, 5000);
	memset(r, 3, 5000);
	free(r);
	dlclose(h);
	printf("deepbind lib_allocs=%ld\n", total);
	return 0;
}

static int mode_abort(int argc, char **argv)
{
	churn(1000);
	print_counts("abort");
	flush_trace();
	abort();
}

static int mode_exit(int argc, char **argv)
{
	int code = argc > 2 ? atoi(argv[2]) : 7;
	void *keep[10];
	churn(1000);
	for (int i = 0; i < 10; i++)
		keep[i] = mark_alloc(i);
	(void)keep;
	print_counts("exit");
	_exit(code);
}

/* Allocates from 3 threads until killed (or `ms` elapse). */
static void *loop_worker(void *arg)
{
	unsigned long i = (uintptr_t)arg;
	void *live[128] = {0};
	for (;;) {
		for (int k = 0; k < 1000; k++, i++) {
			mark_free(live[i % 128]);
			live[i % 128] = mark_alloc(i);
			spin(1000);
		}
	}
	return NULL;
}

static int mode_loop(int argc, char **argv)
{
	double dur = (argc > 2 ? atoi(argv[2]) : 5000) / 1000.0;
	pthread_t th;
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th, NULL, loop_worker, (void *)(uintptr_t)(i * 1000000)))
			die("pthread_create");
	printf("loop running\n");
	fflush(stdout);
	double end = now_s() + dur;
	void *live[128] = {0};
	for (unsigned long i = 0; now_s() < end; i++) {
		mark_free(live[i % 128]);
		live[i % 128] = mark_alloc(i);
		spin(1000);
	}
	printf("loop timeout\n");
	fflush(stdout);
	_exit(0);
}

/* ---- descriptors: closefrom(3) / dup2 over the trace's descriptor ---- */

static void write_own(int fd, int i)
{
	char line[64];
	int len = snprintf(line, sizeof(line), "own-data-%04d\n", i);
	if (write(fd, line, len) != len)
		die("write own file");
}

static int mode_closefds(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *how = argv[2], *file = argv[3];
	churn(2000);
	flush_trace();
	if (!strcmp(how, "range")) {
		if (syscall(SYS_close_range, 3u, ~0u, 0u))
			die("close_range");
	} else {
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	}
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open own file");
	for (int i = 0; i < 100; i++) {
		write_own(fd, i);
		churn(200);
		if (i % 10 == 0) {
			flush_trace();
			usleep(2000); /* let the writer thread run */
		}
	}
	flush_trace();
	usleep(20000);
	close(fd);
	churn(1000); /* keeps allocating with the descriptor table empty again */
	printf("closefds %s fd=%d\n", how, fd);
	print_counts("closefds");
	return 0;
}

/* Returns the descriptor whose target starts with `dir`, or -1. */
static int find_fd_under(const char *dir)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int found = -1, dfd = dirfd(d);
	struct dirent *e;
	size_t dl = strlen(dir);
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == dfd)
			continue;
		char link[PATH_MAX];
		ssize_t n = readlinkat(dfd, e->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (!strncmp(link, dir, dl) && strstr(link, ".zst"))
			found = fd;
	}
	closedir(d);
	return found;
}

static int mode_dup2(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *file = argv[2], *tracedir = argv[3];
	churn(2000);
	flush_trace();
	int tfd = -1;
	for (int tries = 0; tries < 50 && tfd < 0; tries++) {
		tfd = find_fd_under(tracedir);
		if (tfd < 0) {
			churn(100);
			usleep(2000);
		}
	}
	int own = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (own < 0)
		die("open own file");
	int null = open("/dev/null", O_RDONLY);
	if (null < 0)
		die("open /dev/null");
	if (dup2(null, 0) < 0)
		die("dup2 stdin");
	/* Every low descriptor but 1, 2 and our own becomes our file, the trace's too. */
	for (int fd = 3; fd < 10; fd++)
		if (fd != own && fd != null && dup2(own, fd) < 0)
			die("dup2 low");
	int target = tfd >= 0 ? tfd : 5;
	if (target != own && dup2(own, target) < 0)
		die("dup2 trace fd");
	for (int i = 0; i < 100; i++) {
		write_own(target, i);
		churn(200);
		if (i % 10 == 0) {
			flush_trace();
			usleep(2000);
		}
	}
	flush_trace();
	printf("dup2 tracefd=%s\n", tfd >= 0 ? "found" : "none");
	print_counts("dup2");
	return 0;
}

/* ---- setuid probe: what the kernel says about this process ---- */

static int mode_ids(int argc, char **argv)
{
	churn(argc > 2 ? strtoul(argv[2], NULL, 0) : 100);
	printf("ruid=%d euid=%d secure=%lu recording=%d\n", (int)getuid(), (int)geteuid(),
	       getauxval(AT_SECURE), heapprof_is_recording ? heapprof_is_recording() : -1);
	return 0;
}

/* Reports whether jemalloc serves this process's malloc. */
static int mode_jemalloc(int argc, char **argv)
{
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000;
	churn(n);
	void *p = calloc(10, 300);
	p = realloc(p, 9000);
	free(p);
	printf("jemalloc=%s\n", dlsym(RTLD_DEFAULT, "mallctl") ? "yes" : "no");
	print_counts("jemalloc");
	return 0;
}

struct mode {
	const char *name;
	int (*fn)(int, char **);
};

static const struct mode modes[] = {
    {"basic", mode_basic},	     {"child", mode_child},	{"fork", mode_fork},
    {"doublefork", mode_doublefork}, {"vfork", mode_vfork},	{"spawn", mode_spawn},
    {"system", mode_system},	     {"threads", mode_threads}, {"signal", mode_signal},
    {"longjmp", mode_longjmp},	     {"dlopen", mode_dlopen},	{"deepbind", mode_deepbind},
    {"abort", mode_abort},	     {"exit", mode_exit},	{"loop", mode_loop},
    {"closefds", mode_closefds},     {"dup2", mode_dup2},	{"ids", mode_ids},
    {"jemalloc", mode_jemalloc},
};

int main(int argc, char **argv)
{
	self_path = "/proc/self/exe";
	static char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		self_path = exe;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: rt_torture MODE [ARGS]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name))
			return modes[i].fn(argc, argv);
	fprintf(stderr, "rt_torture: unknown mode '%s'\n", argv[1]);
	return 2;
}
