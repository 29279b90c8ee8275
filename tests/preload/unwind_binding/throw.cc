// Throws and catches across a few frames while libheapprof.so is preloaded: the C++
// runtime must keep using libgcc_s's unwinder, not libunwind's _Unwind_* exports.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

static int depth(int n)
{
	std::vector<std::string> keep(3, std::string(40, 'x')); // allocations on the way
	if (n == 0)
		throw std::runtime_error("unwound " + std::to_string(keep.size()));
	return depth(n - 1) + 1;
}

int main()
{
	int caught = 0;
	for (int i = 0; i < 100; i++) {
		try {
			depth(8);
		} catch (const std::runtime_error &e) {
			if (std::string(e.what()) == "unwound 3")
				caught++;
		}
	}
	std::printf("caught %d\n", caught);
	return caught == 100 ? 0 : 1;
}
