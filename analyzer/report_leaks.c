/* Leak report printers: text, the JSON "leaks" value, LeakSanitizer's log format. */
#include "report_leaks.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "dump.h"
#include "model.h"
#include "output.h"
#include "report.h"

/* Frames of a site's stack into a buffer owned by the caller; 0 when unknown (or out of
 * memory: the site is then printed without its stack). */
static int site_frames(const struct hp_leaks *lk, const struct hp_leak_site *s,
		       struct hp_stack *buf)
{
	buf->n = 0;
	if (!lk->resolve || !s->stack || lk->resolve(lk->resolve_ctx, s->stack, 0, buf))
		return 0;
	return (int)buf->n;
}

static void text_frame(FILE *out, int i, const struct hp_frame *f)
{
	fprintf(out, "    #%-2d ", i);
	if (f->function)
		fputs(f->function, out);
	else
		fprintf(out, "%s+0x%" PRIx64, f->module_path ? hp_basename(f->module_path) : "??",
			f->address);
	if (f->file && f->line)
		fprintf(out, " %s:%u", f->file, f->line);
	else if (f->file)
		fprintf(out, " %s", f->file);
	if (f->function && f->module_path)
		fprintf(out, " (%s)", hp_basename(f->module_path));
	if (f->inlined)
		fputs(" [inlined]", out);
	fputc('\n', out);
}

static void text_site(FILE *out, const struct hp_leaks *lk, const struct hp_leak_site *s,
		      struct hp_stack *buf)
{
	char sz[32];
	fprintf(out, "%s: %s in %" PRIu64 " block%s, allocated at\n", hp_leaks_kind_name(s->kind),
		hp_checks_format_size(s->bytes, 0, sz, sizeof(sz)), s->blocks,
		s->blocks == 1 ? "" : "s");
	int n = site_frames(lk, s, buf);
	for (int i = 0; i < n; i++)
		text_frame(out, i, &buf->v[i]);
	if (!n)
		fprintf(out, "    (stack %" PRIu32 " unknown)\n", s->stack);
	fputc('\n', out);
}

static void text_total(FILE *out, const char *label, uint64_t bytes, uint64_t blocks)
{
	char sz[32];
	fprintf(out, "  %16s: %s in %" PRIu64 " block%s\n", label,
		hp_checks_format_size(bytes, 0, sz, sizeof(sz)), blocks, blocks == 1 ? "" : "s");
}

static void text_suppressions(FILE *out, const struct hp_leaks *lk)
{
	int any = 0;
	for (size_t i = 0; i < lk->supp.nrules; i++) {
		const struct hp_supp_rule *r = &lk->supp.rules[i];
		if (!r->hits)
			continue;
		if (!any)
			fprintf(out, "Suppressions used:\n  %7s %12s  %s\n", "blocks", "bytes",
				"suppression");
		any = 1;
		fprintf(out, "  %7" PRIu64 " %12" PRIu64 "  leak:%s  (%s:%u)\n", r->hits, r->bytes,
			r->templ, r->from, r->line);
	}
	if (!any)
		fputs("Suppressions used: none\n", out);
	fputc('\n', out);
}

void hp_leaks_print_text(FILE *out, const struct hp_leaks *lk, unsigned flags)
{
	struct hp_stack buf = {0};
	uint64_t supp_bytes = 0, supp_blocks = 0;
	for (int k = 0; k < HP_LEAK_NKINDS; k++) {
		supp_bytes += lk->suppressed_bytes[k];
		supp_blocks += lk->suppressed_blocks[k];
	}
	if (lk->have_scan) {
		fputs("LEAK SUMMARY (reachability scan at exit):\n", out);
		text_total(out, "definitely lost", lk->bytes[HP_LEAK_DEFINITE],
			   lk->blocks[HP_LEAK_DEFINITE]);
		text_total(out, "indirectly lost", lk->bytes[HP_LEAK_INDIRECT],
			   lk->blocks[HP_LEAK_INDIRECT]);
		text_total(out, "possibly lost", lk->bytes[HP_LEAK_POSSIBLE],
			   lk->blocks[HP_LEAK_POSSIBLE]);
		text_total(out, "still reachable", lk->bytes[HP_LEAK_REACHABLE],
			   lk->blocks[HP_LEAK_REACHABLE]);
	} else {
		fputs("LEAK SUMMARY: no reachability scan in this trace (HEAPPROF_LEAK_SCAN=0, or "
		      "the process did not exit normally);\n"
		      "blocks live at exit are shown instead, as heaptrack reports leaks:\n",
		      out);
		text_total(out, "live at exit", lk->bytes[HP_LEAK_LIVE], lk->blocks[HP_LEAK_LIVE]);
	}
	if (supp_blocks)
		text_total(out, "suppressed", supp_bytes, supp_blocks);
	if (lk->unattributed_blocks)
		fprintf(out,
			"  warning: %" PRIu64 " scanned block%s not in the replayed live set "
			"(sampled or incomplete trace): not counted above\n",
			lk->unattributed_blocks, lk->unattributed_blocks == 1 ? " is" : "s are");
	if (lk->supp_error[0])
		fprintf(out, "  warning: the program's suppressions were ignored: %s\n",
			lk->supp_error);
	fputc('\n', out);

	/* Lost blocks first, biggest first; the still reachable ones after them. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && (flags & HP_LEAKS_PRINT_NO_REACHABLE))
			break;
		for (size_t i = 0; i < lk->nsites; i++) {
			const struct hp_leak_site *s = &lk->sites[i];
			if ((s->kind == HP_LEAK_REACHABLE) == (pass == 0))
				continue;
			text_site(out, lk, s, &buf);
		}
	}
	if (flags & HP_LEAKS_PRINT_SUPPRESSIONS)
		text_suppressions(out, lk);
	hp_stack_release(&buf);
}

/* A JSON string of prefix + s, or null when s is NULL (report_json.c's writer, so the
 * leaks object is valid JSON whatever bytes a path or symbol holds). */
static void json_string2(FILE *out, const char *prefix, const char *s)
{
	if (s)
		hp_json_string(out, prefix, s, strlen(s));
	else
		fputs("null", out);
}

static void json_string(FILE *out, const char *s)
{
	json_string2(out, "", s);
}

void hp_leaks_print_json(FILE *out, const struct hp_leaks *lk, int indent)
{
	if (!lk || !lk->have_scan || !lk->finished) {
		fputs("null", out);
		return;
	}
	int in1 = indent + 2, in2 = indent + 4;
	static const struct {
		const char *key;
		int kind;
	} classes[] = {
	    {"definitely_lost", HP_LEAK_DEFINITE},
	    {"indirectly_lost", HP_LEAK_INDIRECT},
	    {"possibly_lost", HP_LEAK_POSSIBLE},
	    {"still_reachable", HP_LEAK_REACHABLE},
	};
	uint64_t sb = 0, sn = 0;
	for (int k = 0; k < HP_LEAK_NKINDS; k++) {
		sb += lk->suppressed_bytes[k];
		sn += lk->suppressed_blocks[k];
	}
	fputs("{\n", out);
	for (size_t i = 0; i < 4; i++)
		fprintf(out, "%*s\"%s\": {\"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64 "},\n", in1,
			"", classes[i].key, lk->bytes[classes[i].kind],
			lk->blocks[classes[i].kind]);
	fprintf(out, "%*s\"suppressed\": {\"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64 "},\n", in1,
		"", sb, sn);
	fprintf(out, "%*s\"unattributed_blocks\": %" PRIu64 ",\n", in1, "",
		lk->unattributed_blocks);

	fprintf(out, "%*s\"suppressions_used\": [", in1, "");
	int first = 1;
	for (size_t i = 0; i < lk->supp.nrules; i++) {
		const struct hp_supp_rule *r = &lk->supp.rules[i];
		if (!r->hits)
			continue;
		fprintf(out, "%s\n%*s{\"suppression\": ", first ? "" : ",", in2, "");
		json_string2(out, "leak:", r->templ);
		fputs(", \"from\": ", out);
		json_string(out, r->from);
		fprintf(out, ", \"line\": %u, \"blocks\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
			r->line, r->hits, r->bytes);
		first = 0;
	}
	if (first)
		fputs("],\n", out);
	else
		fprintf(out, "\n%*s],\n", in1, "");

	fprintf(out, "%*s\"sites\": [", in1, "");
	struct hp_stack buf = {0};
	for (size_t i = 0; i < lk->nsites; i++) {
		const struct hp_leak_site *s = &lk->sites[i];
		fprintf(out,
			"%s\n%*s{\"kind\": \"%s\", \"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64
			", \"stack\": [",
			i ? "," : "", in2, "", hp_leaks_kind_key(s->kind), s->bytes, s->blocks);
		int n = site_frames(lk, s, &buf);
		for (int f = 0; f < n; f++) {
			if (f)
				fputs(", ", out);
			hp_json_frame(out, &buf.v[f], 1);
		}
		fputs("]}", out);
	}
	hp_stack_release(&buf);
	if (lk->nsites)
		fprintf(out, "\n%*s]\n%*s}", in1, "", indent, "");
	else
		fprintf(out, "]\n%*s}", indent, "");
}

unsigned hp_leaks_print_lsan(FILE *out, const struct hp_leaks *lk, uint64_t pid, unsigned kinds)
{
	if (!lk || !lk->have_scan || !lk->finished)
		return 0;
	unsigned records = 0;
	uint64_t bytes = 0, blocks = 0;
	struct hp_stack buf = {0};
	for (size_t i = 0; i < lk->nsites; i++) {
		const struct hp_leak_site *s = &lk->sites[i];
		if (s->kind > HP_LEAK_DEFINITE || !(kinds & (1u << s->kind)))
			continue;
		if (!records) {
			fprintf(
			    out,
			    "=================================================================\n"
			    "==%" PRIu64 "==ERROR: LeakSanitizer: detected memory leaks\n\n",
			    pid);
		}
		records++;
		bytes += s->bytes;
		blocks += s->blocks;
		/* LSan has no "possibly lost" nor "still reachable": they print as Direct, with
		 * heapprof's class in a trailing note CTest ignores. */
		fprintf(out,
			"%s leak of %" PRIu64 " byte(s) in %" PRIu64 " object(s) allocated from:",
			s->kind == HP_LEAK_INDIRECT ? "Indirect" : "Direct", s->bytes, s->blocks);
		if (s->kind == HP_LEAK_POSSIBLE || s->kind == HP_LEAK_REACHABLE)
			fprintf(out, " (heapprof: %s)", hp_leaks_kind_name(s->kind));
		fputc('\n', out);
		int n = site_frames(lk, s, &buf);
		for (int f = 0; f < n; f++) {
			const struct hp_frame *fr = &buf.v[f];
			fprintf(out, "    #%d 0x%" PRIx64 " in %s", f, fr->address,
				fr->function ? fr->function : "<unknown>");
			if (fr->file && fr->line)
				fprintf(out, " %s:%u", fr->file, fr->line);
			else if (fr->module_path)
				fprintf(out, " (%s+0x%" PRIx64 ")", fr->module_path, fr->address);
			fputc('\n', out);
		}
		fputc('\n', out);
	}
	hp_stack_release(&buf);
	if (records)
		fprintf(out,
			"SUMMARY: LeakSanitizer: %" PRIu64 " byte(s) leaked in %" PRIu64
			" allocation(s).\n",
			bytes, blocks);
	return records;
}

/* --format lsan: the leaks of the kinds asked for (--fail-on-leaks, else definite and
 * indirect) in LeakSanitizer's log, for ctest -T memcheck. */
static int write_lsan(const struct hp_model *m, const struct hp_output_options *o)
{
	hp_leaks_print_lsan(o->out, &m->leaks, m->prof->header.pid, o->leak_kinds);
	return 0;
}

/* --leaks: the leak report alone, each trace under a heading when there are several. */
static int write_leaks(const struct hp_model *m, const struct hp_output_options *o)
{
	if (o->index)
		putc('\n', o->out);
	if (o->ntraces > 1) {
		fputs("heapprof leak report: ", o->out);
		hp_dump_string(o->out, m->file, strlen(m->file));
		fprintf(o->out, " (pid %" PRIu64 ")\n", m->prof->header.pid);
	}
	hp_leaks_print_text(o->out, &m->leaks, o->leaks_flags);
	return 0;
}

const struct hp_output hp_output_lsan = {
    .name = "lsan", .flags = HP_OUTPUT_LAZY_SYMBOLS, .write = write_lsan};
const struct hp_output hp_output_leaks = {
    .name = "leaks", .flags = HP_OUTPUT_HIDDEN | HP_OUTPUT_LAZY_SYMBOLS, .write = write_leaks};
