/* Poisson sampling by bytes: the decision (preload/sampler.h) and the analyzer's weight
 * (analyzer/sampling.h) must give unbiased totals, and the sampled-address set must
 * remember exactly the sampled blocks. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../analyzer/sampling.h"
#include "check.h"
#include "sampler.h"

/* A fixed workload: 1M sizes, log-uniform in [16 B, 64 KiB] with some 1 MiB blocks. */
#define NALLOC 1000000u
static uint32_t sizes[NALLOC];

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void make_workload(uint64_t *bytes)
{
	uint64_t s = 42;
	*bytes = 0;
	for (unsigned i = 0; i < NALLOC; i++) {
		uint64_t r = xorshift(&s);
		unsigned shift = 4 + (unsigned)(r % 13); /* 16 B .. 64 KiB */
		uint32_t size = (uint32_t)(1u << shift) + (uint32_t)((r >> 8) % (1u << shift));
		if (r % 1000 == 0)
			size = 1u << 20; /* a few 1 MiB blocks */
		sizes[i] = size;
		*bytes += size;
	}
}

static void estimate(uint64_t mean, uint64_t seed, double *count, double *bytes)
{
	struct hp_sampler_state st = {0, 0};
	hp_sampler_seed(&st, seed, mean);
	*count = *bytes = 0;
	for (unsigned i = 0; i < NALLOC; i++) {
		if (hp_sampler_decide(&st, sizes[i], mean)) {
			double w = hp_sample_weight(sizes[i], mean);
			*count += w;
			*bytes += w * sizes[i];
		}
	}
}

static double rel(double est, double truth)
{
	return fabs(est - truth) / truth;
}

static void test_estimates(void)
{
	uint64_t truth_bytes;
	make_workload(&truth_bytes);
	/* Counts of small blocks are what sampling knows least: at a mean of 512 KiB a
	 * 16-byte block is seen once in 32768, and the count estimate of this workload has
	 * a standard deviation of about 6% in one run of 1M events (2% at 64 KiB), so one
	 * run's counts are checked up to 64 KiB and the 512 KiB counts on 20 runs. */
	static const struct {
		uint64_t mean;
		int counts;
	} cases[] = {{4096, 1}, {16384, 1}, {65536, 1}, {524288, 0}};
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double n, b;
		estimate(cases[c].mean, 1234567 + c, &n, &b);
		printf("mean %6llu: count %.0f (%.2f%%), bytes %.4g (%.2f%%)\n",
		       (unsigned long long)cases[c].mean, n, 100 * rel(n, NALLOC), b,
		       100 * rel(b, (double)truth_bytes));
		CHECK_(rel(b, (double)truth_bytes) < 0.05, "bytes at mean %llu off by %.1f%%",
		       (unsigned long long)cases[c].mean, 100 * rel(b, (double)truth_bytes));
		if (cases[c].counts)
			CHECK_(rel(n, NALLOC) < 0.05, "count at mean %llu off by %.1f%%",
			       (unsigned long long)cases[c].mean, 100 * rel(n, NALLOC));
	}
	/* Unbiased: the average over 20 seeds at 512 KiB is within 5% for counts too. */
	double sn = 0, sb = 0;
	for (unsigned seed = 1; seed <= 20; seed++) {
		double n, b;
		estimate(524288, seed * 7919, &n, &b);
		sn += n / 20;
		sb += b / 20;
	}
	printf("mean 524288 over 20 seeds: count %.2f%%, bytes %.2f%%\n", 100 * rel(sn, NALLOC),
	       100 * rel(sb, (double)truth_bytes));
	CHECK(rel(sn, NALLOC) < 0.05);
	CHECK(rel(sb, (double)truth_bytes) < 0.02);
}

static void test_intervals(void)
{
	struct hp_sampler_state st = {0, 0};
	hp_sampler_seed(&st, 99, 524288);
	double sum = 0, sum2 = 0;
	const unsigned n = 200000;
	for (unsigned i = 0; i < n; i++) {
		double v = (double)hp_sampler_interval(&st, 524288);
		sum += v;
		sum2 += v * v;
	}
	double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
	CHECK(rel(mean, 524288) < 0.01);
	CHECK(rel(sd, 524288) < 0.02); /* exponential: sd = mean */
	CHECK(hp_sample_weight(1u << 30, 524288) == 1.0);
	CHECK(fabs(hp_sample_weight(16, 524288) - 524288.0 / 16) < 1.0);
	CHECK(hp_sample_weight(100, 0) == 1.0);
}

/* The sampled-address set behind hp_sampler_take / hp_sampler_drop. */
static void test_set(void)
{
	hp_sampler_init(1); /* a mean of 1 byte: every block of >= 64 bytes is sampled */
	enum { N = 200000 };
	uintptr_t base = (uintptr_t)1 << 40;
	unsigned taken = 0;
	for (unsigned i = 0; i < N; i++)
		taken += hp_sampler_take((void *)(base + 16 * (uintptr_t)i), 64);
	CHECK_U64(taken, N);
	CHECK_U64(hp_sampler_live(), N);
	unsigned dropped = 0, strangers = 0;
	for (unsigned i = 0; i < N; i += 2)
		dropped += hp_sampler_drop((void *)(base + 16 * (uintptr_t)i));
	for (unsigned i = 0; i < N; i++)
		strangers += hp_sampler_drop((void *)(base + 16 * (uintptr_t)(N + i)));
	CHECK_U64(dropped, N / 2);
	CHECK_U64(strangers, 0);
	CHECK_U64(hp_sampler_live(), N / 2);
	for (unsigned i = 0; i < N; i++)
		dropped += hp_sampler_drop((void *)(base + 16 * (uintptr_t)i));
	CHECK_U64(dropped, N);
	CHECK_U64(hp_sampler_live(), 0);
	/* the same address twice (a realloc's late forget racing a new block) */
	CHECK(hp_sampler_take((void *)base, 64));
	CHECK(hp_sampler_take((void *)base, 64));
	CHECK(hp_sampler_drop((void *)base));
	CHECK(hp_sampler_drop((void *)base));
	CHECK(!hp_sampler_drop((void *)base));
	/* realloc: sampled old, new not sampled -> a release of old */
	hp_sampler_init(1u << 30);
	void *old = (void *)base, *p = (void *)(base + 4096);
	size_t size = 16;
	hp_sampler_init(1);
	hp_sampler_tls.left = 0;
	CHECK(hp_sampler_take(old, 64));
	hp_sampler_init(1u << 30);
	hp_sampler_tls.left = INT64_MAX / 2;
	CHECK(hp_sampler_realloc(&old, &p, &size));
	CHECK(p == NULL && size == 0 && old == (void *)base);
	CHECK_U64(hp_sampler_live(), 0);
	hp_sampler_init(0);
}

int main(void)
{
	test_intervals();
	test_estimates();
	test_set();
	return check_done();
}
