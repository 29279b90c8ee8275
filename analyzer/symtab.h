/* A module's ELF symbol table, sorted by address, for the frames DWARF does not name.
 * libdw's dwfl_module_addrinfo() walks the whole table for each address: 14 s of a
 * 15 s analysis of a node trace (a 100k-symbol binary without debug info). Built once
 * per module on first use, then a binary search. Not thread-safe. */
#ifndef HP_SYMTAB_H
#define HP_SYMTAB_H

#include <elfutils/libdwfl.h>
#include <stddef.h>
#include <stdint.h>

struct hp_symtab_entry {
	uint64_t addr, size; /* absolute (biased) */
	const char *name;    /* libdw's, valid while the module is */
};

struct hp_symtab {
	struct hp_symtab_entry *e;
	size_t n;
	int built;
};

/* The name of the function (or other symbol) at the absolute address addr in mod, or
 * NULL. The table is built on the first call. */
const char *hp_symtab_lookup(struct hp_symtab *t, Dwfl_Module *mod, uint64_t addr);

void hp_symtab_release(struct hp_symtab *t);

#endif
