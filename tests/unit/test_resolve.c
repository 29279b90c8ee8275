/* analyzer/resolve.c: stacks symbolized through the symbolizer (on this test's own code)
 * and trimmed of heapprof/allocator frames and of the frames below main. */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include "check.h"

#include <link.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
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

/* The frames reports print for a site, through the model's accessor. */
static size_t shown(const struct hp_model *m, const struct hp_site *site, unsigned flags,
		    struct hp_stack *st)
{
	CHECK(hp_model_stack(m, site, flags, st) == 0);
	return st->n;
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
	uint64_t helper = vaddr_of((void (*)(void))helper_alloc),
		 mainv = vaddr_of((void (*)(void))main);
	struct hp_location locs[] = {
	    {.ip = 0x7e0000001234, .address = 0x1234, .module = 1},
	    {.ip = 0x7f0000005678, .address = 0x5678, .module = 2},
	    {.ip = exe_bias + helper, .address = helper, .module = 0},
	    {.ip = exe_bias + mainv, .address = mainv, .module = 0},
	    {.ip = 0x42, .address = 0x42, .module = -1}, /* below main */
	};
	const uint32_t all[] = {0, 1, 2, 3, 4};
	struct hp_site sites[] = {
	    {.allocations = 1, .nlocations = 5, .locations = all},
	    {.allocations = 1, .nlocations = 2, .locations = all}, /* nothing but trimmed frames */
	    {.allocations = 1},					   /* no stack */
	};
	struct hp_profile prof = {.modules = mods,
				  .nmodules = 3,
				  .locations = locs,
				  .nlocations = 5,
				  .sites = sites,
				  .nsites = 3};
	struct hp_stack st = {0};

	/* Symbolized: heapprof and libstdc++ frames go, main stays, below main goes. */
	struct hp_model m = {0};
	CHECK(hp_model_resolve(&m, &prof, &(struct hp_analysis_options){.warn = warn}) == 0);
	size_t k = shown(&m, &sites[0], 0, &st);
	CHECK_U64(k, 2);
	if (k == 2) {
		CHECK_STR(st.v[0].function, "helper_alloc");
		CHECK_STR(hp_basename(st.v[0].file), "test_resolve.c");
		CHECK(st.v[0].line > 0);
		CHECK_STR(st.v[0].module_path, exe);
		CHECK(st.v[0].module == 0 && st.v[0].location == 2);
		CHECK_U64(st.v[0].ip, exe_bias + helper);
		CHECK_STR(st.v[1].function, "main");
		CHECK_U64(sites[0].key, hp_stack_key(st.v, st.n));
	}
	/* Untrimmed: every frame, in stack order. */
	CHECK_U64(shown(&m, &sites[0], HP_STACK_UNTRIMMED, &st), sites[0].nframes);
	CHECK(sites[0].nframes >= 5);
	CHECK_U64(st.v[st.n - 1].address, 0x42);
	CHECK(st.v[st.n - 1].module_path == NULL);
	/* Each location symbolized once: a frame of it is the same frame in every site. */
	CHECK_U64(m.nframes, sites[0].nframes);
	hp_model_release(&m);

	/* Without symbols: only module-based trimming; frames keep module and address. */
	CHECK(hp_model_resolve(&m, &prof, &(struct hp_analysis_options){.no_symbols = 1}) == 0);
	k = shown(&m, &sites[0], 0, &st);
	CHECK_U64(k, 3);
	if (k == 3) {
		CHECK(st.v[0].function == NULL);
		CHECK_STR(st.v[0].module_path, exe);
		CHECK_U64(st.v[0].address, helper);
		CHECK(st.v[2].module_path == NULL && st.v[2].module == -1);
		CHECK_U64(st.v[2].address, 0x42);
	}
	/* A stack of nothing but trimmed frames is shown whole. */
	CHECK_U64(shown(&m, &sites[1], 0, &st), 2);
	CHECK_U64(shown(&m, &sites[2], 0, &st), 0);
	CHECK_U64(sites[2].key, HP_STACK_KEY_INIT);
	hp_model_release(&m);

	/* The rules on frames built by hand. */
	struct hp_frame f[] = {
	    {.function = "malloc"},
	    {.function = "operator new(unsigned long)"},
	    {.function = "make"},
	    {.function = "main"},
	    {.function = "__libc_start_call_main"},
	};
	size_t lo;
	CHECK_U64(hp_resolve_trim(f, 5, &lo), 2);
	CHECK_U64(lo, 2);
	CHECK_U64(hp_resolve_trim(f, 2, &lo), 2);
	CHECK_U64(lo, 0);
	/* No main (a stripped executable): the start-up frames under it go, by either name
	 * glibc gives __libc_start_main (DWARF's, the symbol table's). */
	struct hp_frame g[] = {
	    {.function = "malloc"},
	    {.function = "Py_BytesMain"},
	    {.function = "__libc_start_call_main"},
	    {.function = "__libc_start_main_impl"},
	    {.function = "__libc_start_main@@GLIBC_2.34"},
	};
	CHECK_U64(hp_resolve_trim(g, 4, &lo), 1);
	CHECK_U64(lo, 1);
	g[3] = g[4];
	CHECK_U64(hp_resolve_trim(g, 4, &lo), 1);
	/* A stripped executable: its main and _start unnamed. main stays; _start, outside
	 * the start-up frames, goes with them. Unnamed frames alone are no start-up. */
	struct hp_frame u[] = {
	    {.function = "make"},
	    {.function = NULL, .address = 0x1234},
	    {.function = "__libc_start_call_main"},
	    {.function = "__libc_start_main_impl"},
	    {.function = NULL, .address = 0x1000},
	};
	CHECK_U64(hp_resolve_trim(u, 5, &lo), 2);
	CHECK_U64(lo, 0);
	CHECK_U64(hp_resolve_trim(u, 2, &lo), 2);
	u[2].function = "helper";
	CHECK_U64(hp_resolve_trim(u, 5, &lo), 3); /* __libc_start_main_impl and _start go */

	CHECK_STR(hp_basename("/a/b/c.so"), "c.so");
	CHECK_STR(hp_basename("c.so"), "c.so");
	hp_stack_release(&st);
	return check_done();
}
