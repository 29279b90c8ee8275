/* Loaded modules: path, build-id, load bias and PT_LOAD segments, kept as a log of
 * MODULE / MODULE_UNLOAD records the writer copies out in order. */
#ifndef HP_MODMAP_H
#define HP_MODMAP_H

#include <stddef.h>
#include <stdint.h>

/* Reads the main executable's path; 0 or a negative errno. Start only. */
int hp_modmap_init(void);

/* Path of the main executable (readlink /proc/self/exe). */
const char *hp_modmap_exe(void);

/* Collects the loaded modules with dl_iterate_phdr into private memory (no profiler
 * lock held), then, under the modmap mutex, logs the new ones and the vanished ones.
 * Thread-safe. Returns 0 or a negative errno. */
int hp_modmap_refresh(void);

/* 1 when the loader's add/sub counters moved since the last refresh (one cheap
 * dl_iterate_phdr call). Thread-safe. */
int hp_modmap_changed(void);

/* Calls emit for each log record from *pos on, in order, and advances *pos; the
 * modmap mutex is held meanwhile. Thread-safe. */
void hp_modmap_emit(size_t *pos, void (*emit)(const uint8_t *rec, size_t len, void *arg),
		    void *arg);

void hp_modmap_lock(void);
void hp_modmap_unlock(void);
void hp_modmap_fork_child(void);

#endif
