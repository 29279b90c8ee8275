/* dlopen test: a library built by the test allocates, is dlclose'd (and unmapped)
 * before exit; the analysis still names its functions (dlopen.expect).
 * Usage: dlopen_main /path/to/libhp_dlopen_test.so */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

void *volatile leaked;

static int still_mapped(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	if (!h)
		return 0;
	dlclose(h);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 1;
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return 2;
	void **(*build)(int) = (void **(*)(int))dlsym(h, "dlo_build_table");
	void *(*leak)(void) = (void *(*)(void))dlsym(h, "dlo_leak");
	if (!build || !leak)
		return 3;
	void **table = build(40);
	for (int i = 0; i < 40; i++)
		free(table[i]);
	free(table);
	leaked = leak();
	if (dlclose(h) != 0)
		return 4;
	return still_mapped(argv[1]) ? 5 : 0;
}
