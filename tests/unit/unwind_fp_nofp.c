/* Callers without frame pointers for test_unwind_fp.c; this file alone is compiled with
 * -fomit-frame-pointer (tests/unit/CMakeLists.txt). */
int chain_a(int depth, unsigned max);
int chain_b(int depth, unsigned max);
int nofp_plain(int depth, unsigned max);
int nofp_clobber(int depth, unsigned max);

__attribute__((noinline)) int nofp_plain(int depth, unsigned max)
{
	int r = chain_a(depth, max);
	return r + 2;
}

__attribute__((noinline)) int nofp_clobber(int depth, unsigned max)
{
	__asm__ volatile("movq $0x1234567, %%rbp" ::: "rbp", "memory");
	int r = chain_b(depth, max);
	return r + 3;
}
