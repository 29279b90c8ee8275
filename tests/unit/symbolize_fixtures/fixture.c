/* Symbolization fixture, built at -O2 -g as a shared library, a PIE and a non-PIE
 * executable. Each fix_* function returns a return address inside itself, taken by
 * fix_leaf(); test_symbolize finds the expected lines by their LINE: markers, so the
 * code may move. Keep each marked call on one line, and keep the barrier after it: it
 * stops the call from becoming a tail call, which would leave no return address here. */
#define NOINLINE __attribute__((noinline))
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define BARRIER() __asm__ volatile("" ::: "memory")

void *fix_leaf(void);
void *fix_direct(void);
void *fix_outer(void);
void *fix_deep(void);
int fix_entry(int x);

NOINLINE void *fix_leaf(void)
{
	void *ra = __builtin_return_address(0);
	BARRIER();
	return ra;
}

NOINLINE void *fix_direct(void)
{
	void *ra = fix_leaf(); /* LINE:direct_call */
	BARRIER();
	return ra;
}

ALWAYS_INLINE void *inl_middle(void)
{
	void *ra = fix_leaf(); /* LINE:inl_call */
	BARRIER();
	return ra;
}

NOINLINE void *fix_outer(void)
{
	void *ra = inl_middle(); /* LINE:outer_call */
	BARRIER();
	return ra;
}

ALWAYS_INLINE void *inl_inner(void)
{
	void *ra = fix_leaf(); /* LINE:inner_call */
	BARRIER();
	return ra;
}

ALWAYS_INLINE void *inl_mid(void)
{
	void *ra = inl_inner(); /* LINE:mid_call */
	BARRIER();
	return ra;
}

NOINLINE void *fix_deep(void)
{
	void *ra = inl_mid(); /* LINE:deep_call */
	BARRIER();
	return ra;
}

/* One line, so that the entry address has the marked line whatever the compiler. */
/* clang-format off */
NOINLINE int fix_entry(int x) { return x * 3 + 1; } /* LINE:entry */
/* clang-format on */
