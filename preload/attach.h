/* heapprof -p PID: the recorder loaded into a running process (by gdb, calling dlopen
 * and then heapprof_attach), which records from then on, and detaches again.
 *
 * Nothing binds to a library loaded that late, so heapprof_attach points the GOT slots
 * of every loaded object for the malloc family and the C++ operators at our entry points
 * (deepbind.c's patching), resolving the real functions in the global scope
 * (real.h); objects loaded later are patched by the writer thread within a round.
 * heapprof_detach has the writer thread put every slot back and stop recording with a
 * final END (gdb may have stopped the calling thread inside the recorder, holding its
 * locks). Blocks
 * allocated before the attach are unknown to the trace: their frees are FREE_UNKNOWN
 * and count nothing; the header carries HP_HDR_ATTACHED. The library stays loaded. */
#ifndef HP_ATTACH_H
#define HP_ATTACH_H

/* 1 when the library was preloaded or linked in (LD_PRELOAD names it, or its malloc is
 * the global binding), so that the constructor starts recording; 0 when it was loaded
 * into a running process (heapprof -p) and must wait for heapprof_attach. The
 * constructor only; takes no lock of libc's but the loader's, allocates nothing. */
int hp_attach_preloaded(void);

/* The constructor found the library loaded into a running process: until
 * heapprof_attach, a call that reaches an entry point anyway (gdb calling our malloc to
 * hold its arguments) is forwarded without starting the recorder (hp_attach_waiting). */
void hp_attach_loaded(void);
int hp_attach_waiting(void);

/* The writer thread, between rounds, holding no profiler lock: patches the objects
 * loaded since the last look when attached, or detaches when asked to. */
void hp_attach_poll(void);

#endif
