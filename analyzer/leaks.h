/* The leak report of one process: joins the recorder's reachability scan (LEAK_SCAN and
 * LEAK_BLOCKS records, docs/leak-check.md) with the replayed live set, groups blocks by
 * (class, allocation stack), applies suppressions, and keeps per-class totals.
 *
 * Use, per trace:
 *   hp_leaks_init(&lk, &base_suppressions);
 *   on SUPPRESSIONS:  hp_leaks_add_program_suppressions(&lk, text, len);
 *   on LEAK_SCAN:     hp_leaks_set_scan(&lk, &scan);
 *   on LEAK_BLOCKS:   hp_leaks_add_block(&lk, addr, class) for each block;
 *   at the end:       hp_leaks_add_live(&lk, addr, size, stack) for each live block;
 *                     hp_leaks_finish(&lk, resolve, ctx);
 *   report_leaks.c prints it; checks.c evaluates it; hp_leaks_release(&lk).
 *
 * Without a LEAK_SCAN (HEAPPROF_LEAK_SCAN=0, a process killed or replaced by exec) the
 * report falls back to "live at exit", as heaptrack reports leaks: every live block is
 * of kind HP_LEAK_LIVE. Not thread-safe. */
#ifndef HP_LEAKS_H
#define HP_LEAKS_H

#include <stddef.h>
#include <stdint.h>

#include <heapprof/trace_format.h>

#include "frame.h"
#include "suppress.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kinds of a leak site: the four classes of enum hp_leak_class, plus this fallback. */
#define HP_LEAK_LIVE 4
#define HP_LEAK_NKINDS 5

/* The LEAK_SCAN record, totals indexed by enum hp_leak_class. */
struct hp_leak_scan {
	uint64_t time, flags;
	uint64_t bytes[4], blocks[4];
	uint64_t nblocks;
};

/* One group of blocks of one kind allocated at one stack. */
struct hp_leak_site {
	int kind;	/* enum hp_leak_class or HP_LEAK_LIVE */
	uint32_t stack; /* the key given to hp_leaks_add_live(); 0 when unknown */
	uint64_t bytes, blocks;
};

/* Puts the symbolized frames of stack `stack` (the key given to hp_leaks_add_live),
 * innermost first, in out->v[0..out->n) (none when unknown), growing it as needed. With
 * `untrimmed` 0 the frames are trimmed as the JSON report's `sites[].stack` is (for
 * printing); with 1 they are all of them, allocator and libc frames included (for
 * suppression matching: LSan matches every frame). Strings must stay valid until the
 * reports are printed. Returns 0 or -ENOMEM. */
typedef int (*hp_leaks_resolve_fn)(void *ctx, uint32_t stack, int untrimmed, struct hp_stack *out);

struct hp_leak_block {
	uint64_t addr;
	uint64_t size;	/* from the live set; 0 until joined */
	uint32_t stack; /* from the live set */
	uint8_t cls;	/* enum hp_leak_class, or HP_LEAK_LIVE */
	uint8_t seen;	/* scanned block found in the live set */
};

struct hp_leaks {
	const struct hp_suppressions *base; /* --suppressions files and built-ins, borrowed */
	char *program_supp;		    /* SUPPRESSIONS record text */
	size_t program_supp_len;
	int have_scan;
	struct hp_leak_scan scan;

	struct hp_leak_block *scanned; /* LEAK_BLOCKS */
	size_t nscanned, scanned_cap;
	struct hp_leak_block *live; /* live set at the end */
	size_t nlive, live_cap;

	/* Results of hp_leaks_finish(), suppressed blocks excluded. */
	int finished;
	uint64_t bytes[HP_LEAK_NKINDS], blocks[HP_LEAK_NKINDS];
	uint64_t suppressed_bytes[HP_LEAK_NKINDS], suppressed_blocks[HP_LEAK_NKINDS];
	uint64_t unattributed_blocks; /* scanned blocks the live set does not know */
	struct hp_leak_site *sites;   /* sorted by bytes, then blocks, descending */
	size_t nsites;
	struct hp_suppressions supp; /* the rules in effect, with their hit counts */
	char supp_error[256];	     /* a bad SUPPRESSIONS record, else "" */

	hp_leaks_resolve_fn resolve;
	void *resolve_ctx;
};

/* `base` (may be NULL) must outlive `lk`. */
void hp_leaks_init(struct hp_leaks *lk, const struct hp_suppressions *base);
void hp_leaks_release(struct hp_leaks *lk);

/* The text of a SUPPRESSIONS record (the program's __lsan_default_suppressions()).
 * Returns 0 or -ENOMEM. Parse errors are reported by hp_leaks_finish(). */
int hp_leaks_add_program_suppressions(struct hp_leaks *lk, const char *text, size_t len);

void hp_leaks_set_scan(struct hp_leaks *lk, const struct hp_leak_scan *scan);

/* One LEAK_BLOCKS entry. Returns 0, -EINVAL for a class above HP_LEAK_DEFINITE, or
 * -ENOMEM. */
int hp_leaks_add_block(struct hp_leaks *lk, uint64_t addr, unsigned cls);

/* One block of the analyzer's live set at the end of the trace. `stack` is an opaque
 * non-zero key the resolve callback understands (the replay's site index + 1), 0 for
 * none. Returns 0 or -ENOMEM. */
int hp_leaks_add_live(struct hp_leaks *lk, uint64_t addr, uint64_t size, uint32_t stack);

/* Joins, groups, suppresses and sorts. `resolve` is kept for the reporters. Returns 0,
 * -ENOMEM, or -EINVAL when the program's suppressions do not parse (lk->supp_error says
 * why; they are then ignored and the rest of the report is valid). */
int hp_leaks_finish(struct hp_leaks *lk, hp_leaks_resolve_fn resolve, void *ctx);

/* "definitely lost", ..., "live at exit". */
const char *hp_leaks_kind_name(int kind);
/* JSON names: "definite", "indirect", "possible", "reachable", "live". */
const char *hp_leaks_kind_key(int kind);

#ifdef __cplusplus
}
#endif
#endif
