/* The records of the trace, encoded onto the staging buffer (traceout.h), as
 * docs/trace-format.md lays them out; the events themselves are the producers'. */
#define _GNU_SOURCE
#include "records.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <heapprof/trace_format.h>

#include "clock.h"
#include "fdguard.h"
#include "modmap.h"
#include "options.h"
#include "os.h"
#include "traceout.h"

static int statm_fd = -1; /* /proc/self/statm, for RSS */
/* The RSS this trace holds last, 0 before its first sample: a sample equal to it is not
 * written, since readers hold an RSS until the next one. A program whose RSS is steady
 * wrote a record every 10 ms that only its time told apart, 12% of the exception
 * loop's trace. */
static uint64_t rss_written;

void hp_records_open(void)
{
	int fd = hp_os_open("/proc/self/statm", O_RDONLY | O_CLOEXEC, 0);
	if (fd >= 0)
		hp_fdguard_adopt(&statm_fd, fd);
}

void hp_records_fork_child(void)
{
	hp_fdguard_close(&statm_fd);
}

int hp_records_put(void *ctx, const void *rec, size_t len)
{
	hp_out_put(rec, len, ctx);
	return hp_out_failed() ? -EIO : 0;
}

static uint8_t *put_string(uint8_t *p, const void *s, size_t n)
{
	p = hp_put_varint(p, n);
	memcpy(p, s, n);
	return p + n;
}

void hp_records_header(void)
{
	static char cmdline[HP_MAX_STRING];
	ssize_t clen = hp_os_read_file("/proc/self/cmdline", cmdline, sizeof(cmdline));
	if (clen < 0)
		clen = 0;
	/* Only the terminator of the last argument: the NUL left before it is an empty last
	 * argument ("prog a ''"), which the reports show as ''. */
	if (clen > 0 && cmdline[clen - 1] == '\0')
		clen--;
	const char *exe = hp_modmap_exe();
	rss_written = 0;
	uint8_t *p = hp_out_reserve(HP_MAGIC_LEN + 256 + PATH_MAX + sizeof(cmdline));
	memcpy(p, HP_MAGIC, HP_MAGIC_LEN);
	p += HP_MAGIC_LEN;
	p = hp_put_varint(p, HP_FORMAT_VERSION);
	p = hp_put_varint(p, HP_REC_HEADER);
	p = hp_put_varint(p, (hp_clock.tsc ? HP_HDR_CLOCK_TSC : 0) |
				 (hp_options.sample_bytes ? HP_HDR_SAMPLED : 0) |
				 (hp_options.attached ? HP_HDR_ATTACHED : 0));
	p = hp_put_varint(p, (uint64_t)getpid());
	p = hp_put_varint(p, (uint64_t)getppid());
	p = hp_put_varint(p, hp_clock.start_real_ns);
	p = hp_put_varint(p, hp_clock.start_mono_ns);
	p = hp_put_varint(p, hp_clock.ticks_per_second);
	p = hp_put_varint(p, hp_clock.shift + hp_clock.trace_shift); /* trace units */
	p = hp_put_varint(p, (uint64_t)sysconf(_SC_PAGESIZE));
	p = hp_put_varint(p, hp_options.max_frames);
	p = hp_put_varint(p, hp_options.sample_bytes); /* 0: every event recorded */
	p = put_string(p, exe, strlen(exe));
	p = put_string(p, cmdline, (size_t)clen);
	hp_out_commit(p);
}

void hp_records_clock_sync(void)
{
	uint8_t *p = hp_out_reserve(32);
	p = hp_put_varint(p, HP_REC_CLOCK_SYNC);
	p = hp_put_varint(p, hp_clock_ticks());
	p = hp_put_varint(p, hp_clock_mono_ns());
	hp_out_commit(p);
}

void hp_records_rss(void)
{
	char buf[128];
	ssize_t n = statm_fd >= 0 ? hp_os_pread(statm_fd, buf, sizeof(buf) - 1, 0) : -1;
	if (n <= 0)
		return;
	buf[n] = '\0';
	const char *s = buf;
	while (*s && *s != ' ')
		s++;
	uint64_t pages = 0;
	for (s++; *s >= '0' && *s <= '9'; s++)
		pages = pages * 10 + (uint64_t)(*s - '0');
	uint64_t bytes = pages * (uint64_t)sysconf(_SC_PAGESIZE);
	if (bytes == rss_written)
		return;
	rss_written = bytes;
	uint8_t *p = hp_out_reserve(32);
	p = hp_put_varint(p, HP_REC_RSS);
	p = hp_put_varint(p, hp_clock_trace(hp_clock_now()));
	p = hp_put_varint(p, bytes);
	hp_out_commit(p);
}

void hp_records_stack(const struct hp_stack *s)
{
	uint8_t *p = hp_out_reserve(32 + (size_t)s->nframes * HP_VARINT_MAX_BYTES);
	p = hp_put_varint(p, HP_REC_STACK);
	p = hp_put_varint(p, s->id);
	p = hp_put_varint(p, s->nframes);
	uintptr_t prev = 0;
	for (unsigned i = 0; i < s->nframes; i++) {
		p = hp_put_svarint(p, (int64_t)(s->ips[i] - prev));
		prev = s->ips[i];
	}
	hp_out_commit(p);
}

static void thread_name(const struct hp_tbuf *b, const char *name, size_t n)
{
	uint8_t *p = hp_out_reserve(64);
	p = hp_put_varint(p, HP_REC_THREAD_NAME);
	p = hp_put_varint(p, b->index);
	p = put_string(p, name, n);
	hp_out_commit(p);
}

void hp_records_thread(struct hp_tbuf *b)
{
	uint8_t *p = hp_out_reserve(64);
	p = hp_put_varint(p, HP_REC_THREAD);
	p = hp_put_varint(p, b->index);
	p = hp_put_varint(p, (uint64_t)b->tid);
	p = hp_put_varint(p, b->create_time);
	hp_out_commit(p);
	char path[64] = "/proc/self/task/", name[32];
	char *e = hp_os_utoa(path + strlen(path), (uint64_t)b->tid);
	memcpy(e, "/comm", 6);
	ssize_t n = hp_os_read_file(path, name, sizeof(name));
	if (n > 0 && name[n - 1] == '\n')
		n--;
	if (n > 0)
		thread_name(b, name, (size_t)n);
}

/* The name the thread set (pthread_setname_np / PR_SET_NAME) since the last round. */
void hp_records_thread_rename(const struct hp_tbuf *b)
{
	char name[16];
	memcpy(name, b->name, sizeof(name));
	name[15] = '\0';
	thread_name(b, name, strlen(name));
}

/* Copies ring b's events up to the snapshot, as the producer encoded them, into one
 * EVENTS record and releases their ring space: no per-event work here. Returns 1 when
 * some were written. */
int hp_records_events(struct hp_tbuf *b, uint64_t upto)
{
	uint64_t tail = atomic_load_explicit(&b->tail, memory_order_relaxed);
	size_t n = (size_t)(upto - tail);
	if (!n)
		return 0;
	uint8_t *p = hp_out_reserve(3 * HP_VARINT_MAX_BYTES + n);
	p = hp_put_varint(p, HP_REC_EVENTS);
	p = hp_put_varint(p, b->index);
	p = hp_put_varint(p, n);
	size_t off = tail & (b->size - 1), first = b->size - off < n ? b->size - off : n;
	memcpy(p, b->ring + off, first);
	memcpy(p + first, b->ring, n - first);
	hp_out_commit(p + n);
	atomic_store_explicit(&b->tail, upto, memory_order_release);
	return 1;
}

void hp_records_small(unsigned tag, uint64_t a, int64_t b, int signed_b, uint64_t c, int n)
{
	uint8_t *p = hp_out_reserve(40);
	p = hp_put_varint(p, tag);
	p = hp_put_varint(p, a);
	if (n > 1)
		p = signed_b ? hp_put_svarint(p, b) : hp_put_varint(p, (uint64_t)b);
	if (n > 2)
		p = hp_put_varint(p, c);
	hp_out_commit(p);
}

void hp_records_text(unsigned tag, uint64_t time, const char *s, size_t n)
{
	if (n > HP_MAX_STRING)
		n = HP_MAX_STRING;
	uint8_t *p = hp_out_reserve(32 + n);
	p = hp_put_varint(p, tag);
	p = hp_put_varint(p, time);
	p = put_string(p, s, n);
	hp_out_commit(p);
}
