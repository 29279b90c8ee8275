/* Sorted symbol tables; see symtab.h.
 *
 * The same choice as dwfl_module_addrinfo(): a symbol whose [addr, addr + size) holds
 * the address, a global one before a weak one before a local one at the same start;
 * a symbol of size 0 stands for the code up to the next symbol. Section, file and TLS
 * symbols name no code. */
#include "symtab.h"

#include <gelf.h>
#include <stdlib.h>

static int rank(const GElf_Sym *s)
{
	switch (GELF_ST_BIND(s->st_info)) {
	case STB_GLOBAL:
		return 0;
	case STB_WEAK:
		return 1;
	default:
		return 2;
	}
}

struct cand {
	struct hp_symtab_entry e;
	int rank;
};

static int cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->e.addr != y->e.addr)
		return x->e.addr < y->e.addr ? -1 : 1;
	if ((x->e.size == 0) != (y->e.size == 0))
		return x->e.size == 0 ? 1 : -1; /* sized first */
	return x->rank - y->rank;
}

static void build(struct hp_symtab *t, Dwfl_Module *mod)
{
	t->built = 1;
	int n = dwfl_module_getsymtab(mod);
	if (n <= 1)
		return;
	struct cand *c = malloc((size_t)n * sizeof *c);
	if (!c)
		return;
	size_t k = 0;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);
		if (!name || !*name || sym.st_shndx == SHN_UNDEF || type == STT_SECTION ||
		    type == STT_FILE || type == STT_TLS)
			continue;
		c[k++] = (struct cand){{addr, sym.st_size, name}, rank(&sym)};
	}
	qsort(c, k, sizeof *c, cmp);
	/* One entry a start address: the best of those sharing it. */
	t->e = malloc((k ? k : 1) * sizeof *t->e);
	if (!t->e) {
		free(c);
		return;
	}
	for (size_t i = 0; i < k; i++)
		if (!t->n || t->e[t->n - 1].addr != c[i].e.addr)
			t->e[t->n++] = c[i].e;
	free(c);
}

const char *hp_symtab_lookup(struct hp_symtab *t, Dwfl_Module *mod, uint64_t addr)
{
	if (!t->built)
		build(t, mod);
	size_t lo = 0, hi = t->n; /* the last entry starting at or before addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->e[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct hp_symtab_entry *e = &t->e[lo - 1];
	if (e->size)
		return addr - e->addr < e->size ? e->name : NULL;
	return e->name; /* size 0: up to the next symbol, which starts after addr */
}

void hp_symtab_release(struct hp_symtab *t)
{
	free(t->e);
	t->e = NULL;
	t->n = 0;
	t->built = 0;
}
