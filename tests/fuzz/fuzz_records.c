/* libFuzzer target: the bytes are the decompressed record stream (docs/trace-format.md,
 * "Record stream"), which the target compresses into zstd frames before decoding, so the
 * fuzzer mutates records, varints and events rather than compressed data.
 *
 * The separator "HPFRAME!" splits the input into several frames, so that state carried
 * across frames (ids, per-thread deltas) and records cut at a frame end are reached. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "fuzz_pipeline.h"

#define SEP "HPFRAME!"
#define SEP_LEN 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Each piece costs at most its bound; the frames' sum fits in one buffer. */
	size_t cap = ZSTD_compressBound(size) + (size / SEP_LEN + 1) * ZSTD_compressBound(0);
	uint8_t *out = malloc(cap);
	if (!out)
		return 0;
	size_t len = 0, pos = 0;
	for (;;) {
		const uint8_t *sep = NULL;
		for (size_t i = pos; i + SEP_LEN <= size; i++)
			if (data[i] == SEP[0] && memcmp(data + i, SEP, SEP_LEN) == 0) {
				sep = data + i;
				break;
			}
		size_t piece = sep ? (size_t)(sep - data) - pos : size - pos;
		size_t n = ZSTD_compress(out + len, cap - len, data + pos, piece, 1);
		if (ZSTD_isError(n))
			abort();
		len += n;
		if (!sep)
			break;
		pos += piece + SEP_LEN;
	}
	hp_fuzz_pipeline(out, len, 1);
	free(out);
	return 0;
}
