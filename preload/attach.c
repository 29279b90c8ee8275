/* Attaching to a running process and detaching; see attach.h.
 *
 * heapprof_attach runs on a thread of the program that gdb borrowed, with the program
 * running around it: the init is the one the first interposed call and the constructor
 * do when preloaded, then the GOT slots are patched one atomic store at a time, so a
 * thread calling malloc meanwhile goes either to the real function or to ours, both
 * correct. */
#define _GNU_SOURCE
#include "attach.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <heapprof/heapprof.h>

#include "deepbind.h"
#include "lifecycle.h"
#include "options.h"
#include "os.h"
#include "real.h"
#include "recorder.h"
#include "state.h"
#include "writer.h"

/* Our entry points for these names are what the GOT slots get. */
static const char *const names[] = {
    "malloc",
    "free",
    "calloc",
    "realloc",
    "reallocarray",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "valloc",
    "pvalloc",
    "malloc_usable_size",
    "_Znwm",
    "_Znam",
    "_ZnwmRKSt9nothrow_t",
    "_ZnamRKSt9nothrow_t",
    "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t",
    "_ZnwmSt11align_val_tRKSt9nothrow_t",
    "_ZnamSt11align_val_tRKSt9nothrow_t",
    "_ZdlPv",
    "_ZdaPv",
    "_ZdlPvm",
    "_ZdaPvm",
    "_ZdlPvRKSt9nothrow_t",
    "_ZdaPvRKSt9nothrow_t",
    "_ZdlPvSt11align_val_t",
    "_ZdaPvSt11align_val_t",
    "_ZdlPvmSt11align_val_t",
    "_ZdaPvmSt11align_val_t",
    "_ZdlPvSt11align_val_tRKSt9nothrow_t",
    "_ZdaPvSt11align_val_tRKSt9nothrow_t",
};
#define NFNS (sizeof names / sizeof names[0])

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct hp_deepbind_fn fns[NFNS];
static struct hp_got_log got;
static _Atomic int attached;
static unsigned long long seen_adds; /* the loader's count when last patched */

/* The file name part of a path. */
static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static _Atomic int waiting;

void hp_attach_loaded(void)
{
	atomic_store(&waiting, 1);
}

int hp_attach_waiting(void)
{
	return atomic_load_explicit(&waiting, memory_order_relaxed);
}

int hp_attach_preloaded(void)
{
	Dl_info info, bound;
	if (!dladdr((const void *)hp_attach_preloaded, &info) || !info.dli_fname)
		return 0;
	/* Linked in before libc (DT_NEEDED), or preloaded after nothing that defines it. */
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	if (m && dladdr(m, &bound) && bound.dli_fbase == info.dli_fbase)
		return 1;
	const char *pre = getenv("LD_PRELOAD");
	if (!pre)
		return 0;
	const char *self = base_of(info.dli_fname);
	size_t n = strlen(self);
	/* LD_PRELOAD: names separated by colons or spaces. */
	for (const char *p = pre; *p;) {
		while (*p == ':' || *p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ':' && *e != ' ')
			e++;
		const char *b = p;
		for (const char *q = p; q < e; q++)
			if (*q == '/')
				b = q + 1;
		if ((size_t)(e - b) == n && memcmp(b, self, n) == 0)
			return 1;
		p = e;
	}
	return 0;
}

/* Our own definitions of the names (not the global bindings, which are the program's). */
static int own_entry_points(void)
{
	Dl_info info;
	if (!dladdr((const void *)own_entry_points, &info) || !info.dli_fname)
		return -ENOENT;
	void *self = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
	if (!self)
		return -ENOENT;
	for (size_t i = 0; i < NFNS; i++) {
		fns[i].name = names[i];
		fns[i].fn = dlsym(self, names[i]);
		if (!fns[i].fn) {
			dlclose(self);
			return -ENOENT;
		}
	}
	(void)dlerror();
	dlclose(self); /* -z nodelete: we stay */
	return 0;
}

/* Another copy of the recorder (libheapprof.so preloaded, this being
 * libheapprof-attach.so) records this process already. */
static int other_recorder(void)
{
	int (*is_recording)(void);
	Dl_info theirs, ours;
	*(void **)&is_recording = dlsym(RTLD_DEFAULT, "heapprof_is_recording");
	(void)dlerror();
	return is_recording && dladdr((const void *)is_recording, &theirs) &&
	       dladdr((const void *)other_recorder, &ours) && theirs.dli_fbase != ours.dli_fbase &&
	       is_recording();
}

int heapprof_attach(const char *output)
{
	if (!output || output[0] != '/' || strnlen(output, PATH_MAX) == PATH_MAX)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	int err = 0;
	/* Preloaded, recording already, or attached once before (the recorder's state
	 * cannot start over in this process). */
	if (!hp_attach_waiting() || hp_state_now() != HP_STATE_UNINIT || other_recorder())
		err = -EALREADY;
	if (!err)
		err = own_entry_points();
	if (!err) {
		hp_real_use_global_scope();
		/* The first call's init, as if this were one; then the constructor's part,
		 * with the wrapper's output and the attached mode. */
		atomic_store(&waiting, 0);
		if (hp_rec_enter())
			hp_rec_leave();
		hp_options_attach(output);
		hp_lifecycle_start();
		if (!hp_lifecycle_owner())
			err = -EIO; /* it said why on stderr */
	}
	if (!err) {
		hp_guard_hide();
		seen_adds = hp_deepbind_adds();
		err = hp_deepbind_patch_all(fns, NFNS, &got);
		hp_guard_unhide();
		atomic_store(&attached, 1);
	}
	pthread_mutex_unlock(&lock);
	return err;
}

static _Atomic int detach_requested;

/* On the writer thread, which holds no lock of ours: every slot back, then the final
 * END (which stops the writer), then recording off. In that order: a program that sees
 * its slots back may exit at once, and its exit handlers wait for the trace's end only
 * while the state still says recording (lifecycle.c's owner()); with the state off
 * first, the process could die before the END was written, and with it the attached
 * events still in the rings (wrapper.attach's api case, once under ctest -j2). */
static void detach_now(void)
{
	pthread_mutex_lock(&lock);
	hp_deepbind_restore(&got);
	atomic_store(&attached, 0);
	pthread_mutex_unlock(&lock);
	hp_writer_sync(HP_SYNC_END | HP_SYNC_FINAL, 0, NULL);
	atomic_store(&hp_state, HP_STATE_OFF);
}

void hp_attach_poll(void)
{
	if (!atomic_load_explicit(&attached, memory_order_relaxed))
		return;
	if (atomic_load(&detach_requested)) {
		detach_now();
		return;
	}
	unsigned long long adds = hp_deepbind_adds();
	if (adds == seen_adds || pthread_mutex_trylock(&lock))
		return;
	if (atomic_load(&attached)) {
		seen_adds = adds;
		hp_deepbind_patch_all(fns, NFNS, &got);
	}
	pthread_mutex_unlock(&lock);
}

/* gdb may have stopped this thread anywhere, inside the recorder too, holding its
 * locks: the work is the writer thread's, within a round (the control FIFO goes when it
 * is done, which heapprof -p waits for). */
int heapprof_detach(void)
{
	if (!atomic_load(&attached) || atomic_exchange(&detach_requested, 1))
		return -ENODEV;
	__atomic_fetch_add(&hp_rec_wake_word, 1, __ATOMIC_RELEASE);
	hp_os_futex_wake(&hp_rec_wake_word);
	return 0;
}
