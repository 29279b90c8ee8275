/* Return-address arrays -> dense stack ids (from 1). Each distinct stack is stored
 * once; the writer emits STACK records for ids up to hp_stacktab_published(). */
#ifndef HP_STACKTAB_H
#define HP_STACKTAB_H

#include <stdint.h>

struct hp_stack {
	uint64_t hash;
	uint32_t id;
	uint32_t nframes;
	uintptr_t ips[];
};

/* Maps the first table; 0 or a negative errno. Not thread-safe (start only). */
int hp_stacktab_init(void);

/* The id of ips[0..n), interning it on first sight; 0 when out of memory.
 * Thread-safe: a known stack costs a hash and one probe with no lock; a new one takes
 * the table mutex (never held while unwinding). Not async-signal-safe. */
uint32_t hp_stacktab_intern(const uintptr_t *ips, unsigned n);

/* Highest id whose stack is complete (acquire). Thread-safe. */
uint32_t hp_stacktab_published(void);

/* The stack with this id (1 <= id <= published). Thread-safe. */
const struct hp_stack *hp_stacktab_get(uint32_t id);

/* fork(): prepare takes the mutex, parent unlocks, child reinitializes it. */
void hp_stacktab_lock(void);
void hp_stacktab_unlock(void);
void hp_stacktab_fork_child(void);

#endif
