/* The protobuf encoder (analyzer/protobuf.c) against wire bytes worked out by hand from
 * the protocol-buffers encoding rules (the spec's own examples: 150 in field 1 is
 * 08 96 01; "testing" in field 2 is 12 07 74 65 73 74 69 6e 67; packed 3, 270, 86942 in
 * field 4 is 22 06 03 8e 02 9e a7 05). */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "protobuf.h"

static int same(const struct hp_pb *pb, const uint8_t *want, size_t n)
{
	return !pb->oom && pb->len == n && memcmp(pb->buf, want, n) == 0;
}

int main(void)
{
	struct hp_pb pb = {0}, sub = {0};

	hp_pb_uint(&pb, 1, 150);
	static const uint8_t v150[] = {0x08, 0x96, 0x01};
	CHECK(same(&pb, v150, sizeof v150));

	hp_pb_reset(&pb);
	hp_pb_uint(&pb, 1, 0); /* proto3: a zero scalar is not written */
	CHECK_U64(pb.len, 0);
	hp_pb_uint_always(&pb, 1, 0);
	static const uint8_t zero[] = {0x08, 0x00};
	CHECK(same(&pb, zero, sizeof zero));

	hp_pb_reset(&pb);
	hp_pb_bytes(&pb, 2, "testing", 7);
	static const uint8_t str[] = {0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'};
	CHECK(same(&pb, str, sizeof str));

	hp_pb_reset(&pb);
	hp_pb_bytes(&pb, 6, "", 0); /* string_table[0] = "" must be written */
	static const uint8_t empty[] = {0x32, 0x00};
	CHECK(same(&pb, empty, sizeof empty));

	hp_pb_reset(&pb);
	const uint64_t packed[] = {3, 270, 86942};
	hp_pb_packed(&pb, 4, packed, 3);
	static const uint8_t pk[] = {0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05};
	CHECK(same(&pb, pk, sizeof pk));

	/* A nested message: field 3 holding {1: 150}. */
	hp_pb_reset(&pb);
	hp_pb_uint(&sub, 1, 150);
	hp_pb_message(&pb, 3, &sub);
	static const uint8_t nested[] = {0x1a, 0x03, 0x08, 0x96, 0x01};
	CHECK(same(&pb, nested, sizeof nested));

	/* The largest varint (10 bytes) and a field number past 15 (two-byte key). */
	hp_pb_reset(&pb);
	hp_pb_uint(&pb, 16, UINT64_MAX);
	static const uint8_t big[] = {0x80, 0x01, 0xff, 0xff, 0xff, 0xff,
				      0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	CHECK(same(&pb, big, sizeof big));
	CHECK_U64(hp_pb_varint_size(0), 1);
	CHECK_U64(hp_pb_varint_size(127), 1);
	CHECK_U64(hp_pb_varint_size(128), 2);
	CHECK_U64(hp_pb_varint_size(UINT64_MAX), 10);

	/* A buffer growing past its first allocation keeps every byte. */
	hp_pb_reset(&pb);
	for (unsigned i = 0; i < 1000; i++)
		hp_pb_uint_always(&pb, 1, i);
	size_t want = 0;
	for (unsigned i = 0; i < 1000; i++)
		want += 1 + hp_pb_varint_size(i);
	CHECK_U64(pb.len, want);
	CHECK(pb.buf[pb.len - 3] == 0x08 && pb.buf[pb.len - 2] == 0xe7 &&
	      pb.buf[pb.len - 1] == 0x07);

	hp_pb_release(&sub);
	hp_pb_release(&pb);
	CHECK(pb.buf == NULL && pb.len == 0);
	return check_done();
}
