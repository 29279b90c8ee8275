/* Start, failure, fork, exec and exit; and the public runtime API (heapprof.h). */
#define _GNU_SOURCE
#include "lifecycle.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <heapprof/heapprof.h>
#include <heapprof/version.h>

#include "attach.h"
#include "clock.h"
#include "liveset.h"
#include "modmap.h"
#include "options.h"
#include "os.h"
#include "real.h"
#include "recorder.h"
#include "sampler.h"
#include "stacktab.h"
#include "unwind.h"
#include "writer.h"

static pid_t recording_pid;
static __thread int fork_locked;

static int state(void)
{
	return atomic_load_explicit(&hp_state, memory_order_relaxed);
}

/* Recording, and this is the process that records (not a vfork child). */
static int owner(void)
{
	return state() >= HP_STATE_RECORDING && getpid() == recording_pid;
}

int hp_lifecycle_owner(void)
{
	return owner();
}

/* owner(), and the calling thread may take the profiler's locks and allocate: not a
 * signal handler that interrupted the profiler or a real allocator call (which may hold
 * malloc's own locks). Such a handler's exec or _exit leaves the trace as a crash
 * would: readable up to its last frame. */
static int owner_free(void)
{
	return owner() && !hp_guard_busy();
}

/* Registered from our constructor, which ld.so runs before __libc_start_main
 * registers _dl_fini: so this usually runs after the destructor's END, and then
 * adds EXIT and another END (the last END counts). */
static void on_exit_handler(int status, void *arg)
{
	if (!owner())
		return;
	hp_guard_hide();
	unsigned what = HP_SYNC_EXIT;
	if (state() == HP_STATE_LATE)
		what |= HP_SYNC_END;
	hp_writer_sync(what, status, NULL);
	hp_guard_unhide();
}

static void fork_prepare(void)
{
	if (state() < HP_STATE_RECORDING)
		return;
	hp_guard_hide();
	hp_writer_lock();
	hp_modmap_lock();
	hp_stacktab_lock();
	hp_rec_lock();
	hp_sampler_lock();
	hp_liveset_lock();
	fork_locked = 1;
}

static void fork_parent(void)
{
	if (!fork_locked)
		return;
	fork_locked = 0;
	hp_liveset_unlock();
	hp_sampler_unlock();
	hp_rec_unlock();
	hp_stacktab_unlock();
	hp_modmap_unlock();
	hp_writer_unlock();
	hp_guard_unhide();
}

/* The child records into its own, self-contained file: the parent's buffered events
 * are dropped, every module and stack is written again. */
static void fork_child(void)
{
	if (!fork_locked)
		return;
	fork_locked = 0;
	hp_liveset_fork_child();
	hp_sampler_unlock();
	hp_rec_unlock();
	hp_stacktab_fork_child();
	hp_modmap_fork_child();
	recording_pid = getpid();
	hp_clock_rebase();
	hp_rec_fork_child();
	if (state() == HP_STATE_RECORDING && hp_writer_fork_child())
		atomic_store(&hp_state, HP_STATE_OFF);
	hp_guard_unhide();
}

/* The first interposed call, on whatever thread makes it and inside whatever libc
 * function it is made from: only what takes no lock of libc's (dlsym's is recursive)
 * and no cancellation point. Events are recorded into the threads' rings from here on;
 * the file and the writer thread wait for the constructor (hp_lifecycle_start). */
void hp_lifecycle_init(void)
{
	if (hp_attach_waiting()) { /* not before heapprof_attach: forward, and try again */
		atomic_store(&hp_state, HP_STATE_UNINIT);
		return;
	}
	hp_real_init();
	if (getauxval(AT_SECURE)) {
		atomic_store(&hp_state, HP_STATE_OFF);
		return;
	}
	hp_options_init();
	hp_clock_init(hp_options.clock);
	recording_pid = getpid();
	hp_unwind_init();
	hp_sampler_init(hp_options.sample_bytes);
	int err = hp_stacktab_init();
	if (!err)
		err = hp_rec_init();
	if (!err)
		err = hp_modmap_init();
	if (!err)
		err = hp_liveset_init();
	if (err) {
		hp_state_fail("cannot initialize", -err);
		return;
	}
	int expected = HP_STATE_INITIALIZING;
	atomic_compare_exchange_strong(&hp_state, &expected, HP_STATE_RECORDING);
}

/* The constructor's part, on the main thread inside the loader's initialization, where
 * libc's locks are free: the file, the fork and exit handlers, the writer thread. */
void hp_lifecycle_start(void)
{
	static int started;
	while (state() == HP_STATE_INITIALIZING) /* another thread's first call */
		sched_yield();
	if (started || !owner())
		return;
	started = 1;
	hp_guard_hide();
	if (!hp_writer_open()) {
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		on_exit(on_exit_handler, NULL);
		if (hp_writer_start())
			hp_writer_abandon();
		else
			hp_rec_writer_started();
	}
	hp_guard_unhide();
}

void hp_lifecycle_exec(const char *path)
{
	if (!owner_free())
		return;
	int saved = errno;
	hp_guard_hide();
	hp_writer_sync(HP_SYNC_EXEC | HP_SYNC_END, 0, path);
	hp_guard_unhide();
	errno = saved;
}

void hp_lifecycle_exit(int status)
{
	if (!owner_free())
		return;
	hp_guard_hide();
	atomic_store(&hp_state, HP_STATE_OFF);
	hp_writer_sync(HP_SYNC_EXIT | HP_SYNC_END | HP_SYNC_FINAL, status, NULL);
	hp_guard_unhide();
}

void hp_lifecycle_forked(pid_t child)
{
	if (!owner_free())
		return;
	int saved = errno;
	hp_guard_hide();
	hp_writer_sync(HP_SYNC_FORK, child, NULL);
	hp_guard_unhide();
	errno = saved;
}

int hp_lifecycle_setxid_begin(void)
{
	/* Not from inside the profiler (a signal handler on a thread holding its locks). */
	if (!owner() || !hp_rec_enter())
		return 0;
	int saved = errno;
	hp_writer_suspend();
	hp_rec_leave();
	errno = saved;
	return 1;
}

void hp_lifecycle_setxid_end(int token)
{
	if (!token)
		return;
	int saved = errno;
	hp_guard_hide();
	hp_writer_resume();
	hp_guard_unhide();
	errno = saved;
}

/* Other code may now be loaded where the closed object's was: what the unwinders
 * learned about its return addresses no longer holds. */
void hp_lifecycle_code_unloaded(void)
{
	hp_unwind_forget();
}

void hp_lifecycle_modules_changed(void)
{
	if (!owner())
		return;
	int saved = errno;
	hp_guard_hide();
	hp_modmap_refresh();
	hp_guard_unhide();
	errno = saved;
}

/* Starts recording before main when no allocation did it earlier, then opens the file
 * and starts the writer. */
__attribute__((constructor)) static void heapprof_ctor(void)
{
	/* Loaded into a running process (heapprof -p): heapprof_attach starts it. */
	if (state() == HP_STATE_UNINIT && !hp_attach_preloaded()) {
		hp_attach_loaded();
		return;
	}
	if (hp_rec_enter())
		hp_rec_leave();
	hp_lifecycle_start();
}

/* Runs in _dl_fini after exit() and static destructors of later objects: write the
 * final END, then keep recording in "late" mode, each event followed by another END. */
__attribute__((destructor)) static void heapprof_dtor(void)
{
	if (!owner())
		return;
	hp_guard_hide();
	atomic_store(&hp_state, HP_STATE_LATE);
	hp_writer_sync(HP_SYNC_END | HP_SYNC_FINAL, 0, NULL);
	hp_guard_unhide();
}

unsigned heapprof_version_number(void)
{
	return HEAPPROF_VERSION_NUMBER;
}

int heapprof_flush(void)
{
	if (!owner())
		return -ENODEV;
	hp_guard_hide();
	int err = hp_writer_sync(HP_SYNC_FLUSH, 0, NULL);
	hp_guard_unhide();
	return err;
}

int heapprof_is_recording(void)
{
	return state() >= HP_STATE_RECORDING;
}
