/* The varint primitives of include/heapprof/trace_format.h: round trips at every
 * length boundary and refusal of truncated or over-long encodings. */
#include "check.h"
#include <heapprof/trace_format.h>

static void round_trip(uint64_t v)
{
	uint8_t buf[HP_VARINT_MAX_BYTES];
	uint8_t *end = hp_put_varint(buf, v);
	const uint8_t *p = buf;
	uint64_t out = ~v;
	CHECK(hp_get_varint(&p, end, &out) == 0);
	CHECK_U64(out, v);
	CHECK(p == end);
	/* Every proper prefix is a truncated varint. */
	for (const uint8_t *cut = buf; cut < end; cut++) {
		p = buf;
		CHECK(hp_get_varint(&p, cut, &out) == HP_VARINT_TRUNCATED);
	}
}

int main(void)
{
	for (unsigned bit = 0; bit < 64; bit++) {
		uint64_t v = (uint64_t)1 << bit;
		round_trip(v - 1);
		round_trip(v);
		round_trip(v + 1);
	}
	round_trip(UINT64_MAX);

	int64_t s[] = {0, 1, -1, 63, -64, 64, -65, INT64_MAX, INT64_MIN};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		uint8_t buf[HP_VARINT_MAX_BYTES];
		uint8_t *end = hp_put_svarint(buf, s[i]);
		const uint8_t *p = buf;
		int64_t out = 0;
		CHECK(hp_get_svarint(&p, end, &out) == 0);
		CHECK_I64(out, s[i]);
	}
	CHECK_U64(hp_zigzag(-1), 1);
	CHECK_U64(hp_zigzag(1), 2);

	/* 11 continuation bytes, and a 10th byte carrying bits past 64, are corrupt. */
	uint8_t longv[11];
	memset(longv, 0x80, sizeof longv);
	longv[10] = 0;
	const uint8_t *p = longv;
	uint64_t out;
	CHECK(hp_get_varint(&p, longv + sizeof longv, &out) == HP_VARINT_TOO_LONG);
	uint8_t over[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
	p = over;
	CHECK(hp_get_varint(&p, over + sizeof over, &out) == HP_VARINT_TOO_LONG);
	return check_done();
}
