// C++ names are demangled (demangle.expect): the JSON function names are exactly what
// c++filt prints for the symbols, parameters included.
#include <cstdlib>
#include <cstring>

namespace app
{

class Cache
{
      public:
	__attribute__((noinline)) void fill(std::size_t n);
	void *slot[8] = {};
};

void Cache::fill(std::size_t n)
{
	for (std::size_t i = 0; i < 8; i++) {
		slot[i] = std::malloc(n); /* @CACHE_FILL */
		std::memset(slot[i], 0, n);
	}
}

template <typename T> __attribute__((noinline)) T *make_array(std::size_t n)
{
	return static_cast<T *>(std::malloc(n * sizeof(T))); /* @MAKE_ARRAY */
}

} // namespace app

int main()
{
	app::Cache cache;
	cache.fill(48);
	int *a = app::make_array<int>(25);
	a[24] = 1;
	std::free(a);
	for (void *p : cache.slot)
		std::free(p);
	return 0;
}
