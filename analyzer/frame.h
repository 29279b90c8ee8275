/* The one frame of the analyzer: a source-level frame of an allocation stack, as the
 * symbolizer fills it, the model stores it and every report prints it; and the site key,
 * the rule by which two stacks are "the same place in the code" across two traces.
 *
 * Site key rule (docs/analyzer-model.md): a stack's key is a 64-bit hash over its frames
 * in order, innermost first, each frame taken as
 *   - (function, last path component of file, line) when it has a function or a file;
 *   - (last path component of the module, module-relative address) otherwise.
 * Addresses, ips, columns, the inlined flag and directories do not count, so the same
 * code built twice (another layout, another checkout) gives the same key as long as its
 * lines did not move; an unsymbolized frame matches only within one build. Equal stacks
 * have equal keys; hp_stack_equal() rules out a collision. The hash is FNV-1a over the
 * bytes with a 64-bit finalizer per frame: stable across runs, hosts and versions of
 * heapprof (a change would be a change of the JSON-visible key, so it is tested). */
#ifndef HP_FRAME_H
#define HP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Strings are NULL when unknown and owned by whoever filled the frame (the model's
 * symbolizer): valid as long as the model. An address inside inlined code gives several
 * frames of one location: the inlined callee first (inlined = 1), then each caller up to
 * the real function (inlined = 0); they share ip, module, address and location. */
struct hp_frame {
	uint64_t ip;		 /* the return address as recorded (runtime) */
	uint64_t address;	 /* module-relative; the ip when module < 0 */
	int32_t module;		 /* index into hp_profile.modules; -1 in no known module */
	uint32_t location;	 /* index into hp_profile.locations */
	const char *module_path; /* modules[module].path; NULL when module < 0 */
	const char *function;	 /* demangled */
	const char *mangled;	 /* the linkage name when it differs from function, else NULL */
	const char *file;	 /* source file as the debug info names it */
	unsigned line;		 /* 0 when unknown */
	unsigned column;	 /* 0 when unknown */
	int inlined;		 /* 1: inlined into the next frame */
};

/* A growable array of frames (a stack being read); zero-initialize, then hp_stack_release. */
struct hp_stack {
	struct hp_frame *v;
	size_t n, cap;
};

/* Makes room for `need` frames. Returns 0 or -ENOMEM. */
int hp_stack_reserve(struct hp_stack *st, size_t need);

/* Appends a frame. Returns 0 or -ENOMEM. */
int hp_stack_push(struct hp_stack *st, const struct hp_frame *f);

void hp_stack_release(struct hp_stack *st);

#define HP_STACK_KEY_INIT 0x6a09e667f3bcc908ull

/* The key of one frame under the rule above. Pure; thread-safe. */
uint64_t hp_frame_key(const struct hp_frame *f);

/* Folds the key of the next frame (innermost first) into a stack key started at
 * HP_STACK_KEY_INIT. Pure. */
uint64_t hp_stack_key_add(uint64_t key, uint64_t frame_key);

/* The key of frames[0..n) (innermost first). Pure; thread-safe. */
uint64_t hp_stack_key(const struct hp_frame *frames, size_t n);

/* 1 when two frames are equal under the rule above, else 0. */
int hp_frame_same(const struct hp_frame *a, const struct hp_frame *b);

/* 1 when two stacks are equal under the rule above (then their keys are equal), else 0. */
int hp_stack_equal(const struct hp_frame *a, size_t na, const struct hp_frame *b, size_t nb);

/* Returns the file name part of a path ("libc.so.6" for "/lib/libc.so.6"); NULL for NULL. */
const char *hp_basename(const char *path);

#ifdef __cplusplus
}
#endif
#endif
