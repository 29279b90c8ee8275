// Every C++ allocation operator counted exactly once (cxx_new.expect).
//
// libstdc++ implements several operators on top of others through the PLT (the nothrow
// and array forms call ::operator new(size_t), aligned forms call aligned_alloc), so a
// recorder that interposes both layers without a re-entrancy guard counts twice.
// No iostream/stdio inside run_tests(), so every allocation under it is one below.
//
//   operator                                       allocations  bytes
//   new(100) / delete                                    1         100
//   new[](200) / delete[]                                1         200
//   new(300, nothrow) / delete(nothrow)                  1         300
//   new[](400, nothrow) / delete[](nothrow)              1         400
//   new(512, align 64) / delete(align)                   1         512
//   new[](640, align 128) / delete[](align)              1         640
//   new(700, align 32, nothrow) / delete(align, nothrow) 1         700
//   new(800) / sized delete(800)                         1         800
//   new(896, align 64) / sized aligned delete            1         896
//   new int(5) / delete                                  1           4
//   new int[10] / delete[]                               1          40
//   new Aligned (alignas 64, 128 bytes) / delete         1         128
//   new char[123], leaked                                1         123
//   total                                               13        4843, 1 leaked (123)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <unistd.h>

static int failures;
char *volatile leaked;

static void fail(const char *what)
{
	static const char prefix[] = "cxx_new: check failed: ";
	(void)!write(2, prefix, sizeof prefix - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, "\n", 1);
	failures++;
}

#define EXPECT(cond)                                                                               \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fail(#cond);                                                               \
	} while (0)

static bool aligned(const void *p, std::size_t a)
{
	return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0;
}

struct alignas(64) Aligned {
	char c[100];
};

extern "C" __attribute__((noinline)) void run_tests(void)
{
	void *p;

	p = ::operator new(100); /* @NEW */
	::operator delete(p);
	p = ::operator new[](200); /* @NEW_ARRAY */
	::operator delete[](p);
	p = ::operator new(300, std::nothrow); /* @NEW_NOTHROW */
	EXPECT(p != nullptr);
	::operator delete(p, std::nothrow);
	p = ::operator new[](400, std::nothrow); /* @NEW_ARRAY_NOTHROW */
	EXPECT(p != nullptr);
	::operator delete[](p, std::nothrow);

	p = ::operator new(512, std::align_val_t(64)); /* @NEW_ALIGNED */
	EXPECT(aligned(p, 64));
	::operator delete(p, std::align_val_t(64));
	p = ::operator new[](640, std::align_val_t(128)); /* @NEW_ARRAY_ALIGNED */
	EXPECT(aligned(p, 128));
	::operator delete[](p, std::align_val_t(128));
	p = ::operator new(700, std::align_val_t(32), std::nothrow); /* @NEW_ALIGNED_NOTHROW */
	EXPECT(p != nullptr && aligned(p, 32));
	::operator delete(p, std::align_val_t(32), std::nothrow);

	p = ::operator new(800); /* @NEW_SIZED_DELETE */
	::operator delete(p, static_cast<std::size_t>(800));
	p = ::operator new(896, std::align_val_t(64)); /* @NEW_SIZED_ALIGNED_DELETE */
	::operator delete(p, static_cast<std::size_t>(896), std::align_val_t(64));

	int *i = new int(5); /* @NEW_EXPR */
	EXPECT(*i == 5);
	delete i;
	int *a = new int[10](); /* @NEW_ARRAY_EXPR */
	EXPECT(a[9] == 0);
	delete[] a;
	Aligned *al = new Aligned(); /* @NEW_ALIGNED_EXPR */
	EXPECT(aligned(al, 64));
	delete al;

	leaked = new char[123]; /* @NEW_LEAK */
}

int main()
{
	run_tests();
	return failures ? 1 : 0;
}
