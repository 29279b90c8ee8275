/* analyzer/resolve.c: stacks symbolized through the symbolizer (on this test's own code)
 * and trimmed of heapprof/allocator frames and of the frames below main. */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include "check.h"

#include <link.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "resolve.h"

static uint64_t exe_bias;
static int found;

static int phdr(struct dl_phdr_info *info, size_t size, void *ctx)
{
	if (found++ == 0) /* the first object is the executable */
		exe_bias = info->dlpi_addr;
	return 0;
}

__attribute__((noinline, used)) int helper_alloc(int x)
{
	return x * 3 + 1;
}

static uint64_t vaddr_of(void (*fn)(void))
{
	return (uint64_t)(uintptr_t)fn - exe_bias + 1; /* as a return address just inside */
}

static void warn(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

int main(void)
{
	dl_iterate_phdr(phdr, NULL);
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	CHECK(n > 0);
	exe[n > 0 ? n : 0] = 0;

	struct hp_module_info mods[3] = {
	    {.id = 1, .bias = exe_bias, .path = exe, .build_id = (const uint8_t *)""},
	    {.id = 2,
	     .bias = 0x7f0000000000,
	     .path = "/usr/lib/libheapprof.so",
	     .build_id = (const uint8_t *)""},
	    {.id = 3,
	     .bias = 0x7e0000000000,
	     .path = "/nonexistent/libstdc++.so.6",
	     .build_id = (const uint8_t *)""},
	};
	struct hp_profile prof = {.modules = mods, .nmodules = 3};
	struct hp_frame frames[] = {
	    {.ip = 0, .vaddr = 0x1234, .module = 1},
	    {.ip = 0, .vaddr = 0x5678, .module = 2},
	    {.ip = 0, .vaddr = vaddr_of((void (*)(void))helper_alloc), .module = 0},
	    {.ip = 0, .vaddr = vaddr_of((void (*)(void))main), .module = 0},
	    {.ip = 0x42, .vaddr = 0x42, .module = -1}, /* below main */
	};
	struct hp_site site = {.allocations = 1, .nframes = 5, .frames = frames};

	/* Symbolized: heapprof and libstdc++ frames go, main stays, below main goes. */
	struct hp_resolver *rs = hp_resolver_new(&prof, 1, warn, NULL);
	CHECK(rs != NULL);
	const struct hp_resolved_frame *f;
	size_t k = hp_resolve_site(rs, &site, &f);
	CHECK_U64(k, 2);
	if (k == 2) {
		CHECK_STR(f[0].function, "helper_alloc");
		CHECK_STR(hp_basename(f[0].file), "test_resolve.c");
		CHECK(f[0].line > 0);
		CHECK_STR(f[0].module, exe);
		CHECK_STR(f[1].function, "main");
	}
	/* Same again: from the cache, same answer. */
	CHECK_U64(hp_resolve_site(rs, &site, &f), 2);
	hp_resolver_free(rs);

	/* Without symbols: only module-based trimming; frames keep module and address. */
	rs = hp_resolver_new(&prof, 0, warn, NULL);
	k = hp_resolve_site(rs, &site, &f);
	CHECK_U64(k, 3);
	if (k == 3) {
		CHECK(f[0].function == NULL);
		CHECK_STR(f[0].module, exe);
		CHECK_U64(f[0].address, frames[2].vaddr);
		CHECK(f[2].module == NULL);
		CHECK_U64(f[2].address, 0x42);
	}
	/* A stack of nothing but trimmed frames is shown whole. */
	struct hp_site only = {.allocations = 1, .nframes = 2, .frames = frames};
	CHECK_U64(hp_resolve_site(rs, &only, &f), 2);
	struct hp_site none = {.allocations = 1};
	CHECK_U64(hp_resolve_site(rs, &none, &f), 0);
	hp_resolver_free(rs);

	CHECK_STR(hp_basename("/a/b/c.so"), "c.so");
	CHECK_STR(hp_basename("c.so"), "c.so");
	return check_done();
}
