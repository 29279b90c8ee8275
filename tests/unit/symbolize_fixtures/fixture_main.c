/* Prints the fixture's addresses as module-relative vaddrs (runtime address minus the
 * load bias), one "name hex" pair a line, for test_symbolize. */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <stdio.h>

void *fix_direct(void);
void *fix_outer(void);
void *fix_deep(void);
int fix_entry(int x);

static int main_program(struct dl_phdr_info *info, size_t size, void *data)
{
	*(uintptr_t *)data = info->dlpi_addr; /* the first object is the executable */
	return 1;
}

int main(void)
{
	uintptr_t bias = 0;

	dl_iterate_phdr(main_program, &bias);
	printf("bias %jx\n", (uintmax_t)bias);
	printf("direct %jx\n", (uintmax_t)((uintptr_t)fix_direct() - bias));
	printf("outer %jx\n", (uintmax_t)((uintptr_t)fix_outer() - bias));
	printf("deep %jx\n", (uintmax_t)((uintptr_t)fix_deep() - bias));
	printf("entry %jx\n", (uintmax_t)((uintptr_t)&fix_entry - bias));
	return 0;
}
