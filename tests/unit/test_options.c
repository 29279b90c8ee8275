/* preload/options.c: number parsing and the output template (%p, %e, %%, unknown %x
 * kept, length cap) and the unique-name scheme for an existing trace file. */
#include "check.h"

#include <errno.h>
#include <limits.h>

#include "options.h"

static void expand(const char *tmpl, const char *want)
{
	char out[PATH_MAX];
	CHECK_I64(hp_options_expand_output(tmpl, 123, "/usr/bin/prog", out, sizeof(out)), 0);
	CHECK_STR(out, want);
}

int main(void)
{
	CHECK_U64(hp_options_parse_uint(NULL, 1, 10, 5), 5);
	CHECK_U64(hp_options_parse_uint("", 1, 10, 5), 5);
	CHECK_U64(hp_options_parse_uint("7", 1, 10, 5), 7);
	CHECK_U64(hp_options_parse_uint("0", 1, 10, 5), 5);
	CHECK_U64(hp_options_parse_uint("11", 1, 10, 5), 5);
	CHECK_U64(hp_options_parse_uint("3x", 1, 10, 5), 5);
	CHECK_U64(hp_options_parse_uint("99999999999999999999", 1, 10, 5), 5);
	CHECK_U64(hp_options_parse_uint("1024", 1, 1024, 64), 1024);

	expand("heapprof.%e.%p.zst", "heapprof.prog.123.zst");
	expand("a%%b", "a%b");
	expand("a%xb%", "a%xb%");
	expand("%p%p", "123123");
	expand("/tmp/t-%e", "/tmp/t-prog");

	char small[8];
	CHECK_I64(hp_options_expand_output("%e.%p.zst", 1, "prog", small, sizeof(small)),
		  -ENAMETOOLONG);
	char big[PATH_MAX + 16];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char out[PATH_MAX];
	CHECK_I64(hp_options_expand_output(big, 1, "p", out, sizeof(out)), -ENAMETOOLONG);
	CHECK_I64(hp_options_expand_output("%e", 1, "", out, sizeof(out)), 0);
	CHECK_STR(out, "unknown");

	CHECK_I64(hp_options_unique_name("x.1.zst", 2, out, sizeof(out)), 0);
	CHECK_STR(out, "x.1.2.zst");
	CHECK_I64(hp_options_unique_name("trace.zst", 1, out, sizeof(out)), 0);
	CHECK_STR(out, "trace.1.zst");
	CHECK_I64(hp_options_unique_name("trace", 12, out, sizeof(out)), 0);
	CHECK_STR(out, "trace.12");
	CHECK_I64(hp_options_unique_name("trace.zst", 1, small, 6), -ENAMETOOLONG);
	return check_done();
}
