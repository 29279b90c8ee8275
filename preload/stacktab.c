/* Stack interning; see stacktab.h.
 *
 * An open-addressing table of {hash, stack} slots. Readers load the table pointer and
 * each slot hash with acquire and compare frames only on a hash match: no lock, no
 * store. Inserts happen under a mutex: the stack is copied into an mmap'd arena, the
 * slot's stack pointer written, then its hash stored with release. Growing builds a
 * doubled table and swaps the pointer; old tables stay mapped (readers may still be in
 * them), which costs at most the size of the current table again. */
#include "stacktab.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "os.h"

struct slot {
	_Atomic uint64_t hash; /* 0: empty */
	struct hp_stack *stack;
};

struct table {
	size_t mask;
	size_t used;
	size_t map_size;
	struct slot slots[];
};

#define INITIAL_SLOTS 4096u
#define ARENA_CHUNK (4u << 20)
/* id -> stack: a directory of pages of pointers, so lookups never move. */
#define DIR_PAGE 4096u
#define DIR_PAGES 65536u

static _Atomic(struct table *) table;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint32_t published;
static struct hp_stack ***dir;
static unsigned char *arena;
static size_t arena_left;

/* Four lanes, combined at the end: one multiply chain through every frame cost a deep
 * stack ~6 cycles of latency a frame, on every allocation. */
static uint64_t hash_ips(const uintptr_t *ips, unsigned n)
{
	const uint64_t m = 0xff51afd7ed558ccdull;
	uint64_t h0 = 0x9e3779b97f4a7c15ull ^ n, h1 = 0xc2b2ae3d27d4eb4full;
	uint64_t h2 = 0x165667b19e3779f9ull, h3 = 0x27d4eb2f165667c5ull;
	unsigned i = 0;
	for (; i + 4 <= n; i += 4) {
		h0 = (h0 ^ ips[i]) * m;
		h1 = (h1 ^ ips[i + 1]) * m;
		h2 = (h2 ^ ips[i + 2]) * m;
		h3 = (h3 ^ ips[i + 3]) * m;
		h0 ^= h0 >> 32;
		h1 ^= h1 >> 32;
		h2 ^= h2 >> 32;
		h3 ^= h3 >> 32;
	}
	for (; i < n; i++) {
		h0 = (h0 ^ ips[i]) * m;
		h0 ^= h0 >> 32;
	}
	uint64_t h =
	    h0 ^ ((h1 << 16) | (h1 >> 48)) ^ ((h2 << 32) | (h2 >> 32)) ^ ((h3 << 48) | (h3 >> 16));
	h *= m;
	h ^= h >> 29;
	return h ? h : 1;
}

static struct table *table_new(size_t nslots)
{
	size_t size = sizeof(struct table) + nslots * sizeof(struct slot);
	struct table *t = hp_os_map(size);
	if (!t)
		return NULL;
	t->mask = nslots - 1;
	t->map_size = size;
	return t;
}

int hp_stacktab_init(void)
{
	if (!dir) {
		dir = hp_os_map(DIR_PAGES * sizeof(*dir));
		if (!dir)
			return -ENOMEM;
	}
	if (!atomic_load(&table)) {
		struct table *t = table_new(INITIAL_SLOTS);
		if (!t)
			return -ENOMEM;
		atomic_store(&table, t);
	}
	return 0;
}

static int same(const struct hp_stack *s, uint64_t h, const uintptr_t *ips, unsigned n)
{
	return s->hash == h && s->nframes == n && memcmp(s->ips, ips, n * sizeof(*ips)) == 0;
}

/* Lock-free probe: the id, or 0 on a miss. */
static uint32_t lookup(const struct table *t, uint64_t h, const uintptr_t *ips, unsigned n)
{
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		uint64_t sh = atomic_load_explicit(&t->slots[i].hash, memory_order_acquire);
		if (sh == 0)
			return 0;
		if (sh == h && same(t->slots[i].stack, h, ips, n))
			return t->slots[i].stack->id;
	}
}

static void place(struct table *t, struct hp_stack *s)
{
	size_t i = s->hash & t->mask;
	while (atomic_load_explicit(&t->slots[i].hash, memory_order_relaxed))
		i = (i + 1) & t->mask;
	t->slots[i].stack = s;
	atomic_store_explicit(&t->slots[i].hash, s->hash, memory_order_release);
	t->used++;
}

static struct table *grow(struct table *old)
{
	struct table *t = table_new((old->mask + 1) * 2);
	if (!t)
		return NULL;
	for (size_t i = 0; i <= old->mask; i++)
		if (atomic_load_explicit(&old->slots[i].hash, memory_order_relaxed))
			place(t, old->slots[i].stack);
	atomic_store_explicit(&table, t, memory_order_release);
	return t;
}

static struct hp_stack *arena_copy(uint64_t h, const uintptr_t *ips, unsigned n)
{
	size_t size = (sizeof(struct hp_stack) + n * sizeof(*ips) + 15) & ~(size_t)15;
	if (size > arena_left) {
		arena = hp_os_map(ARENA_CHUNK);
		if (!arena) {
			arena_left = 0;
			return NULL;
		}
		arena_left = ARENA_CHUNK;
	}
	struct hp_stack *s = (struct hp_stack *)arena;
	arena += size;
	arena_left -= size;
	s->hash = h;
	s->nframes = n;
	memcpy(s->ips, ips, n * sizeof(*ips));
	return s;
}

static HP_COLD uint32_t insert(uint64_t h, const uintptr_t *ips, unsigned n)
{
	uint32_t id = 0;
	pthread_mutex_lock(&lock);
	struct table *t = atomic_load_explicit(&table, memory_order_relaxed);
	if (!t)
		goto out;
	id = lookup(t, h, ips, n);
	if (id)
		goto out;
	uint32_t next = atomic_load_explicit(&published, memory_order_relaxed) + 1;
	if (next >= DIR_PAGE * DIR_PAGES)
		goto out;
	if ((t->used + 1) * 2 > t->mask + 1 && !(t = grow(t)))
		goto out;
	struct hp_stack **page = dir[next / DIR_PAGE];
	if (!page) {
		page = hp_os_map(DIR_PAGE * sizeof(*page));
		if (!page)
			goto out;
		dir[next / DIR_PAGE] = page;
	}
	struct hp_stack *s = arena_copy(h, ips, n);
	if (!s)
		goto out;
	s->id = next;
	page[next % DIR_PAGE] = s;
	place(t, s);
	atomic_store_explicit(&published, next, memory_order_release);
	id = next;
out:
	pthread_mutex_unlock(&lock);
	return id;
}

uint32_t hp_stacktab_intern(const uintptr_t *ips, unsigned n)
{
	uint64_t h = hash_ips(ips, n);
	const struct table *t = atomic_load_explicit(&table, memory_order_acquire);
	uint32_t id = t ? lookup(t, h, ips, n) : 0;
	return id ? id : insert(h, ips, n);
}

uint32_t hp_stacktab_published(void)
{
	return atomic_load_explicit(&published, memory_order_acquire);
}

const struct hp_stack *hp_stacktab_get(uint32_t id)
{
	return dir[id / DIR_PAGE][id % DIR_PAGE];
}

void hp_stacktab_lock(void)
{
	pthread_mutex_lock(&lock);
}

void hp_stacktab_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

void hp_stacktab_fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
}
