/* A small protocol-buffers encoder: the wire format (varints, length-delimited fields)
 * into a growable buffer, enough to write pprof's profile.proto (report_pprof.c) without
 * a generated library. A message nested in another is encoded into a buffer of its own
 * and appended with hp_pb_message(); proto3 scalar fields equal to 0 are omitted, as a
 * proto3 encoder does.
 *
 * Errors are sticky: once an append fails for lack of memory, pb->oom is set and every
 * later call does nothing, so a writer checks once at the end. Not thread-safe on one
 * buffer; distinct buffers are independent. */
#ifndef HP_PROTOBUF_H
#define HP_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hp_pb {
	uint8_t *buf;
	size_t len, cap;
	int oom;
};

/* Empties the buffer, keeping its memory (for the next nested message). */
void hp_pb_reset(struct hp_pb *pb);

/* Frees the buffer and zeroes it. */
void hp_pb_release(struct hp_pb *pb);

/* Field `field` as a varint (int64, uint64, bool, enum); nothing when v is 0. */
void hp_pb_uint(struct hp_pb *pb, unsigned field, uint64_t v);

/* As hp_pb_uint(), written even when v is 0 (an element of a repeated field). */
void hp_pb_uint_always(struct hp_pb *pb, unsigned field, uint64_t v);

/* Field `field` as bytes or a string, length-delimited; written even when empty. */
void hp_pb_bytes(struct hp_pb *pb, unsigned field, const void *data, size_t len);

/* A repeated varint field, packed (one length-delimited run); nothing when n is 0. */
void hp_pb_packed(struct hp_pb *pb, unsigned field, const uint64_t *v, size_t n);

/* The message in `sub` as field `field` of pb (then `sub` may be reset and reused). */
void hp_pb_message(struct hp_pb *pb, unsigned field, const struct hp_pb *sub);

/* Bytes of v as a varint (1 to 10). Pure. */
size_t hp_pb_varint_size(uint64_t v);

#ifdef __cplusplus
}
#endif
#endif
