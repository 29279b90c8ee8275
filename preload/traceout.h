/* The trace file: a staging buffer of whole records that becomes independent zstd
 * frames, every HEAPPROF_FLUSH_MS or at 1 MiB, and the file they are written to,
 * created with O_EXCL|O_NOFOLLOW and mode 0600. The only code that writes the trace.
 * Not thread-safe: the writer's lock serializes every call. */
#ifndef HP_TRACEOUT_H
#define HP_TRACEOUT_H

#include <stddef.h>
#include <stdint.h>

/* Headroom for the largest record: a full ring (512 KiB) or a 64 KiB cmdline. */
#define HP_OUT_STAGE_LIMIT (1u << 20)
#define HP_OUT_STAGE_CAP (HP_OUT_STAGE_LIMIT + (1u << 20))

/* The buffers and the zstd context. 0 or -ENOMEM (said on stderr). Once. */
int hp_out_init(void);

/* Creates the file from the HEAPPROF_OUTPUT template (".1", ".2"... before ".zst" when
 * it exists) and empties the stage. 0, or a negative errno after saying why. */
int hp_out_create(void);

const char *hp_out_path(void);

/* Room for n more bytes (n <= HP_OUT_STAGE_CAP - HP_OUT_STAGE_LIMIT): a frame is cut
 * first if needed. hp_out_commit() then takes the record ending at end. */
uint8_t *hp_out_reserve(size_t n);
void hp_out_commit(uint8_t *end);

/* A whole record (arg unused: the signature of modmap's and control's emitters). */
void hp_out_put(const uint8_t *rec, size_t len, void *arg);

/* Cuts a frame of what is staged: with compressor threads, hands it over to them. */
void hp_out_cut(void);

/* Cuts a frame and returns once every frame is written (END, exec, fork, suspension). */
void hp_out_frame(void);

/* HEAPPROF_WRITERS: n threads (n >= 2) compress and write the frames from now on;
 * stop waits for the last frame and joins them (set*id, the final END). 0 or -EAGAIN
 * (then the writer compresses alone). */
int hp_out_start_compressors(unsigned n);
void hp_out_stop_compressors(void);

/* The compressor threads running, and the CPU time they used (HEAPPROF_VERBOSE). */
unsigned hp_out_compressors(void);
uint64_t hp_out_compressors_cpu_ns(void);

/* Whether the stage holds records, and when the last frame was written (monotonic ns). */
size_t hp_out_staged(void);
uint64_t hp_out_last_frame_ns(void);

/* 1 while the file is open. */
int hp_out_is_open(void);

/* 1 once writing failed: the file is closed, recording stopped (said once). */
int hp_out_failed(void);

/* Stops writing for good: closes the file. */
void hp_out_abandon(void);

/* A fork child: the parent's file is the parent's; the child creates its own. */
void hp_out_fork_child(void);

#endif
