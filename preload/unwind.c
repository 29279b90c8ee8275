/* Stack capture with libunwind's unw_backtrace: it walks with a per-thread cache of
 * frame descriptions, about 20-40 ns a frame once warm, with no unw_step loop here. */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "unwind.h"

#include <link.h>
#include <libunwind.h>
#include <pthread.h>

#include "recorder.h"
#include "unwind_cfa.h"
#include "unwind_fp.h"

__thread struct hp_thread_stack hp_thread_stack;

/* pthread_getattr_np reads /proc/self/maps for the main thread and may allocate:
 * once per thread, hidden from the recorder. */
HP_COLD int hp_unwind_load_thread_stack(void)
{
	pthread_attr_t attr;
	void *addr = NULL;
	size_t size = 0;
	hp_rec_hide();
	int ok = pthread_getattr_np(pthread_self(), &attr) == 0;
	if (ok) {
		ok = pthread_attr_getstack(&attr, &addr, &size) == 0 && size;
		pthread_attr_destroy(&attr);
	}
	hp_rec_unhide();
	hp_thread_stack.state = ok ? 1 : -1;
	hp_thread_stack.lo = (uintptr_t)addr;
	hp_thread_stack.hi = (uintptr_t)addr + size;
	return ok ? 0 : -1;
}

/* The profiler's own text: leading frames inside it are dropped. */
static uintptr_t self_lo, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t target = (uintptr_t)data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (target >= lo && target < hi) {
			self_lo = lo;
			self_hi = hi;
			return 1;
		}
	}
	return 0;
}

void hp_unwind_self_range(uintptr_t *lo, uintptr_t *hi)
{
	if (!self_hi)
		dl_iterate_phdr(find_self, (void *)(uintptr_t)&hp_unwind);
	*lo = self_lo;
	*hi = self_hi;
}

void hp_unwind_set_self(uintptr_t lo, uintptr_t hi)
{
	self_lo = lo;
	self_hi = hi ? hi : 1; /* nonzero: known, not looked up again */
}

void hp_unwind_forget(void)
{
	hp_unwind_cfa_forget();
	hp_unwind_fp_forget();
}

void hp_unwind_init(void)
{
	uintptr_t lo, hi;
	hp_unwind_self_range(&lo, &hi);
	hp_unwind_fp_init();
	hp_unwind_cfa_init();
}

unsigned hp_unwind(uintptr_t *ips, unsigned max)
{
	/* A few extra slots for our own frames, which are dropped below. */
	enum { OWN = 8 };
	void **buf = (void **)ips;
	int n = unw_backtrace(buf, (int)max + OWN > 1024 + OWN ? 1024 + OWN : (int)max + OWN);
	if (n <= 0)
		return 0;
	unsigned skip = 0;
	while (skip < (unsigned)n && (uintptr_t)buf[skip] >= self_lo &&
	       (uintptr_t)buf[skip] < self_hi)
		skip++;
	unsigned count = (unsigned)n - skip;
	if (count > max)
		count = max;
	for (unsigned i = 0; i < count; i++)
		ips[i] = (uintptr_t)buf[skip + i];
	return count;
}
