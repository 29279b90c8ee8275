/* Small OS helpers for the preload: mmap'd memory, whole writes and reads, futexes, the
 * one-line diagnostics and the mappings of the process. None of them calls malloc or
 * stdio, takes a libc lock, or is a thread cancellation point (file I/O goes through
 * syscall(2), which glibc does not make one), so any of them may run inside an
 * interposed allocator call on an application thread (docs/preload-safety.md). */
#ifndef HP_OS_H
#define HP_OS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HP_LIKELY(x) __builtin_expect(!!(x), 1)
#define HP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HP_COLD __attribute__((noinline, cold))
#define HP_HIDDEN __attribute__((visibility("hidden")))

/* Anonymous zeroed private memory; NULL on failure (errno set). Thread-safe. */
void *hp_os_map(size_t size);
/* The same with every page in place: for a table that is probed (read) before it is
 * written, where each page would otherwise map the zero page, then fault again on the
 * first write and flush the TLB of every CPU running the program's threads. */
void *hp_os_map_populated(size_t size);
void hp_os_unmap(void *p, size_t size);

/* open(2), read(2), pread(2), write(2) and close(2) without cancellation points: a
 * thread with a pending pthread_cancel must not be cancelled inside malloc. Return what
 * the system calls return (-1 and errno on failure). */
int hp_os_open(const char *path, int flags, unsigned mode);
ssize_t hp_os_read(int fd, void *buf, size_t n);
ssize_t hp_os_pread(int fd, void *buf, size_t n, off_t off);
ssize_t hp_os_write(int fd, const void *buf, size_t n);
int hp_os_close(int fd);

/* Writes all n bytes, retrying on EINTR and short writes. 0 or a negative errno. */
int hp_os_write_all(int fd, const void *buf, size_t n);

/* Reads up to cap bytes of a (proc) file into buf. Returns the length or a negative errno. */
ssize_t hp_os_read_file(const char *path, void *buf, size_t cap);

/* Sleeps ns nanoseconds (or less, if a signal arrives). */
void hp_os_sleep_ns(uint64_t ns);

/* Futex wait with a timeout in ns (0: none) and wake; private futexes. */
void hp_os_futex_wait(uint32_t *addr, uint32_t expected, uint64_t timeout_ns);
void hp_os_futex_wake(uint32_t *addr);

/* Writes "heapprof: <a><b><c>\n" to stderr in one write(2). Async-signal-safe. */
void hp_os_say(const char *a, const char *b, const char *c);

/* The English text of errno value err, without strerror's locale lookup (gettext takes
 * locks and may allocate). Never NULL. Async-signal-safe. */
const char *hp_os_strerror(int err);

/* Decimal formatting into buf (>= 21 bytes); returns the end (not NUL-terminated). */
char *hp_os_utoa(char *buf, uint64_t v);

/* For each of addrs[0..n), the mapping of /proc/self/maps that contains it: lo[i] and
 * hi[i] are its bounds, or both 0 when no mapping does. One read of the file, in
 * mmap'd scratch memory. Returns 0 or a negative errno. Not async-signal-safe (mmap). */
int hp_os_mappings_of(const uintptr_t *addrs, size_t n, uintptr_t *lo, uintptr_t *hi);

#endif
