/* Leak report of one process: scan x live set join, grouping, suppressions. */
#include "leaks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[HP_LEAK_NKINDS] = {
    [HP_LEAK_REACHABLE] = "still reachable", [HP_LEAK_POSSIBLE] = "possibly lost",
    [HP_LEAK_INDIRECT] = "indirectly lost",  [HP_LEAK_DEFINITE] = "definitely lost",
    [HP_LEAK_LIVE] = "live at exit",
};
static const char *const kind_keys[HP_LEAK_NKINDS] = {
    [HP_LEAK_REACHABLE] = "reachable", [HP_LEAK_POSSIBLE] = "possible",
    [HP_LEAK_INDIRECT] = "indirect",   [HP_LEAK_DEFINITE] = "definite",
    [HP_LEAK_LIVE] = "live",
};

const char *hp_leaks_kind_name(int kind)
{
	return kind >= 0 && kind < HP_LEAK_NKINDS ? kind_names[kind] : "unknown";
}

const char *hp_leaks_kind_key(int kind)
{
	return kind >= 0 && kind < HP_LEAK_NKINDS ? kind_keys[kind] : "unknown";
}

void hp_leaks_init(struct hp_leaks *lk, const struct hp_suppressions *base)
{
	memset(lk, 0, sizeof(*lk));
	lk->base = base;
	hp_suppress_init(&lk->supp);
}

void hp_leaks_release(struct hp_leaks *lk)
{
	free(lk->program_supp);
	free(lk->scanned);
	free(lk->live);
	free(lk->sites);
	hp_suppress_release(&lk->supp);
	memset(lk, 0, sizeof(*lk));
}

int hp_leaks_add_program_suppressions(struct hp_leaks *lk, const char *text, size_t len)
{
	/* Several records (one per exec'd image is the norm) concatenate. */
	char *p = realloc(lk->program_supp, lk->program_supp_len + len + 2);
	if (!p)
		return -ENOMEM;
	memcpy(p + lk->program_supp_len, text, len);
	lk->program_supp_len += len;
	p[lk->program_supp_len++] = '\n';
	p[lk->program_supp_len] = 0;
	lk->program_supp = p;
	return 0;
}

void hp_leaks_set_scan(struct hp_leaks *lk, const struct hp_leak_scan *scan)
{
	lk->have_scan = 1;
	lk->scan = *scan;
	/* A later scan (late destructors, then another END) replaces the earlier one. */
	lk->nscanned = 0;
}

static int push(struct hp_leak_block **v, size_t *n, size_t *cap, struct hp_leak_block b)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 1024;
		struct hp_leak_block *nv = realloc(*v, c * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = b;
	return 0;
}

int hp_leaks_add_block(struct hp_leaks *lk, uint64_t addr, unsigned cls)
{
	if (cls > HP_LEAK_DEFINITE)
		return -EINVAL;
	return push(&lk->scanned, &lk->nscanned, &lk->scanned_cap,
		    (struct hp_leak_block){.addr = addr, .cls = (uint8_t)cls});
}

int hp_leaks_add_live(struct hp_leaks *lk, uint64_t addr, uint64_t size, uint32_t stack)
{
	return push(&lk->live, &lk->nlive, &lk->live_cap,
		    (struct hp_leak_block){
			.addr = addr, .size = size, .stack = stack, .cls = HP_LEAK_LIVE});
}

static int cmp_addr(const void *a, const void *b)
{
	const struct hp_leak_block *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_group(const void *a, const void *b)
{
	const struct hp_leak_block *x = a, *y = b;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static int cmp_site(const void *a, const void *b)
{
	const struct hp_leak_site *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->blocks != y->blocks)
		return x->blocks > y->blocks ? -1 : 1;
	if (x->kind != y->kind) /* definite first among equals */
		return x->kind > y->kind ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* LSan's order: suppression files, then the program's, then the built-in ones. */
static int build_suppressions(struct hp_leaks *lk)
{
	const struct hp_suppressions *b = lk->base;
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1) {
			if (!lk->program_supp)
				continue;
			int rc = hp_suppress_add_text(
			    &lk->supp, lk->program_supp, lk->program_supp_len, HP_SUPP_PROGRAM,
			    "__lsan_default_suppressions", lk->supp_error, sizeof(lk->supp_error));
			if (rc == -ENOMEM)
				return rc;
			continue;
		}
		int want = pass == 0 ? HP_SUPP_FILE : HP_SUPP_DEFAULT;
		for (size_t i = 0; b && i < b->nrules; i++) {
			const struct hp_supp_rule *r = &b->rules[i];
			if ((r->origin == HP_SUPP_DEFAULT) != (want == HP_SUPP_DEFAULT))
				continue;
			if (hp_suppress_add_rule(&lk->supp, r->templ, strlen(r->templ), r->origin,
						 r->from, r->line))
				return -ENOMEM;
		}
	}
	return 0;
}

int hp_leaks_finish(struct hp_leaks *lk, hp_leaks_resolve_fn resolve, void *ctx)
{
	lk->resolve = resolve;
	lk->resolve_ctx = ctx;
	int rc = build_suppressions(lk);
	if (rc)
		return rc;

	if (lk->nlive > 1)
		qsort(lk->live, lk->nlive, sizeof(*lk->live), cmp_addr);
	struct hp_leak_block *groups = lk->live;
	size_t ngroups = lk->nlive;
	if (lk->have_scan) {
		/* Each scanned block takes size and stack from the live set: both sorted by
		 * address, one merge pass. */
		if (lk->nscanned > 1)
			qsort(lk->scanned, lk->nscanned, sizeof(*lk->scanned), cmp_addr);
		size_t j = 0;
		for (size_t i = 0; i < lk->nscanned; i++) {
			struct hp_leak_block *s = &lk->scanned[i];
			while (j < lk->nlive && lk->live[j].addr < s->addr)
				j++;
			if (j < lk->nlive && lk->live[j].addr == s->addr) {
				s->size = lk->live[j].size;
				s->stack = lk->live[j].stack;
				s->seen = 1;
			} else {
				lk->unattributed_blocks++;
			}
		}
		groups = lk->scanned;
		ngroups = lk->nscanned;
	}
	if (ngroups > 1)
		qsort(groups, ngroups, sizeof(*groups), cmp_group);

	struct hp_stack frames = {0};
	int match = resolve && lk->supp.nrules;
	free(lk->sites);
	lk->sites = NULL;
	lk->nsites = 0;
	size_t sites_cap = 0;
	for (size_t i = 0; i < ngroups;) {
		struct hp_leak_site site = {.kind = groups[i].cls, .stack = groups[i].stack};
		size_t k = i;
		for (; k < ngroups && groups[k].cls == groups[i].cls &&
		       groups[k].stack == groups[i].stack;
		     k++) {
			if (lk->have_scan && !groups[k].seen)
				continue;
			site.bytes += groups[k].size;
			site.blocks++;
		}
		i = k;
		if (!site.blocks)
			continue;
		long rule = -1;
		if (match && site.stack) {
			if (resolve(ctx, site.stack, 1, &frames)) {
				hp_stack_release(&frames);
				return -ENOMEM;
			}
			rule = hp_suppress_match(&lk->supp, frames.v, frames.n);
		}
		if (rule >= 0) {
			hp_suppress_count(&lk->supp, rule, site.blocks, site.bytes);
			lk->suppressed_bytes[site.kind] += site.bytes;
			lk->suppressed_blocks[site.kind] += site.blocks;
			continue;
		}
		lk->bytes[site.kind] += site.bytes;
		lk->blocks[site.kind] += site.blocks;
		if (lk->nsites == sites_cap) {
			size_t c = sites_cap ? 2 * sites_cap : 64;
			struct hp_leak_site *ns = realloc(lk->sites, c * sizeof(*ns));
			if (!ns) {
				hp_stack_release(&frames);
				return -ENOMEM;
			}
			lk->sites = ns;
			sites_cap = c;
		}
		lk->sites[lk->nsites++] = site;
	}
	hp_stack_release(&frames);
	if (lk->nsites > 1)
		qsort(lk->sites, lk->nsites, sizeof(*lk->sites), cmp_site);
	lk->finished = 1;
	return lk->supp_error[0] ? -EINVAL : 0;
}
