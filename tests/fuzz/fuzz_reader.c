/* libFuzzer target: the bytes are a trace file (zstd frames). Exercises the container
 * (frame boundaries, truncation, the 16 MiB bomb guard) and, through the seeds, records.
 * Random mutations rarely get past zstd's checksums: fuzz_records.c covers the records. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return hp_fuzz_pipeline(data, size, 0);
}
