/* The profiler's descriptors out of the program's way; see fdguard.h.
 *
 * One lock serializes writes, moves and closes, so a dup2 never replaces a number the
 * writer is writing to. A write costs one fstat more (one per zstd frame, ~every
 * 100 ms), which also catches what no interposer sees: close_range, raw syscalls, a
 * close followed by an open that reuses the number. */
#define _GNU_SOURCE
#include "fdguard.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os.h"

#define SLOTS 4

struct slot {
	int *fdp;
	dev_t dev;
	ino_t ino;
};

static struct slot slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic pid_t owner; /* tid holding lock: a dup2 in its signal handler must not wait */

static int lock_guard(void)
{
	pid_t self = gettid();
	if (atomic_load_explicit(&owner, memory_order_relaxed) == self)
		return 0; /* nested (signal handler on the holder) */
	pthread_mutex_lock(&lock);
	atomic_store_explicit(&owner, self, memory_order_relaxed);
	return 1;
}

static void unlock_guard(int locked)
{
	if (!locked)
		return;
	atomic_store_explicit(&owner, 0, memory_order_relaxed);
	pthread_mutex_unlock(&lock);
}

/* Near the top of the descriptor table, where programs that open files in order never
 * get to, but at most ~1000: a higher number grows the kernel's table for nothing. */
static int floor_fd(void)
{
	struct rlimit rl;
	rlim_t lim = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < lim)
		lim = rl.rlim_cur;
	return lim > 164 ? (int)lim - 64 : (int)lim / 2;
}

/* A copy of fd at a high number, or -1. */
static int move_high(int fd)
{
	int floor = floor_fd();
	int hi = floor > 2 ? fcntl(fd, F_DUPFD_CLOEXEC, floor) : -1;
	if (hi < 0 && floor > 2)
		hi = fcntl(fd, F_DUPFD_CLOEXEC, 3); /* a full table up there: anywhere */
	return hi;
}

static int is_ours(const struct slot *s, int fd)
{
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino;
}

static struct slot *find(int *fdp)
{
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].fdp == fdp)
			return &slots[i];
	return NULL;
}

int hp_fdguard_adopt(int *fdp, int fd)
{
	int saved = errno;
	struct stat st;
	if (fstat(fd, &st)) {
		int err = errno;
		*fdp = fd;
		errno = saved;
		return -err;
	}
	int hi = move_high(fd);
	if (hi >= 0 && hi != fd) {
		hp_os_close(fd);
		fd = hi;
	}
	int locked = lock_guard();
	struct slot *s = find(fdp);
	if (!s)
		s = find(NULL);
	if (s) {
		s->fdp = fdp;
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	*fdp = fd;
	unlock_guard(locked);
	errno = saved;
	return s ? 0 : -ENOSPC;
}

int hp_fdguard_write(int *fdp, const void *buf, size_t n)
{
	int saved = errno, err = 0;
	int locked = lock_guard();
	struct slot *s = find(fdp);
	if (!s || !is_ours(s, *fdp)) {
		*fdp = -1; /* the number is the program's now: never write, never close it */
		err = -EBADF;
	}
	for (const char *p = buf; !err && n;) {
		ssize_t r =
		    hp_os_write(*fdp, p, n); /* *fdp again: a nested claim may have moved it */
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			break;
		}
		p += r;
		n -= (size_t)r;
	}
	unlock_guard(locked);
	errno = saved;
	return err;
}

ssize_t hp_fdguard_read(int *fdp, void *buf, size_t cap)
{
	int saved = errno;
	ssize_t r;
	int locked = lock_guard();
	struct slot *s = find(fdp);
	if (!s || !is_ours(s, *fdp)) {
		*fdp = -1;
		r = -EBADF;
	} else {
		do
			r = read(*fdp, buf, cap);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			r = -errno;
	}
	unlock_guard(locked);
	errno = saved;
	return r;
}

void hp_fdguard_close(int *fdp)
{
	int saved = errno;
	int locked = lock_guard();
	struct slot *s = find(fdp);
	if (*fdp >= 0 && (!s || is_ours(s, *fdp)))
		hp_os_close(*fdp);
	*fdp = -1;
	unlock_guard(locked);
	errno = saved;
}

int hp_fdguard_claim(int newfd)
{
	if (newfd < 0)
		return -1;
	int saved = errno, spare = -1;
	int locked = lock_guard();
	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[i];
		if (!s->fdp || *s->fdp != newfd)
			continue;
		int hi = move_high(newfd);
		/* No other number: ours is lost, but the program gets the number it asked for. */
		*s->fdp = hi;
		spare = newfd;
		break;
	}
	unlock_guard(locked);
	errno = saved;
	return spare;
}

void hp_fdguard_claimed(int spare, int ok)
{
	if (spare < 0 || ok)
		return;
	int saved = errno;
	int locked = lock_guard();
	/* Still our file: nothing could reuse the number while the spare held it. */
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].fdp && is_ours(&slots[i], spare)) {
			hp_os_close(spare);
			break;
		}
	unlock_guard(locked);
	errno = saved;
}

void hp_fdguard_fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
	atomic_store(&owner, 0);
}
