/* Frames, frame buffers and the site key (frame.h). */
#include "frame.h"

#include <string.h>

#include "array.h"

const char *hp_basename(const char *path)
{
	if (!path)
		return NULL;
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int hp_stack_reserve(struct hp_stack *st, size_t need)
{
	return hp_array_reserve((void **)&st->v, &st->cap, need, sizeof *st->v, 64);
}

int hp_stack_push(struct hp_stack *st, const struct hp_frame *f)
{
	if (hp_stack_reserve(st, st->n + 1))
		return -ENOMEM;
	st->v[st->n++] = *f;
	return 0;
}

void hp_stack_release(struct hp_stack *st)
{
	free(st->v);
	memset(st, 0, sizeof *st);
}

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * FNV_PRIME;
	return h;
}

/* A string and its terminator, so that ("ab", "c") and ("a", "bc") differ; NULL hashes
 * as a lone 0xff byte, which no string ends with. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
	if (!s)
		return (h ^ 0xff) * FNV_PRIME;
	return fnv_bytes(h, s, strlen(s) + 1);
}

/* Little-endian bytes, whatever the host. */
static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * FNV_PRIME;
	return h;
}

/* splitmix64's finalizer: FNV's low bits are weak, and callers mask keys for tables. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static int symbolized(const struct hp_frame *f)
{
	return f->function || f->file;
}

uint64_t hp_frame_key(const struct hp_frame *f)
{
	uint64_t h = FNV_OFFSET;
	if (symbolized(f)) {
		h = fnv_bytes(h, "S", 1);
		h = fnv_str(h, f->function);
		h = fnv_str(h, hp_basename(f->file));
		h = fnv_u64(h, f->line);
	} else {
		h = fnv_bytes(h, "A", 1);
		h = fnv_str(h, hp_basename(f->module_path));
		h = fnv_u64(h, f->address);
	}
	return mix(h);
}

uint64_t hp_stack_key_add(uint64_t key, uint64_t frame_key)
{
	return mix(key ^ frame_key) + 0x9e3779b97f4a7c15ull;
}

uint64_t hp_stack_key(const struct hp_frame *frames, size_t n)
{
	uint64_t k = HP_STACK_KEY_INIT;
	for (size_t i = 0; i < n; i++)
		k = hp_stack_key_add(k, hp_frame_key(&frames[i]));
	return k;
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

int hp_frame_same(const struct hp_frame *a, const struct hp_frame *b)
{
	if (symbolized(a) != symbolized(b))
		return 0;
	if (symbolized(a))
		return a->line == b->line && same_str(a->function, b->function) &&
		       same_str(hp_basename(a->file), hp_basename(b->file));
	return a->address == b->address &&
	       same_str(hp_basename(a->module_path), hp_basename(b->module_path));
}

int hp_stack_equal(const struct hp_frame *a, size_t na, const struct hp_frame *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (!hp_frame_same(&a[i], &b[i]))
			return 0;
	return 1;
}
