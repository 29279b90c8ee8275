/* --collapsed KIND: collapsed ("folded") stacks, the input of flamegraph.pl, inferno,
 * speedscope and Pyroscope: one line per distinct stack, its frames outermost first
 * joined by ';', a space and an integer count (EXPORT-FORMATS.md 3.3):
 *     main;handle_request;cache_insert 4096
 * One cost per file: KIND is peak (bytes live at the peak), leaked (bytes never freed),
 * allocated (bytes allocated), calls (allocations) or temporary (allocations freed
 * right after, heaptrack's temporaries). Frames are those the reports print (allocator
 * and libc trimmed), inlined ones included, each named by its function (else
 * module+0xaddress); stacks whose names are equal are merged, lines are sorted (inferno
 * rejects unsorted input) and a stack of count 0 is left out, so the counts sum
 * exactly to the trace's total of that kind. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "model.h"
#include "output.h"

enum kind { KIND_PEAK, KIND_LEAKED, KIND_ALLOCATED, KIND_CALLS, KIND_TEMPORARY };

static const char *const kind_names[] = {"peak", "leaked", "allocated", "calls", "temporary"};

#define NKINDS (sizeof kind_names / sizeof kind_names[0])

static int find_kind(const char *arg)
{
	if (!arg)
		return KIND_PEAK;
	for (size_t i = 0; i < NKINDS; i++)
		if (strcmp(arg, kind_names[i]) == 0)
			return (int)i;
	return -1;
}

static uint64_t site_value(const struct hp_site *s, int kind)
{
	switch (kind) {
	case KIND_PEAK:
		return s->peak_bytes;
	case KIND_LEAKED:
		return s->leaked_bytes;
	case KIND_ALLOCATED:
		return s->allocated_bytes;
	case KIND_CALLS:
		return s->allocations;
	default:
		return s->temporary;
	}
}

struct line {
	char *stack;
	uint64_t value;
};

struct text {
	char *v;
	size_t n, cap;
};

static int put(struct text *t, const char *s, size_t n)
{
	if (hp_array_reserve((void **)&t->v, &t->cap, t->n + n + 1, 1, 256))
		return -1;
	memcpy(t->v + t->n, s, n);
	t->n += n;
	t->v[t->n] = 0;
	return 0;
}

/* A frame's name with ';' and line breaks replaced, since they separate frames and
 * lines, and a trailing " <digits>" kept from reading as a count ("f 2" -> "f_2"). */
static int put_name(struct text *t, const struct hp_frame *f)
{
	char buf[64];
	const char *name = f->function;
	if (!name) {
		const char *mod = hp_basename(f->module_path);
		snprintf(buf, sizeof buf, "%s+0x%" PRIx64, mod ? mod : "[unknown]", f->address);
		name = buf;
	}
	size_t start = t->n, len = strlen(name);
	if (put(t, name, len))
		return -1;
	char *s = t->v + start;
	for (size_t i = 0; i < len; i++)
		if (s[i] == ';' || s[i] == '\n' || s[i] == '\r')
			s[i] = '_';
	size_t i = len;
	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	if (i < len && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
		s[i - 1] = '_';
	return 0;
}

static int by_stack(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->stack, ((const struct line *)b)->stack);
}

static int write_collapsed(const struct hp_model *m, const struct hp_output_options *o)
{
	const struct hp_profile *p = m->prof;
	int kind = find_kind(o->arg);
	if (kind < 0) {
		errno = EINVAL;
		return -1;
	}
	struct line *lines = calloc(p->nsites ? p->nsites : 1, sizeof *lines);
	struct hp_stack st = {0};
	struct text t = {0};
	size_t n = 0;
	int rc = lines ? 0 : -1;
	for (size_t i = 0; !rc && i < p->nsites; i++) {
		const struct hp_site *s = &p->sites[i];
		uint64_t v = site_value(s, kind);
		if (!v)
			continue;
		if (hp_model_stack(m, s, 0, &st)) {
			rc = -1;
			break;
		}
		t.n = 0;
		if (!st.n)
			rc = put(&t, "[no stack]", 10);
		for (size_t k = st.n; !rc && k-- > 0;)
			rc = put_name(&t, &st.v[k]) || (k && put(&t, ";", 1));
		if (rc || !(lines[n].stack = strdup(t.v))) {
			rc = -1;
			break;
		}
		lines[n++].value = v;
	}
	if (!rc) {
		qsort(lines, n, sizeof *lines, by_stack);
		for (size_t i = 0; i < n;) {
			uint64_t v = 0;
			size_t j = i;
			for (; j < n && strcmp(lines[j].stack, lines[i].stack) == 0; j++)
				v += lines[j].value;
			fprintf(o->out, "%s %" PRIu64 "\n", lines[i].stack, v);
			i = j;
		}
		if (ferror(o->out))
			rc = -1;
	} else {
		errno = ENOMEM;
	}
	for (size_t i = 0; lines && i < n; i++)
		free(lines[i].stack);
	free(lines);
	free(t.v);
	hp_stack_release(&st);
	return rc;
}

static int check_kind(const char *arg)
{
	return find_kind(arg) < 0 ? -1 : 0;
}

const struct hp_output hp_output_collapsed = {
    .name = "collapsed",
    .flags = HP_OUTPUT_HIDDEN | HP_OUTPUT_LAZY_SYMBOLS,
    .check_arg = check_kind,
    .write = write_collapsed,
};
