/* --massif FILE: valgrind massif's out-file (massif.out.PID), for ms_print and
 * massif-visualizer (EXPORT-FORMATS.md 3.2; docs/exports.md):
 *   - time_unit ms; a snapshot at time 0, one at the end of every bucket of the
 *     per-site series (hp_profile.series: live bytes at the bucket's end, so a
 *     snapshot's heap is exactly the sum of its tree), and the peak (the one "peak"
 *     snapshot) in its place in time;
 *   - detailed trees at the peak, at the end and at every DETAIL_EVERY-th snapshot:
 *     the root, then the allocation points (the innermost frame the reports print) and
 *     their callers, children by bytes descending, those below THRESHOLD_PCT of the
 *     snapshot merged into one "below massif's threshold" node, as massif does;
 *   - node indentation of exactly its depth in spaces, labels "0xIP: function
 *     (file:line)", "(in module)" or "???", '#' replaced (ms_print reads it as a
 *     comment), as massif-visualizer requires.
 * mem_heap_extra_B and mem_stacks_B are 0: the trace records neither. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "frame.h"
#include "model.h"
#include "output.h"

#define DETAIL_EVERY 10
#define THRESHOLD_PCT 1.0
#define MAX_DEPTH 64 /* frames below the allocation point, as massif's --depth */

/* A node of the tree of one snapshot: children linked by next, their parent's first. */
struct node {
	uint64_t key; /* (location << 8) | inlined frame index; the root: 0 */
	uint64_t bytes;
	uint32_t parent, first, next, nchildren;
	struct hp_frame frame;
};

struct tree {
	struct node *v;
	size_t n, cap;
	uint32_t *hash; /* (parent, key) -> node index + 1 */
	size_t mask;
	uint32_t *order; /* scratch: the children of the nodes being printed, a stack */
	size_t order_cap, order_top;
};

static size_t slot(const struct tree *t, uint32_t parent, uint64_t key)
{
	/* One more frame folded into its parent: frame.h's stack-key step. */
	return (size_t)hp_stack_key_add(parent, key) & t->mask;
}

static int tree_reset(struct tree *t)
{
	t->n = 0;
	t->order_top = 0;
	if (hp_array_reserve((void **)&t->v, &t->cap, 1, sizeof *t->v, 256))
		return -1;
	memset(&t->v[0], 0, sizeof t->v[0]);
	t->n = 1;
	if (t->hash)
		memset(t->hash, 0, (t->mask + 1) * sizeof *t->hash);
	return 0;
}

static int rehash(struct tree *t)
{
	size_t size = t->hash ? (t->mask + 1) * 2 : 4096;
	uint32_t *h = calloc(size, sizeof *h);
	if (!h)
		return -1;
	free(t->hash);
	t->hash = h;
	t->mask = size - 1;
	for (size_t i = 1; i < t->n; i++) {
		size_t j = slot(t, t->v[i].parent, t->v[i].key);
		while (t->hash[j])
			j = (j + 1) & t->mask;
		t->hash[j] = (uint32_t)i + 1;
	}
	return 0;
}

/* The child of `parent` for frame f (key), made when new; UINT32_MAX out of memory. */
static uint32_t child(struct tree *t, uint32_t parent, uint64_t key, const struct hp_frame *f)
{
	if ((!t->hash || t->n * 2 > t->mask + 1) && rehash(t))
		return UINT32_MAX;
	size_t j = slot(t, parent, key);
	for (; t->hash[j]; j = (j + 1) & t->mask) {
		const struct node *c = &t->v[t->hash[j] - 1];
		if (c->parent == parent && c->key == key)
			return t->hash[j] - 1;
	}
	if (hp_array_reserve((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v, 256))
		return UINT32_MAX;
	uint32_t i = (uint32_t)t->n++;
	struct node *c = &t->v[i];
	*c = (struct node){.key = key, .parent = parent, .frame = *f};
	c->next = t->v[parent].first;
	t->v[parent].first = i;
	t->v[parent].nchildren++;
	t->hash[j] = i + 1;
	return i;
}

/* Adds `bytes` of a stack (innermost first) to the tree: the root, then the allocation
 * point, then each caller. */
static int tree_add(struct tree *t, const struct hp_stack *st, uint64_t bytes)
{
	t->v[0].bytes += bytes;
	uint32_t at = 0, inl = 0;
	for (size_t k = 0; k < st->n && k < MAX_DEPTH; k++) {
		const struct hp_frame *f = &st->v[k];
		inl = k && st->v[k - 1].location == f->location ? inl + 1 : 0;
		uint64_t key = ((uint64_t)f->location << 8 | (inl & 0xff)) + 1;
		at = child(t, at, key, f);
		if (at == UINT32_MAX)
			return -1;
		t->v[at].bytes += bytes;
	}
	return 0;
}

static struct tree *sort_tree; /* qsort has no context argument */

static int by_bytes(const void *a, const void *b)
{
	const struct node *x = &sort_tree->v[*(const uint32_t *)a];
	const struct node *y = &sort_tree->v[*(const uint32_t *)b];
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* A label with '#' (a comment to ms_print) and line breaks replaced. */
static void put_clean(FILE *o, const char *s)
{
	for (; *s; s++)
		putc(*s == '#' ? '_' : *s == '\n' || *s == '\r' ? ' ' : *s, o);
}

static void put_label(FILE *o, const struct hp_frame *f)
{
	fprintf(o, "0x%" PRIX64 ": ", f->ip);
	if (!f->function && !f->file) {
		if (f->module_path) {
			fputs("??? (in ", o);
			put_clean(o, f->module_path);
			putc(')', o);
		} else {
			fputs("???", o);
		}
		return;
	}
	put_clean(o, f->function ? f->function : "???");
	if (f->file) {
		fputs(" (", o);
		put_clean(o, f->file);
		fprintf(o, ":%u)", f->line);
	} else if (f->module_path) {
		fputs(" (in ", o);
		put_clean(o, f->module_path);
		putc(')', o);
	}
}

/* Node i and its subtree, pre-order: children at or above the threshold by bytes
 * descending, then one node for those below it. */
static int print_node(struct tree *t, FILE *o, uint32_t i, unsigned depth, uint64_t threshold)
{
	const struct node *nd = &t->v[i];
	uint32_t shown = 0, below = 0;
	uint64_t below_bytes = 0;
	size_t first = 0;
	if (nd->nchildren) {
		first = t->order_top;
		if (hp_array_reserve((void **)&t->order, &t->order_cap, first + nd->nchildren,
				     sizeof *t->order, 256))
			return -1;
		for (uint32_t c = nd->first; c; c = t->v[c].next)
			t->order[t->order_top++] = c;
		sort_tree = t;
		qsort(t->order + first, nd->nchildren, sizeof *t->order, by_bytes);
		for (uint32_t k = 0; k < nd->nchildren; k++) {
			if (t->v[t->order[first + k]].bytes >= threshold && depth < MAX_DEPTH) {
				shown++;
			} else {
				below++;
				below_bytes += t->v[t->order[first + k]].bytes;
			}
		}
		fprintf(o, "%*sn%" PRIu32 ": %" PRIu64 " ", (int)depth, "", shown + (below > 0),
			nd->bytes);
		if (depth == 0)
			fputs("(heap allocation functions) malloc/new/new[], --alloc-fns, etc.", o);
		else
			put_label(o, &nd->frame);
		putc('\n', o);
		for (uint32_t k = 0; k < shown; k++)
			if (print_node(t, o, t->order[first + k], depth + 1, threshold))
				return -1;
		if (below)
			fprintf(o,
				"%*sn0: %" PRIu64 " in %" PRIu32 " place%s, %sbelow massif's "
				"threshold (%.2f%%)\n",
				(int)depth + 1, "", below_bytes, below, below > 1 ? "s" : "",
				below > 1 ? "all " : "", THRESHOLD_PCT);
		t->order_top = first;
		return 0;
	}
	fprintf(o, "%*sn0: %" PRIu64 " ", (int)depth, "", nd->bytes);
	if (depth == 0)
		fputs("(heap allocation functions) malloc/new/new[], --alloc-fns, etc.", o);
	else
		put_label(o, &nd->frame);
	putc('\n', o);
	return 0;
}

/* What one snapshot shows. */
struct snapshot {
	double t_s;
	int peak, detailed;
	size_t bucket; /* series bucket; SIZE_MAX: the peak */
};

static uint64_t site_bytes(const struct hp_model *m, const struct hp_site *s, size_t bucket)
{
	if (bucket == SIZE_MAX)
		return s->peak_bytes;
	if (bucket == SIZE_MAX - 1)
		return 0;
	if (!s->series)
		return bucket + 1 == m->prof->series.nbuckets ? s->leaked_bytes : 0;
	return s->series[bucket].live_bytes;
}

static int write_snapshot(const struct hp_model *m, FILE *o, size_t index,
			  const struct snapshot *sn, struct tree *t, struct hp_stack *st)
{
	const struct hp_profile *p = m->prof;
	uint64_t heap = 0;
	for (size_t i = 0; i < p->nsites; i++)
		heap += site_bytes(m, &p->sites[i], sn->bucket);
	double ms = sn->t_s * 1000.0;
	fprintf(o,
		"#-----------\nsnapshot=%zu\n#-----------\ntime=%.0f\nmem_heap_B=%" PRIu64
		"\nmem_heap_extra_B=0\nmem_stacks_B=0\n",
		index, ms > 0 ? floor(ms + 0.5) : 0.0, heap);
	if (!sn->detailed) {
		fputs("heap_tree=empty\n", o);
		return 0;
	}
	fprintf(o, "heap_tree=%s\n", sn->peak ? "peak" : "detailed");
	if (tree_reset(t))
		return -1;
	for (size_t i = 0; i < p->nsites; i++) {
		uint64_t b = site_bytes(m, &p->sites[i], sn->bucket);
		if (!b)
			continue;
		if (hp_model_stack(m, &p->sites[i], 0, st) || tree_add(t, st, b))
			return -1;
	}
	uint64_t threshold = (uint64_t)ceil((double)heap * THRESHOLD_PCT / 100.0);
	return print_node(t, o, 0, 0, threshold ? threshold : 1);
}

static int write_massif(const struct hp_model *m, const struct hp_output_options *o)
{
	const struct hp_profile *p = m->prof;
	const struct hp_series_info *se = &p->series;
	FILE *out = o->out;
	fputs("desc: heapprof", out);
	if (p->sample_mean)
		fprintf(out, " (sampled every %" PRIu64 " bytes: estimates)", p->sample_mean);
	fputs("\ncmd: ", out);
	put_clean(out, p->command && *p->command ? p->command : "(unknown)");
	fputs("\ntime_unit: ms\n", out);

	/* Time 0, each bucket's end, and the peak in its place. */
	size_t ns = 0, cap = se->nbuckets + 2;
	struct snapshot *v = calloc(cap, sizeof *v);
	if (!v) {
		errno = ENOMEM;
		return -1;
	}
	v[ns++] = (struct snapshot){.t_s = 0, .bucket = SIZE_MAX - 1};
	int peak_done = p->peak_heap_bytes == 0;
	for (size_t b = 0; b < se->nbuckets; b++) {
		double t = se->process ? se->process[b].t_s : (double)(b + 1) * se->bucket_s;
		/* Bucket b is [b, b + 1) widths: a peak at its end is in the next one. */
		if (!peak_done && p->peak_time_s < t) {
			v[ns++] = (struct snapshot){
			    .t_s = p->peak_time_s, .peak = 1, .detailed = 1, .bucket = SIZE_MAX};
			peak_done = 1;
		}
		v[ns++] = (struct snapshot){.t_s = t, .bucket = b};
	}
	if (!peak_done)
		v[ns++] = (struct snapshot){
		    .t_s = p->peak_time_s, .peak = 1, .detailed = 1, .bucket = SIZE_MAX};
	for (size_t i = 0; i < ns; i++)
		if (i % DETAIL_EVERY == 0 || i + 1 == ns)
			v[i].detailed = 1;
	v[0].detailed = 0; /* nothing is live at time 0 */

	struct tree t = {0};
	struct hp_stack st = {0};
	int rc = 0;
	for (size_t i = 0; !rc && i < ns; i++)
		rc = write_snapshot(m, out, i, &v[i], &t, &st);
	if (rc)
		errno = ENOMEM;
	else if (ferror(out))
		rc = -1;
	free(v);
	free(t.v);
	free(t.hash);
	free(t.order);
	hp_stack_release(&st);
	return rc;
}

const struct hp_output hp_output_massif = {
    .name = "massif",
    .flags = HP_OUTPUT_HIDDEN | HP_OUTPUT_LAZY_SYMBOLS,
    .series_buckets = 64, /* 32 to 64 snapshots; 1.5 KiB per site */
    .write = write_massif,
};
