/* --svg-flamegraph KIND and --svg-timeline: plain SVG pictures, no script, for pasting
 * into an issue or a wiki (docs/html-report.md). Each frame's <title> is its tooltip in
 * a browser and holds the exact value. The flame graph reads the tree of flame.c. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flame.h"
#include "model.h"
#include "output.h"
#include "report.h"

#define SVG_WIDTH 1200.0
#define SVG_PAD 10.0
#define SVG_ROW 17.0
#define SVG_MAX_NODES 20000
#define SVG_MIN_SHARE 2e-4
#define SVG_MIN_WIDTH 0.3 /* px: narrower frames are not drawn (their share is in the parent) */
#define SVG_STACKED 5

/* Text as XML character data or an attribute value: markup escaped, control characters
 * and bytes that are not UTF-8 replaced by '?', so any function name keeps the file
 * well-formed. At most `max` characters, then "...". */
static void xml_text(FILE *o, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	for (size_t shown = 0; *p; shown++) {
		if (shown == max) {
			fputs("...", o);
			return;
		}
		unsigned c = *p;
		size_t len = c < 0x80		      ? 1
			     : c >= 0xc2 && c < 0xe0  ? 2
			     : c >= 0xe0 && c < 0xf0  ? 3
			     : c >= 0xf0 && c <= 0xf4 ? 4
						      : 0;
		int ok = len > 0;
		for (size_t i = 1; ok && i < len; i++)
			ok = (p[i] & 0xc0) == 0x80;
		if (!ok) {
			putc('?', o);
			p++;
			continue;
		}
		if (len > 1) {
			fwrite(p, 1, len, o);
			p += len;
			continue;
		}
		p++;
		switch (c) {
		case '&':
			fputs("&amp;", o);
			break;
		case '<':
			fputs("&lt;", o);
			break;
		case '>':
			fputs("&gt;", o);
			break;
		case '"':
			fputs("&quot;", o);
			break;
		default:
			putc(c < 0x20 || c == 0x7f ? '?' : (int)c, o);
		}
	}
}

static const char *kind_title(int kind)
{
	static const char *const t[HP_FLAME_KINDS] = {
	    "bytes live at the peak", "allocation calls", "bytes allocated",
	    "bytes leaked (live at exit)", "temporary allocations"};
	return t[kind];
}

static void value_text(FILE *o, int kind, uint64_t v, uint64_t total)
{
	char b[32];
	double pc = total ? 100.0 * (double)v / (double)total : 0;
	if (hp_flame_kind_is_bytes(kind))
		fprintf(o, "%s (%" PRIu64 " bytes, %.2f%%)", hp_human_bytes(b, v), v, pc);
	else
		fprintf(o, "%s (%.2f%%)", hp_human_count(b, v), pc);
}

static unsigned hue_of(const char *s)
{
	uint32_t h = 2166136261u;
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct flame_svg {
	FILE *o;
	const struct hp_flame *f;
	int kind;
	uint64_t total;
	uint32_t *order; /* a stack of children lists sorted by the kind, largest first */
	size_t top;	 /* its use */
};

/* qsort() has no context: the tree and kind being sorted (the output is not thread-safe). */
static const struct hp_flame *sort_flame;
static int sort_kind;

static int child_cmp(const void *a, const void *b)
{
	uint64_t x = sort_flame->nodes[*(const uint32_t *)a].value[sort_kind];
	uint64_t y = sort_flame->nodes[*(const uint32_t *)b].value[sort_kind];
	if (x != y)
		return x > y ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static void draw_node(struct flame_svg *c, uint32_t n, double x, double w)
{
	const struct hp_flame_node *nd = &c->f->nodes[n];
	FILE *o = c->o;
	double y = SVG_PAD + 24 + nd->depth * SVG_ROW;
	const struct hp_frame *fr = nd->frame;
	/* An unsymbolized frame is named after its module, as in the HTML report. */
	const char *name = n == 0	     ? "all"
			   : !fr	     ? "others"
			   : fr->function    ? fr->function
			   : fr->module_path ? hp_basename(fr->module_path)
					     : "??";
	fputs("<g><title>", o);
	xml_text(o, name, 4096);
	if (fr && fr->file) {
		fputs(" (", o);
		xml_text(o, fr->file, 4096);
		if (fr->line)
			fprintf(o, ":%u", fr->line);
		putc(')', o);
	} else if (fr && fr->module_path) {
		fputs(" (", o);
		xml_text(o, hp_basename(fr->module_path), 4096);
		fprintf(o, "+0x%" PRIx64 ")", fr->address);
	}
	if (!fr && n)
		fprintf(o, " (%" PRIu32 " frames merged)", nd->merged);
	fputs(": ", o);
	value_text(o, c->kind, nd->value[c->kind], c->total);
	unsigned h = n == 0 ? 0 : hue_of(name);
	if (n == 0)
		fprintf(o,
			"</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
			"fill=\"#9aa3b5\"",
			x, y, w, SVG_ROW - 1);
	else if (!fr)
		fprintf(o,
			"</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
			"fill=\"#c5cad3\"",
			x, y, w, SVG_ROW - 1);
	else
		fprintf(o,
			"</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
			"fill=\"hsl(%u,%u%%,%u%%)\"",
			x, y, w, SVG_ROW - 1, 8 + h % 42, 68 + (h >> 8) % 20, 56 + (h >> 16) % 12);
	fprintf(o, " rx=\"2\" data-value=\"%" PRIu64 "\"/>", nd->value[c->kind]);
	size_t fit = w > 6 ? (size_t)((w - 6) / 7.0) : 0;
	if (fit >= 3) {
		fprintf(o, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + SVG_ROW / 2 + 4);
		if (n == 0)
			fputs("all", o);
		else
			xml_text(o, fr ? name : "others", strlen(name) > fit ? fit - 1 : fit);
		fputs("</text>", o);
	}
	fputs("</g>\n", o);
}

/* Children left to right, largest first; frames under SVG_MIN_WIDTH px are left out. */
static void draw_tree(struct flame_svg *c, uint32_t n, double x, double w, double scale)
{
	draw_node(c, n, x, w);
	const struct hp_flame *f = c->f;
	size_t k = 0, first = c->top;
	for (uint32_t ch = f->nodes[n].first_child; ch != HP_FLAME_NONE;
	     ch = f->nodes[ch].next_sibling)
		c->order[first + k++] = ch;
	c->top += k;
	sort_flame = f;
	sort_kind = c->kind;
	qsort(c->order + first, k, sizeof *c->order, child_cmp);
	double cx = x;
	for (size_t i = 0; i < k; i++) {
		uint32_t ch = c->order[first + i];
		double cw = (double)f->nodes[ch].value[c->kind] * scale;
		if (cw >= SVG_MIN_WIDTH)
			draw_tree(c, ch, cx, cw, scale);
		cx += cw;
	}
	c->top = first;
}

static int write_flamegraph(const struct hp_model *m, const struct hp_output_options *oo)
{
	int kind = oo->arg ? hp_flame_kind_parse(oo->arg) : HP_FLAME_PEAK;
	if (kind < 0)
		kind = HP_FLAME_PEAK;
	struct hp_flame f;
	int rc = hp_flame_build(&f, m);
	if (!rc)
		rc = hp_flame_prune(&f, SVG_MAX_NODES, SVG_MIN_SHARE);
	uint32_t *order = rc ? NULL : malloc((f.n ? f.n : 1) * sizeof *order);
	if (rc || !order) {
		hp_flame_release(&f);
		free(order);
		errno = rc ? -rc : ENOMEM;
		return -1;
	}
	FILE *o = oo->out;
	uint64_t total = f.nodes[0].value[kind];
	double height = SVG_PAD * 2 + 24 + (f.max_depth + 1) * SVG_ROW + 18;
	fprintf(o,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans Mono, monospace\" "
		"font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
		SVG_WIDTH, height, SVG_WIDTH, height);
	fprintf(o,
		"<text x=\"%.0f\" y=\"%.0f\" font-size=\"15\" font-weight=\"bold\" "
		"font-family=\"DejaVu Sans, sans-serif\">heapprof: ",
		SVG_PAD, SVG_PAD + 12);
	fputs(kind_title(kind), o);
	fputs(", ", o);
	value_text(o, kind, total, total);
	fputs(" in all</text>\n<text x=\"", o);
	fprintf(o, "%.0f\" y=\"%.0f\" fill=\"#687085\" font-size=\"11\">", SVG_PAD, height - 8);
	xml_text(o, m->prof->command && *m->prof->command ? m->prof->command : m->file, 160);
	fputs("</text>\n", o);
	struct flame_svg c = {.o = o, .f = &f, .kind = kind, .total = total, .order = order};
	double w = SVG_WIDTH - 2 * SVG_PAD;
	draw_tree(&c, 0, SVG_PAD, total ? w : 0, total ? w / (double)total : 0);
	fputs("</svg>\n", o);
	free(order);
	hp_flame_release(&f);
	return ferror(o) ? -1 : 0;
}

static uint64_t max_live(const struct hp_profile *p, const struct hp_site *s)
{
	uint64_t v = 0;
	for (size_t b = 0; s->series && b < p->series.nbuckets; b++)
		if (s->series[b].live_bytes > v)
			v = s->series[b].live_bytes;
	return v;
}

/* The heap (rss 0) or RSS line of the timeline, one path per run of points, in steps:
 * a point holds the highest heap (the last RSS) of the interval ending at it. */
static void polyline(FILE *o, const struct hp_profile *p, int rss, const double box[4], double T,
		     double ymax, const char *style)
{
	int pen = 0;
	double prev = 0;
	for (size_t i = 0; i < p->ntimeline; i++) {
		const struct hp_timeline_point *t = &p->timeline[i];
		if (rss && !t->has_rss) {
			if (pen)
				fprintf(o, "\" %s/>\n", style);
			pen = 0;
			prev = t->t_s;
			continue;
		}
		double v = (double)(rss ? t->rss_bytes : t->heap_bytes);
		double y = box[2] + box[3] * (1 - v / ymax);
		if (pen)
			fprintf(o, " V%.1f", y);
		else
			fprintf(o, "<path d=\"M%.1f,%.1f", box[0] + box[1] * (prev / T), y);
		fprintf(o, " H%.1f", box[0] + box[1] * (t->t_s / T));
		pen = 1;
		prev = t->t_s;
	}
	if (pen)
		fprintf(o, "\" %s/>\n", style);
}

static int write_timeline(const struct hp_model *m, const struct hp_output_options *oo)
{
	const struct hp_profile *p = m->prof;
	FILE *o = oo->out;
	const double W = 1000, H = 360, ml = 70, mr = 16, mt = 40, mb = 90;
	double T = p->duration_s > 0 ? p->duration_s : 1e-9, ymax = (double)p->peak_heap_bytes;
	for (size_t i = 0; i < p->ntimeline; i++)
		if (p->timeline[i].has_rss && (double)p->timeline[i].rss_bytes > ymax)
			ymax = (double)p->timeline[i].rss_bytes;
	ymax = ymax > 0 ? ymax * 1.08 : 1;
	double xw = W - ml - mr, yh = H - mt - mb;
	char b[32];
	fprintf(o,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, sans-serif\" "
		"font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
		W, H, W, H);
	fprintf(o,
		"<text x=\"%.0f\" y=\"20\" font-size=\"15\" font-weight=\"bold\">heapprof: "
		"memory over time, peak heap %s",
		ml, hp_human_bytes(b, p->peak_heap_bytes));
	fprintf(o, " at %.3f s</text>\n", p->peak_time_s);
	for (int i = 0; i <= 4; i++) {
		double y = mt + yh * (1 - i / 4.0);
		fprintf(
		    o,
		    "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#dde1e8\"/>"
		    "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#687085\">%s</text>\n",
		    ml, W - mr, y, y, ml - 6, y + 4,
		    hp_human_bytes(b, hp_round_u64(ymax * i / 4.0)));
	}
	for (int i = 0; i <= 5; i++)
		fprintf(o,
			"<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\" fill=\"#687085\">%.3g "
			"s</text>\n",
			ml + xw * i / 5.0, mt + yh + 16,
			i == 5 ? "end"
			: i    ? "middle"
			       : "start",
			T * i / 5.0);

	/* The sites with the most bytes live at once, stacked on the series buckets. */
	static const char *const pal[SVG_STACKED] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
						     "#76b7b2"};
	struct hp_rank *r = malloc((p->nsites ? p->nsites : 1) * sizeof *r);
	size_t nb = p->series.nbuckets;
	double *acc = calloc(nb ? nb : 1, sizeof *acc);
	if (!r || !acc) {
		free(r);
		free(acc);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < p->nsites; i++)
		r[i] = (struct hp_rank){max_live(p, &p->sites[i]), p->sites[i].peak_bytes, i};
	qsort(r, p->nsites, sizeof *r, hp_rank_cmp);
	struct hp_stack st = {0};
	int rc = 0;
	for (size_t si = 0; si < SVG_STACKED && si < p->nsites && r[si].key && !rc; si++) {
		const struct hp_site *s = &p->sites[r[si].index];
		double bs = p->series.bucket_s;
		fputs("<path d=\"M", o);
		for (size_t k = 0; k < nb; k++) {
			double x0 = ml + xw * fmin(k * bs / T, 1),
			       x1 = ml + xw * fmin((k + 1) * bs / T, 1);
			double y =
			    mt + yh * (1 - (acc[k] + (double)s->series[k].live_bytes) / ymax);
			fprintf(o, "%s%.1f,%.1f L%.1f,%.1f", k ? " L" : "", x0, y, x1, y);
		}
		for (size_t k = nb; k-- > 0;) {
			double x0 = ml + xw * fmin(k * bs / T, 1),
			       x1 = ml + xw * fmin((k + 1) * bs / T, 1);
			double y = mt + yh * (1 - acc[k] / ymax);
			fprintf(o, " L%.1f,%.1f L%.1f,%.1f", x1, y, x0, y);
			acc[k] += (double)s->series[k].live_bytes;
		}
		fprintf(o, " Z\" fill=\"%s\" fill-opacity=\"0.55\"/>\n", pal[si]);
		rc = hp_model_stack(m, s, 0, &st);
		double lx = ml + (si % 2) * (xw / 2), ly = mt + yh + 36 + (si / 2) * 16;
		fprintf(o,
			"<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			"<text x=\"%.0f\" y=\"%.0f\">",
			lx, ly - 9, pal[si], lx + 14, ly);
		if (!rc && st.n) {
			xml_text(o, st.v[0].function ? st.v[0].function : "??", 60);
			if (st.v[0].file) {
				putc(' ', o);
				xml_text(o, hp_basename(st.v[0].file), 60);
				if (st.v[0].line)
					fprintf(o, ":%u", st.v[0].line);
			}
		} else {
			fputs("(no stack)", o);
		}
		fprintf(o, ": at most %s live</text>\n", hp_human_bytes(b, r[si].key));
	}
	hp_stack_release(&st);
	free(r);
	free(acc);
	const double box[4] = {ml, xw, mt, yh};
	polyline(o, p, 1, box, T, ymax,
		 "fill=\"none\" stroke=\"#c2410c\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\" "
		 "class=\"rss\"");
	polyline(o, p, 0, box, T, ymax,
		 "fill=\"none\" stroke=\"#1f4fa8\" stroke-width=\"1.8\" class=\"heap\"");
	double last_mark = -1e9;
	int row = 0;
	for (size_t i = 0; i < p->nmarks; i++) {
		double x = ml + xw * fmin(p->marks[i].t_s / T, 1);
		row = x - last_mark < 60 ? (row + 1) % 3 : 0; /* labels close together: rows */
		last_mark = x;
		fprintf(o,
			"<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#6b7280\" "
			"stroke-dasharray=\"2 3\"/><text x=\"%.1f\" y=\"%.0f\" fill=\"#4b5563\">",
			x, x, mt, mt + yh, x + 3, mt + 10 + 12.0 * row);
		xml_text(o, p->marks[i].label, 40);
		fputs("</text>\n", o);
	}
	double px = ml + xw * fmin(p->peak_time_s / T, 1);
	double py = mt + yh * (1 - (double)p->peak_heap_bytes / ymax);
	fprintf(o,
		"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#b42318\"><title>peak %" PRIu64
		" bytes</title></circle>\n",
		px, py, p->peak_heap_bytes);
	fprintf(o,
		"<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"3\" fill=\"#1f4fa8\"/><text "
		"x=\"%.0f\" y=\"%.0f\">heap</text><rect x=\"%.0f\" y=\"%.0f\" width=\"10\" "
		"height=\"3\" fill=\"#c2410c\"/><text x=\"%.0f\" y=\"%.0f\">RSS</text>\n",
		W - mr - 110, 30.0, W - mr - 96, 34.0, W - mr - 56, 30.0, W - mr - 42, 34.0);
	fputs("</svg>\n", o);
	return rc || ferror(o) ? -1 : 0;
}

const struct hp_output hp_output_svg_flamegraph = {
    .name = "svg-flamegraph", .flags = HP_OUTPUT_HIDDEN, .write = write_flamegraph};

const struct hp_output hp_output_svg_timeline = {
    .name = "svg-timeline", .flags = HP_OUTPUT_HIDDEN, .write = write_timeline};
