/* The diff of two runs (diff.h): sites matched by key, merged, their changes ranked; the
 * --fail-on-increase budgets. */
#define _GNU_SOURCE /* qsort_r */
#include "diff.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static const char *const measure_name[HP_DIFF_NMEASURES] = {"peak", "calls", "allocated", "leaked"};
static const char *const measure_title[HP_DIFF_NMEASURES] = {"peak heap", "calls",
							     "bytes allocated", "leaked bytes"};

const char *hp_diff_measure_name(enum hp_diff_measure m)
{
	return m < HP_DIFF_NMEASURES ? measure_name[m] : "?";
}

const char *hp_diff_measure_title(enum hp_diff_measure m)
{
	return m < HP_DIFF_NMEASURES ? measure_title[m] : "?";
}

int64_t hp_diff_delta(const struct hp_diff_side *base, const struct hp_diff_side *new,
		      enum hp_diff_measure m)
{
	uint64_t a = base->value[m], b = new->value[m];
	if (b >= a)
		return b - a > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(b - a);
	return a - b > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)(a - b);
}

double hp_diff_percent(uint64_t base, uint64_t new)
{
	if (!base)
		return new ? INFINITY : 0;
	return ((double)new - (double)base) * 100.0 / (double)base;
}

/* A site of either run, to sort both runs' sites by key. */
struct ref {
	uint64_t key;
	int run; /* 0 base, 1 new */
	size_t index;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->run != y->run)
		return x->run - y->run;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void side_add(struct hp_diff_side *d, const struct hp_site *s)
{
	d->value[HP_DIFF_PEAK] += s->peak_bytes;
	d->value[HP_DIFF_CALLS] += s->allocations;
	d->value[HP_DIFF_ALLOCATED] += s->allocated_bytes;
	d->value[HP_DIFF_LEAKED] += s->leaked_bytes;
	d->leaked_allocations += s->leaked_allocations;
	d->temporary += s->temporary;
	if (!d->site)
		d->site = s;
	d->nsites++;
}

static void side_total(struct hp_diff_side *d, const struct hp_profile *p)
{
	d->value[HP_DIFF_PEAK] = p->peak_heap_bytes;
	d->value[HP_DIFF_CALLS] = p->allocations;
	d->value[HP_DIFF_ALLOCATED] = p->allocated_bytes;
	d->value[HP_DIFF_LEAKED] = p->leaked_bytes;
	d->leaked_allocations = p->leaked_allocations;
	d->temporary = p->temporary;
}

static struct hp_diff_site *new_entry(struct hp_diff *d, size_t *cap, uint64_t key)
{
	if (d->nsites == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct hp_diff_site *v = realloc(d->sites, c * sizeof *v);
		if (!v)
			return NULL;
		d->sites = v;
		*cap = c;
	}
	struct hp_diff_site *e = &d->sites[d->nsites++];
	memset(e, 0, sizeof *e);
	e->key = key;
	return e;
}

/* The sites of one key, refs[0..n) with n > 1: grouped by their frames, as a key shared
 * by different stacks (a hash collision) must not merge them. Each group's first stack is
 * kept in stacks[] to compare the next sites with. */
static int merge_key(struct hp_diff *d, size_t *cap, const struct hp_model *const models[2],
		     const struct ref *refs, size_t n)
{
	struct hp_stack *stacks = calloc(n, sizeof *stacks), st = {0};
	size_t *group = malloc(n * sizeof *group), ngroups = 0;
	int rc = stacks && group ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct hp_model *m = models[refs[i].run];
		const struct hp_site *s = &m->prof->sites[refs[i].index];
		if ((rc = hp_model_stack(m, s, 0, &st)))
			break;
		size_t g = 0;
		while (g < ngroups && !hp_stack_equal(stacks[g].v, stacks[g].n, st.v, st.n))
			g++;
		if (g == ngroups) {
			struct hp_diff_site *e = new_entry(d, cap, refs[i].key);
			if (!e) {
				rc = -ENOMEM;
				break;
			}
			group[ngroups++] = (size_t)(e - d->sites);
			stacks[g] = st;
			st = (struct hp_stack){0};
		}
		struct hp_diff_site *e = &d->sites[group[g]];
		side_add(refs[i].run ? &e->new : &e->base, s);
	}
	for (size_t g = 0; stacks && g < n; g++)
		hp_stack_release(&stacks[g]);
	hp_stack_release(&st);
	free(stacks);
	free(group);
	return rc;
}

int hp_diff_build(struct hp_diff *d, const struct hp_model *base, const struct hp_model *new)
{
	memset(d, 0, sizeof *d);
	d->base = base;
	d->new = new;
	side_total(&d->base_total, base->prof);
	side_total(&d->new_total, new->prof);
	const struct hp_model *const models[2] = {base, new};
	size_t n = base->prof->nsites + new->prof->nsites, cap = 0;
	struct ref *refs = malloc((n ? n : 1) * sizeof *refs);
	if (!refs)
		return -ENOMEM;
	size_t k = 0;
	for (int run = 0; run < 2; run++)
		for (size_t i = 0; i < models[run]->prof->nsites; i++)
			refs[k++] = (struct ref){models[run]->prof->sites[i].key, run, i};
	qsort(refs, n, sizeof *refs, ref_cmp);
	int rc = 0;
	for (size_t i = 0, j; i < n && !rc; i = j) {
		for (j = i + 1; j < n && refs[j].key == refs[i].key;)
			j++;
		if (j - i > 1) {
			rc = merge_key(d, &cap, models, refs + i, j - i);
			continue;
		}
		struct hp_diff_site *e = new_entry(d, &cap, refs[i].key);
		if (!e)
			rc = -ENOMEM;
		else
			side_add(refs[i].run ? &e->new : &e->base,
				 &models[refs[i].run]->prof->sites[refs[i].index]);
	}
	free(refs);
	for (size_t i = 0; i < d->nsites; i++) {
		const struct hp_diff_site *e = &d->sites[i];
		if (e->base.site && e->new.site)
			d->matched++;
		else if (e->new.site)
			d->added++;
		else
			d->removed++;
	}
	if (!rc)
		hp_diff_sort(d, HP_DIFF_PEAK);
	return rc;
}

void hp_diff_release(struct hp_diff *d)
{
	free(d->sites);
	memset(d, 0, sizeof *d);
}

static uint64_t magnitude(const struct hp_diff_site *e, int m)
{
	uint64_t a = e->base.value[m], b = e->new.value[m];
	return a > b ? a - b : b - a;
}

static int site_cmp(const void *a, const void *b, void *ctx)
{
	const struct hp_diff_site *x = a, *y = b;
	int first = *(const int *)ctx;
	for (int i = -1; i < HP_DIFF_NMEASURES; i++) {
		int m = i < 0 ? first : i;
		uint64_t u = magnitude(x, m), v = magnitude(y, m);
		if (u != v)
			return u < v ? 1 : -1;
	}
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	/* A collision of keys: by the first site's place in its run's table. */
	const struct hp_site *s = x->base.site ? x->base.site : x->new.site;
	const struct hp_site *t = y->base.site ? y->base.site : y->new.site;
	return s < t ? -1 : s > t;
}

void hp_diff_sort(struct hp_diff *d, enum hp_diff_measure m)
{
	int first = (int)m;
	if (d->nsites)
		qsort_r(d->sites, d->nsites, sizeof *d->sites, site_cmp, &first);
}

int hp_diff_budget_parse(struct hp_diff_budget *b, const char *arg, char *err, size_t errsize)
{
	const char *p = arg;
	if (!*p) {
		snprintf(err, errsize, "empty budget: expected [MEASURE:]PERCENT");
		return -EINVAL;
	}
	while (*p) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *colon = memchr(p, ':', (size_t)(end - p));
		int m = HP_DIFF_PEAK;
		if (colon) {
			size_t len = (size_t)(colon - p);
			for (m = 0; m < HP_DIFF_NMEASURES; m++)
				if (strlen(measure_name[m]) == len &&
				    !memcmp(p, measure_name[m], len))
					break;
			if (m == HP_DIFF_NMEASURES) {
				snprintf(
				    err, errsize,
				    "unknown measure '%.*s': expected peak, calls, allocated or "
				    "leaked",
				    (int)len, p);
				return -EINVAL;
			}
			p = colon + 1;
		}
		char num[64], *e;
		size_t len = (size_t)(end - p);
		if (len && p[len - 1] == '%')
			len--;
		if (!len || len >= sizeof num) {
			snprintf(err, errsize, "missing or bad percent in '%.*s'",
				 (int)(end - (colon ? colon + 1 : p)), colon ? colon + 1 : p);
			return -EINVAL;
		}
		memcpy(num, p, len);
		num[len] = 0;
		errno = 0;
		double v = strtod(num, &e);
		if (*e || errno || !isfinite(v) || v < 0 || num[0] == '-' || num[0] == '+' ||
		    num[0] == ' ') {
			snprintf(err, errsize, "bad percent '%s': expected a number >= 0", num);
			return -EINVAL;
		}
		b->percent[m] = v;
		b->set |= 1u << m;
		p = comma ? comma + 1 : end;
		if (comma && !*p) {
			snprintf(err, errsize, "trailing ',' in '%s'", arg);
			return -EINVAL;
		}
	}
	return 0;
}

static const char *figure(char *buf, int m, uint64_t v)
{
	return m == HP_DIFF_CALLS ? hp_human_count(buf, v) : hp_human_bytes(buf, v);
}

int hp_diff_budget_exceeded(const struct hp_diff_budget *b, const struct hp_diff *d,
			    enum hp_diff_measure m)
{
	if (m >= HP_DIFF_NMEASURES || !(b->set & (1u << m)))
		return 0;
	uint64_t x = d->base_total.value[m], y = d->new_total.value[m];
	if (y <= x)
		return 0;
	/* Exact for every uint64_t: long double holds 64 bits of mantissa. */
	return !x || (long double)(y - x) * 100 > (long double)b->percent[m] * (long double)x;
}

unsigned hp_diff_budget_check(const struct hp_diff_budget *b, const struct hp_diff *d,
			      const char *prog, FILE *err)
{
	unsigned failed = 0;
	for (int m = 0; m < HP_DIFF_NMEASURES; m++) {
		if (!hp_diff_budget_exceeded(b, d, (enum hp_diff_measure)m))
			continue;
		uint64_t x = d->base_total.value[m], y = d->new_total.value[m];
		char a[32], c[32], pct[32];
		double grown = hp_diff_percent(x, y);
		if (x)
			snprintf(pct, sizeof pct, grown < 1e6 ? "%.3f%%" : "%.4g%%", grown);
		else
			snprintf(pct, sizeof pct, "from nothing");
		fprintf(err,
			"%s: check failed: %s grew by %s (%s -> %s), more than the %g%% allowed "
			"(--fail-on-increase %s:%g)\n",
			prog, measure_title[m], pct, figure(a, m, x), figure(c, m, y),
			b->percent[m], measure_name[m], b->percent[m]);
		failed++;
	}
	return failed;
}
