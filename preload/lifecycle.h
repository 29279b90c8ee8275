/* The recorder's life: start (first call or constructor), failure, fork, exec, exit,
 * and the final END written from the library destructor. */
#ifndef HP_LIFECYCLE_H
#define HP_LIFECYCLE_H

#include <sys/types.h>

/* Starts recording into the threads' buffers; called once by the first interposed call
 * (or the constructor) with the state INITIALIZING and the caller's allocations hidden.
 * Takes no lock of libc's but the loader's (recursive, in dlsym): it may run inside any
 * libc function that allocates. The constructor then opens the trace and starts the
 * writer thread. */
void hp_lifecycle_init(void);

/* The constructor's part of the start: the trace file, the fork and exit handlers, the
 * writer thread. Once; also called by heapprof_attach after the init. */
void hp_lifecycle_start(void);

/* Hooks called by interpose.c; each is a no-op when not recording, and in a vfork
 * child (which shares the parent's memory and must leave its trace alone). errno is
 * preserved. */
void hp_lifecycle_exec(const char *path); /* before an exec: EXEC + END, synchronously */
void hp_lifecycle_exit(int status);	  /* _exit/_Exit: EXIT + END, synchronously */
void hp_lifecycle_forked(pid_t child);	  /* parent side of fork(): FORK record */
void hp_lifecycle_modules_changed(void);  /* after dlopen/dlclose returned */
void hp_lifecycle_code_unloaded(void);	  /* after a dlclose that succeeded */

/* 1 while recording, in the process that records (not a vfork child). Thread-safe,
 * async-signal-safe. */
int hp_lifecycle_owner(void);

/* Around a set*id() call: begin stops the writer thread (writer.h) and returns a token
 * for end, which restarts it. No-ops outside the recording process. */
int hp_lifecycle_setxid_begin(void);
void hp_lifecycle_setxid_end(int token);

#endif
