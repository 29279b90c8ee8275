/* The trace file; see traceout.h.
 *
 * With HEAPPROF_WRITERS=N > 1, N compressor threads take the frames: the writer stages
 * records into one of SLOTS buffers, hands it over when it is cut and stages into the
 * next; each compressor compresses a frame into its own buffer and writes it when all
 * frames before it are written, so the file's order is the stage's. Waits are futexes
 * (a condition variable's wait is a cancellation point, and these run on application
 * threads too, in exit, exec and fork). */
#define _GNU_SOURCE
#include "traceout.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "clock.h"
#include "fdguard.h"
#include "modmap.h"
#include "options.h"
#include "os.h"
#include "state.h"

#define SLOTS 8

/* A frame handed over: frame seq lives in slot seq % SLOTS. */
struct slot {
	uint8_t *stage; /* HP_OUT_STAGE_CAP bytes, mapped on first use */
	size_t len;
};

struct compressor {
	pthread_t thread;
	ZSTD_CCtx *cctx;
	uint8_t *zbuf;
};

/* Frames go through three counters, each only growing: handed over by the writer,
 * taken by a compressor, written. Compressors take frames in order, so the frame every
 * other compressor waits for to be written is always being compressed. */
static struct {
	struct slot slot[SLOTS];
	struct compressor c[8];
	int n;	       /* compressor threads running; 0: the caller compresses */
	uint64_t next; /* the frame being staged, in slot next % SLOTS */
	_Atomic uint64_t handed, taken, done;
	uint32_t ready_word, done_word; /* futex words: handed and done moved */
	_Atomic int stop;
} pool;

static struct {
	int fd;
	_Atomic int failed;
	char path[PATH_MAX];
	uint64_t file_size, fsize_limit;
	ZSTD_CCtx *cctx;
	uint8_t *stage;
	size_t stage_len;
	uint8_t *zbuf;
	size_t zcap;
	uint64_t last_frame_ns;
} w = {.fd = -1};

static void set_params(ZSTD_CCtx *c)
{
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, hp_options.zstd_level);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	/* A request loop's events repeat at distances zstd's fast match finder does not
	 * reach; long-distance matching finds them (a third of the redis trace's size,
	 * bench/README.md) at no measurable cost. A frame fits a 2 MiB window. */
	ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching, 1);
	ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 21);
}

int hp_out_init(void)
{
	w.stage = hp_os_map(HP_OUT_STAGE_CAP);
	w.zcap = ZSTD_compressBound(HP_OUT_STAGE_CAP);
	w.zbuf = hp_os_map(w.zcap);
	w.cctx = ZSTD_createCCtx();
	if (!w.stage || !w.zbuf || !w.cctx) {
		hp_state_fail("cannot set up the writer", ENOMEM);
		return -ENOMEM;
	}
	set_params(w.cctx);
	return 0;
}

const char *hp_out_path(void)
{
	return w.path;
}

size_t hp_out_staged(void)
{
	return w.stage_len;
}

uint64_t hp_out_last_frame_ns(void)
{
	return w.last_frame_ns;
}

int hp_out_is_open(void)
{
	return w.fd >= 0;
}

int hp_out_failed(void)
{
	return w.failed;
}

void hp_out_fork_child(void)
{
	hp_fdguard_close(&w.fd);
	/* The compressors are the parent's; every frame was written before the fork. */
	pool.n = 0;
	atomic_store(&pool.handed, pool.next);
	atomic_store(&pool.taken, pool.next);
	atomic_store(&pool.done, pool.next);
}

/* Stops writing and recording: says "<verb> '<path>': <error>" once. */
static void fail(const char *verb, int err)
{
	if (w.failed)
		return;
	w.failed = 1;
	hp_fdguard_close(&w.fd);
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

void hp_out_abandon(void)
{
	w.failed = 1;
	hp_fdguard_close(&w.fd);
}

/* Compresses and writes one frame; the caller has the file to itself. */
static void write_frame(ZSTD_CCtx *cctx, uint8_t *zbuf, const uint8_t *stage, size_t len)
{
	if (w.failed)
		return;
	size_t clen = ZSTD_compress2(cctx, zbuf, w.zcap, stage, len);
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
	int err = hp_fdguard_write(&w.fd, zbuf, clen);
	if (err) {
		fail("cannot write", -err);
		return;
	}
	w.file_size += clen;
}

static void wake_all(uint32_t *word)
{
	__atomic_fetch_add(word, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* Until frame seq and all before it are written. */
static void wait_done(uint64_t seq)
{
	for (;;) {
		uint32_t d = __atomic_load_n(&pool.done_word, __ATOMIC_ACQUIRE);
		if (atomic_load(&pool.done) > seq)
			return;
		hp_os_futex_wait(&pool.done_word, d, 0);
	}
}

static void *compress_main(void *arg)
{
	struct compressor *c = arg;
	hp_guard_hide(); /* for good: zstd's allocations are the profiler's */
	prctl(PR_SET_NAME, "heapprof-zstd", 0, 0, 0);
	for (;;) {
		uint32_t seen = __atomic_load_n(&pool.ready_word, __ATOMIC_ACQUIRE);
		uint64_t t = atomic_load(&pool.taken);
		if (t == atomic_load(&pool.handed)) {
			if (atomic_load(&pool.stop))
				return NULL;
			hp_os_futex_wait(&pool.ready_word, seen, 0);
			continue;
		}
		if (!atomic_compare_exchange_weak(&pool.taken, &t, t + 1))
			continue;
		const struct slot *s = &pool.slot[t % SLOTS];
		size_t clen =
		    w.failed ? 0 : ZSTD_compress2(c->cctx, c->zbuf, w.zcap, s->stage, s->len);
		if (t)
			wait_done(t - 1); /* the file's order is the stage's */
		if (!w.failed && ZSTD_isError(clen)) {
			fail("cannot compress", EIO);
		} else if (!w.failed && w.file_size + clen > w.fsize_limit) {
			fail("cannot write", EFBIG);
		} else if (!w.failed) {
			int err = hp_fdguard_write(&w.fd, c->zbuf, clen);
			if (err)
				fail("cannot write", -err);
			else
				w.file_size += clen;
		}
		atomic_store(&pool.done, t + 1);
		wake_all(&pool.done_word);
	}
}

/* Until every frame handed over is written. */
static void wait_written(void)
{
	if (pool.next)
		wait_done(pool.next - 1);
}

/* Hands the staged frame to the compressors and stages into the next slot, once the
 * frame that used it SLOTS frames ago is written. */
static void hand_over(void)
{
	struct slot *s = &pool.slot[pool.next % SLOTS];
	s->len = w.stage_len;
	atomic_store(&pool.handed, ++pool.next);
	wake_all(&pool.ready_word);
	struct slot *n = &pool.slot[pool.next % SLOTS];
	if (pool.next >= SLOTS)
		wait_done(pool.next - SLOTS);
	if (!n->stage && !(n->stage = hp_os_map(HP_OUT_STAGE_CAP))) {
		wait_written(); /* no memory for another stage: stay on this one */
		n->stage = s->stage;
		s->stage = NULL;
	}
	w.stage = n->stage;
	w.stage_len = 0;
}

void hp_out_cut(void)
{
	if (w.failed || w.stage_len == 0) {
		w.stage_len = 0;
		return;
	}
	w.last_frame_ns = hp_clock_mono_ns();
	if (pool.n) {
		hand_over();
		return;
	}
	write_frame(w.cctx, w.zbuf, w.stage, w.stage_len);
	w.stage_len = 0;
}

void hp_out_frame(void)
{
	hp_out_cut();
	if (pool.n)
		wait_written();
}

int hp_out_start_compressors(unsigned n)
{
	if (pool.n || n < 2)
		return 0;
	if (n > sizeof pool.c / sizeof pool.c[0])
		n = sizeof pool.c / sizeof pool.c[0];
	pool.slot[pool.next % SLOTS].stage = w.stage; /* staging goes on in place */
	atomic_store(&pool.stop, 0);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < n; i++) {
		struct compressor *c = &pool.c[i];
		if (!c->cctx) {
			c->cctx = ZSTD_createCCtx();
			c->zbuf = hp_os_map(w.zcap);
			if (!c->cctx || !c->zbuf)
				break;
			set_params(c->cctx);
		}
		if (pthread_create(&c->thread, NULL, compress_main, c))
			break;
		pool.n++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return pool.n ? 0 : -EAGAIN;
}

unsigned hp_out_compressors(void)
{
	return (unsigned)pool.n;
}

uint64_t hp_out_compressors_cpu_ns(void)
{
	uint64_t sum = 0;
	for (int i = 0; i < pool.n; i++) {
		clockid_t id;
		struct timespec ts;
		if (pthread_getcpuclockid(pool.c[i].thread, &id) == 0 &&
		    clock_gettime(id, &ts) == 0)
			sum += (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	return sum;
}

void hp_out_stop_compressors(void)
{
	if (!pool.n)
		return;
	wait_written();
	atomic_store(&pool.stop, 1);
	wake_all(&pool.ready_word);
	for (int i = 0; i < pool.n; i++)
		pthread_join(pool.c[i].thread, NULL);
	pool.n = 0;
}

uint8_t *hp_out_reserve(size_t n)
{
	if (w.stage_len + n > HP_OUT_STAGE_CAP)
		hp_out_cut();
	return w.stage + w.stage_len;
}

void hp_out_commit(uint8_t *end)
{
	w.stage_len = (size_t)(end - w.stage);
	if (w.stage_len >= HP_OUT_STAGE_LIMIT)
		hp_out_cut();
}

void hp_out_put(const uint8_t *rec, size_t len, void *arg)
{
	uint8_t *p = hp_out_reserve(len);
	memcpy(p, rec, len);
	hp_out_commit(p + len);
}

int hp_out_create(void)
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
	w.stage_len = 0;
	w.last_frame_ns = hp_clock_mono_ns();
	return 0;
}
