/* Stack capture with libunwind's unw_backtrace: it walks with a per-thread cache of
 * frame descriptions, about 20-40 ns a frame once warm, with no unw_step loop here. */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "unwind.h"

#include <link.h>
#include <libunwind.h>

#include "unwind_fp.h"

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

void hp_unwind_init(void)
{
	uintptr_t lo, hi;
	hp_unwind_self_range(&lo, &hi);
	hp_unwind_fp_init();
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
