/* The profiler's own descriptors (the trace file, /proc/self/statm), kept out of the
 * program's way: placed at a high number, moved before the program dup2()s onto them,
 * and checked (device and inode) before every write, so a number the program has
 * taken over is never written to. */
#ifndef HP_FDGUARD_H
#define HP_FDGUARD_H

#include <stddef.h>
#include <sys/types.h>

/* Moves fd to a high number (close-on-exec) and watches *fdp, which then holds it:
 * dup2/dup3 onto it move it elsewhere first (hp_fdguard_claim). 0 or a negative errno;
 * *fdp holds a usable descriptor either way (the original when it could not be moved).
 * Up to 4 watched descriptors. Thread-safe. */
int hp_fdguard_adopt(int *fdp, int fd);

/* Writes all n bytes to *fdp after checking that it still refers to the file adopted
 * there. -EBADF when it does not (the program closed or replaced it: *fdp is then
 * forgotten, -1, never closed), else 0 or a negative errno. Thread-safe. */
int hp_fdguard_write(int *fdp, const void *buf, size_t n);

/* Reads up to cap bytes from *fdp after the same check as hp_fdguard_write. Returns the
 * bytes read (0 at end of file), -EBADF when the number is no longer ours (then
 * forgotten), or a negative errno (-EAGAIN for an empty non-blocking pipe). */
ssize_t hp_fdguard_read(int *fdp, void *buf, size_t cap);

/* Closes *fdp when it is still ours (else only forgets it) and sets it to -1. */
void hp_fdguard_close(int *fdp);

/* Before dup2/dup3(old, newfd): when newfd is one of ours, moves ours to another high
 * number and returns newfd (now a spare duplicate of our file, which the real call
 * replaces); else -1. Pass the result to hp_fdguard_claimed. Async-signal-safe enough
 * for dup2 in a handler (a nested call from the lock holder does not wait). */
int hp_fdguard_claim(int newfd);

/* After the real dup2/dup3: when it failed (ok 0), closes the spare left by claim. */
void hp_fdguard_claimed(int spare, int ok);

/* In a fork child: the lock may have been held by a thread that is gone. */
void hp_fdguard_fork_child(void);

#endif
