/* The flame-graph tree of a model: every site's trimmed stack (the frames reports print)
 * merged root-first (outermost frame at depth 1) into one tree whose nodes carry a value
 * per kind (peak, calls, allocated, leaked, temporary), each the sum over the sites
 * passing through the node (inclusive). The HTML report, the SVG output and the diff's
 * differential flame graph (hp_flame_build_diff: two runs in one tree) read it.
 *
 *   struct hp_flame f;
 *   if (hp_flame_build(&f, m) == 0 && hp_flame_prune(&f, 5000, 1e-4) == 0)
 *           ... read f.nodes[0 .. f.n) ...
 *   hp_flame_release(&f);
 *
 * Two frames are the same node when hp_frame_same() says so (function, file name and
 * line; module and address when unsymbolized), under the same parent. Pruning bounds
 * the tree: the children of a node that fall below the share kept are merged into one
 * "others" child of that node, so every inclusive value stays exact. Reads the model's
 * frames directly: it needs a model that is not lazy (hp_analysis_options.lazy_symbols
 * 0). Not thread-safe on one tree; distinct trees of one model may be built at once. */
#ifndef HP_FLAME_H
#define HP_FLAME_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

enum hp_flame_kind {
	HP_FLAME_PEAK,	    /* bytes live at the global peak (hp_site.peak_bytes) */
	HP_FLAME_CALLS,	    /* allocation calls (allocations) */
	HP_FLAME_ALLOCATED, /* bytes allocated (allocated_bytes) */
	HP_FLAME_LEAKED,    /* bytes live at the end (leaked_bytes) */
	HP_FLAME_TEMPORARY, /* temporary allocations (temporary) */
	HP_FLAME_KINDS
};

#define HP_FLAME_NONE UINT32_MAX

struct hp_flame_node {
	/* The frame, in the model's m->frames; NULL for the root and for "others". */
	const struct hp_frame *frame;
	uint32_t parent;		    /* HP_FLAME_NONE for the root (node 0) */
	uint32_t first_child, next_sibling; /* HP_FLAME_NONE: none; children in no order */
	uint32_t depth;			    /* root 0, outermost frames 1 */
	/* "others": the number of children merged into it (>= 1); 0 for any other node. */
	uint32_t merged;
	uint64_t value[HP_FLAME_KINDS]; /* inclusive: the node and everything under it */
	/* A diff's tree (hp_flame_build_diff): the same of the BASE run (value: NEW's);
	 * 0 in a tree of one run. */
	uint64_t base_value[HP_FLAME_KINDS];
	uint64_t frame_key; /* hp_frame_key(frame); private to flame.c */
};

struct hp_flame {
	struct hp_flame_node *nodes; /* nodes[0] is the root, its values the totals */
	size_t n, cap;
	/* Per site (index into m->prof->sites): the node its stack ends at, or the "others"
	 * node it was merged into. A site without frames ends at the root. */
	uint32_t *site_node;
	size_t nsites;
	uint32_t max_depth;
	int diff; /* built by hp_flame_build_diff() */

	/* Private to flame.c: (parent, frame) -> child while building. */
	uint32_t *slots;
	size_t nslots;
};

/* The name of a kind as the command line takes it ("peak", "calls", "allocated",
 * "leaked", "temporary"); NULL past the end. */
const char *hp_flame_kind_name(int kind);

/* The kind named `name` (hp_flame_kind_name), or -1. */
int hp_flame_kind_parse(const char *name);

/* 1 when a kind counts bytes, 0 when it counts calls. */
int hp_flame_kind_is_bytes(int kind);

/* Builds the full tree of every site of m (hint sites excluded, as in the heap
 * figures). Returns 0, -EINVAL for a lazy model, or -ENOMEM; call hp_flame_release() in
 * every case. Cost: one hash look-up per frame of every site. */
int hp_flame_build(struct hp_flame *f, const struct hp_model *m);

/* The differential tree of two runs (the diff's flame graph): both runs' sites merged into
 * one tree, frames matched as in hp_flame_build() (so across builds, as the diff's site
 * keys are), each node's value[] from NEW and base_value[] from BASE; a stack present in
 * one run only has zeros for the other. site_node is for NEW's sites. Both models must
 * be loaded without lazy_symbols and outlive the tree (its frames point into either).
 * Returns as hp_flame_build(). */
int hp_flame_build_diff(struct hp_flame *f, const struct hp_model *base,
			const struct hp_model *new);

/* Keeps at most `max_nodes` nodes (the root included; 0: no limit) and only those whose
 * share of the total, the largest over the kinds (and over both runs of a diff), is at least
 * `min_share` (0 to 1), preferring larger shares; each node that lost children gets one "others"
 * child holding their values, so at most 2 * max_nodes nodes remain. site_node follows. A node's
 * share is never above its parent's, so what is kept is a tree. Returns 0 or -ENOMEM (the tree
 * unchanged). */
int hp_flame_prune(struct hp_flame *f, size_t max_nodes, double min_share);

/* The node's value less its children's: what its own frame allocated. */
uint64_t hp_flame_self(const struct hp_flame *f, uint32_t node, int kind);

void hp_flame_release(struct hp_flame *f);

#ifdef __cplusplus
}
#endif
#endif
