/* OS helpers of the preload; see os.h. */
#define _GNU_SOURCE /* strerrordesc_np */
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void *hp_os_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void *hp_os_map_populated(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void hp_os_unmap(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

int hp_os_open(const char *path, int flags, unsigned mode)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

ssize_t hp_os_read(int fd, void *buf, size_t n)
{
	return syscall(SYS_read, fd, buf, n);
}

ssize_t hp_os_pread(int fd, void *buf, size_t n, off_t off)
{
	return syscall(SYS_pread64, fd, buf, n, off);
}

ssize_t hp_os_write(int fd, const void *buf, size_t n)
{
	return syscall(SYS_write, fd, buf, n);
}

int hp_os_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

int hp_os_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t r = hp_os_write(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

ssize_t hp_os_read_file(const char *path, void *buf, size_t cap)
{
	int fd = hp_os_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	while (len < cap) {
		ssize_t r = hp_os_read(fd, (char *)buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	hp_os_close(fd);
	return (ssize_t)len;
}

void hp_os_sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
	syscall(SYS_nanosleep, &ts, NULL);
}

void hp_os_futex_wait(uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
	struct timespec ts = {(time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u)};
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, timeout_ns ? &ts : NULL, NULL, 0);
}

void hp_os_futex_wake(uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void hp_os_say(const char *a, const char *b, const char *c)
{
	char line[1024];
	size_t len = 0;
	const char *parts[] = {"heapprof: ", a, b, c};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (!parts[i])
			continue;
		size_t n = strlen(parts[i]);
		if (n > sizeof(line) - 1 - len)
			n = sizeof(line) - 1 - len;
		memcpy(line + len, parts[i], n);
		len += n;
	}
	line[len++] = '\n';
	int saved = errno;
	(void)hp_os_write(STDERR_FILENO, line, len);
	errno = saved;
}

const char *hp_os_strerror(int err)
{
	const char *s = strerrordesc_np(err);
	return s ? s : "Unknown error";
}

char *hp_os_utoa(char *buf, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*buf++ = tmp[--n];
	return buf;
}

static int hex_field(const char **s, uintptr_t *out)
{
	uintptr_t v = 0;
	const char *p = *s;
	for (;; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else
			break;
		v = v << 4 | d;
	}
	if (p == *s)
		return -1;
	*s = p;
	*out = v;
	return 0;
}

/* "start-end perms ..." at the start of a line. */
static int parse_range(const char *line, uintptr_t *start, uintptr_t *end)
{
	if (hex_field(&line, start) || *line++ != '-' || hex_field(&line, end))
		return -1;
	return 0;
}

int hp_os_mappings_of(const uintptr_t *addrs, size_t n, uintptr_t *lo, uintptr_t *hi)
{
	for (size_t i = 0; i < n; i++)
		lo[i] = hi[i] = 0;
	if (!n)
		return 0;
	enum { BUF = 64 << 10 };
	char *buf = hp_os_map(BUF);
	if (!buf)
		return -ENOMEM;
	int fd = hp_os_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		int err = -errno;
		hp_os_unmap(buf, BUF);
		return err;
	}
	/* Lines are short (a path of at most PATH_MAX), so a line never spans more than
	 * what is kept: the unfinished tail moves to the front before each read. */
	size_t len = 0;
	int err = 0;
	for (;;) {
		ssize_t r = hp_os_read(fd, buf + len, BUF - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		len += (size_t)r;
		buf[len] = '\0';
		char *line = buf, *nl;
		while ((nl = memchr(line, '\n', len - (size_t)(line - buf)))) {
			uintptr_t s, e;
			if (!parse_range(line, &s, &e))
				for (size_t i = 0; i < n; i++)
					if (addrs[i] - s < e - s) {
						lo[i] = s;
						hi[i] = e;
					}
			line = nl + 1;
		}
		size_t rest = len - (size_t)(line - buf);
		if (r == 0 || rest == BUF - 1)
			break;
		memmove(buf, line, rest);
		len = rest;
	}
	hp_os_close(fd);
	hp_os_unmap(buf, BUF);
	return err;
}
