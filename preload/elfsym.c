/* The executable's .symtab is not loaded into memory and dlsym cannot see symbols the
 * program did not export, but LeakSanitizer's convention is that a program merely
 * *defines* __lsan_default_suppressions(). So the file is mapped and its static symbol
 * table searched, once, at exit. Every offset read from the file is bounds-checked:
 * the file is trusted no more than any other input. */
#define _GNU_SOURCE
#include "elfsym.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os.h"

/* The main program's load bias: where its program headers are at run time minus
 * where PT_PHDR says they are in the file. */
static uintptr_t exe_bias(void)
{
	const ElfW(Phdr) *phdr = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	unsigned long n = getauxval(AT_PHNUM);
	if (!phdr)
		return 0;
	for (unsigned long i = 0; i < n; i++)
		if (phdr[i].p_type == PT_PHDR)
			return (uintptr_t)phdr - phdr[i].p_vaddr;
	return 0; /* no PT_PHDR: a non-PIE executable linked at its own addresses */
}

static int in_file(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

static uintptr_t search(const unsigned char *f, size_t size, const char *name)
{
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)f;
	if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(ElfW(Shdr)) ||
	    !in_file(size, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(ElfW(Shdr))))
		return 0;
	const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(f + eh->e_shoff);
	size_t name_len = strlen(name);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum ||
		    sh[i].sh_entsize != sizeof(ElfW(Sym)))
			continue;
		const ElfW(Shdr) *strs = &sh[sh[i].sh_link];
		if (!in_file(size, sh[i].sh_offset, sh[i].sh_size) ||
		    !in_file(size, strs->sh_offset, strs->sh_size))
			continue;
		const ElfW(Sym) *sym = (const ElfW(Sym) *)(f + sh[i].sh_offset);
		const char *str = (const char *)f + strs->sh_offset;
		size_t nsym = sh[i].sh_size / sizeof *sym;
		for (size_t k = 0; k < nsym; k++) {
			if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC ||
			    sym[k].st_shndx == SHN_UNDEF || sym[k].st_name >= strs->sh_size ||
			    strs->sh_size - sym[k].st_name <= name_len)
				continue;
			if (memcmp(str + sym[k].st_name, name, name_len + 1) == 0)
				return sym[k].st_value;
		}
	}
	return 0;
}

void *hp_elfsym_exe_function(const char *name)
{
	int fd = hp_os_open("/proc/self/exe", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	struct stat st;
	void *map = MAP_FAILED;
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	hp_os_close(fd);
	if (map == MAP_FAILED)
		return NULL;
	uintptr_t value = search(map, (size_t)st.st_size, name);
	munmap(map, (size_t)st.st_size);
	return value ? (void *)(exe_bias() + value) : NULL;
}
