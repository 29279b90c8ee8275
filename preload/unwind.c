/* Stack capture with libunwind's unw_backtrace: it walks with a per-thread cache of
 * frame descriptions, about 20-40 ns a frame once warm, with no unw_step loop here. */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "unwind.h"

#include <link.h>
#include <libunwind.h>
#include <pthread.h>
#include <sys/mman.h>

#include "recorder.h"
#include "unwind_cfa.h"
#include "unwind_fp.h"

__thread struct hp_thread_stack hp_thread_stack;

/* The stack pointer at process start, set by ld.so: the main thread's frames lie below. */
extern void *__libc_stack_end;

#define PAGE 4096u
#define MAX_STACK ((uintptr_t)1 << 30) /* farther from its top, sp is on another stack */

/* [lo, hi) is wholly mapped: mincore fails with ENOMEM on an unmapped page. */
static int mapped(uintptr_t lo, uintptr_t hi)
{
	unsigned char vec[256];
	for (uintptr_t p = lo; p < hi; p += sizeof(vec) * PAGE) {
		uintptr_t len = hi - p < sizeof(vec) * PAGE ? hi - p : sizeof(vec) * PAGE;
		if (mincore((void *)p, len, vec) != 0)
			return 0;
	}
	return 1;
}

/* glibc puts a thread's descriptor (pthread_self()) at the top of its stack block,
 * above every frame, for stacks it allocates and for ones the program gives it; the
 * main thread's descriptor lies elsewhere, but its frames are below __libc_stack_end.
 * Whichever sits just above sp is taken, then vouched for by mincore. */
static uintptr_t stack_top(uintptr_t sp)
{
	uintptr_t self = (uintptr_t)pthread_self();
	if (self > sp && self - sp < MAX_STACK)
		return self;
	uintptr_t start =
	    ((uintptr_t)__libc_stack_end + sizeof(void *) + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
	if (start > sp && start - sp < MAX_STACK)
		return start;
	return 0;
}

HP_COLD int hp_unwind_load_thread_stack(uintptr_t sp)
{
	struct hp_thread_stack *t = &hp_thread_stack;
	uintptr_t page = sp & ~(uintptr_t)(PAGE - 1);
	if (t->state == 0) {
		uintptr_t hi = stack_top(sp);
		if (!hi || !mapped(page, (hi + PAGE - 1) & ~(uintptr_t)(PAGE - 1))) {
			/* Maybe a signal stack: later walks may do better, but not forever. */
			if (++t->tries >= 16)
				t->state = -1;
			return -1;
		}
		t->lo = page;
		t->hi = hi;
		t->state = 1;
		return 0;
	}
	/* Deeper than ever (or on a signal stack): the pages between must be mapped. */
	if (sp >= t->hi || t->lo - page >= MAX_STACK || !mapped(page, t->lo))
		return -1;
	t->lo = page;
	return 0;
}

/* The profiler's own text: leading frames inside it are dropped. Read off our own
 * program headers (the linker's __ehdr_start): dl_iterate_phdr would take the loader's
 * lock on an application thread. */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));
static uintptr_t self_lo, self_hi;

void hp_unwind_self_range(uintptr_t *lo, uintptr_t *hi)
{
	if (!self_hi) {
		const ElfW(Ehdr) *eh = &__ehdr_start;
		const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
		uintptr_t bias = 0, code = (uintptr_t)&hp_unwind;
		for (unsigned i = 0; i < eh->e_phnum; i++)
			if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
				bias = (uintptr_t)eh - ph[i].p_vaddr;
		for (unsigned i = 0; i < eh->e_phnum; i++) {
			uintptr_t s = bias + ph[i].p_vaddr;
			if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X) &&
			    code - s < ph[i].p_memsz) {
				self_lo = s;
				self_hi = s + ph[i].p_memsz;
			}
		}
	}
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
