/* The reachability leak scan at exit: see leakscan.h and docs/leak-check.md.
 *
 * The classification follows valgrind's memcheck/mc_leakcheck.c rule for rule:
 * lc_push_without_clique_if_a_chunk_ptr() for the root phase (a start pointer whose
 * prior node is a root or a Reachable block makes the target Reachable and rescans it;
 * any other pointer makes an Unreached target Possible; a Possible block's pointers are
 * never definite), lc_process_markstack() (is_prior_definite = state != Possible), the
 * clique loop of MC_(detect_memory_leaks)() over blocks in address order, and
 * lc_push_with_clique_if_a_chunk_ptr() (start and interior pointers alike pull an
 * Unreached block other than the leader into the clique, with its own clique's bytes),
 * find_chunk_for() for lookups (a zero-size block covers one byte). Memcheck's optional
 * heuristics (--leak-check-heuristics) are not applied. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mremap, dl_iterate_phdr */
#endif
#include "leakscan.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <heapprof/trace_format.h>

#include "os.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HP_NO_ASAN __attribute__((no_sanitize("address")))
#endif
#endif
#ifndef HP_NO_ASAN
#if defined(__SANITIZE_ADDRESS__)
#define HP_NO_ASAN __attribute__((no_sanitize_address))
#else
#define HP_NO_ASAN
#endif
#endif

#define NONE SIZE_MAX
#define PAGE_MASK_OF(ps) (~((uint64_t)(ps)-1))

static void *map_pages(size_t bytes)
{
	void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void unmap_pages(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes ? bytes : 1);
}

/* ---- classification ---------------------------------------------------------------- */

enum { F_PENDING = 1 << 0, F_NOSCAN = 1 << 1 };

struct scan {
	const struct hp_block *b;
	size_t n;
	uint64_t lo, span; /* every block lies in [lo, lo + span): a one-compare filter */
	uint8_t *cls;	   /* enum hp_leak_class; HP_LEAK_DEFINITE doubles as Unreached */
	uint8_t *flags;	   /* F_* */
	size_t *stack;	   /* mark stack: a block is on it at most once (F_PENDING) */
	size_t top;
	uint64_t *indirect; /* bytes of each leader's clique, or NULL when not wanted */
};

/* find_chunk_for(): the block containing v, a zero-size block covering its address. */
static inline size_t find(const struct scan *s, uint64_t v)
{
	if (v - s->lo >= s->span)
		return NONE;
	size_t lo = 0, hi = s->n; /* b[lo].addr <= v < b[hi].addr */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->b[mid].addr <= v)
			lo = mid;
		else
			hi = mid;
	}
	uint64_t size = s->b[lo].size ? s->b[lo].size : 1;
	return v - s->b[lo].addr < size ? lo : NONE;
}

static inline void push(struct scan *s, size_t i)
{
	if (!(s->flags[i] & F_PENDING)) {
		s->flags[i] |= F_PENDING;
		s->stack[s->top++] = i;
	}
}

/* lc_push_without_clique_if_a_chunk_ptr(). */
static void reach(struct scan *s, uint64_t v, int prior_definite)
{
	size_t i = find(s, v);
	if (i == NONE || s->cls[i] == HP_LEAK_REACHABLE)
		return;
	if (v == s->b[i].addr && prior_definite) {
		s->cls[i] = HP_LEAK_REACHABLE;
		push(s, i); /* rescan: what it points to may be upgraded too */
	} else if (s->cls[i] == HP_LEAK_DEFINITE) {
		s->cls[i] = HP_LEAK_POSSIBLE;
		push(s, i);
	}
}

/* lc_push_with_clique_if_a_chunk_ptr(). */
static void gather(struct scan *s, uint64_t v, size_t leader)
{
	size_t i = find(s, v);
	if (i == NONE || s->cls[i] != HP_LEAK_DEFINITE || i == leader)
		return;
	push(s, i);
	if (s->indirect) {
		/* A former leader joins with the clique it had gathered. */
		s->indirect[leader] += s->b[i].size + s->indirect[i];
		s->indirect[i] = 0;
	}
	s->cls[i] = HP_LEAK_INDIRECT;
}

/* Aligned words of [start, end). Reads other threads' stacks and heap blocks, which
 * ASan would flag as redzones: the leak scan of every conservative collector does. */
static HP_NO_ASAN void scan_range(struct scan *s, uint64_t start, uint64_t end, int prior_definite,
				  size_t leader)
{
	uint64_t lo = s->lo, span = s->span;
	for (uint64_t p = (start + 7) & ~(uint64_t)7; p + 8 <= end; p += 8) {
		uint64_t v = *(const volatile uint64_t *)(uintptr_t)p;
		if (v - lo >= span)
			continue;
		if (leader == NONE)
			reach(s, v, prior_definite);
		else
			gather(s, v, leader);
	}
}

/* lc_process_markstack(). */
static void drain(struct scan *s, size_t leader)
{
	while (s->top) {
		size_t i = s->stack[--s->top];
		s->flags[i] &= (uint8_t)~F_PENDING;
		if (s->flags[i] & F_NOSCAN)
			continue;
		scan_range(s, s->b[i].addr, s->b[i].addr + s->b[i].size,
			   s->cls[i] != HP_LEAK_POSSIBLE, leader);
	}
}

int hp_leakscan_run_cliques(const struct hp_block *blocks, size_t n,
			    const struct hp_leakscan_roots *roots, uint8_t *classes_io,
			    struct hp_leak_summary *sum, uint64_t *clique_bytes)
{
	if (sum)
		memset(sum, 0, sizeof *sum);
	if (!n)
		return 0;
	size_t scratch = n * sizeof(size_t) + n;
	void *mem = map_pages(scratch);
	if (!mem)
		return -ENOMEM;
	struct scan s = {
	    .b = blocks,
	    .n = n,
	    .cls = classes_io,
	    .stack = mem,
	    .flags = (uint8_t *)mem + n * sizeof(size_t),
	    .indirect = clique_bytes,
	};
	uint64_t hi = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t end = blocks[i].addr + (blocks[i].size ? blocks[i].size : 1);
		if (end < blocks[i].addr)
			end = UINT64_MAX; /* wraps: cannot be a real block; keep the filter sound */
		if (end > hi)
			hi = end;
		s.flags[i] = (classes_io[i] & HP_LEAKSCAN_NOSCAN) ? F_NOSCAN : 0;
		classes_io[i] = HP_LEAK_DEFINITE;
		if (clique_bytes)
			clique_bytes[i] = 0;
	}
	s.lo = blocks[0].addr;
	s.span = hi - s.lo;

	/* Roots, then everything reached from them (scan_memory_root_set()). */
	for (size_t r = 0; roots && r < roots->n; r++) {
		scan_range(&s, roots->ranges[r].start, roots->ranges[r].end, 1, NONE);
		drain(&s, NONE);
	}
	/* Each block still unreached, in address order, gathers its clique. */
	for (size_t i = 0; i < n; i++) {
		if (s.cls[i] != HP_LEAK_DEFINITE)
			continue;
		push(&s, i);
		drain(&s, i);
	}
	for (size_t i = 0; i < n; i++) {
		if (sum) {
			sum->bytes[s.cls[i]] += blocks[i].size;
			sum->blocks[s.cls[i]]++;
		}
		if (clique_bytes && s.cls[i] != HP_LEAK_DEFINITE)
			clique_bytes[i] = 0;
	}
	unmap_pages(mem, scratch);
	return 0;
}

int hp_leakscan_run(const struct hp_block *blocks, size_t n, const struct hp_leakscan_roots *roots,
		    uint8_t *classes_io, struct hp_leak_summary *sum)
{
	return hp_leakscan_run_cliques(blocks, n, roots, classes_io, sum, NULL);
}

/* ---- roots ------------------------------------------------------------------------- */

int hp_leakscan_roots_add(struct hp_leakscan_roots *roots, uint64_t start, uint64_t end)
{
	if (end <= start)
		return 0;
	if (roots->n == roots->cap) {
		size_t cap = roots->cap ? roots->cap * 2 : 256;
		struct hp_leakscan_range *r = map_pages(cap * sizeof *r);
		if (!r)
			return -ENOMEM;
		if (roots->n)
			memcpy(r, roots->ranges, roots->n * sizeof *r);
		unmap_pages(roots->ranges, roots->cap * sizeof *r);
		roots->ranges = r;
		roots->cap = cap;
	}
	roots->ranges[roots->n++] = (struct hp_leakscan_range){start, end};
	return 0;
}

void hp_leakscan_roots_release(struct hp_leakscan_roots *roots)
{
	unmap_pages(roots->ranges, roots->cap * sizeof *roots->ranges);
	memset(roots, 0, sizeof *roots);
}

/* Adds the mapped parts of [start, end): mincore() fails with ENOMEM on an unmapped
 * page, one syscall per 256 pages (per page only where a hole is). A page mapped but
 * unreadable (PROT_NONE) is not detected: the callers' ranges exclude stack guards. */
static int add_mapped(struct hp_leakscan_roots *roots, uint64_t start, uint64_t end)
{
	const uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);
	unsigned char vec[256];
	uint64_t run = 0; /* start of the current mapped run, 0 when none */
	int err = 0;
	for (uint64_t pg = start & PAGE_MASK_OF(ps); pg < end && !err;) {
		uint64_t chunk = 256 * ps;
		if (chunk > ((end - pg + ps - 1) & PAGE_MASK_OF(ps)))
			chunk = (end - pg + ps - 1) & PAGE_MASK_OF(ps);
		int mapped = mincore((void *)(uintptr_t)pg, chunk, vec) == 0;
		if (!mapped && chunk > ps) {
			chunk = ps; /* find the hole page by page */
			mapped = mincore((void *)(uintptr_t)pg, chunk, vec) == 0;
		}
		if (mapped && !run)
			run = pg > start ? pg : start;
		if (!mapped && run) {
			err = hp_leakscan_roots_add(roots, run, pg);
			run = 0;
		}
		pg += chunk;
	}
	if (run && !err)
		err = hp_leakscan_roots_add(roots, run, end);
	return err;
}

struct thread_slot {
	atomic_uint state; /* SLOT_FREE, SLOT_BUSY (being written), SLOT_READY */
	unsigned flags;
	pid_t tid;
	uintptr_t anchor; /* an address in the thread's stack, whose bounds the scan finds */
};
enum { SLOT_FREE, SLOT_BUSY, SLOT_READY };

/* In our own .bss, which is never a root; 96 KiB touched only as threads register. */
static struct thread_slot thread_slots[HP_LEAKSCAN_MAX_THREADS];
static atomic_uint thread_hint;
static atomic_uint unscanned; /* live threads whose registration failed */

/* Only an address of this frame is kept: the registration runs on the thread's first
 * event, maybe inside pthread_getattr_np or fopen, so the bounds are found at exit. */
__attribute__((noinline)) int hp_leakscan_thread_register(unsigned flags)
{
	uintptr_t anchor = (uintptr_t)__builtin_frame_address(0);
	unsigned start = atomic_load_explicit(&thread_hint, memory_order_relaxed);
	for (unsigned k = 0; k < HP_LEAKSCAN_MAX_THREADS; k++) {
		unsigned i = (start + k) % HP_LEAKSCAN_MAX_THREADS;
		unsigned expect = SLOT_FREE;
		if (!atomic_compare_exchange_strong_explicit(&thread_slots[i].state, &expect,
							     SLOT_BUSY, memory_order_acquire,
							     memory_order_relaxed))
			continue;
		thread_slots[i].flags = flags;
		thread_slots[i].anchor = anchor;
		thread_slots[i].tid = gettid();
		atomic_store_explicit(&thread_slots[i].state, SLOT_READY, memory_order_release);
		atomic_store_explicit(&thread_hint, i + 1, memory_order_relaxed);
		return (int)i;
	}
	atomic_fetch_add_explicit(&unscanned, 1, memory_order_relaxed);
	return -ENOSPC;
}

void hp_leakscan_thread_unregister(int slot)
{
	if (slot >= 0 && slot < HP_LEAKSCAN_MAX_THREADS)
		atomic_store_explicit(&thread_slots[slot].state, SLOT_FREE, memory_order_release);
	else if (slot < 0 && slot != HP_LEAKSCAN_NO_SLOT)
		atomic_fetch_sub_explicit(&unscanned, 1, memory_order_relaxed);
}

int hp_leakscan_incomplete(void)
{
	return atomic_load_explicit(&unscanned, memory_order_relaxed) != 0;
}

void hp_leakscan_fork_child(int keep)
{
	/* The other threads' stacks are still mapped in the child, as stale copies. */
	for (int i = 0; i < HP_LEAKSCAN_MAX_THREADS; i++)
		if (i != keep)
			atomic_store_explicit(&thread_slots[i].state, SLOT_FREE,
					      memory_order_relaxed);
	atomic_store(&unscanned, keep < 0 && keep != HP_LEAKSCAN_NO_SLOT);
}

struct phdr_ctx {
	struct hp_leakscan_roots *roots;
	uintptr_t self; /* an address of our code: its module is not a root */
	int err;
};

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct phdr_ctx *c = arg;
	(void)size;
	int self = 0;
	for (unsigned k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
		uintptr_t s = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && c->self - s < ph->p_memsz)
			self = 1;
	}
	if (self)
		return 0;
	for (unsigned k = 0; k < info->dlpi_phnum && !c->err; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
		uint64_t s = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
			c->err = add_mapped(c->roots, s, s + ph->p_memsz);
		/* This thread's static TLS of the module: for the main thread it lives in
		 * memory ld.so mapped, in no segment. Other threads' is in their stacks. */
		if (ph->p_type == PT_TLS && info->dlpi_tls_data)
			c->err =
			    hp_leakscan_roots_add(c->roots, (uintptr_t)info->dlpi_tls_data,
						  (uintptr_t)info->dlpi_tls_data + ph->p_memsz);
	}
	return c->err;
}

/* The user stack pointer of thread tid if it is blocked in a system call, from
 * /proc/self/task/<tid>/syscall ("nr a0 .. a5 sp pc"); 0 when it is running or unknown. */
static uintptr_t blocked_sp(pid_t tid)
{
	char path[64] = "/proc/self/task/", buf[256];
	memcpy(hp_os_utoa(path + strlen(path), (uint64_t)tid), "/syscall", 9);
	ssize_t len = hp_os_read_file(path, buf, sizeof buf - 1);
	if (len <= 0 || buf[0] < '0' || buf[0] > '9') /* "running", "-1 sp pc" */
		return 0;
	buf[len] = '\0';
	const char *f[9];
	unsigned k = 0;
	for (char *p = buf; *p && k < 9;) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		f[k++] = p;
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	if (k != 9 || f[7][0] != '0' || f[7][1] != 'x')
		return 0;
	uintptr_t sp = 0;
	for (const char *p = f[7] + 2; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
		sp = sp * 16 + (uintptr_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
	/* The x86-64 red zone below sp may hold a leaf function's live data. */
	return sp > 128 ? sp - 128 : 0;
}

int hp_leakscan_collect_roots(struct hp_leakscan_roots *roots, uintptr_t stack_lo, unsigned flags)
{
	if (!stack_lo)
		stack_lo = (uintptr_t)__builtin_frame_address(0);
	struct phdr_ctx c = {
	    .roots = roots,
	    .self = (flags & HP_LEAKSCAN_ROOTS_SELF) ? 0 : (uintptr_t)&add_module,
	};
	dl_iterate_phdr(add_module, &c);
	if (c.err)
		return c.err;

	/* The stacks' bounds, from /proc/self/maps: each registered thread's mapping, and
	 * this thread's (the last entry: stack_lo lies in it). */
	enum { N = HP_LEAKSCAN_MAX_THREADS + 1 };
	size_t bytes = 3 * N * sizeof(uintptr_t) + N * sizeof(unsigned);
	uintptr_t *anchor = map_pages(bytes), *lo = anchor + N, *hi = lo + N;
	if (!anchor)
		return -ENOMEM;
	unsigned *slot = (unsigned *)(hi + N), n = 0;
	for (unsigned i = 0; i < HP_LEAKSCAN_MAX_THREADS; i++)
		if (atomic_load_explicit(&thread_slots[i].state, memory_order_acquire) ==
		    SLOT_READY) {
			slot[n] = i;
			anchor[n++] = thread_slots[i].anchor;
		}
	anchor[n] = stack_lo;
	int err = hp_os_mappings_of(anchor, n + 1, lo, hi);
	int found_self = 0;
	for (unsigned k = 0; k < n && !err; k++) {
		const struct thread_slot *t = &thread_slots[slot[k]];
		if (!hi[k])
			continue;
		if (stack_lo - lo[k] < hi[k] - lo[k]) {
			found_self = 1;
			if (!(t->flags & HP_LEAKSCAN_THREAD_EXCLUDE))
				err = hp_leakscan_roots_add(roots, stack_lo, hi[k]);
		} else if (!(t->flags & HP_LEAKSCAN_THREAD_EXCLUDE)) {
			/* Blocked in a syscall (pause, a futex, read...), as threads at exit
			 * usually are: from its stack pointer up, as memcheck scans; its
			 * registers are not read. Else its whole stack, conservatively: that
			 * includes dead frames (ld.so's lazy-binding trampoline spills every
			 * vector register there), which can keep a lost block reachable. */
			uintptr_t sp = blocked_sp(t->tid);
			if (sp - lo[k] < hi[k] - lo[k])
				err = add_mapped(roots, sp, hi[k]);
			else
				err = add_mapped(roots, lo[k], hi[k]);
		}
	}
	if (!err && !found_self && hi[n])
		err = hp_leakscan_roots_add(roots, stack_lo, hi[n]);
	unmap_pages(anchor, bytes);
	return err;
}

/* ---- records ----------------------------------------------------------------------- */

int hp_leakscan_write_records(const struct hp_block *blocks, const uint8_t *classes, size_t n,
			      const struct hp_leak_summary *sum, uint64_t time, uint64_t flags,
			      hp_leakscan_put_fn put, void *ctx)
{
	uint8_t head[1 + 12 * HP_VARINT_MAX_BYTES], *p = head;
	p = hp_put_varint(p, HP_REC_LEAK_SCAN);
	p = hp_put_varint(p, time);
	p = hp_put_varint(p, flags);
	static const uint8_t order[4] = {HP_LEAK_DEFINITE, HP_LEAK_INDIRECT, HP_LEAK_POSSIBLE,
					 HP_LEAK_REACHABLE};
	for (unsigned k = 0; k < 4; k++) {
		p = hp_put_varint(p, sum->bytes[order[k]]);
		p = hp_put_varint(p, sum->blocks[order[k]]);
	}
	p = hp_put_varint(p, n);
	int err = put(ctx, head, (size_t)(p - head));
	if (err || !n)
		return err;

	size_t per = n < HP_LEAK_BLOCKS_PER_RECORD ? n : HP_LEAK_BLOCKS_PER_RECORD;
	size_t cap = 2 * HP_VARINT_MAX_BYTES + per * (HP_VARINT_MAX_BYTES + 1);
	uint8_t *buf = map_pages(cap);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err;) {
		size_t count = n - i < per ? n - i : per;
		uint64_t prev = 0;
		p = hp_put_varint(buf, HP_REC_LEAK_BLOCKS);
		p = hp_put_varint(p, count);
		for (size_t end = i + count; i < end; i++) {
			/* An inherited block (the parent's before a fork) has no key here: 0. */
			uint64_t key = blocks[i].key == HP_LIVESET_INHERITED ? 0 : blocks[i].key;
			p = hp_put_svarint(p, (int64_t)(key - prev));
			*p++ = classes[i]; /* a class is a one-byte varint */
			prev = key;
		}
		err = put(ctx, buf, (size_t)(p - buf));
	}
	unmap_pages(buf, cap);
	return err;
}

/* ---- at exit ----------------------------------------------------------------------- */

static inline uintptr_t stack_pointer(void)
{
	uintptr_t sp;
#if defined(__x86_64__)
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
#elif defined(__aarch64__)
	__asm__ volatile("mov %0, sp" : "=r"(sp));
#else
	volatile char here;
	sp = (uintptr_t)&here;
#endif
	return sp;
}

/* Marks blocks of 64 KiB or more that are not wholly mapped: a release the recorder
 * missed (a re-entrant call) of an mmap'd chunk must not crash the scan. */
static void mark_unmapped(const struct hp_block *b, uint8_t *cls, size_t n)
{
	const uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);
	unsigned char vec[256];
	for (size_t i = 0; i < n; i++) {
		cls[i] = 0;
		if (b[i].size < (64u << 10))
			continue;
		uint64_t end = b[i].addr + b[i].size;
		for (uint64_t pg = b[i].addr & PAGE_MASK_OF(ps); pg < end; pg += 256 * ps) {
			uint64_t len = end - pg < 256 * ps ? end - pg : 256 * ps;
			if (mincore((void *)(uintptr_t)pg, len, vec) != 0) {
				cls[i] = HP_LEAKSCAN_NOSCAN;
				break;
			}
		}
	}
}

__attribute__((noinline)) int hp_leakscan_at_exit(uint64_t time, hp_leakscan_put_fn put, void *ctx)
{
	/* Callee-saved registers of our callers go into this frame (unwind_init saves them
	 * all, setjmp the ones glibc does not mangle), so scanning from our stack pointer
	 * sees them; the frames of the functions called below lie under it. */
	jmp_buf regs;
	__builtin_unwind_init();
	setjmp(regs);
	uintptr_t sp = stack_pointer();

	struct hp_block *blocks = NULL;
	size_t n = 0;
	struct hp_leakscan_roots roots = {0};
	struct hp_leak_summary sum;
	uint8_t *cls = NULL;
	int err = hp_liveset_export_sorted(&blocks, &n);
	if (!err && n && !(cls = map_pages(n)))
		err = -ENOMEM;
	if (!err && n)
		err = hp_leakscan_collect_roots(&roots, sp, 0);
	if (!err) {
		mark_unmapped(blocks, cls, n);
		err = hp_leakscan_run(blocks, n, &roots, cls, &sum);
	}
	if (!err)
		err = hp_leakscan_write_records(
		    blocks, cls, n, &sum, time,
		    hp_leakscan_incomplete() ? HP_LEAK_SCAN_INCOMPLETE : 0, put, ctx);
	hp_leakscan_roots_release(&roots);
	unmap_pages(cls, n);
	hp_block_array_free(blocks, n);
	/* Keep regs alive until here: the compiler may not drop the spill. */
	__asm__ volatile("" : : "r"(&regs) : "memory");
	return err;
}
