// Throws and catches 100k exceptions; each throw allocates its exception object.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

static int __attribute__((noinline)) thrower(int i)
{
	if (i % 3 == 0)
		throw std::runtime_error("odd " + std::to_string(i));
	if (i % 3 == 1)
		throw i;
	throw std::string(40, 'x');
}

static int __attribute__((noinline)) middle(int i, int depth)
{
	if (depth == 0)
		return thrower(i);
	return middle(i, depth - 1) + 1;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? std::atoi(argv[1]) : 100000;
	long caught = 0, sum = 0;
	for (int i = 0; i < n; i++) {
		try {
			middle(i, i % 8);
		} catch (const std::runtime_error &e) {
			caught++;
			sum += (long)std::string(e.what()).size();
		} catch (int v) {
			caught++;
			sum += v % 7;
		} catch (const std::string &s) {
			caught++;
			sum += (long)s.size();
		}
	}
	std::printf("caught=%ld sum=%ld\n", caught, sum);
	return caught == n ? 0 : 1;
}
