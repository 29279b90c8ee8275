/* heapprof trace format, mirrored from docs/trace-format.md (the authoritative spec).
 *
 * This header is the one thing the recorder and the analyzer share: record tags,
 * event opcodes, limits, and the varint primitives both sides must agree on.
 * Everything here is header-only so the preload and the analyzer link nothing in
 * common. */
#ifndef HEAPPROF_TRACE_FORMAT_H
#define HEAPPROF_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HP_MAGIC "HEAPPROF"
#define HP_MAGIC_LEN 8
#define HP_FORMAT_VERSION 3
#define HP_FORMAT_VERSION_MIN 1 /* oldest version readers accept */

/* Reader limits: a trace is untrusted input; anything larger is refused. */
#define HP_MAX_FRAME_CONTENT (16u << 20) /* decompressed bytes per zstd frame */
#define HP_MAX_STRING (64u << 10)
#define HP_MAX_FRAMES_PER_STACK 1024u
#define HP_MAX_SEGMENTS 64u
#define HP_VARINT_MAX_BYTES 10

/* Top-level records (docs/trace-format.md, "Record stream"). */
enum hp_record_tag {
	HP_REC_HEADER = 1,
	HP_REC_MODULE = 2,
	HP_REC_MODULE_UNLOAD = 3,
	HP_REC_STACK = 4,
	HP_REC_THREAD = 5,
	HP_REC_THREAD_NAME = 6,
	HP_REC_THREAD_EXIT = 7,
	HP_REC_EVENTS = 8,
	HP_REC_ROUND = 9,
	HP_REC_RSS = 10,
	HP_REC_CLOCK_SYNC = 11,
	HP_REC_FORK = 12,
	HP_REC_EXEC = 13,
	HP_REC_EXIT = 14,
	HP_REC_END = 15,
	HP_REC_ERROR = 16,
	HP_REC_LEAK_SCAN = 17,	  /* docs/leak-check.md */
	HP_REC_LEAK_BLOCKS = 18,  /* docs/leak-check.md */
	HP_REC_SUPPRESSIONS = 19, /* docs/leak-check.md */
	HP_REC_MARK = 20,	  /* v3: time, label (heapprof_mark, heapprof mark PID) */
	HP_REC_TAG_LIMIT	  /* first unknown tag */
};

/* HEADER flags. */
enum hp_header_flags {
	HP_HDR_CLOCK_TSC = 1 << 0, /* ticks are TSC cycles, else CLOCK_MONOTONIC ns */
	HP_HDR_SAMPLED = 1 << 1,   /* events are sampled (sample_bytes > 0) */
	HP_HDR_ATTACHED = 1 << 2,  /* v3: recording began in a running process (heapprof -p) */
};

/* MARK labels are cut to this many bytes. */
#define HP_MARK_LABEL_MAX 255u

/* LEAK_BLOCKS classes (docs/leak-check.md). */
enum hp_leak_class {
	HP_LEAK_REACHABLE = 0,
	HP_LEAK_POSSIBLE = 1,
	HP_LEAK_INDIRECT = 2,
	HP_LEAK_DEFINITE = 3,
};
#define HP_LEAK_BLOCKS_PER_RECORD 65536u
#define HP_LEAK_SCAN_INCOMPLETE 1u /* LEAK_SCAN flags: some thread stacks were not scanned */

/* Hot events of versions 1 and 2 inside an EVENTS record (version 3's are in
 * trace_codec.h): head = (dt << HP_OP_BITS) | op. Version 2 names blocks by slot,
 * version 1 by address. Fields:
 *
 *   op        version 2                                  version 1
 *   ALLOC     size, stack (slot: the free list's last)   size, stack, addr16_delta
 *   FREE      slot_delta                                 addr16_delta
 *   REALLOC   slot_delta, size, stack                    old16_delta, size, stack, new16_delta
 *   EXT       ext_op, then its fields                    the same
 */
#define HP_OP_BITS 2
#define HP_OP_MASK 3u
enum hp_event_op {
	HP_OP_ALLOC = 0,
	HP_OP_FREE = 1,
	HP_OP_REALLOC = 2,
	HP_OP_EXT = 3,
};

/* Extended events: version 2 forms, then the version 1 forms of the same numbers.
 *   ALLOC_SLOT       size, stack, slot
 *   FREE_UNKNOWN     addr
 *   REALLOC_UNKNOWN  old_addr, size, stack, slot
 *   ALLOC_ABS        size, stack, addr            (v1)
 *   FREE_ABS         addr                         (v1)
 *   REALLOC_ABS      old, size, stack, new        (v1)
 */
enum hp_event_ext_op {
	HP_EXT_ALLOC_SLOT = 0,
	HP_EXT_FREE_UNKNOWN = 1,
	HP_EXT_REALLOC_UNKNOWN = 2,
	HP_EXT_ALLOC_ABS = 0,
	HP_EXT_FREE_ABS = 1,
	HP_EXT_REALLOC_ABS = 2,
	HP_EXT_LIMIT = 3 /* first number no encoding uses */
};

/* v2: slots a thread's decoder remembers for implicit reuse by ALLOC. */
#define HP_FREE_LIST_MAX 32u
/* v2: largest slot number. */
#define HP_MAX_SLOT ((uint64_t)1 << 40)

/* Addresses in the short forms are stored in 16-byte units (malloc's alignment). */
#define HP_ADDR_SHIFT 4

static inline uint64_t hp_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t hp_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Writes v as LEB128 at p (room for HP_VARINT_MAX_BYTES); returns the end. */
static inline uint8_t *hp_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint8_t *hp_put_svarint(uint8_t *p, int64_t v)
{
	return hp_put_varint(p, hp_zigzag(v));
}

/* hp_get_varint() errors. */
enum { HP_VARINT_TRUNCATED = -1, HP_VARINT_TOO_LONG = -2 };

/* Reads a LEB128 from [*pp, end). Returns 0 and advances *pp, HP_VARINT_TRUNCATED when
 * it runs past end, HP_VARINT_TOO_LONG when it is longer than 64 bits (both mean a
 * corrupt trace). Most varints of a trace take one or two bytes: those are inline. */
static inline __attribute__((always_inline)) int hp_get_varint(const uint8_t **pp,
							       const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	if (__builtin_expect(p < end && *p < 0x80, 1)) {
		*out = *p;
		*pp = p + 1;
		return 0;
	}
	if (end - p >= 2 && p[1] < 0x80) {
		*out = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
		*pp = p + 2;
		return 0;
	}
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (p >= end)
			return HP_VARINT_TRUNCATED;
		uint8_t b = *p++;
		if (shift == 63 && (b & 0xfe))
			return HP_VARINT_TOO_LONG;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*out = v;
			return 0;
		}
	}
	return HP_VARINT_TOO_LONG;
}

static inline int hp_get_svarint(const uint8_t **pp, const uint8_t *end, int64_t *out)
{
	uint64_t v;
	int e = hp_get_varint(pp, end, &v);
	if (e)
		return e;
	*out = hp_unzigzag(v);
	return 0;
}

#ifdef __cplusplus
}
#endif
#endif /* HEAPPROF_TRACE_FORMAT_H */
