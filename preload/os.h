/* Small OS helpers for the preload: mmap'd memory, whole writes and reads, futexes and
 * the one-line diagnostics. None of them calls malloc or stdio, so any of them may run
 * inside an interposed allocator call. */
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
void hp_os_unmap(void *p, size_t size);

/* Writes all n bytes, retrying on EINTR and short writes. 0 or a negative errno. */
int hp_os_write_all(int fd, const void *buf, size_t n);

/* Reads up to cap bytes of a (proc) file into buf. Returns the length or a negative errno. */
ssize_t hp_os_read_file(const char *path, void *buf, size_t cap);

/* Futex wait with a timeout in ns (0: none) and wake; private futexes. */
void hp_os_futex_wait(uint32_t *addr, uint32_t expected, uint64_t timeout_ns);
void hp_os_futex_wake(uint32_t *addr);

/* Writes "heapprof: <a><b><c>\n" to stderr in one write(2). Async-signal-safe. */
void hp_os_say(const char *a, const char *b, const char *c);

/* Decimal formatting into buf (>= 21 bytes); returns the end (not NUL-terminated). */
char *hp_os_utoa(char *buf, uint64_t v);

#endif
