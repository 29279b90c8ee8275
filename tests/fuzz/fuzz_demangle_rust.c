/* libFuzzer target: the bytes, up to a NUL, are a symbol name from an ELF file of the
 * profiled program, given to the Rust demangler (analyzer/demangle_rust.h). Besides the
 * sanitizers it checks the contract the symbolizer relies on: NULL with errno set, or a
 * non-empty, valid UTF-8 string of bounded length, also when the input is not UTF-8. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demangle_rust.h"

#define FUZZ_CHECK(c)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: fuzz contract violated: %s\n", __FILE__, __LINE__, \
				#c);                                                               \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The output limit of demangle_rust.c. */
#define MAX_OUT (1u << 18)

static int is_utf8(const unsigned char *s)
{
	while (*s) {
		size_t len = *s < 0x80		       ? 1
			     : *s >= 0xc2 && *s < 0xe0 ? 2
			     : *s >= 0xe0 && *s < 0xf0 ? 3
			     : *s >= 0xf0 && *s < 0xf5 ? 4
						       : 0;
		if (!len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[k] & 0xc0) != 0x80)
				return 0;
		}
		s += len;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly the input's length, so ASan sees any read past its NUL. */
	char *sym = malloc(size + 1);
	if (!sym)
		return 0;
	memcpy(sym, data, size);
	sym[size] = '\0';
	errno = 0;
	char *name = hp_demangle_rust(sym);
	if (name) {
		size_t len = strlen(name);
		FUZZ_CHECK(len > 0 && len <= MAX_OUT);
		FUZZ_CHECK(is_utf8((const unsigned char *)name));
		/* Only names that claim to be Rust are decoded. */
		FUZZ_CHECK(strncmp(sym, "_R", 2) == 0 || strncmp(sym, "_ZN", 3) == 0);
	} else {
		FUZZ_CHECK(errno == EINVAL || errno == ENOMEM);
	}
	free(name);
	free(sym);
	return 0;
}
