/* The flame-graph tree (flame.h). */
#include "flame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[HP_FLAME_KINDS] = {"peak", "calls", "allocated", "leaked",
						       "temporary"};

const char *hp_flame_kind_name(int kind)
{
	return kind >= 0 && kind < HP_FLAME_KINDS ? kind_names[kind] : NULL;
}

int hp_flame_kind_parse(const char *name)
{
	for (int k = 0; k < HP_FLAME_KINDS; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

int hp_flame_kind_is_bytes(int kind)
{
	return kind == HP_FLAME_PEAK || kind == HP_FLAME_ALLOCATED || kind == HP_FLAME_LEAKED;
}

/* Sums saturate: a node's value is never below a child's, even on a corrupt trace. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* The table slot hash of (parent, frame key): the stack-key step of frame.h, one more
 * frame folded into its parent's. */
static uint64_t child_hash(uint32_t parent, uint64_t frame_key)
{
	return hp_stack_key_add(parent, frame_key);
}

static int add_node(struct hp_flame *f, const struct hp_frame *frame, uint32_t parent)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		if (cap >= HP_FLAME_NONE)
			return -ENOMEM;
		void *p = realloc(f->nodes, cap * sizeof *f->nodes);
		if (!p)
			return -ENOMEM;
		f->nodes = p;
		f->cap = cap;
	}
	struct hp_flame_node *nd = &f->nodes[f->n];
	memset(nd, 0, sizeof *nd);
	nd->frame = frame;
	nd->parent = parent;
	nd->first_child = nd->next_sibling = HP_FLAME_NONE;
	if (parent != HP_FLAME_NONE) {
		struct hp_flame_node *p = &f->nodes[parent];
		nd->depth = p->depth + 1;
		nd->next_sibling = p->first_child;
		p->first_child = (uint32_t)f->n;
	}
	if (nd->depth > f->max_depth)
		f->max_depth = nd->depth;
	f->n++;
	return 0;
}

/* Keeps the table at most half full: rehashes every node but the root. */
static int grow_slots(struct hp_flame *f)
{
	size_t nslots = f->nslots ? f->nslots * 2 : 4096;
	uint32_t *s = malloc(nslots * sizeof *s);
	if (!s)
		return -ENOMEM;
	memset(s, 0xff, nslots * sizeof *s);
	for (size_t i = 1; i < f->n; i++) {
		const struct hp_flame_node *nd = &f->nodes[i];
		uint64_t h = child_hash(nd->parent, nd->frame_key);
		size_t j = h & (nslots - 1);
		while (s[j] != HP_FLAME_NONE)
			j = (j + 1) & (nslots - 1);
		s[j] = (uint32_t)i;
	}
	free(f->slots);
	f->slots = s;
	f->nslots = nslots;
	return 0;
}

/* The child of `parent` for `frame` (whose hp_frame_key() is `key`), created when new;
 * HP_FLAME_NONE on ENOMEM. */
static uint32_t child(struct hp_flame *f, const struct hp_frame *frame, uint64_t key,
		      uint32_t parent)
{
	if ((f->n + 1) * 2 > f->nslots && grow_slots(f))
		return HP_FLAME_NONE;
	uint64_t h = child_hash(parent, key);
	size_t j = h & (f->nslots - 1);
	for (;; j = (j + 1) & (f->nslots - 1)) {
		uint32_t i = f->slots[j];
		if (i == HP_FLAME_NONE)
			break;
		const struct hp_flame_node *nd = &f->nodes[i];
		if (nd->parent == parent && nd->frame_key == key && hp_frame_same(nd->frame, frame))
			return i;
	}
	if (add_node(f, frame, parent))
		return HP_FLAME_NONE;
	f->nodes[f->n - 1].frame_key = key;
	f->slots[j] = (uint32_t)(f->n - 1);
	return (uint32_t)(f->n - 1);
}

static void site_values(const struct hp_site *s, uint64_t v[HP_FLAME_KINDS])
{
	v[HP_FLAME_PEAK] = s->peak_bytes;
	v[HP_FLAME_CALLS] = s->allocations;
	v[HP_FLAME_ALLOCATED] = s->allocated_bytes;
	v[HP_FLAME_LEAKED] = s->leaked_bytes;
	v[HP_FLAME_TEMPORARY] = s->temporary;
}

static int flame_init(struct hp_flame *f, const struct hp_model *m)
{
	memset(f, 0, sizeof *f);
	if (m->lazy)
		return -EINVAL;
	f->site_node = malloc((m->prof->nsites ? m->prof->nsites : 1) * sizeof *f->site_node);
	if (!f->site_node || add_node(f, NULL, HP_FLAME_NONE))
		return -ENOMEM;
	f->nsites = m->prof->nsites;
	return 0;
}

/* Adds every site of m to the tree, into each node's value (base 0) or base_value (1);
 * site_node is filled for the model of value only. */
static int add_model(struct hp_flame *f, const struct hp_model *m, int base)
{
	if (m->lazy)
		return -EINVAL;
	const struct hp_profile *p = m->prof;
	uint64_t *keys = malloc((m->nframes ? m->nframes : 1) * sizeof *keys);
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < m->nframes; i++)
		keys[i] = hp_frame_key(&m->frames[i]);
	size_t *idx = NULL, cap = 0;
	int rc = 0;
	for (size_t si = 0; si < p->nsites && !rc; si++) {
		const struct hp_site *s = &p->sites[si];
		if (s->trim_hi > cap) {
			cap = s->trim_hi * 2;
			void *q = realloc(idx, cap * sizeof *idx);
			if (!q) {
				rc = -ENOMEM;
				break;
			}
			idx = q;
		}
		/* The frame indices of the site's trimmed stack, innermost first, as
		 * hp_model_stack() copies them. */
		size_t n = 0, k = 0;
		for (uint32_t li = 0; li < s->nlocations && k < s->trim_hi; li++) {
			const struct hp_location *l = &p->locations[s->locations[li]];
			for (uint32_t j = 0; j < l->nframes && k < s->trim_hi; j++, k++)
				if (k >= s->trim_lo && l->first_frame + j < m->nframes)
					idx[n++] = l->first_frame + j;
		}
		uint64_t v[HP_FLAME_KINDS];
		site_values(s, v);
		uint32_t node = 0;
		for (;;) {
			uint64_t *to = base ? f->nodes[node].base_value : f->nodes[node].value;
			for (int kd = 0; kd < HP_FLAME_KINDS; kd++)
				to[kd] = add_sat(to[kd], v[kd]);
			if (!n--)
				break;
			node = child(f, &m->frames[idx[n]], keys[idx[n]], node);
			if (node == HP_FLAME_NONE) {
				rc = -ENOMEM;
				break;
			}
		}
		if (!base)
			f->site_node[si] = node == HP_FLAME_NONE ? 0 : node;
	}
	free(idx);
	free(keys);
	return rc;
}

static void end_build(struct hp_flame *f)
{
	free(f->slots);
	f->slots = NULL;
	f->nslots = 0;
}

int hp_flame_build(struct hp_flame *f, const struct hp_model *m)
{
	int rc = flame_init(f, m);
	if (!rc)
		rc = add_model(f, m, 0);
	end_build(f);
	return rc;
}

int hp_flame_build_diff(struct hp_flame *f, const struct hp_model *base, const struct hp_model *new)
{
	int rc = flame_init(f, new);
	if (!rc)
		rc = add_model(f, new, 0);
	if (!rc)
		rc = add_model(f, base, 1);
	end_build(f);
	f->diff = 1;
	return rc;
}

struct ranked {
	double share;
	uint32_t depth, index;
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->share != y->share)
		return x->share > y->share ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

int hp_flame_prune(struct hp_flame *f, size_t max_nodes, double min_share)
{
	if (!f->n)
		return 0;
	const struct hp_flame_node *root = &f->nodes[0];
	struct ranked *r = malloc(f->n * sizeof *r);
	uint32_t *map = malloc(f->n * sizeof *map);	  /* old -> new, or NONE */
	uint32_t *others = malloc(f->n * sizeof *others); /* old parent -> new "others" */
	struct hp_flame_node *out = malloc(2 * f->n * sizeof *out);
	if (!r || !map || !others || !out) {
		free(r);
		free(map);
		free(others);
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < f->n; i++) {
		double share = 0;
		for (int k = 0; k < HP_FLAME_KINDS; k++) {
			if (root->value[k]) {
				double s = (double)f->nodes[i].value[k] / (double)root->value[k];
				if (s > share)
					share = s;
			}
			if (root->base_value[k]) {
				double s =
				    (double)f->nodes[i].base_value[k] / (double)root->base_value[k];
				if (s > share)
					share = s;
			}
		}
		r[i] = (struct ranked){i ? share : 2.0, f->nodes[i].depth, (uint32_t)i};
		map[i] = others[i] = HP_FLAME_NONE;
	}
	qsort(r, f->n, sizeof *r, ranked_cmp);
	size_t keep = 0;
	while (keep < f->n && (!max_nodes || keep < max_nodes) &&
	       (keep == 0 || r[keep].share >= min_share))
		keep++;
	/* Parents rank before their children (share never above the parent's, ties by
	 * depth), so each kept node's parent is mapped already; a node whose parent is not
	 * (values saturated at 2^64 - 1 tie) goes to the parent's "others" instead. */
	size_t n = 0;
	for (size_t i = 0; i < keep; i++) {
		const struct hp_flame_node *o = &f->nodes[r[i].index];
		if (o->parent != HP_FLAME_NONE && map[o->parent] == HP_FLAME_NONE)
			continue;
		struct hp_flame_node *nd = &out[n];
		*nd = *o;
		nd->first_child = nd->next_sibling = HP_FLAME_NONE;
		nd->parent = o->parent == HP_FLAME_NONE ? HP_FLAME_NONE : map[o->parent];
		map[r[i].index] = (uint32_t)n++;
	}
	/* Children lists, and one "others" node per kept parent for its pruned children. */
	uint32_t max_depth = 0;
	for (size_t i = 1; i < f->n; i++) {
		const struct hp_flame_node *o = &f->nodes[i];
		if (map[i] != HP_FLAME_NONE || map[o->parent] == HP_FLAME_NONE)
			continue;
		uint32_t p = map[o->parent];
		if (others[o->parent] == HP_FLAME_NONE) {
			struct hp_flame_node *nd = &out[n];
			memset(nd, 0, sizeof *nd);
			nd->first_child = nd->next_sibling = HP_FLAME_NONE;
			nd->parent = p;
			nd->depth = out[p].depth + 1;
			others[o->parent] = (uint32_t)n++;
		}
		struct hp_flame_node *nd = &out[others[o->parent]];
		nd->merged++;
		for (int k = 0; k < HP_FLAME_KINDS; k++) {
			nd->value[k] = add_sat(nd->value[k], o->value[k]);
			nd->base_value[k] = add_sat(nd->base_value[k], o->base_value[k]);
		}
	}
	for (size_t i = n; i-- > 1;) {
		struct hp_flame_node *nd = &out[i];
		nd->next_sibling = out[nd->parent].first_child;
		out[nd->parent].first_child = (uint32_t)i;
		if (nd->depth > max_depth)
			max_depth = nd->depth;
	}
	/* A site ends at its node when kept, else in the "others" of the first ancestor
	 * kept, which the walk up finds as the pruned node whose parent is kept. */
	for (size_t s = 0; s < f->nsites; s++) {
		uint32_t i = f->site_node[s];
		while (map[i] == HP_FLAME_NONE && map[f->nodes[i].parent] == HP_FLAME_NONE)
			i = f->nodes[i].parent;
		f->site_node[s] = map[i] != HP_FLAME_NONE ? map[i] : others[f->nodes[i].parent];
	}
	free(r);
	free(map);
	free(others);
	free(f->nodes);
	f->nodes = out;
	f->n = f->cap = n;
	f->max_depth = max_depth;
	void *shrunk = realloc(out, (n ? n : 1) * sizeof *out);
	if (shrunk) {
		f->nodes = shrunk;
		f->cap = n;
	}
	return 0;
}

uint64_t hp_flame_self(const struct hp_flame *f, uint32_t node, int kind)
{
	uint64_t v = f->nodes[node].value[kind];
	for (uint32_t c = f->nodes[node].first_child; c != HP_FLAME_NONE;
	     c = f->nodes[c].next_sibling)
		v = f->nodes[c].value[kind] < v ? v - f->nodes[c].value[kind] : 0;
	return v;
}

void hp_flame_release(struct hp_flame *f)
{
	free(f->nodes);
	free(f->site_node);
	free(f->slots);
	memset(f, 0, sizeof *f);
}
