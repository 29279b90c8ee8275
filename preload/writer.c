/* The writer; see writer.h.
 *
 * Producers encode their events in the trace's own format as they record (recorder.c),
 * so the writer does no work per event: a round, under the round lock, snapshots every
 * ring's head, reads the published stack count, logs new modules, then writes MODULE
 * records, the STACK records up to that count, and each ring's bytes up to its snapshot
 * as one EVENTS record. A producer interns a stack (release) before publishing the
 * event that names it (release), so every STACK an event refers to is already counted;
 * modules are collected after the count, so every address of those stacks is covered.
 * Records go into a staging buffer that becomes one zstd frame every HEAPPROF_FLUSH_MS
 * or at 1 MiB, always on a record boundary. The writer also keeps the trace's clock,
 * hp_rec_tick, that producers stamp events with. */
#define _GNU_SOURCE
#include "writer.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include <heapprof/trace_format.h>

#include "clock.h"
#include "control.h"
#include "fdguard.h"
#include "elfsym.h"
#include "leakscan.h"
#include "modmap.h"
#include "options.h"
#include "os.h"
#include "real.h"
#include "recorder.h"
#include "stacktab.h"
#include "liveset.h"

#define STAGE_LIMIT (1u << 20)
/* Headroom for the largest record: a full ring (512 KiB) or a 64 KiB cmdline. */
#define STAGE_CAP (STAGE_LIMIT + (1u << 20))
#define RSS_PERIOD_NS 10000000u
#define SYNC_PERIOD_NS 1000000000u

static struct {
	pthread_mutex_t lock;
	int fd;
	int statm_fd;
	int failed;
	int thread_running;
	_Atomic int stop;
	char path[PATH_MAX];
	uint64_t file_size, fsize_limit;
	ZSTD_CCtx *cctx;
	uint8_t *stage;
	size_t stage_len;
	uint8_t *zbuf;
	size_t zcap;
	uint32_t stacks_written;
	size_t modlog_pos;
	uint64_t last_frame_ns, last_rss_ns, last_sync_ns;
	pthread_t thread;
	int leak_scan, leak_done;
	/* A sync on an application thread inside an allocator call (after the final END):
	 * no loader calls, whatever the caller holds. */
	int light;
	/* The loaded modules changed: the writer thread looks up what libc++ may now
	 * define (real.h), outside the lock. */
	int modules_changed;
	/* An internal failure waiting for an ERROR record (hp_writer_error). */
	_Atomic int error_pending;
	char error_msg[256];
	/* HEAPPROF_ANNOUNCE: stderr as it was when the trace was created, and whether the
	 * trace's name was said already. */
	dev_t err_dev;
	ino_t err_ino;
	int err_known, announced;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .statm_fd = -1};

const char *hp_writer_path(void)
{
	return w.path;
}

static void fail(const char *verb, int err)
{
	if (w.failed)
		return;
	w.failed = 1;
	hp_fdguard_close(&w.fd);
	hp_control_close(1);
	char what[PATH_MAX + 32];
	size_t n = strlen(verb);
	memcpy(what, verb, n);
	what[n++] = ' ';
	what[n++] = '\'';
	size_t pl = strnlen(w.path, PATH_MAX - 1);
	memcpy(what + n, w.path, pl);
	n += pl;
	what[n++] = '\'';
	what[n] = '\0';
	hp_state_fail(what, err);
}

void hp_writer_abandon(void)
{
	pthread_mutex_lock(&w.lock);
	w.failed = 1;
	hp_fdguard_close(&w.fd);
	pthread_mutex_unlock(&w.lock);
}

static void frame(void)
{
	if (w.failed || w.stage_len == 0) {
		w.stage_len = 0;
		return;
	}
	size_t clen = ZSTD_compress2(w.cctx, w.zbuf, w.zcap, w.stage, w.stage_len);
	w.stage_len = 0;
	w.last_frame_ns = hp_clock_mono_ns();
	if (ZSTD_isError(clen)) {
		fail("cannot compress", EIO);
		return;
	}
	/* Stop before the file size limit rather than meet SIGXFSZ: the host's signal
	 * dispositions are not ours to change. */
	if (w.file_size + clen > w.fsize_limit) {
		fail("cannot write", EFBIG);
		return;
	}
	int err = hp_fdguard_write(&w.fd, w.zbuf, clen);
	if (err) {
		fail("cannot write", -err);
		return;
	}
	w.file_size += clen;
}

/* Room for n more bytes in the staging buffer (a frame is cut first if needed). */
static uint8_t *reserve(size_t n)
{
	if (w.stage_len + n > STAGE_CAP)
		frame();
	return w.stage + w.stage_len;
}

static void commit(uint8_t *end)
{
	w.stage_len = (size_t)(end - w.stage);
	if (w.stage_len >= STAGE_LIMIT)
		frame();
}

static void emit_raw(const uint8_t *rec, size_t len, void *arg)
{
	uint8_t *p = reserve(len);
	memcpy(p, rec, len);
	commit(p + len);
}

/* hp_leakscan_put_fn over emit_raw. */
static int put_record(void *ctx, const void *rec, size_t len)
{
	emit_raw(rec, len, ctx);
	return w.failed ? -EIO : 0;
}

static uint8_t *put_string(uint8_t *p, const void *s, size_t n)
{
	p = hp_put_varint(p, n);
	memcpy(p, s, n);
	return p + n;
}

static void emit_header(void)
{
	static char cmdline[HP_MAX_STRING];
	ssize_t clen = hp_os_read_file("/proc/self/cmdline", cmdline, sizeof(cmdline));
	if (clen < 0)
		clen = 0;
	while (clen > 0 && cmdline[clen - 1] == '\0')
		clen--;
	const char *exe = hp_modmap_exe();
	uint8_t *p = reserve(HP_MAGIC_LEN + 256 + PATH_MAX + sizeof(cmdline));
	memcpy(p, HP_MAGIC, HP_MAGIC_LEN);
	p += HP_MAGIC_LEN;
	p = hp_put_varint(p, HP_FORMAT_VERSION);
	p = hp_put_varint(p, HP_REC_HEADER);
	p = hp_put_varint(p, (hp_clock.tsc ? HP_HDR_CLOCK_TSC : 0) |
				 (hp_options.sample_bytes ? HP_HDR_SAMPLED : 0));
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
	commit(p);
}

static void emit_clock_sync(void)
{
	uint8_t *p = reserve(32);
	p = hp_put_varint(p, HP_REC_CLOCK_SYNC);
	p = hp_put_varint(p, hp_clock_ticks());
	p = hp_put_varint(p, hp_clock_mono_ns());
	commit(p);
}

static void emit_rss(void)
{
	char buf[128];
	ssize_t n = w.statm_fd >= 0 ? hp_os_pread(w.statm_fd, buf, sizeof(buf) - 1, 0) : -1;
	if (n <= 0)
		return;
	buf[n] = '\0';
	const char *s = buf;
	while (*s && *s != ' ')
		s++;
	uint64_t pages = 0;
	for (s++; *s >= '0' && *s <= '9'; s++)
		pages = pages * 10 + (uint64_t)(*s - '0');
	uint8_t *p = reserve(32);
	p = hp_put_varint(p, HP_REC_RSS);
	p = hp_put_varint(p, hp_clock_trace(hp_clock_now()));
	p = hp_put_varint(p, pages * (uint64_t)sysconf(_SC_PAGESIZE));
	commit(p);
}

static void emit_stack(const struct hp_stack *s)
{
	uint8_t *p = reserve(32 + (size_t)s->nframes * HP_VARINT_MAX_BYTES);
	p = hp_put_varint(p, HP_REC_STACK);
	p = hp_put_varint(p, s->id);
	p = hp_put_varint(p, s->nframes);
	uintptr_t prev = 0;
	for (unsigned i = 0; i < s->nframes; i++) {
		p = hp_put_svarint(p, (int64_t)(s->ips[i] - prev));
		prev = s->ips[i];
	}
	commit(p);
}

static void emit_thread_name(const struct hp_tbuf *b, const char *name, size_t n)
{
	uint8_t *p = reserve(64);
	p = hp_put_varint(p, HP_REC_THREAD_NAME);
	p = hp_put_varint(p, b->index);
	p = put_string(p, name, n);
	commit(p);
}

static void emit_thread(struct hp_tbuf *b)
{
	uint8_t *p = reserve(64);
	p = hp_put_varint(p, HP_REC_THREAD);
	p = hp_put_varint(p, b->index);
	p = hp_put_varint(p, (uint64_t)b->tid);
	p = hp_put_varint(p, b->create_time);
	commit(p);
	char path[64] = "/proc/self/task/", name[32];
	char *e = hp_os_utoa(path + strlen(path), (uint64_t)b->tid);
	memcpy(e, "/comm", 6);
	ssize_t n = hp_os_read_file(path, name, sizeof(name));
	if (n > 0 && name[n - 1] == '\n')
		n--;
	if (n > 0)
		emit_thread_name(b, name, (size_t)n);
}

/* The name the thread set (pthread_setname_np / PR_SET_NAME) since the last round. */
static void emit_thread_rename(struct hp_tbuf *b, unsigned seq)
{
	char name[16];
	memcpy(name, b->name, sizeof(name));
	name[15] = '\0';
	emit_thread_name(b, name, strlen(name));
	b->name_written = seq;
}

/* Copies ring b's events up to the snapshot, as the producer encoded them, into one
 * EVENTS record and releases their ring space: no per-event work here. Returns 1 when
 * some were written. */
static int emit_events(struct hp_tbuf *b)
{
	uint64_t tail = atomic_load_explicit(&b->tail, memory_order_relaxed);
	size_t n = (size_t)(b->snap_head - tail);
	if (!n)
		return 0;
	uint8_t *p = reserve(3 * HP_VARINT_MAX_BYTES + n);
	p = hp_put_varint(p, HP_REC_EVENTS);
	p = hp_put_varint(p, b->index);
	p = hp_put_varint(p, n);
	size_t off = tail & (b->size - 1), first = b->size - off < n ? b->size - off : n;
	memcpy(p, b->ring + off, first);
	memcpy(p + first, b->ring, n - first);
	commit(p + n);
	atomic_store_explicit(&b->tail, b->snap_head, memory_order_release);
	return 1;
}

static void emit_small(unsigned tag, uint64_t a, int64_t b, int signed_b, uint64_t c, int n)
{
	uint8_t *p = reserve(40);
	p = hp_put_varint(p, tag);
	p = hp_put_varint(p, a);
	if (n > 1)
		p = signed_b ? hp_put_svarint(p, b) : hp_put_varint(p, (uint64_t)b);
	if (n > 2)
		p = hp_put_varint(p, c);
	commit(p);
}

/* The trace's time, which producers read from hp_rec_tick. */
static uint64_t tick_now(void)
{
	uint64_t t = hp_clock_trace(hp_clock_now());
	uint64_t seen = atomic_load_explicit(&hp_rec_tick, memory_order_relaxed);
	if (t > seen)
		atomic_store_explicit(&hp_rec_tick, t, memory_order_relaxed);
	return t > seen ? t : seen;
}

/* One drain of every ring: the events published before the round started. A producer
 * interns a stack (release) before publishing an event that names it (release), and
 * the stacks are counted after the heads are read, so every STACK an event names is
 * written first; modules are collected after the count. Returns 1 when a ring still
 * holds events below its drain_to (see drain_locked). */
static int round_locked(void)
{
	uint64_t start = tick_now();
	struct hp_tbuf *list = hp_rec_threads();
	for (struct hp_tbuf *b = list; b; b = b->next) {
		int st = atomic_load_explicit(&b->state, memory_order_acquire);
		b->snapped =
		    st == HP_TBUF_LIVE || st == HP_TBUF_DEAD ? 1 + (st == HP_TBUF_DEAD) : 0;
		if (b->snapped)
			b->snap_head = atomic_load_explicit(&b->head, memory_order_acquire);
	}
	uint32_t published = hp_stacktab_published();
	if (!w.light && hp_modmap_changed()) {
		hp_modmap_refresh();
		w.modules_changed = 1;
	}
	hp_modmap_emit(&w.modlog_pos, emit_raw, NULL);
	for (uint32_t id = w.stacks_written + 1; id <= published; id++)
		emit_stack(hp_stacktab_get(id));
	w.stacks_written = published;

	int drained = 0, pending = 0;
	for (struct hp_tbuf *b = list; b; b = b->next) {
		if (!b->snapped)
			continue;
		if (b->announced != b->index + 1) {
			emit_thread(b);
			b->announced = b->index + 1;
		}
		unsigned seq = atomic_load_explicit(&b->name_seq, memory_order_acquire);
		if (seq != b->name_written)
			emit_thread_rename(b, seq);
		drained |= emit_events(b);
		pending |= b->snap_head < b->drain_to;
		if (b->snapped == 2 &&
		    b->snap_head == atomic_load_explicit(&b->head, memory_order_acquire)) {
			emit_small(HP_REC_THREAD_EXIT, b->index, (int64_t)start, 0, 0, 2);
			hp_rec_recycle(b);
		}
	}
	hp_control_emit(emit_raw, NULL);
	if (drained)
		emit_small(HP_REC_ROUND, start, 0, 0, 0, 1);
	return pending && !w.failed;
}

/* Rounds until every event published by now is written. Events published meanwhile by
 * threads still running need not wait. */
static void drain_locked(void)
{
	for (struct hp_tbuf *b = hp_rec_threads(); b; b = b->next)
		b->drain_to = atomic_load_explicit(&b->head, memory_order_acquire);
	while (round_locked())
		;
	for (struct hp_tbuf *b = hp_rec_threads(); b; b = b->next)
		b->drain_to = 0;
}

/* An ERROR record for a failure that left the file writable. */
static void emit_error(const char *msg)
{
	size_t n = strnlen(msg, HP_MAX_STRING);
	uint8_t *p = reserve(32 + n);
	p = hp_put_varint(p, HP_REC_ERROR);
	p = hp_put_varint(p, hp_clock_trace(hp_clock_now()));
	p = put_string(p, msg, n);
	commit(p);
}

enum { ERR_NONE, ERR_WRITING, ERR_READY, ERR_DONE };

static void emit_pending_error(void)
{
	if (atomic_load(&w.error_pending) == ERR_READY && !w.failed) {
		emit_error(w.error_msg);
		atomic_store(&w.error_pending, ERR_DONE);
	}
}

void hp_writer_error(const char *msg)
{
	int expected = ERR_NONE;
	if (!atomic_compare_exchange_strong(&w.error_pending, &expected, ERR_WRITING))
		return;
	size_t n = strnlen(msg, sizeof(w.error_msg) - 1);
	memcpy(w.error_msg, msg, n);
	w.error_msg[n] = '\0';
	atomic_store(&w.error_pending, ERR_READY);
	/* Busy when this thread holds it (a failure inside the writer) or another does:
	 * the next round writes the record then. */
	if (pthread_mutex_trylock(&w.lock) == 0) {
		if (w.fd >= 0) {
			emit_pending_error();
			frame();
		}
		pthread_mutex_unlock(&w.lock);
	}
}

static void periodic_locked(void)
{
	emit_pending_error();
	uint64_t now = hp_clock_mono_ns();
	if (now - w.last_rss_ns >= RSS_PERIOD_NS) {
		w.last_rss_ns = now;
		emit_rss();
		hp_control_poll();
	}
	if (now - w.last_sync_ns >= SYNC_PERIOD_NS) {
		w.last_sync_ns = now;
		emit_clock_sync();
	}
	if (w.stage_len && now - w.last_frame_ns >= (uint64_t)hp_options.flush_ms * 1000000u)
		frame();
}

/* Wakes the writer thread from its futex wait, to see stop or new work. */
static void wake_writer(void)
{
	__atomic_fetch_add(&hp_rec_wake_word, 1, __ATOMIC_RELEASE);
	hp_os_futex_wake(&hp_rec_wake_word);
}

static int busy_rings(void)
{
	for (struct hp_tbuf *b = hp_rec_threads(); b; b = b->next)
		if (atomic_load_explicit(&b->head, memory_order_relaxed) -
			atomic_load_explicit(&b->tail, memory_order_relaxed) >
		    b->size / 4)
			return 1;
	return 0;
}

/* Sum of the rings' heads: it moves while some thread records. */
static uint64_t heads_sum(void)
{
	uint64_t sum = 0;
	for (struct hp_tbuf *b = hp_rec_threads(); b; b = b->next)
		sum += atomic_load_explicit(&b->head, memory_order_relaxed);
	return sum;
}

/* Rounds every ROUND_PERIOD_NS (or when a ring fills): a round costs a walk of the
 * loader's list. In between, while threads record, the clock moves every TICK_NS. */
#define ROUND_PERIOD_NS 10000000u
#define TICK_NS 1000000u

/* HEAPPROF_VERBOSE=1: the writer thread's CPU time per event, which bench/ reads (the
 * serial work per event of the writing side). */
static void say_cpu(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return;
	uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	uint64_t ev = hp_rec_events();
	char a[24], b[24], c[24];
	*hp_os_utoa(a, ns / 1000) = 0;
	*hp_os_utoa(b, ev) = 0;
	*hp_os_utoa(c, ev ? ns * 100 / ev : 0) = 0; /* hundredths of a ns */
	char line[128] = "writer thread: ";
	strcat(line, a);
	strcat(line, " us CPU for ");
	strcat(line, b);
	strcat(line, " events, ns/event x100 = ");
	strcat(line, c);
	hp_os_say(line, NULL, NULL);
}

static void *writer_main(void *arg)
{
	static int cxx_missing = 1;
	hp_guard_hide(); /* for good: the writer's allocations are the profiler's */
	prctl(PR_SET_NAME, "heapprof", 0, 0, 0);
	uint64_t last_round = 0, last_heads = 0;
	for (;;) {
		uint32_t seen = __atomic_load_n(&hp_rec_wake_word, __ATOMIC_ACQUIRE);
		pthread_mutex_lock(&w.lock);
		if (atomic_load(&w.stop) || w.failed) {
			pthread_mutex_unlock(&w.lock);
			break;
		}
		uint64_t now = hp_clock_mono_ns(), heads = heads_sum();
		int active = heads != last_heads, changed = 0;
		last_heads = heads;
		if (now - last_round >= ROUND_PERIOD_NS || busy_rings()) {
			last_round = now;
			round_locked();
			periodic_locked();
			changed = w.modules_changed;
			w.modules_changed = 0;
		} else {
			tick_now();
		}
		pthread_mutex_unlock(&w.lock);
		/* dlsym takes the loader's lock: never while holding ours. */
		if (changed && cxx_missing)
			cxx_missing = hp_real_resolve_late();
		if (!busy_rings())
			hp_os_futex_wait(&hp_rec_wake_word, seen, active ? TICK_NS : RSS_PERIOD_NS);
	}
	if (hp_options.verbose)
		say_cpu();
	return NULL;
}

static int create_file(void)
{
	char tmpl_path[PATH_MAX];
	int err = hp_options_expand_output(hp_options.output, (long)getpid(), hp_modmap_exe(),
					   tmpl_path, sizeof(tmpl_path));
	if (err) {
		memcpy(w.path, hp_options.output, strnlen(hp_options.output, 64));
		w.path[strnlen(hp_options.output, 64)] = '\0';
		hp_state_fail("output path too long", ENAMETOOLONG);
		return err;
	}
	memcpy(w.path, tmpl_path, strlen(tmpl_path) + 1);
	for (unsigned n = 1;; n++) {
		w.fd =
		    hp_os_open(w.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (w.fd >= 0)
			break;
		err = errno;
		if (err != EEXIST || n > 10000 ||
		    hp_options_unique_name(tmpl_path, n, w.path, sizeof(w.path))) {
			fail("cannot create", err);
			return -err;
		}
	}
	hp_fdguard_adopt(&w.fd, w.fd); /* high, out of the program's dup2 range */
	struct rlimit rl;
	w.fsize_limit = UINT64_MAX;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		w.fsize_limit = rl.rlim_cur;
	w.file_size = 0;
	w.failed = 0;
	return 0;
}

static int open_trace(void)
{
	int statm = hp_os_open("/proc/self/statm", O_RDONLY | O_CLOEXEC, 0);
	if (statm >= 0)
		hp_fdguard_adopt(&w.statm_fd, statm);
	int err = create_file();
	if (err)
		return err;
	if (hp_options.verbose)
		hp_os_say("writing trace to '", w.path, "'");
	struct stat st;
	w.err_known = hp_options.announce && fstat(STDERR_FILENO, &st) == 0;
	if (w.err_known) {
		w.err_dev = st.st_dev;
		w.err_ino = st.st_ino;
	}
	w.announced = 0;
	hp_control_open(w.path); /* without it, recording goes on: heapprof mark cannot reach */
	w.stage_len = 0;
	w.stacks_written = 0;
	w.modlog_pos = 0;
	w.last_frame_ns = w.last_rss_ns = w.last_sync_ns = hp_clock_mono_ns();
	emit_header();
	emit_clock_sync();
	emit_rss(); /* a program shorter than RSS_PERIOD_NS still gets a peak */
	round_locked();
	frame();
	return w.failed ? -EIO : 0;
}

int hp_writer_open(void)
{
	hp_state_set_fail_hook(hp_writer_error);
	w.stage = hp_os_map(STAGE_CAP);
	w.zcap = ZSTD_compressBound(STAGE_CAP);
	w.zbuf = hp_os_map(w.zcap);
	w.cctx = ZSTD_createCCtx();
	if (!w.stage || !w.zbuf || !w.cctx) {
		hp_state_fail("cannot set up the writer", ENOMEM);
		return -ENOMEM;
	}
	ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_compressionLevel, hp_options.zstd_level);
	ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_checksumFlag, 1);
	/* A request loop's events repeat at distances zstd's fast match finder does not
	 * reach; long-distance matching finds them (a third of the redis trace's size,
	 * bench/README.md) at no measurable cost. A frame fits a 2 MiB window. */
	ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_enableLongDistanceMatching, 1);
	ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_windowLog, 21);
	w.leak_scan = hp_options.leak_scan;
	pthread_mutex_lock(&w.lock);
	int err = open_trace();
	pthread_mutex_unlock(&w.lock);
	return err;
}

int hp_writer_start(void)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	atomic_store(&w.stop, 0);
	int err = pthread_create(&w.thread, NULL, writer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		hp_state_fail("cannot start the writer thread", err);
		return -err;
	}
	w.thread_running = 1; /* joinable: hp_writer_suspend waits for it */
	return 0;
}

/* Nested or concurrent suspensions (two threads in set*id): the first stops the
 * thread, the last restarts it. */
static pthread_mutex_t suspend_lock = PTHREAD_MUTEX_INITIALIZER;
static int suspend_depth, suspend_restart;

void hp_writer_suspend(void)
{
	pthread_mutex_lock(&suspend_lock);
	if (suspend_depth++ == 0) {
		pthread_mutex_lock(&w.lock);
		int running = w.thread_running;
		suspend_restart = running && !atomic_load(&w.stop) && !w.failed;
		w.thread_running = 0;
		atomic_store(&w.stop, 1);
		pthread_mutex_unlock(&w.lock);
		if (running) {
			/* Bounded: the writer holds no lock of the caller's and waits at most a
			 * futex timeout; it sees stop at the top of its next round. */
			wake_writer();
			pthread_join(w.thread, NULL);
		}
	}
	pthread_mutex_unlock(&suspend_lock);
	/* Drained here meanwhile: a producer waiting for room (backpressure) gets it. */
	hp_writer_sync(HP_SYNC_FLUSH, 0, NULL);
}

void hp_writer_resume(void)
{
	int abandon = 0;
	pthread_mutex_lock(&suspend_lock);
	if (suspend_depth > 0 && --suspend_depth == 0 && suspend_restart) {
		suspend_restart = 0;
		/* Under the lock: a final END written meanwhile (exit on another thread) set
		 * the state to LATE or OFF, and no thread comes back after it. */
		pthread_mutex_lock(&w.lock);
		if (!w.failed && atomic_load(&hp_state) == HP_STATE_RECORDING)
			abandon = hp_writer_start() != 0;
		pthread_mutex_unlock(&w.lock);
	}
	pthread_mutex_unlock(&suspend_lock);
	if (abandon)
		hp_writer_abandon();
}

void hp_writer_suspend_fork_child(void)
{
	pthread_mutex_init(&suspend_lock, NULL);
	suspend_depth = suspend_restart = 0;
}

/* HEAPPROF_ANNOUNCE: "trace written to <path>" once, on the stderr the program started
 * with: a daemon that pointed descriptor 2 at a log or a socket gets nothing. */
static void announce(void)
{
	struct stat st;
	if (!w.err_known || fstat(STDERR_FILENO, &st) || st.st_dev != w.err_dev ||
	    st.st_ino != w.err_ino)
		return;
	const char *dir = hp_options.announce, *path = w.path;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1])
		path += n + 1;
	hp_os_say("trace written to ", path, NULL);
}

/* The program's __lsan_default_suppressions() text cut after a whole line to at most
 * HP_MAX_STRING bytes, or NULL. Runs the program's code: no profiler lock held. */
static const char *program_suppressions(size_t *len)
{
	const char *(*fn)(void);
	*(void **)&fn = dlsym(RTLD_DEFAULT, "__lsan_default_suppressions");
	if (!fn) /* defined but not exported, as LeakSanitizer users write it */
		*(void **)&fn = hp_elfsym_exe_function("__lsan_default_suppressions");
	const char *text = fn ? fn() : NULL;
	if (!text)
		return NULL;
	size_t n = strnlen(text, HP_MAX_STRING + 1);
	if (n > HP_MAX_STRING)
		for (n = HP_MAX_STRING; n > 0 && text[n - 1] != '\n'; n--)
			;
	*len = n;
	return text;
}

/* The round just run (round_locked) leaves block addresses in dead frames
 * below this one, where the scan's own frame then lies: the exiting thread's stack is
 * scanned from there up, so they would keep lost blocks reachable. 8 KiB covers the
 * replay's frames. */
static __attribute__((noinline)) void clear_dead_stack(void)
{
	char pad[8 << 10];
	memset(pad, 0, sizeof pad);
	__asm__ volatile("" : : "r"(pad) : "memory");
}

int hp_writer_sync(unsigned what, int64_t arg, const char *path)
{
	/* The leak scan runs once, here on the exiting thread (destructor or _exit), never
	 * on the writer thread: its stack and registers are roots. */
	int scan = (what & HP_SYNC_END) && (what & HP_SYNC_FINAL);
	static atomic_int supp_done;
	const char *supp = NULL;
	size_t supp_len = 0;
	if (scan && hp_options.leak_scan && !atomic_exchange(&supp_done, 1))
		supp = program_suppressions(&supp_len);
	pthread_mutex_lock(&w.lock);
	if (w.failed) {
		pthread_mutex_unlock(&w.lock);
		return -EIO;
	}
	w.light = (what & HP_SYNC_LIGHT) != 0;
	uint64_t now = hp_clock_trace(hp_clock_now());
	if (what & HP_SYNC_FORK) {
		emit_small(HP_REC_FORK, now, arg, 0, 0, 2);
		pthread_mutex_unlock(&w.lock);
		return 0;
	}
	if (what & (HP_SYNC_EXIT | HP_SYNC_END | HP_SYNC_EXEC))
		drain_locked();
	else
		round_locked();
	if (what & HP_SYNC_EXIT)
		emit_small(HP_REC_EXIT, now, arg, 1, 0, 2);
	if (what & HP_SYNC_EXEC) {
		size_t n = path ? strnlen(path, PATH_MAX) : 0;
		uint8_t *p = reserve(32 + n);
		p = hp_put_varint(p, HP_REC_EXEC);
		p = hp_put_varint(p, now);
		p = put_string(p, path ? path : "", n);
		commit(p);
	}
	if (scan && w.leak_scan && !w.leak_done) {
		w.leak_done = 1;
		if (supp) {
			uint8_t *p = reserve(32 + supp_len);
			p = hp_put_varint(p, HP_REC_SUPPRESSIONS);
			p = hp_put_varint(p, hp_clock_trace(hp_clock_now()));
			p = put_string(p, supp, supp_len);
			commit(p);
		}
		clear_dead_stack();
		int err = hp_leakscan_at_exit(hp_clock_trace(hp_clock_now()), put_record, NULL);
		if (err && !w.failed) {
			hp_os_say("leak scan failed: ", hp_os_strerror(-err), NULL);
			char msg[96] = "leak scan failed: ";
			size_t l = strlen(msg);
			strncpy(msg + l, hp_os_strerror(-err), sizeof(msg) - l - 1);
			emit_error(msg);
		}
	}
	if (what & HP_SYNC_END) {
		emit_pending_error();
		emit_rss(); /* the last sample, however short the run */
		emit_small(HP_REC_END, hp_clock_trace(hp_clock_now()), (int64_t)hp_rec_events(), 0,
			   hp_rec_lost(), 3);
	}
	frame();
	w.light = 0;
	if (what & (HP_SYNC_FINAL | HP_SYNC_EXEC))
		hp_control_close(1);
	if (what & HP_SYNC_FINAL)
		atomic_store(&w.stop, 1);
	int err = w.failed ? -EIO : 0;
	int say =
	    !err && (what & HP_SYNC_END) && (what & (HP_SYNC_FINAL | HP_SYNC_EXEC)) && !w.announced;
	if (say)
		w.announced = 1;
	pthread_mutex_unlock(&w.lock);
	if (say)
		announce();
	if (what & HP_SYNC_FINAL)
		wake_writer();
	return err;
}

void hp_writer_lock(void)
{
	pthread_mutex_lock(&w.lock);
	/* Drain first: the child inherits the live set with this thread's events up to the
	 * fork (other threads' events still in their rings are dropped in the child). */
	if (!w.failed && w.fd >= 0)
		drain_locked();
}

void hp_writer_unlock(void)
{
	pthread_mutex_unlock(&w.lock);
}

int hp_writer_fork_child(void)
{
	pthread_mutex_init(&w.lock, NULL);
	hp_fdguard_fork_child();
	hp_writer_suspend_fork_child();
	hp_fdguard_close(&w.fd);
	hp_fdguard_close(&w.statm_fd);
	hp_control_fork_child();
	w.thread_running = 0;
	if (w.failed)
		return -EIO;
	pthread_mutex_lock(&w.lock);
	int err = open_trace();
	pthread_mutex_unlock(&w.lock);
	return err ? err : hp_writer_start();
}
