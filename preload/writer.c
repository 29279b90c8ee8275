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
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <heapprof/trace_format.h>

#include "attach.h"
#include "clock.h"
#include "control.h"
#include "elfsym.h"
#include "fdguard.h"
#include "leakscan.h"
#include "modmap.h"
#include "options.h"
#include "os.h"
#include "real.h"
#include "recorder.h"
#include "records.h"
#include "stacktab.h"
#include "traceout.h"
#include "liveset.h"

#define RSS_PERIOD_NS 10000000u
/* Rounds every ROUND_PERIOD_NS (or when a ring fills): a round costs a walk of the
 * loader's list. The clock moves only at a round's start (round_locked), so a thread's
 * TICK comes first in its next EVENTS record: a request loop's records then repeat
 * byte for byte, where a TICK every millisecond put a different byte among them every
 * few hundred events (2.6 of bench's exception loop's 5 KB). Time is then as fine as
 * heaptrack's 10 ms timer; order within a thread stays exact. */
#define ROUND_PERIOD_NS 10000000u

/* A quiet thread's events wait in its ring until DEFER_BYTES of them are there, for at
 * most half of HEAPPROF_FLUSH_MS, and never past a round that cuts a frame on time.
 * Each EVENTS record starts a loop's bytes at a new place, and a ROUND or RSS record
 * between two is a few bytes that differ: one record where there were five (bench's
 * exception loop: its trace 15% smaller, median of 7 alternated runs). A busy ring
 * (busy_rings, a quarter of HP_RING_SIZE) always drains. */
#define DEFER_BYTES (64u << 10)
#define SYNC_PERIOD_NS 1000000000u

struct wring;

static struct {
	pthread_mutex_t lock;
	struct wring *rings; /* by hp_tbuf.reg */
	size_t nrings;
	int thread_running;
	_Atomic int stop;
	uint32_t stacks_written;
	size_t modlog_pos;
	uint64_t watermark; /* of the last ROUND record */
	uint64_t last_rss_ns, last_sync_ns;
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
} w = {.lock = PTHREAD_MUTEX_INITIALIZER};

const char *hp_writer_path(void)
{
	return hp_out_path();
}

void hp_writer_abandon(void)
{
	pthread_mutex_lock(&w.lock);
	hp_out_abandon();
	pthread_mutex_unlock(&w.lock);
}

/* The writer's state of each thread buffer, by the buffer's reg. */
struct wring {
	uint64_t snap_head; /* the head this round reads up to */
	uint64_t drain_to;  /* ring position a full drain must reach */
	int snapped;	    /* in this round: 1 live, 2 dead (its last events) */
	uint32_t announced; /* index + 1 of the THREAD record written */
	unsigned name_written;
	/* The round that last emptied the ring, 0 before: its start (no event still in the
	 * ring is older, so a ROUND's watermark may not pass it while the ring waits) and
	 * when it ran (the ring waits at most half of HEAPPROF_FLUSH_MS). */
	uint64_t emptied_at, emptied_ns;
};

/* b's entry (the table grows to hold it), or NULL when it cannot grow: writing fails. */
static struct wring *wring_of(const struct hp_tbuf *b)
{
	if (b->reg < w.nrings)
		return &w.rings[b->reg];
	size_t n = w.nrings ? w.nrings : 64;
	while (n <= b->reg)
		n *= 2;
	struct wring *v = hp_os_map(n * sizeof *v);
	if (!v) {
		hp_state_fail("cannot track the thread buffers", ENOMEM);
		return NULL;
	}
	if (w.rings) {
		memcpy(v, w.rings, w.nrings * sizeof *v);
		hp_os_unmap(w.rings, w.nrings * sizeof *v);
	}
	w.rings = v;
	w.nrings = n;
	return &w.rings[b->reg];
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
 * written first; modules are collected after the count. quiet_may_wait (the writer
 * thread's rounds): a quiet ring may keep its events (DEFER_BYTES); a sync, a flush or
 * a drain takes them all. Returns 1 when a ring still holds events below its drain_to
 * (see drain_locked). */
static int round_locked(int quiet_may_wait)
{
	uint64_t start = tick_now();
	uint64_t watermark = start;
	uint64_t mono = hp_clock_mono_ns(), flush_ns = (uint64_t)hp_options.flush_ms * 1000000u;
	int may_defer =
	    quiet_may_wait && mono - hp_out_last_frame_ns() + ROUND_PERIOD_NS < flush_ns;
	struct hp_tbuf *list = hp_rec_threads();
	for (struct hp_tbuf *b = list; b; b = b->next) {
		struct wring *r = wring_of(b);
		if (!r)
			return 0;
		int st = atomic_load_explicit(&b->state, memory_order_acquire);
		r->snapped =
		    st == HP_TBUF_LIVE || st == HP_TBUF_DEAD ? 1 + (st == HP_TBUF_DEAD) : 0;
		if (r->snapped)
			r->snap_head = atomic_load_explicit(&b->head, memory_order_acquire);
	}
	uint32_t published = hp_stacktab_published();
	if (!w.light && hp_modmap_changed()) {
		hp_modmap_refresh();
		w.modules_changed = 1;
	}
	hp_modmap_emit(&w.modlog_pos, hp_out_put, NULL);
	for (uint32_t id = w.stacks_written + 1; id <= published; id++)
		hp_records_stack(hp_stacktab_get(id));
	w.stacks_written = published;

	int drained = 0, pending = 0;
	for (struct hp_tbuf *b = list; b; b = b->next) {
		struct wring *r = &w.rings[b->reg];
		if (!r->snapped)
			continue;
		if (r->announced != b->index + 1) {
			hp_records_thread(b);
			r->announced = b->index + 1; /* a recycled buffer has a new index */
			r->name_written = 0;
		}
		unsigned seq = atomic_load_explicit(&b->name_seq, memory_order_acquire);
		if (seq != r->name_written) {
			hp_records_thread_rename(b);
			r->name_written = seq;
		}
		uint64_t waiting =
		    r->snap_head - atomic_load_explicit(&b->tail, memory_order_relaxed);
		if (may_defer && r->snapped == 1 && !r->drain_to && waiting &&
		    waiting < DEFER_BYTES &&
		    mono - r->emptied_ns + ROUND_PERIOD_NS < flush_ns / 2) {
			if (r->emptied_at < watermark)
				watermark = r->emptied_at;
			continue;
		}
		drained |= hp_records_events(b, r->snap_head);
		r->emptied_at = start;
		r->emptied_ns = mono;
		pending |= r->snap_head < r->drain_to;
		if (r->snapped == 2 &&
		    r->snap_head == atomic_load_explicit(&b->head, memory_order_acquire)) {
			hp_records_small(HP_REC_THREAD_EXIT, b->index, (int64_t)start, 0, 0, 2);
			r->snapped = 0;
			hp_rec_recycle(b);
		}
	}
	hp_control_emit(hp_out_put, NULL);
	if (drained && watermark > w.watermark) {
		hp_records_small(HP_REC_ROUND, watermark, 0, 0, 0, 1);
		w.watermark = watermark;
	}
	return pending && !hp_out_failed();
}

/* Rounds until every event published by now is written. Events published meanwhile by
 * threads still running need not wait. */
static void drain_locked(void)
{
	for (struct hp_tbuf *b = hp_rec_threads(); b; b = b->next)
		if (wring_of(b))
			w.rings[b->reg].drain_to =
			    atomic_load_explicit(&b->head, memory_order_acquire);
	while (round_locked(0))
		;
	for (size_t i = 0; i < w.nrings; i++)
		w.rings[i].drain_to = 0;
}

enum { ERR_NONE, ERR_WRITING, ERR_READY, ERR_DONE };

static void emit_error(const char *msg)
{
	hp_records_text(HP_REC_ERROR, hp_clock_trace(hp_clock_now()), msg, strlen(msg));
}

static void emit_pending_error(void)
{
	if (atomic_load(&w.error_pending) == ERR_READY && !hp_out_failed()) {
		emit_error(w.error_msg);
		atomic_store(&w.error_pending, ERR_DONE);
	}
}

void hp_writer_error(const char *msg)
{
	if (hp_out_failed())
		hp_control_close(1); /* the file is gone: heapprof mark has nothing to reach */
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
		if (hp_out_is_open()) {
			emit_pending_error();
			hp_out_frame();
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
		hp_records_rss();
		hp_control_poll();
	}
	if (now - w.last_sync_ns >= SYNC_PERIOD_NS) {
		w.last_sync_ns = now;
		hp_records_clock_sync();
	}
	if (hp_out_staged() &&
	    now - hp_out_last_frame_ns() >= (uint64_t)hp_options.flush_ms * 1000000u)
		hp_out_cut(); /* compressed meanwhile when there are compressor threads */
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

/* HEAPPROF_VERBOSE=1: the writing side's CPU time per event, which bench/ reads: the
 * writer thread's (the serial work per event) and the compressor threads' (parallel
 * with HEAPPROF_WRITERS > 1). Said by the exiting thread at the final END, so that an
 * exit racing the writer thread's wake-up cannot lose it. */
static uint64_t thread_cpu_ns(pthread_t t)
{
	clockid_t id;
	struct timespec ts;
	if (pthread_getcpuclockid(t, &id) || clock_gettime(id, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void say_cpu_part(const char *who, uint64_t ns, uint64_t ev)
{
	char a[24], b[24], c[24];
	*hp_os_utoa(a, ns / 1000) = 0;
	*hp_os_utoa(b, ev) = 0;
	*hp_os_utoa(c, ev ? ns * 100 / ev : 0) = 0; /* hundredths of a ns */
	char line[160];
	strcpy(line, who);
	strcat(line, ": ");
	strcat(line, a);
	strcat(line, " us CPU for ");
	strcat(line, b);
	strcat(line, " events, ns/event x100 = ");
	strcat(line, c);
	hp_os_say(line, NULL, NULL);
}

static void say_cpu(void)
{
	uint64_t ev = hp_rec_events();
	if (w.thread_running)
		say_cpu_part("writer thread", thread_cpu_ns(w.thread), ev);
	unsigned n = hp_out_compressors();
	if (n) {
		char who[40] = "compressor threads (";
		*hp_os_utoa(who + strlen(who), n) = 0;
		strcat(who, ")");
		say_cpu_part(who, hp_out_compressors_cpu_ns(), ev);
	}
}

static void *writer_main(void *arg)
{
	static int cxx_missing = 1;
	hp_guard_hide(); /* for good: the writer's allocations are the profiler's */
	prctl(PR_SET_NAME, "heapprof", 0, 0, 0);
	uint64_t last_round = 0;
	for (;;) {
		uint32_t seen = __atomic_load_n(&hp_rec_wake_word, __ATOMIC_ACQUIRE);
		pthread_mutex_lock(&w.lock);
		if (atomic_load(&w.stop) || hp_out_failed()) {
			/* With the writer go its compressors (set*id, detach, the final END):
			 * a later frame, if any, is compressed by the thread that cuts it. */
			hp_out_stop_compressors();
			pthread_mutex_unlock(&w.lock);
			break;
		}
		uint64_t now = hp_clock_mono_ns();
		int changed = 0;
		if (now - last_round >= ROUND_PERIOD_NS || busy_rings()) {
			last_round = now;
			round_locked(1);
			periodic_locked();
			changed = w.modules_changed;
			w.modules_changed = 0;
		}
		pthread_mutex_unlock(&w.lock);
		/* dlsym takes the loader's lock: never while holding ours. */
		if (changed && cxx_missing)
			cxx_missing = hp_real_resolve_late();
		hp_attach_poll(); /* heapprof -p: patch objects loaded since, or detach */
		if (!busy_rings())
			hp_os_futex_wait(&hp_rec_wake_word, seen, ROUND_PERIOD_NS);
	}
	return NULL;
}

static int open_trace(void)
{
	hp_records_open();
	int err = hp_out_create();
	if (err)
		return err;
	if (hp_options.verbose)
		hp_os_say("writing trace to '", hp_out_path(), "'");
	struct stat st;
	w.err_known = hp_options.announce && fstat(STDERR_FILENO, &st) == 0;
	if (w.err_known) {
		w.err_dev = st.st_dev;
		w.err_ino = st.st_ino;
	}
	w.announced = 0;
	hp_control_open(
	    hp_out_path()); /* without it, recording goes on: heapprof mark cannot reach */
	w.stacks_written = 0;
	w.modlog_pos = 0;
	w.watermark = 0;
	w.last_rss_ns = w.last_sync_ns = hp_clock_mono_ns();
	hp_records_header();
	hp_records_clock_sync();
	hp_records_rss(); /* a program shorter than RSS_PERIOD_NS still gets a peak */
	round_locked(0);
	hp_out_frame();
	return hp_out_failed() ? -EIO : 0;
}

int hp_writer_open(void)
{
	hp_state_set_fail_hook(hp_writer_error);
	if (hp_out_init())
		return -ENOMEM;
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
	if (hp_options.writers > 1 && hp_out_start_compressors(hp_options.writers))
		hp_os_say("cannot start compressor threads; the writer compresses alone", NULL,
			  NULL);
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
		suspend_restart = running && !atomic_load(&w.stop) && !hp_out_failed();
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
		if (!hp_out_failed() && atomic_load(&hp_state) == HP_STATE_RECORDING)
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
	const char *dir = hp_options.announce, *path = hp_out_path();
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
	if (hp_out_failed()) {
		pthread_mutex_unlock(&w.lock);
		return -EIO;
	}
	w.light = (what & HP_SYNC_LIGHT) != 0;
	uint64_t now = hp_clock_trace(hp_clock_now());
	if (what & HP_SYNC_FORK) {
		hp_records_small(HP_REC_FORK, now, arg, 0, 0, 2);
		pthread_mutex_unlock(&w.lock);
		return 0;
	}
	if (what & (HP_SYNC_EXIT | HP_SYNC_END | HP_SYNC_EXEC))
		drain_locked();
	else
		round_locked(0);
	if (what & HP_SYNC_EXIT)
		hp_records_small(HP_REC_EXIT, now, arg, 1, 0, 2);
	if (what & HP_SYNC_EXEC) {
		hp_records_text(HP_REC_EXEC, now, path ? path : "",
				path ? strnlen(path, PATH_MAX) : 0);
	}
	if (scan && w.leak_scan && !w.leak_done) {
		w.leak_done = 1;
		if (supp)
			hp_records_text(HP_REC_SUPPRESSIONS, hp_clock_trace(hp_clock_now()), supp,
					supp_len);
		clear_dead_stack();
		int err = hp_leakscan_at_exit(hp_clock_trace(hp_clock_now()), hp_records_put, NULL);
		if (err && !hp_out_failed()) {
			hp_os_say("leak scan failed: ", hp_os_strerror(-err), NULL);
			char msg[96] = "leak scan failed: ";
			size_t l = strlen(msg);
			strncpy(msg + l, hp_os_strerror(-err), sizeof(msg) - l - 1);
			emit_error(msg);
		}
	}
	if (what & HP_SYNC_END) {
		emit_pending_error();
		hp_records_rss(); /* the last sample, however short the run */
		hp_records_small(HP_REC_END, hp_clock_trace(hp_clock_now()),
				 (int64_t)hp_rec_events(), 0, hp_rec_lost(), 3);
	}
	hp_out_frame();
	w.light = 0;
	if (what & (HP_SYNC_FINAL | HP_SYNC_EXEC))
		hp_control_close(1);
	if ((what & HP_SYNC_FINAL) && hp_options.verbose && !atomic_load(&w.stop))
		say_cpu();
	if (what & HP_SYNC_FINAL)
		atomic_store(&w.stop, 1);
	int err = hp_out_failed() ? -EIO : 0;
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
	if (!hp_out_failed() && hp_out_is_open())
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
	hp_out_fork_child();
	hp_records_fork_child();
	if (w.rings) /* the child's trace announces its threads anew */
		memset(w.rings, 0, w.nrings * sizeof *w.rings);
	hp_control_fork_child();
	w.thread_running = 0;
	if (hp_out_failed())
		return -EIO;
	pthread_mutex_lock(&w.lock);
	int err = open_trace();
	pthread_mutex_unlock(&w.lock);
	return err ? err : hp_writer_start();
}
