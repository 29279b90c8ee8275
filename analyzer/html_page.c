/* The HTML pages' shared parts (html_page.h). */
#include "html_page.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flame.h"
#include "report.h"
#include "report_html_assets.h"

int hp_html_frames_init(struct hp_html_frames *fr, const struct hp_model *const *models,
			int nmodels)
{
	memset(fr, 0, sizeof *fr);
	size_t total = 0;
	for (int i = 0; i < nmodels && i < 2; i++) {
		const struct hp_model *m = models[i];
		fr->models[i] = m;
		fr->id[i] = malloc((m->nframes ? m->nframes : 1) * sizeof *fr->id[i]);
		if (!fr->id[i]) {
			errno = ENOMEM;
			return -1;
		}
		memset(fr->id[i], 0xff, (m->nframes ? m->nframes : 1) * sizeof *fr->id[i]);
		total += m->nframes;
	}
	fr->cap = total ? total : 1;
	fr->used = malloc(fr->cap * sizeof *fr->used);
	if (!fr->used) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void hp_html_frames_release(struct hp_html_frames *fr)
{
	free(fr->id[0]);
	free(fr->id[1]);
	free(fr->used);
	memset(fr, 0, sizeof *fr);
}

int32_t hp_html_frame_id(struct hp_html_frames *fr, const struct hp_frame *f)
{
	int k = 0;
	for (; k < 2 && fr->models[k]; k++) {
		const struct hp_model *m = fr->models[k];
		if (f >= m->frames && f < m->frames + m->nframes)
			break;
	}
	assert(k < 2 && fr->models[k]); /* a frame of neither model: the caller's bug */
	if (k == 2 || !fr->models[k])
		return -1;
	size_t i = (size_t)(f - fr->models[k]->frames);
	if (fr->id[k][i] < 0 && fr->n < fr->cap) {
		fr->id[k][i] = (int32_t)fr->n;
		fr->used[fr->n++] = f;
	}
	return fr->id[k][i];
}

/* A name of at most HP_HTML_MAX_NAME bytes (a longer one cut, "..." after it). */
static void jstr_max(FILE *o, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (!s)
		fputs("null", o);
	else if (n <= HP_HTML_MAX_NAME)
		hp_json_string(o, "", s, n);
	else {
		/* Cut before a UTF-8 continuation byte, never inside a character. */
		size_t cut = HP_HTML_MAX_NAME;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
		char buf[HP_HTML_MAX_NAME + 4];
		memcpy(buf, s, cut);
		memcpy(buf + cut, "...", 3);
		hp_json_string(o, "", buf, cut + 3);
	}
}

void hp_html_jnum(FILE *o, double v)
{
	if (v != v || v > 1e300 || v < -1e300)
		fputs("0", o);
	else
		fprintf(o, "%.6g", v);
}

void hp_html_site_stack(FILE *o, struct hp_html_frames *fr, const struct hp_model *m,
			const struct hp_site *s)
{
	const struct hp_profile *p = m->prof;
	size_t k = 0, n = 0, depth = s->trim_hi > s->trim_lo ? s->trim_hi - s->trim_lo : 0;
	size_t inner = HP_HTML_MAX_STACK_FRAMES * 3 / 4;
	size_t skip = depth > HP_HTML_MAX_STACK_FRAMES ? depth - HP_HTML_MAX_STACK_FRAMES : 0;
	putc('[', o);
	for (uint32_t li = 0; li < s->nlocations && k < s->trim_hi; li++) {
		const struct hp_location *l = &p->locations[s->locations[li]];
		for (uint32_t j = 0; j < l->nframes && k < s->trim_hi; j++, k++) {
			if (k < s->trim_lo || l->first_frame + j >= m->nframes)
				continue;
			size_t at = k - s->trim_lo;
			if (skip && at >= inner && at < inner + skip) {
				if (at == inner)
					fprintf(o, n++ ? ",%" PRId64 : "%" PRId64,
						-3 - (int64_t)skip);
				continue;
			}
			fprintf(o, n++ ? ",%" PRId32 : "%" PRId32,
				hp_html_frame_id(fr, &m->frames[l->first_frame + j]));
		}
	}
	putc(']', o);
}

void hp_html_write_nodes(FILE *o, struct hp_html_frames *fr, const struct hp_flame *fl)
{
	fputs("\"nodes\":[", o);
	for (size_t i = 0; i < fl->n; i++) {
		const struct hp_flame_node *nd = &fl->nodes[i];
		int32_t fid = nd->frame ? hp_html_frame_id(fr, nd->frame) : i ? -2 : -1;
		fprintf(o, "%s%" PRId64 ",%" PRId32 ",%" PRIu32, i ? "," : "",
			nd->parent == HP_FLAME_NONE ? (int64_t)-1 : (int64_t)nd->parent, fid,
			nd->merged);
		for (int k = 0; k < HP_FLAME_KINDS; k++)
			fprintf(o, ",%" PRIu64, nd->value[k]);
		for (int k = 0; fl->diff && k < HP_FLAME_KINDS; k++)
			fprintf(o, ",%" PRIu64, nd->base_value[k]);
	}
	putc(']', o);
}

const char *hp_html_frame_label(const struct hp_frame *f)
{
	if (f->function)
		return f->function;
	if (f->module_path)
		return hp_basename(f->module_path);
	return "??";
}

void hp_html_write_frames(FILE *o, const struct hp_html_frames *fr)
{
	fputs("\"frames\":[", o);
	for (size_t i = 0; i < fr->n; i++) {
		const struct hp_frame *f = fr->used[i];
		fputs(i ? ",[" : "[", o);
		jstr_max(o, hp_html_frame_label(f));
		putc(',', o);
		jstr_max(o, f->file);
		fprintf(o, ",%u,", f->line);
		hp_json_str0(o, f->module_path ? hp_basename(f->module_path) : NULL);
		fprintf(o, ",%d]", f->inlined);
	}
	putc(']', o);
}

/* Writes s, making "<" ">" "&" JSON escapes: inside a <script> element the text must
 * never hold "</script" or "<!--", and those characters only occur in JSON strings. */
static void put_script_json(FILE *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '<')
			fputs("\\u003c", o);
		else if (c == '>')
			fputs("\\u003e", o);
		else if (c == '&')
			fputs("\\u0026", o);
		else
			putc(c, o);
	}
}

static void put_html_text(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '<')
			fputs("&lt;", o);
		else if (*s == '>')
			fputs("&gt;", o);
		else if (*s == '&')
			fputs("&amp;", o);
		else
			putc(*s, o);
	}
}

int hp_html_write_page(FILE *o, const char *title, int (*write_data)(FILE *, const void *),
		       const void *arg, const unsigned char *script, size_t script_len)
{
	/* The data first, in memory: a failure leaves no half page behind. */
	char *data = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&data, &len);
	if (!mem)
		return -1;
	int rc = write_data(mem, arg);
	int saved = errno;
	if (fclose(mem) && !rc) {
		rc = -1;
		saved = errno;
	}
	if (rc) {
		free(data);
		errno = saved;
		return -1;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"heapprof-analyze\">\n<title>heapprof: ",
	      o);
	put_html_text(o, title);
	fputs("</title>\n<style>\n", o);
	fwrite(hp_html_report_css, 1, hp_html_report_css_len, o);
	fputs("</style>\n</head>\n<body>\n<div id=\"app\"><noscript>This report needs "
	      "JavaScript.</noscript></div>\n<script type=\"application/json\" id=\"hp-data\">",
	      o);
	put_script_json(o, data, len);
	fputs("</script>\n<script>\n", o);
	fwrite(hp_html_common_js, 1, hp_html_common_js_len, o);
	fwrite(script, 1, script_len, o);
	fputs("</script>\n</body>\n</html>\n", o);
	free(data);
	return ferror(o) ? -1 : 0;
}
