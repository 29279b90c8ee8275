/* Scaling of sampled traces; see sampling.h. */
#include "sampling.h"

#include <math.h>

double hp_sample_weight(uint64_t size, uint64_t mean)
{
	if (mean == 0)
		return 1.0;
	double s = size ? (double)size : 1.0;
	/* -expm1(-x) = 1 - exp(-x) without cancellation for s much smaller than mean */
	return 1.0 / -expm1(-s / (double)mean);
}
