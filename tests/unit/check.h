/* A tiny typed test harness: CHECK_* record a failure with file:line and go on;
 * check_done() prints "N passed, N failed" and returns the exit status. */
#ifndef HP_TEST_CHECK_H
#define HP_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static unsigned check_passed, check_failed;

#define CHECK_(cond, fmt, ...)                                                                     \
	do {                                                                                       \
		if (cond) {                                                                        \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: check failed: " fmt "\n", __FILE__, __LINE__,      \
				__VA_ARGS__);                                                      \
		}                                                                                  \
	} while (0)

#define CHECK(cond) CHECK_((cond), "%s", #cond)
#define CHECK_U64(a, b)                                                                            \
	do {                                                                                       \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
		CHECK_(a_ == b_, "%s == %s (%" PRIu64 " != %" PRIu64 ")", #a, #b, a_, b_);         \
	} while (0)
#define CHECK_I64(a, b)                                                                            \
	do {                                                                                       \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                                      \
		CHECK_(a_ == b_, "%s == %s (%" PRId64 " != %" PRId64 ")", #a, #b, a_, b_);         \
	} while (0)
#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		CHECK_(a_ &&b_ &&strcmp(a_, b_) == 0, "%s == %s (\"%s\" != \"%s\")", #a, #b,       \
		       a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                    \
	} while (0)

static inline int check_done(void)
{
	printf("%u passed, %u failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
