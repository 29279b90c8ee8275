/* Built twice without debug info, as libhp_term_a.so and libhp_term_b.so (-DHP_TERM_LIB=a
 * or b): two modules whose frames the analyzer can name from their symbol tables only,
 * so it warns of both (tests/term/check_term.py). */
#include <stdlib.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

void *CAT(hp_term_alloc_, HP_TERM_LIB)(size_t n)
{
	return malloc(n);
}
