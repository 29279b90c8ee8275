// C++ symbolization fixture: qualified, template and inlined names. Built at -O2 -g as a
// shared library; the extern "C" entry points return a return address inside the
// function under test (see fixture.c for the LINE: markers and the barrier).
#define NOINLINE __attribute__((noinline))
#define BARRIER() __asm__ volatile("" ::: "memory")

extern "C" NOINLINE void *cxx_leaf()
{
	void *ra = __builtin_return_address(0);
	BARRIER();
	return ra;
}

namespace ns
{

struct Widget {
	unsigned long size;
	void *grow(unsigned long n);
};

NOINLINE void *Widget::grow(unsigned long n)
{
	size += n;
	void *ra = cxx_leaf(); /* LINE:grow_call */
	BARRIER();
	return ra;
}

template <typename T> NOINLINE void *scale(T v)
{
	void *ra = cxx_leaf(); /* LINE:scale_call */
	BARRIER();
	return v ? ra : nullptr;
}

inline __attribute__((always_inline)) void *helper(int k)
{
	void *ra = cxx_leaf(); /* LINE:helper_call */
	BARRIER();
	return k ? ra : nullptr;
}

} // namespace ns

extern "C" void *cxx_grow();
extern "C" void *cxx_scale();
extern "C" void *cxx_inlined();

extern "C" void *cxx_grow()
{
	ns::Widget w{1};
	return w.grow(3);
}

extern "C" void *cxx_scale()
{
	return ns::scale<int>(2);
}

extern "C" NOINLINE void *cxx_inlined()
{
	void *ra = ns::helper(1); /* LINE:helper_caller */
	BARRIER();
	return ra;
}
