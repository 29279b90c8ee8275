/* --dhat FILE: valgrind DHAT's JSON (dhatFileVersion 2, mode heap), for dh_view.html,
 * the viewer valgrind ships (/usr/libexec/valgrind/dh_view.html; it works offline:
 * open it, then load the file). EXPORT-FORMATS.md 3.4, dh_view.js buildTree/checkPP:
 *   - bklt (block lifetimes) true, bkacc (accesses) false: the trace records no reads
 *     or writes;
 *   - tu "µs", Mtu "s", so rates read as bytes and blocks per second; te the duration,
 *     tg the time of the peak; tuth, the "short-lived" threshold, 1000 µs;
 *   - one program point (PP) per site: tb/tbk allocated bytes and blocks, tl the sum of
 *     its blocks' lifetimes (those live at the end counted to the end), mb/mbk the most
 *     bytes of the site live at once and its blocks then, gb/gbk live at the peak, eb/ebk
 *     live at the end; fs its frames as the reports print them, innermost first, as
 *     indices into ftbl;
 *   - ftbl[0] "[root]", then every frame of the model, "0xIP: function (file:line)" as
 *     DHAT writes them. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "output.h"
#include "report.h"

#define SHORT_LIVED_US 1000

static uint64_t us(double s)
{
	double v = s * 1e6;
	return v > 0 && v < 9e18 ? (uint64_t)llround(v) : 0;
}

/* A frame as DHAT names it, into buf. */
static const char *label(char *buf, size_t size, const struct hp_frame *f)
{
	if (f->function && f->file)
		snprintf(buf, size, "0x%" PRIX64 ": %s (%s:%u)", f->ip, f->function, f->file,
			 f->line);
	else if (f->function || f->file)
		snprintf(buf, size, "0x%" PRIX64 ": %s (in %s)", f->ip,
			 f->function ? f->function : "???",
			 f->module_path ? f->module_path
			 : f->file	? f->file
					: "???");
	else if (f->module_path)
		snprintf(buf, size, "0x%" PRIX64 ": ??? (in %s)", f->ip, f->module_path);
	else
		snprintf(buf, size, "0x%" PRIX64 ": ???", f->ip);
	return buf;
}

static void put_string(FILE *o, const char *s)
{
	hp_json_string(o, "", s, strlen(s));
}

/* The site's frames [trim_lo, trim_hi) as ftbl indices (frame index + 1), innermost
 * first; `none` when it has none. */
static void put_frames(const struct hp_model *m, const struct hp_site *s, FILE *o, size_t none)
{
	const struct hp_profile *p = m->prof;
	uint32_t k = 0, shown = 0;
	fputs("\"fs\":[", o);
	for (uint32_t j = 0; j < s->nlocations; j++) {
		uint32_t loc = s->locations[j];
		if (loc >= p->nlocations)
			continue;
		const struct hp_location *l = &p->locations[loc];
		for (uint32_t f = 0; f < l->nframes; f++, k++)
			if (k >= s->trim_lo && k < s->trim_hi && l->first_frame + f < m->nframes)
				fprintf(o, "%s%" PRIu32, shown++ ? "," : "",
					l->first_frame + f + 1);
	}
	if (!shown)
		fprintf(o, "%zu", none);
	fputc(']', o);
}

static int write_dhat(const struct hp_model *m, const struct hp_output_options *o)
{
	const struct hp_profile *p = m->prof;
	FILE *out = o->out;
	fputs("{\"dhatFileVersion\":2,\"mode\":\"heap\",\"verb\":\"Allocated\",\"bklt\":true,"
	      "\"bkacc\":false,\"tu\":\"\xc2\xb5s\",\"Mtu\":\"s\",",
	      out);
	fprintf(out, "\"tuth\":%d,\"cmd\":", SHORT_LIVED_US);
	put_string(out, p->command && *p->command ? p->command : "(unknown)");
	fprintf(out, ",\"pid\":%" PRIu64 ",\"te\":%" PRIu64 ",\"tg\":%" PRIu64 ",\n\"pps\":[",
		p->header.pid, us(p->duration_s), us(p->peak_time_s));
	size_t none = m->nframes + 1; /* ftbl index of "[no stack]" */
	int first = 1;
	for (size_t i = 0; i < p->nsites; i++) {
		const struct hp_site *s = &p->sites[i];
		if (!s->allocations && !s->allocated_bytes)
			continue;
		fprintf(out,
			"%s\n{\"tb\":%" PRIu64 ",\"tbk\":%" PRIu64 ",\"tl\":%" PRIu64
			",\"mb\":%" PRIu64 ",\"mbk\":%" PRIu64 ",\"gb\":%" PRIu64
			",\"gbk\":%" PRIu64 ",\"eb\":%" PRIu64 ",\"ebk\":%" PRIu64 ",",
			first ? "" : ",", s->allocated_bytes, s->allocations, us(s->lifetime_s),
			s->max_bytes, s->max_allocations, s->peak_bytes, s->peak_allocations,
			s->leaked_bytes, s->leaked_allocations);
		put_frames(m, s, out, none);
		fputc('}', out);
		first = 0;
	}
	fputs("\n],\n\"ftbl\":[\"[root]\"", out);
	char buf[4096];
	for (size_t i = 0; i < m->nframes; i++) {
		fputs(",\n", out);
		put_string(out, label(buf, sizeof buf, &m->frames[i]));
	}
	fputs(",\n\"[no stack]\"\n]\n}\n", out);
	return ferror(out) ? -1 : 0;
}

const struct hp_output hp_output_dhat = {
    .name = "dhat",
    .flags = HP_OUTPUT_HIDDEN,
    .write = write_dhat,
};
