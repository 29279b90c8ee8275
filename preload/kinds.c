/* A thread's allocation kinds; see kinds.h. */
#include "kinds.h"

#include <string.h>

#include "os.h"

#define INITIAL 256u

static inline size_t home(const struct hp_kinds *k, uint64_t size, uint32_t stack)
{
	uint64_t h = (size * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)stack * 0xc2b2ae3d27d4eb4full);
	return (size_t)(h >> 32) & k->mask;
}

static HP_COLD int grow(struct hp_kinds *k)
{
	size_t n = k->e ? (k->mask + 1) * 2 : INITIAL;
	struct hp_kind_entry *e = hp_os_map(n * sizeof *e);
	if (!e)
		return -1;
	struct hp_kind_entry *old = k->e;
	size_t old_n = old ? k->mask + 1 : 0;
	k->e = e;
	k->mask = n - 1;
	for (size_t i = 0; i < old_n; i++) {
		if (!old[i].id)
			continue;
		size_t j = home(k, old[i].size, old[i].stack);
		while (k->e[j].id)
			j = (j + 1) & k->mask;
		k->e[j] = old[i];
	}
	hp_os_unmap(old, old_n * sizeof *old);
	return 0;
}

uint32_t hp_kinds_find(struct hp_kinds *k, uint64_t size, uint32_t stack, int *nomem)
{
	if (HP_UNLIKELY(((size_t)k->count + 1) * 2 > (k->e ? k->mask + 1 : 0)) && grow(k)) {
		*nomem = 1;
		return 0;
	}
	size_t i = home(k, size, stack);
	for (;; i = (i + 1) & k->mask) {
		struct hp_kind_entry *e = &k->e[i];
		if (HP_LIKELY(e->id && e->size == size && e->stack == stack))
			return e->id;
		if (!e->id) {
			*e = (struct hp_kind_entry){size, stack, ++k->count};
			return 0;
		}
	}
}

void hp_kinds_clear(struct hp_kinds *k)
{
	if (k->e)
		memset(k->e, 0, (k->mask + 1) * sizeof *k->e);
	k->count = 0;
}

void hp_kinds_release(struct hp_kinds *k)
{
	hp_os_unmap(k->e, k->e ? (k->mask + 1) * sizeof *k->e : 0);
	k->e = NULL;
	k->mask = 0;
	k->count = 0;
}
