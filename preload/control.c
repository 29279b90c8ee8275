/* Markers, pause and resume, allocation hints, and the control FIFO; see control.h.
 *
 * heapprof_mark and heapprof_pause/resume are lock-free and async-signal-safe: a marker
 * claims a slot of a static table with one compare-and-swap and publishes it with a
 * release store; the writer collects the published slots each round, orders them by
 * their sequence number and frees them. */
#define _GNU_SOURCE
#include "control.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <heapprof/heapprof.h>
#include <heapprof/trace_format.h>

#include "clock.h"
#include "fdguard.h"
#include "lifecycle.h"
#include "options.h"
#include "os.h"
#include "recorder.h"
#include "sampler.h"

_Atomic unsigned hp_control_paused;

/* ---- markers ------------------------------------------------------------------------ */

#define MARK_SLOTS 64

enum { SLOT_FREE, SLOT_FILLING, SLOT_READY };

struct mark {
	_Atomic int state;
	uint32_t len;
	uint64_t seq, time; /* time: ring units (hp_clock_now) */
	char label[HP_MARK_LABEL_MAX];
};

static struct mark marks[MARK_SLOTS];
static _Atomic uint64_t mark_seq;

/* The label's first line, at most HP_MARK_LABEL_MAX bytes, not cut inside a UTF-8
 * sequence. */
static size_t label_len(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n] && s[n] != '\n' && s[n] != '\r')
		n++;
	if (n == max && s[n] && s[n] != '\n' && s[n] != '\r')
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	return n;
}

static int queue_mark(const char *label, size_t max, uint64_t time)
{
	for (int i = 0; i < MARK_SLOTS; i++) {
		int expected = SLOT_FREE;
		if (!atomic_compare_exchange_strong(&marks[i].state, &expected, SLOT_FILLING))
			continue;
		struct mark *m = &marks[i];
		size_t n = label_len(label, max);
		memcpy(m->label, label, n);
		m->len = (uint32_t)n;
		m->time = time;
		m->seq = atomic_fetch_add(&mark_seq, 1);
		atomic_store_explicit(&m->state, SLOT_READY, memory_order_release);
		return 0;
	}
	return -EAGAIN;
}

int heapprof_mark(const char *label)
{
	if (!label)
		return -EINVAL;
	if (!hp_lifecycle_owner())
		return -ENODEV;
	/* Among the thread's own events, in order; a signal handler that interrupted the
	 * recorder on this thread queues it for the writer instead. */
	if (hp_rec_enter()) {
		int err = hp_rec_mark(label, label_len(label, HP_MARK_LABEL_MAX));
		hp_rec_leave();
		if (!err)
			return 0;
	}
	return queue_mark(label, HP_MARK_LABEL_MAX, hp_clock_now());
}

void hp_control_emit(void (*put)(const uint8_t *rec, size_t len, void *arg), void *arg)
{
	int ready[MARK_SLOTS], n = 0;
	for (int i = 0; i < MARK_SLOTS; i++)
		if (atomic_load_explicit(&marks[i].state, memory_order_acquire) == SLOT_READY)
			ready[n++] = i;
	for (int i = 1; i < n; i++) /* at most 64, nearly always 0 or 1: insertion sort */
		for (int j = i; j > 0 && marks[ready[j]].seq < marks[ready[j - 1]].seq; j--) {
			int t = ready[j];
			ready[j] = ready[j - 1];
			ready[j - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		struct mark *m = &marks[ready[i]];
		uint8_t rec[3 * HP_VARINT_MAX_BYTES + HP_MARK_LABEL_MAX], *p = rec;
		p = hp_put_varint(p, HP_REC_MARK);
		p = hp_put_varint(p, hp_clock_trace(m->time));
		p = hp_put_varint(p, m->len);
		memcpy(p, m->label, m->len);
		put(rec, (size_t)(p - rec) + m->len, arg);
		atomic_store_explicit(&m->state, SLOT_FREE, memory_order_release);
	}
}

/* ---- pause, resume ------------------------------------------------------------------ */

int heapprof_pause(void)
{
	if (!hp_lifecycle_owner())
		return -ENODEV;
	atomic_fetch_add(&hp_control_paused, 1);
	return 0;
}

int heapprof_resume(void)
{
	if (!hp_lifecycle_owner())
		return -ENODEV;
	unsigned v = atomic_load(&hp_control_paused);
	do {
		if (!v)
			return -EINVAL;
	} while (!atomic_compare_exchange_weak(&hp_control_paused, &v, v - 1));
	return 0;
}

/* ---- hints -------------------------------------------------------------------------- */

static int hint(const void *ptr, size_t size, int release)
{
	if (!ptr)
		return -EINVAL;
	/* A sampled trace weighs each allocation by its sampling probability: hints, which
	 * are not sampled, would be weighed wrongly. */
	if (!hp_lifecycle_owner() || hp_sampler_mean)
		return -ENODEV;
	if (!release && atomic_load_explicit(&hp_control_paused, memory_order_relaxed))
		return 0;
	if (!hp_rec_enter())
		return -EAGAIN; /* inside the profiler (a signal handler): counted as lost */
	hp_rec_hint(ptr, size, release);
	return 0;
}

int heapprof_alloc_hint(const void *ptr, size_t size)
{
	return hint(ptr, size, 0);
}

int heapprof_free_hint(const void *ptr)
{
	return hint(ptr, 0, 1);
}

/* ---- the control FIFO ---------------------------------------------------------------- */

static struct {
	int fd;
	int made;  /* the names below are ours to remove */
	int swept; /* the stale names of dead processes, once */
	char dir[PATH_MAX];
	char fifo[PATH_MAX], link[PATH_MAX];
	char in[2 * PIPE_BUF];
	size_t in_len;
} c = {.fd = -1};

/* dst = a + b + c (NULL parts skipped), or -ENAMETOOLONG. */
static int join(char *dst, size_t cap, const char *a, const char *b, const char *d)
{
	const char *parts[] = {a, b, d};
	size_t n = 0;
	for (int i = 0; i < 3; i++) {
		if (!parts[i])
			continue;
		size_t l = strlen(parts[i]);
		if (n + l >= cap)
			return -ENAMETOOLONG;
		memcpy(dst + n, parts[i], l);
		n += l;
	}
	dst[n] = '\0';
	return 0;
}

/* The control directory: created when missing, used only when it is a real directory
 * of ours that only we can enter (no one else can place or replace a name in it). */
static int control_dir(char *dir, size_t cap)
{
	char num[24];
	*hp_os_utoa(num, (uint64_t)geteuid()) = '\0';
	const char *rt = hp_options.runtime_dir;
	int err = rt ? join(dir, cap, rt, "/heapprof", NULL)
		     : join(dir, cap, "/tmp/heapprof-", num, NULL);
	if (err)
		return err;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	struct stat st;
	if (lstat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

int hp_control_open(const char *trace_path)
{
	if (!hp_options.control)
		return 0;
	char dir[PATH_MAX], base[PATH_MAX], pid[24], target[PATH_MAX];
	*hp_os_utoa(pid, (uint64_t)getpid()) = '\0';
	int err = control_dir(dir, sizeof dir);
	if (!err)
		err = join(c.dir, sizeof c.dir, dir, NULL, NULL);
	if (!err)
		err = join(base, sizeof base, dir, "/", pid);
	if (!err)
		err = join(c.link, sizeof c.link, base, ".trace", NULL);
	if (!err)
		err = join(c.fifo, sizeof c.fifo, base, ".ctl", NULL);
	if (!err && trace_path[0] != '/') {
		char cwd[PATH_MAX];
		err = getcwd(cwd, sizeof cwd) ? join(target, sizeof target, cwd, "/", trace_path)
					      : -errno;
	} else if (!err) {
		err = join(target, sizeof target, trace_path, NULL, NULL);
	}
	if (err)
		return err;
	/* A name left by a killed process with this pid: the directory is ours alone. */
	unlink(c.fifo);
	unlink(c.link);
	if (mkfifo(c.fifo, 0600))
		return -errno;
	c.made = 1;
	int fd = open(c.fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISFIFO(st.st_mode) || st.st_uid != geteuid()) {
		err = fd < 0 ? -errno : -EPERM;
		if (fd >= 0)
			hp_os_close(fd);
		hp_control_close(1);
		return err;
	}
	hp_fdguard_adopt(&c.fd, fd);
	c.in_len = 0;
	if (symlink(target, c.link))
		c.link[0] = '\0';
	return 0;
}

/* One line of the FIFO. */
static void command(const char *s, size_t n, uint64_t time)
{
	if (n > 5 && memcmp(s, "mark ", 5) == 0)
		queue_mark(s + 5, n - 5 < HP_MARK_LABEL_MAX ? n - 5 : HP_MARK_LABEL_MAX, time);
}

/* The names left by processes killed before they could remove theirs: those of pids
 * that no longer exist. Raw getdents64, no allocation; at most 512 a sweep. */
static void sweep(void)
{
	int dfd = open(c.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return;
	char buf[8192];
	unsigned removed = 0;
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
		if (n <= 0)
			break;
		for (long off = 0; off < n && removed < 512;) {
			struct dirent64 *e = (struct dirent64 *)(buf + off);
			off += e->d_reclen;
			const char *s = e->d_name;
			uint64_t pid = 0;
			while (*s >= '0' && *s <= '9' && pid < (1u << 30))
				pid = pid * 10 + (uint64_t)(*s++ - '0');
			if (s == e->d_name || (strcmp(s, ".ctl") && strcmp(s, ".trace")) ||
			    pid == (uint64_t)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
				continue;
			unlinkat(dfd, e->d_name, 0);
			removed++;
		}
		if (removed >= 512)
			break;
	}
	close(dfd);
}

void hp_control_poll(void)
{
	if (!c.swept && c.made) {
		c.swept = 1;
		sweep();
	}
	while (c.fd >= 0) {
		ssize_t r = hp_fdguard_read(&c.fd, c.in + c.in_len, sizeof c.in - c.in_len);
		if (r <= 0)
			return; /* empty (-EAGAIN), no writer (0), or no longer ours */
		uint64_t now = hp_clock_now();
		c.in_len += (size_t)r;
		size_t start = 0;
		for (size_t i = 0; i < c.in_len; i++) {
			if (c.in[i] != '\n')
				continue;
			command(c.in + start, i - start, now);
			start = i + 1;
		}
		memmove(c.in, c.in + start, c.in_len - start);
		c.in_len -= start;
		if (c.in_len == sizeof c.in)
			c.in_len = 0; /* a line longer than any message: drop it */
	}
}

void hp_control_close(int remove)
{
	hp_fdguard_close(&c.fd);
	if (remove && c.made) {
		unlink(c.fifo);
		if (c.link[0])
			unlink(c.link);
	}
	c.made = 0;
}

void hp_control_fork_child(void)
{
	hp_fdguard_close(&c.fd);
	c.made = 0;
	c.swept = 1; /* the parent did */
	for (int i = 0; i < MARK_SLOTS; i++)
		atomic_store(&marks[i].state, SLOT_FREE);
}
