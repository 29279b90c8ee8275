/* The trace file (preload/traceout.c) with compressor threads (HEAPPROF_WRITERS): frames
 * land in the file in the order they were staged although a large frame takes longer
 * to compress than the small ones cut after it, and every byte staged comes back. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "check.h"
#include "options.h"
#include "traceout.h"

/* Frame i holds its number, then a length of pseudo-random bytes that zstd works on. */
static size_t frame_len(unsigned i)
{
	return i % 10 == 0 ? HP_OUT_STAGE_LIMIT - 4096 : 64 + i;
}

static void stage_frame(unsigned i)
{
	size_t n = frame_len(i);
	uint8_t *p = hp_out_reserve(n);
	uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);
	memcpy(p, &i, sizeof i);
	for (size_t k = sizeof i; k < n; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[k] = (uint8_t)(x % 7 ? 'a' + x % 26 : x); /* compressible, not trivially */
	}
	hp_out_commit(p + n);
	hp_out_cut();
}

/* Reads the file back frame by frame: frame k must be stage k, whole. */
static void check_file(const char *path, unsigned frames)
{
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return;
	static uint8_t in[16 << 20], out[HP_OUT_STAGE_CAP];
	size_t len = fread(in, 1, sizeof in, f);
	fclose(f);
	size_t pos = 0;
	unsigned k = 0, in_order = 0;
	while (pos < len) {
		size_t flen = ZSTD_findFrameCompressedSize(in + pos, len - pos);
		if (ZSTD_isError(flen))
			break;
		size_t n = ZSTD_decompress(out, sizeof out, in + pos, flen);
		unsigned id = UINT32_MAX;
		if (!ZSTD_isError(n) && n >= sizeof id)
			memcpy(&id, out, sizeof id);
		in_order += id == k && n == frame_len(k);
		pos += flen;
		k++;
	}
	CHECK_U64(pos, len);
	CHECK_U64(k, frames);
	CHECK_U64(in_order, frames);
}

static void run(unsigned writers, const char *path)
{
	unlink(path);
	hp_options.output = path;
	CHECK(hp_out_create() == 0);
	CHECK(hp_out_start_compressors(writers) == 0);
	CHECK_U64(hp_out_compressors(), writers > 1 ? writers : 0);
	enum { FRAMES = 60 };
	for (unsigned i = 0; i < FRAMES; i++)
		stage_frame(i);
	hp_out_frame(); /* returns once all are written */
	check_file(path, FRAMES);
	hp_out_stop_compressors();
	CHECK_U64(hp_out_compressors(), 0);
	CHECK(!hp_out_failed());
	unlink(path);
}

int main(void)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/hp-test-traceout-%ld.zst", (long)getpid());
	hp_options.zstd_level = 1;
	CHECK(hp_out_init() == 0);
	run(1, path); /* the writer compresses alone */
	run(3, path);
	run(2, path); /* the pool again, after a stop: the slots are reused */
	return check_done();
}
