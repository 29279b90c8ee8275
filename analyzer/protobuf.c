/* The protocol-buffers wire format (protobuf.h): each field is a key, (field << 3) | wire
 * type, as a varint, then a varint (type 0) or a length and the bytes (type 2). */
#include "protobuf.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

void hp_pb_reset(struct hp_pb *pb)
{
	pb->len = 0;
}

void hp_pb_release(struct hp_pb *pb)
{
	free(pb->buf);
	memset(pb, 0, sizeof *pb);
}

/* Room for `need` more bytes; 0, or -1 with pb->oom set. */
static int room(struct hp_pb *pb, size_t need)
{
	if (pb->oom)
		return -1;
	if (pb->len + need <= pb->cap)
		return 0;
	if (hp_array_reserve((void **)&pb->buf, &pb->cap, pb->len + need, 1, 256)) {
		pb->oom = 1;
		return -1;
	}
	return 0;
}

size_t hp_pb_varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void put_varint(struct hp_pb *pb, uint64_t v)
{
	if (room(pb, 10))
		return;
	while (v >= 0x80) {
		pb->buf[pb->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	pb->buf[pb->len++] = (uint8_t)v;
}

static void put_key(struct hp_pb *pb, unsigned field, unsigned wire)
{
	put_varint(pb, ((uint64_t)field << 3) | wire);
}

void hp_pb_uint_always(struct hp_pb *pb, unsigned field, uint64_t v)
{
	put_key(pb, field, WIRE_VARINT);
	put_varint(pb, v);
}

void hp_pb_uint(struct hp_pb *pb, unsigned field, uint64_t v)
{
	if (v)
		hp_pb_uint_always(pb, field, v);
}

void hp_pb_bytes(struct hp_pb *pb, unsigned field, const void *data, size_t len)
{
	put_key(pb, field, WIRE_LEN);
	put_varint(pb, len);
	if (!len || room(pb, len))
		return;
	memcpy(pb->buf + pb->len, data, len);
	pb->len += len;
}

void hp_pb_packed(struct hp_pb *pb, unsigned field, const uint64_t *v, size_t n)
{
	if (!n)
		return;
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += hp_pb_varint_size(v[i]);
	put_key(pb, field, WIRE_LEN);
	put_varint(pb, len);
	for (size_t i = 0; i < n; i++)
		put_varint(pb, v[i]);
}

void hp_pb_message(struct hp_pb *pb, unsigned field, const struct hp_pb *sub)
{
	if (sub->oom) {
		pb->oom = 1;
		return;
	}
	hp_pb_bytes(pb, field, sub->buf, sub->len);
}
