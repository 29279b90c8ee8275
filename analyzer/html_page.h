/* What the two HTML pages (report_html.c: one run; report_diff_html.c: a diff of two)
 * share: the page around their data, and the JSON pieces the data is written with, its
 * frames each written once. A page holds one JSON document in a <script
 * type="application/json" id="hp-data"> element, rendered by analyzer/html/common.js plus
 * the page's own script (report.js or diff.js), all embedded at build time
 * (report_html_assets.h); nothing is fetched when it is viewed. docs/html-report.md. */
#ifndef HP_HTML_PAGE_H
#define HP_HTML_PAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A stack deeper than this is shown by its innermost and outermost frames. */
#define HP_HTML_MAX_STACK_FRAMES 64
/* A name longer than this (bytes) is cut, "..." after it. */
#define HP_HTML_MAX_NAME 512

/* The frames a page uses, of one or two models, each given an id (its index in the
 * page's "frames" array) when first used. */
struct hp_html_frames {
	const struct hp_model *models[2];
	int32_t *id[2]; /* per model, per m->frames entry: -1 until used */
	const struct hp_frame **used;
	size_t n, cap;
};

/* nmodels: 1 or 2. Returns 0 or -1 (ENOMEM); call hp_html_frames_release() in every
 * case. */
int hp_html_frames_init(struct hp_html_frames *fr, const struct hp_model *const *models,
			int nmodels);
void hp_html_frames_release(struct hp_html_frames *fr);

/* The id of f, a frame of one of the models. */
int32_t hp_html_frame_id(struct hp_html_frames *fr, const struct hp_frame *f);

/* A JSON number; 0 for NaN and infinities (the page does arithmetic on them, where the
 * reports' null would not do: report.h's hp_json_number()). Strings: hp_json_str0(). */
void hp_html_jnum(FILE *o, double v);

/* The trimmed frames of site s of model m, innermost first, as a JSON array of frame
 * ids; of a stack deeper than HP_HTML_MAX_STACK_FRAMES, the innermost and the outermost,
 * and in their place -3 - the number of frames left out. */
void hp_html_site_stack(FILE *o, struct hp_html_frames *fr, const struct hp_model *m,
			const struct hp_site *s);

struct hp_flame;

/* The "nodes" array of a flame tree: per node parent (-1 the root), frame id (-1 the
 * root, -2 "others"), merged count, and the value of each kind; in a diff's tree
 * (hp_flame_build_diff) then BASE's value of each kind. */
void hp_html_write_nodes(FILE *o, struct hp_html_frames *fr, const struct hp_flame *fl);

/* The "frames" array: per id [function, file, line, module file name, inlined]. */
void hp_html_write_frames(FILE *o, const struct hp_html_frames *fr);

/* The label of a frame: its function, else its module's file name, else "??". */
const char *hp_html_frame_label(const struct hp_frame *f);

/* The whole page: title (HTML-escaped), the style, what write_data(stream, arg) writes
 * (the JSON document; 0 or -1 with errno set) as the #hp-data element, then common.js
 * and the page's script. Returns 0, or -1 with errno set. */
int hp_html_write_page(FILE *o, const char *title, int (*write_data)(FILE *, const void *),
		       const void *arg, const unsigned char *script, size_t script_len);

#ifdef __cplusplus
}
#endif
#endif
