/* Scaling of sampled traces (HEADER flag HP_HDR_SAMPLED, sample_bytes = N).
 *
 * The recorder samples allocations as a Poisson process over allocated bytes of mean
 * interval N (preload/sampler.h): an allocation of s bytes is recorded with
 * probability 1 - exp(-s/N). Weighing each recorded allocation by the inverse of that
 * probability gives unbiased estimates (tcmalloc's): it stands for
 * hp_sample_weight(s, N) allocations and s * hp_sample_weight(s, N) bytes. Sizes of 0
 * count as 1 byte, as the recorder does. */
#ifndef HEAPPROF_ANALYZER_SAMPLING_H
#define HEAPPROF_ANALYZER_SAMPLING_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Allocations a sampled allocation of size bytes represents on average: 1 / (1 -
 * exp(-size/mean)), >= 1; 1 when mean is 0 (not sampled). Thread-safe, pure. */
double hp_sample_weight(uint64_t size, uint64_t mean);

#ifdef __cplusplus
}
#endif
#endif
