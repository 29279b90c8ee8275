/* Loaded modules; see modmap.h.
 *
 * The log is an array of {kind, offset, length} into an mmap'd record arena; MODULE
 * records are kept encoded, so a forked child re-emits them by resetting its position.
 * A refresh is applied only when its loader generation (dlpi_adds + dlpi_subs) is newer
 * than the last applied one, so a slow collector never resurrects a closed module. */
#define _GNU_SOURCE
#include "modmap.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <heapprof/trace_format.h>

#include "clock.h"
#include "os.h"

struct known {
	uint64_t name_hash;
	uintptr_t bias;
	const void *phdr;
	uint32_t id;
	int live;
	int seen;
};

struct log_entry {
	size_t off;
	size_t len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char exe_path[PATH_MAX];
static unsigned long applied_gen = ~0ul;
static _Atomic unsigned long last_gen = ~0ul;

#define MAX_KNOWN (1u << 16)
#define MAX_LOG (1u << 18)
#define ARENA_SIZE (64u << 20) /* reserved, touched as used */
static struct known *known;
static size_t nknown;
static struct log_entry *mlog;
static size_t nlog;
static uint8_t *arena;
static size_t arena_used;
static uint32_t next_id = 1;

/* One collected module inside the scratch buffer. */
struct coll {
	uint64_t name_hash;
	uintptr_t bias;
	const void *phdr;
	uint32_t body_len; /* MODULE record fields after the id */
	uint32_t size;	   /* of this entry */
	uint8_t body[];
};

struct scratch {
	uint8_t *buf;
	size_t cap, used;
	int overflow;
	unsigned long gen;
};

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

int hp_modmap_init(void)
{
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	exe_path[n > 0 ? n : 0] = '\0';
	if (!known) {
		known = hp_os_map(MAX_KNOWN * sizeof(*known));
		mlog = hp_os_map(MAX_LOG * sizeof(*mlog));
		arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (arena == MAP_FAILED)
			arena = NULL;
		if (!known || !mlog || !arena)
			return -ENOMEM;
	}
	return 0;
}

const char *hp_modmap_exe(void)
{
	return exe_path;
}

static size_t build_id(const struct dl_phdr_info *info, const uint8_t **out)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		size_t align = ph->p_align == 8 ? 8 : 4;
		const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const uint8_t *name = p + sizeof(*nh);
			const uint8_t *desc = name + ((nh->n_namesz + align - 1) & ~(align - 1));
			const uint8_t *next = desc + ((nh->n_descsz + align - 1) & ~(align - 1));
			if (next > end || next <= p)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0) {
				*out = desc;
				return nh->n_descsz;
			}
			p = next;
		}
	}
	return 0;
}

static int collect_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scratch *sc = arg;
	sc->gen = info->dlpi_adds + info->dlpi_subs;
	char resolved[PATH_MAX];
	const char *path = info->dlpi_name;
	if (!path || !*path) {
		path = sc->used == 0 ? exe_path : "";
	} else if (strncmp(path, "linux-vdso", 10) == 0 || strncmp(path, "linux-gate", 10) == 0) {
		path = "[vdso]";
	} else if (path[0] != '/' && realpath(path, resolved)) {
		path = resolved;
	}
	size_t plen = strnlen(path, PATH_MAX);
	const uint8_t *bid = NULL;
	size_t bidlen = build_id(info, &bid);
	size_t need = sizeof(struct coll) + plen + bidlen + 40 + HP_MAX_SEGMENTS * 30;
	need = (need + 15) & ~(size_t)15;
	if (sc->used + need > sc->cap) {
		sc->overflow = 1;
		return 1;
	}
	struct coll *c = (struct coll *)(sc->buf + sc->used);
	c->name_hash = hash_str(path, plen);
	c->bias = info->dlpi_addr;
	c->phdr = info->dlpi_phdr;
	uint8_t *p = c->body;
	p = hp_put_varint(p, plen);
	memcpy(p, path, plen);
	p += plen;
	p = hp_put_varint(p, bidlen);
	if (bidlen)
		memcpy(p, bid, bidlen);
	p += bidlen;
	p = hp_put_varint(p, info->dlpi_addr);
	unsigned nseg = 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		nseg += info->dlpi_phdr[i].p_type == PT_LOAD;
	if (nseg > HP_MAX_SEGMENTS)
		nseg = HP_MAX_SEGMENTS;
	p = hp_put_varint(p, nseg);
	for (int i = 0, k = 0; i < info->dlpi_phnum && k < (int)nseg; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		p = hp_put_varint(p, ph->p_vaddr);
		p = hp_put_varint(p, ph->p_memsz);
		p = hp_put_varint(p, ph->p_flags);
		k++;
	}
	c->body_len = (uint32_t)(p - c->body);
	c->size = (uint32_t)need;
	sc->used += need;
	return 0;
}

static int log_append(const uint8_t *rec, size_t len)
{
	if (nlog >= MAX_LOG || arena_used + len > ARENA_SIZE)
		return -ENOMEM;
	memcpy(arena + arena_used, rec, len);
	mlog[nlog].off = arena_used;
	mlog[nlog].len = len;
	arena_used += len;
	nlog++;
	return 0;
}

static void apply(const struct scratch *sc)
{
	for (size_t k = 0; k < nknown; k++)
		known[k].seen = 0;
	uint8_t head[32];
	for (size_t off = 0; off < sc->used;) {
		const struct coll *c = (const struct coll *)(sc->buf + off);
		off += c->size;
		size_t k;
		for (k = 0; k < nknown; k++)
			if (known[k].live && known[k].bias == c->bias && known[k].phdr == c->phdr &&
			    known[k].name_hash == c->name_hash)
				break;
		if (k < nknown) {
			known[k].seen = 1;
			continue;
		}
		if (nknown >= MAX_KNOWN)
			continue;
		uint8_t *p = hp_put_varint(head, HP_REC_MODULE);
		p = hp_put_varint(p, next_id);
		size_t hl = (size_t)(p - head);
		if (nlog >= MAX_LOG || arena_used + hl + c->body_len > ARENA_SIZE)
			continue;
		memcpy(arena + arena_used, head, hl);
		memcpy(arena + arena_used + hl, c->body, c->body_len);
		mlog[nlog].off = arena_used;
		mlog[nlog].len = hl + c->body_len;
		arena_used += hl + c->body_len;
		nlog++;
		known[nknown++] = (struct known){c->name_hash, c->bias, c->phdr, next_id++, 1, 1};
	}
	uint64_t now = hp_clock_trace(hp_clock_now());
	for (size_t k = 0; k < nknown; k++) {
		if (!known[k].live || known[k].seen)
			continue;
		known[k].live = 0;
		uint8_t *p = hp_put_varint(head, HP_REC_MODULE_UNLOAD);
		p = hp_put_varint(p, known[k].id);
		p = hp_put_varint(p, now);
		log_append(head, (size_t)(p - head));
	}
}

int hp_modmap_refresh(void)
{
	struct scratch sc = {.cap = 1u << 20};
	for (;;) {
		sc.buf = hp_os_map(sc.cap);
		if (!sc.buf)
			return -ENOMEM;
		sc.used = 0;
		sc.overflow = 0;
		dl_iterate_phdr(collect_one, &sc);
		if (!sc.overflow)
			break;
		hp_os_unmap(sc.buf, sc.cap);
		if (sc.cap >= (64u << 20))
			return -ENOMEM;
		sc.cap *= 2;
	}
	pthread_mutex_lock(&lock);
	if (applied_gen == ~0ul || sc.gen > applied_gen) {
		apply(&sc);
		applied_gen = sc.gen;
		atomic_store_explicit(&last_gen, sc.gen, memory_order_relaxed);
	}
	pthread_mutex_unlock(&lock);
	hp_os_unmap(sc.buf, sc.cap);
	return 0;
}

static int read_gen(struct dl_phdr_info *info, size_t size, void *arg)
{
	*(unsigned long *)arg = info->dlpi_adds + info->dlpi_subs;
	return 1;
}

int hp_modmap_changed(void)
{
	unsigned long gen = 0;
	dl_iterate_phdr(read_gen, &gen);
	return gen != atomic_load_explicit(&last_gen, memory_order_relaxed);
}

void hp_modmap_emit(size_t *pos, void (*emit)(const uint8_t *rec, size_t len, void *arg), void *arg)
{
	pthread_mutex_lock(&lock);
	for (; *pos < nlog; ++*pos)
		emit(arena + mlog[*pos].off, mlog[*pos].len, arg);
	pthread_mutex_unlock(&lock);
}

void hp_modmap_lock(void)
{
	pthread_mutex_lock(&lock);
}

void hp_modmap_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

void hp_modmap_fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
}
