// exceptions: throw and catch through a few frames, many times.
//
//   exceptions [THROWS=150000] [THREADS=1]
//
// Each throw allocates its exception object (__cxa_allocate_exception -> malloc) and a
// std::string message, and unwinds 8 noinline frames with the DWARF unwinder, which
// takes the loader's lock through dl_iterate_phdr. A profiler that hooks those paths or
// holds a lock while unwinding shows up here as a slower throw (target: <= 1.5x native).
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

struct bench_error : std::runtime_error {
	explicit bench_error(const std::string &what, unsigned code)
	    : std::runtime_error(what), code(code)
	{
	}
	unsigned code;
};

static volatile unsigned sink;

__attribute__((noinline)) static void thrower(unsigned i)
{
	// Long enough to defeat the small-string optimisation: one more malloc per throw.
	// (The test only keeps GCC from calling frame() infinitely recursive.)
	if (sink != ~0u)
		throw bench_error("benchmark exception number " + std::to_string(i), i);
}

__attribute__((noinline)) static void frame(unsigned depth, unsigned i)
{
	if (depth == 0)
		thrower(i);
	else
		frame(depth - 1, i);
	sink = sink + 1; // not a tail call
}

static unsigned long loop(unsigned long n)
{
	unsigned long caught = 0;
	for (unsigned long i = 0; i < n; i++) {
		try {
			frame(7, (unsigned)i);
		} catch (const bench_error &e) {
			caught += e.code == (unsigned)i;
		}
	}
	return caught;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 150000;
	unsigned threads = argc > 2 ? (unsigned)std::strtoul(argv[2], nullptr, 10) : 1;
	if (threads < 1)
		threads = 1;
	std::vector<std::thread> ts;
	std::vector<unsigned long> caught(threads);
	for (unsigned t = 1; t < threads; t++)
		ts.emplace_back([&, t] { caught[t] = loop(n); });
	caught[0] = loop(n);
	unsigned long total = caught[0];
	for (unsigned t = 1; t < threads; t++) {
		ts[t - 1].join();
		total += caught[t];
	}
	std::fprintf(stderr, "exceptions: threads=%u caught=%lu\n", threads, total);
	return total == n * threads ? 0 : 1;
}
