/* analyzer/flame.c: the tree of a hand-built model (frames unsymbolized, so each is its
 * module and address): values per kind, self values, where each site ends, and pruning
 * into "others" with every value kept exact. */
#include "check.h"

#include <errno.h>

#include "flame.h"
#include "model.h"

/* The child of `parent` whose frame is at module address `address`; NONE when none. */
static uint32_t child_at(const struct hp_flame *f, uint32_t parent, uint64_t address)
{
	for (uint32_t c = f->nodes[parent].first_child; c != HP_FLAME_NONE;
	     c = f->nodes[c].next_sibling)
		if (f->nodes[c].frame && f->nodes[c].frame->address == address)
			return c;
	return HP_FLAME_NONE;
}

static uint32_t others_of(const struct hp_flame *f, uint32_t parent)
{
	for (uint32_t c = f->nodes[parent].first_child; c != HP_FLAME_NONE;
	     c = f->nodes[c].next_sibling)
		if (!f->nodes[c].frame)
			return c;
	return HP_FLAME_NONE;
}

int main(void)
{
	struct hp_module_info mods[] = {{.id = 1, .path = "/bin/prog", .build_id = NULL}};
	/* A = main-like outermost frame, then B; C, D below B; E below A. */
	enum { A, B, C, D, E };
	struct hp_location locs[] = {
	    {.ip = 0x10a0, .address = 0xa0, .module = 0},
	    {.ip = 0x10b0, .address = 0xb0, .module = 0},
	    {.ip = 0x10c0, .address = 0xc0, .module = 0},
	    {.ip = 0x10d0, .address = 0xd0, .module = 0},
	    {.ip = 0x10e0, .address = 0xe0, .module = 0},
	};
	static const uint32_t s0[] = {C, B, A}, s1[] = {D, B, A}, s2[] = {B, A}, s3[] = {E, A};
	struct hp_site sites[] = {
	    {.peak_bytes = 100,
	     .allocations = 1,
	     .allocated_bytes = 100,
	     .locations = s0,
	     .nlocations = 3},
	    {.peak_bytes = 50,
	     .allocations = 2,
	     .allocated_bytes = 60,
	     .leaked_bytes = 10,
	     .locations = s1,
	     .nlocations = 3},
	    {.peak_bytes = 5,
	     .allocations = 10,
	     .allocated_bytes = 5,
	     .temporary = 10,
	     .locations = s2,
	     .nlocations = 2},
	    {.peak_bytes = 1,
	     .allocations = 1,
	     .allocated_bytes = 1,
	     .locations = s3,
	     .nlocations = 2},
	};
	struct hp_profile p = {.sites = sites,
			       .nsites = 4,
			       .modules = mods,
			       .nmodules = 1,
			       .locations = locs,
			       .nlocations = 5};
	struct hp_model m = {0};
	CHECK(hp_model_resolve(&m, &p, &(struct hp_analysis_options){.no_symbols = 1}) == 0);
	CHECK_U64(sites[0].trim_hi - sites[0].trim_lo, 3);

	struct hp_flame f;
	CHECK(hp_flame_build(&f, &m) == 0);
	CHECK_U64(f.n, 6); /* root, A, B, C, D, E */
	CHECK_U64(f.max_depth, 3);
	const struct hp_flame_node *root = &f.nodes[0];
	CHECK(root->frame == NULL && root->parent == HP_FLAME_NONE);
	CHECK_U64(root->value[HP_FLAME_PEAK], 156);
	CHECK_U64(root->value[HP_FLAME_CALLS], 14);
	CHECK_U64(root->value[HP_FLAME_ALLOCATED], 166);
	CHECK_U64(root->value[HP_FLAME_LEAKED], 10);
	CHECK_U64(root->value[HP_FLAME_TEMPORARY], 10);
	uint32_t a = child_at(&f, 0, 0xa0), b = child_at(&f, a, 0xb0);
	uint32_t c = child_at(&f, b, 0xc0), d = child_at(&f, b, 0xd0), e = child_at(&f, a, 0xe0);
	CHECK(a != HP_FLAME_NONE && b != HP_FLAME_NONE && c != HP_FLAME_NONE &&
	      d != HP_FLAME_NONE && e != HP_FLAME_NONE);
	CHECK_U64(f.nodes[a].value[HP_FLAME_PEAK], 156);
	CHECK_U64(f.nodes[b].value[HP_FLAME_PEAK], 155);
	CHECK_U64(f.nodes[b].value[HP_FLAME_CALLS], 13);
	CHECK_U64(f.nodes[d].value[HP_FLAME_LEAKED], 10);
	CHECK_U64(f.nodes[e].depth, 2);
	CHECK_U64(hp_flame_self(&f, b, HP_FLAME_CALLS), 10); /* s2 allocates in B itself */
	CHECK_U64(hp_flame_self(&f, a, HP_FLAME_PEAK), 0);
	CHECK_U64(f.site_node[0], c);
	CHECK_U64(f.site_node[1], d);
	CHECK_U64(f.site_node[2], b);
	CHECK_U64(f.site_node[3], e);

	/* Shares (the largest over the kinds): root, A 1, B 1 and D 1 (all the leaked
	 * bytes), C 0.64, E 0.07 (1 call of 14). Four nodes: C goes to B's "others", E to
	 * A's. */
	CHECK(hp_flame_prune(&f, 4, 0) == 0);
	CHECK_U64(f.n, 6);
	a = child_at(&f, 0, 0xa0);
	b = child_at(&f, a, 0xb0);
	d = child_at(&f, b, 0xd0);
	CHECK(child_at(&f, b, 0xc0) == HP_FLAME_NONE && child_at(&f, a, 0xe0) == HP_FLAME_NONE);
	uint32_t ob = others_of(&f, b), oa = others_of(&f, a);
	CHECK(ob != HP_FLAME_NONE && oa != HP_FLAME_NONE);
	CHECK_U64(f.nodes[ob].merged, 1);
	CHECK_U64(f.nodes[ob].value[HP_FLAME_PEAK], 100);
	CHECK_U64(f.nodes[oa].value[HP_FLAME_CALLS], 1);
	CHECK_U64(f.nodes[0].value[HP_FLAME_PEAK], 156);
	CHECK_U64(f.nodes[b].value[HP_FLAME_PEAK], 155);
	CHECK_U64(f.site_node[0], ob);
	CHECK_U64(f.site_node[1], d);
	CHECK_U64(f.site_node[3], oa);
	/* Children sum to at most their parent in every kind, and a site's end is a node
	 * whose ancestors lead to the root. */
	for (uint32_t i = 1; i < f.n; i++) {
		uint64_t sum[HP_FLAME_KINDS] = {0};
		for (uint32_t ch = f.nodes[i].first_child; ch != HP_FLAME_NONE;
		     ch = f.nodes[ch].next_sibling)
			for (int k = 0; k < HP_FLAME_KINDS; k++)
				sum[k] += f.nodes[ch].value[k];
		for (int k = 0; k < HP_FLAME_KINDS; k++)
			CHECK(sum[k] <= f.nodes[i].value[k]);
		CHECK_U64(f.nodes[i].depth, f.nodes[f.nodes[i].parent].depth + 1);
	}
	/* By share alone: E (0.07) goes, C (0.64) stays. */
	hp_flame_release(&f);
	CHECK(hp_flame_build(&f, &m) == 0);
	CHECK(hp_flame_prune(&f, 0, 0.5) == 0);
	a = child_at(&f, 0, 0xa0);
	b = child_at(&f, a, 0xb0);
	CHECK(child_at(&f, b, 0xc0) != HP_FLAME_NONE && child_at(&f, a, 0xe0) == HP_FLAME_NONE);
	CHECK_U64(f.n, 6); /* root A B C D, A's others */
	hp_flame_release(&f);

	CHECK_I64(hp_flame_kind_parse("temporary"), HP_FLAME_TEMPORARY);
	CHECK_I64(hp_flame_kind_parse("bytes"), -1);
	CHECK_STR(hp_flame_kind_name(HP_FLAME_ALLOCATED), "allocated");
	CHECK(hp_flame_kind_name(HP_FLAME_KINDS) == NULL);

	/* Values of a corrupt trace that overflow 64 bits: sums saturate, so a parent is
	 * never below its child, and pruning still keeps a tree (the fuzz target found a
	 * child ranked before its parent when sums wrapped). */
	for (int i = 0; i < 4; i++)
		sites[i].peak_bytes = UINT64_MAX / 2 + 7;
	CHECK(hp_flame_build(&f, &m) == 0);
	CHECK_U64(f.nodes[0].value[HP_FLAME_PEAK], UINT64_MAX);
	b = child_at(&f, child_at(&f, 0, 0xa0), 0xb0);
	CHECK_U64(f.nodes[b].value[HP_FLAME_PEAK], UINT64_MAX);
	CHECK_U64(hp_flame_self(&f, b, HP_FLAME_PEAK), 0);
	CHECK(hp_flame_prune(&f, 3, 0) == 0);
	for (uint32_t i = 1; i < f.n; i++)
		CHECK(f.nodes[i].parent < i ||
		      f.nodes[f.nodes[i].parent].depth + 1 == f.nodes[i].depth);
	for (size_t i = 0; i < f.nsites; i++)
		CHECK(f.site_node[i] < f.n);
	hp_flame_release(&f);

	/* Two runs in one tree (the diff's): NEW is the model above, its peaks back to
	 * 100/50/5/1; BASE, a model of its own, has C's stack with other figures and a stack
	 * NEW lacks (F below A). Frames match across the models: the same module file and
	 * addresses, the rule for unsymbolized frames. */
	sites[0].peak_bytes = 100, sites[1].peak_bytes = 50;
	sites[2].peak_bytes = 5, sites[3].peak_bytes = 1;
	struct hp_location blocs[] = {
	    {.ip = 0x20a0, .address = 0xa0, .module = 0},
	    {.ip = 0x20b0, .address = 0xb0, .module = 0},
	    {.ip = 0x20c0, .address = 0xc0, .module = 0},
	    {.ip = 0x20f0, .address = 0xf0, .module = 0},
	};
	static const uint32_t b0[] = {2, 1, 0}, b1[] = {3, 0};
	struct hp_site bsites[] = {
	    {.peak_bytes = 70, .allocations = 3, .locations = b0, .nlocations = 3},
	    {.peak_bytes = 9, .allocations = 4, .locations = b1, .nlocations = 2},
	};
	struct hp_module_info bmods[] = {{.id = 7, .path = "/bin/prog", .build_id = NULL}};
	struct hp_profile bp = {.sites = bsites,
				.nsites = 2,
				.modules = bmods,
				.nmodules = 1,
				.locations = blocs,
				.nlocations = 4};
	struct hp_model bm = {0};
	CHECK(hp_model_resolve(&bm, &bp, &(struct hp_analysis_options){.no_symbols = 1}) == 0);
	CHECK(hp_flame_build_diff(&f, &bm, &m) == 0);
	CHECK(f.diff);
	CHECK_U64(f.n, 7); /* root, A, B, C, D, E, F */
	a = child_at(&f, 0, 0xa0);
	b = child_at(&f, a, 0xb0);
	c = child_at(&f, b, 0xc0);
	uint32_t fb = child_at(&f, a, 0xf0);
	CHECK(c != HP_FLAME_NONE && fb != HP_FLAME_NONE);
	CHECK_U64(f.nodes[0].value[HP_FLAME_PEAK], 156);
	CHECK_U64(f.nodes[0].base_value[HP_FLAME_PEAK], 79);
	CHECK_U64(f.nodes[c].value[HP_FLAME_PEAK], 100);
	CHECK_U64(f.nodes[c].base_value[HP_FLAME_PEAK], 70);
	CHECK_U64(f.nodes[c].base_value[HP_FLAME_CALLS], 3);
	CHECK_U64(f.nodes[fb].value[HP_FLAME_PEAK], 0);
	CHECK_U64(f.nodes[fb].base_value[HP_FLAME_CALLS], 4);
	CHECK_U64(f.nodes[child_at(&f, b, 0xd0)].base_value[HP_FLAME_PEAK], 0);
	CHECK_U64(f.site_node[0], c);
	/* F has no share of NEW but 4/7 of BASE's calls: pruning by share keeps it (E, 1/14
	 * of NEW's calls and none of BASE's, goes), and "others" sums both runs. */
	CHECK(hp_flame_prune(&f, 0, 0.5) == 0);
	a = child_at(&f, 0, 0xa0);
	fb = child_at(&f, a, 0xf0);
	CHECK(fb != HP_FLAME_NONE && child_at(&f, a, 0xe0) == HP_FLAME_NONE);
	CHECK_U64(f.nodes[fb].base_value[HP_FLAME_PEAK], 9);
	CHECK_U64(f.nodes[others_of(&f, a)].value[HP_FLAME_PEAK], 1);
	hp_flame_release(&f);
	hp_model_release(&bm);

	/* A lazy model has no frames to merge. */
	struct hp_model lazy = {0};
	CHECK(hp_model_resolve(&lazy, &p,
			       &(struct hp_analysis_options){.no_symbols = 1, .lazy_symbols = 1}) ==
	      0);
	CHECK(hp_flame_build(&f, &lazy) == -EINVAL);
	hp_flame_release(&f);
	hp_model_release(&lazy);
	hp_model_release(&m);
	return check_done();
}
