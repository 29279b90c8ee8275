/* Growth over time (growth.h): robust fits of every site's series after warm-up. */
#include "growth.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int hp_growth_wanted(const struct hp_model *m, const struct hp_time_options *o)
{
	int g = o ? o->growth : 0;
	if (g)
		return g > 0;
	if (o && o->check)
		return 1;
	const struct hp_profile *p = m->prof;
	double from = p->window.active ? p->window.from_s : 0;
	return p->duration_s - from >= HP_GROWTH_AUTO_MIN_S;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The Theil-Sen slope of points (x[i], y[i]), i < n; tmp holds n * (n - 1) / 2. */
static double theil_sen(const double *x, const double *y, size_t n, double *tmp)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (x[j] > x[i])
				tmp[k++] = (y[j] - y[i]) / (x[j] - x[i]);
	return median(tmp, k);
}

struct fit_buf {
	double *x, *y, *tmp;
};

static void fit(struct hp_growth_site *g, const struct fit_buf *b, size_t n)
{
	double ts = theil_sen(b->x, b->y, n, b->tmp);
	size_t h = n / 2;
	g->late_slope = theil_sen(b->x + h, b->y + h, n - h, b->tmp);
	for (size_t i = 0; i < n; i++)
		b->tmp[i] = b->y[i] - ts * b->x[i];
	double ti = median(b->tmp, n);
	/* Left out: the tenth of the points farthest from the Theil-Sen line (a spike, the
	 * cleanup at exit). */
	for (size_t i = 0; i < n; i++)
		b->tmp[i] = fabs(b->y[i] - (ts * b->x[i] + ti));
	qsort(b->tmp, n, sizeof *b->tmp, cmp_double);
	double cut = b->tmp[n - 1 - n / 10];
#define KEPT(i) (fabs(b->y[i] - (ts * b->x[i] + ti)) <= cut)
	/* The slope: least squares over the points kept, accurate for steady growth whose
	 * clock advances in steps, as the median of pairs is not; R^2 of that line. */
	double mx = 0, my = 0, sxy = 0, sxx = 0, ss_tot = 0, ss_res = 0;
	size_t kept = 0, rose = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && b->y[i] > b->y[i - 1])
			rose++;
		if (KEPT(i)) {
			mx += b->x[i];
			my += b->y[i];
			kept++;
		}
	}
	mx /= (double)kept;
	my /= (double)kept;
	for (size_t i = 0; i < n; i++)
		if (KEPT(i)) {
			sxy += (b->x[i] - mx) * (b->y[i] - my);
			sxx += (b->x[i] - mx) * (b->x[i] - mx);
		}
	g->slope = sxx > 0 ? sxy / sxx : ts;
	double icept = my - g->slope * mx;
	for (size_t i = 0; i < n; i++)
		if (KEPT(i)) {
			double r = b->y[i] - (g->slope * b->x[i] + icept), d = b->y[i] - my;
			ss_res += r * r;
			ss_tot += d * d;
		}
#undef KEPT
	g->r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 0;
	if (g->r2 < 0)
		g->r2 = 0;
	g->grew_share = n > 1 ? (double)rose / (double)(n - 1) : 0;
	g->fitted_end = g->slope * b->x[n - 1] + icept;
	if (g->fitted_end < 0)
		g->fitted_end = 0;
	g->growing = g->slope > 0 && ts > 0 && g->late_slope >= 0.5 * g->slope && g->r2 >= 0.5 &&
		     g->slope * (b->x[n - 1] - b->x[0]) >= HP_GROWTH_MIN_BYTES;
}

static int cmp_site(const void *a, const void *b)
{
	const struct hp_growth_site *x = a, *y = b;
	if (x->growing != y->growing)
		return x->growing ? -1 : 1;
	if (x->slope != y->slope)
		return x->slope > y->slope ? -1 : 1;
	return x->site < y->site ? -1 : x->site > y->site;
}

static int cmp_function(const void *a, const void *b)
{
	const struct hp_growth_function *x = a, *y = b;
	if (x->slope != y->slope)
		return x->slope > y->slope ? -1 : 1;
	return strcmp(x->function, y->function);
}

/* The growing sites by the function of their innermost reported frame. */
static int by_function(const struct hp_model *m, struct hp_growth *g)
{
	g->functions = calloc(g->ngrowing ? g->ngrowing : 1, sizeof *g->functions);
	if (!g->functions)
		return -ENOMEM;
	struct hp_stack st = {0};
	for (size_t i = 0; i < g->ngrowing; i++) {
		const struct hp_growth_site *s = &g->sites[i];
		if (hp_model_stack(m, &m->prof->sites[s->site], 0, &st)) {
			hp_stack_release(&st);
			return -ENOMEM;
		}
		const char *fn = st.n && st.v[0].function ? st.v[0].function : "??";
		size_t k = 0;
		while (k < g->nfunctions && strcmp(g->functions[k].function, fn) != 0)
			k++;
		if (k == g->nfunctions)
			g->functions[g->nfunctions++] = (struct hp_growth_function){.function = fn};
		g->functions[k].slope += s->slope;
		g->functions[k].live_bytes += s->live_bytes;
		g->functions[k].nsites++;
	}
	hp_stack_release(&st);
	qsort(g->functions, g->nfunctions, sizeof *g->functions, cmp_function);
	return 0;
}

int hp_growth_compute(const struct hp_model *m, const struct hp_time_options *o,
		      struct hp_growth **out)
{
	const struct hp_profile *p = m->prof;
	struct hp_growth *g = calloc(1, sizeof *g);
	*out = g;
	if (!g)
		return -ENOMEM;
	double from = p->window.active ? p->window.from_s : 0, to = p->duration_s;
	g->warmup_end_s = from + HP_GROWTH_WARMUP_SHARE * (to - from);
	for (size_t i = p->nmarks; i-- > 0;) {
		const struct hp_mark *mk = &p->marks[i];
		if (mk->label_len == 6 && !memcmp(mk->label, "warmup", 6) && mk->t_s >= from &&
		    mk->t_s < to) {
			g->warmup_end_s = mk->t_s;
			g->warmup_mark = 1;
			break;
		}
	}
	g->fit_to_s = to;
	g->heap_bytes = p->heap_bytes;
	g->budget = o ? o->budget : 0;
	g->budget_s = -1;
	g->heap_1h = g->heap_24h = (double)p->heap_bytes;

	/* The points: bucket ends from the end of warm-up (the last bucket ends at the
	 * window's end). */
	const struct hp_series_info *se = &p->series;
	size_t first = 0, n = 0;
	for (size_t i = 0; i < se->nbuckets; i++) {
		double t = se->process[i].t_s;
		if (t + 1e-12 < g->warmup_end_s)
			first = i + 1;
	}
	n = se->nbuckets > first ? se->nbuckets - first : 0;
	/* Drop a last bucket that ends where the one before it does (clamped). */
	while (n >= 2 && se->process[first + n - 1].t_s <= se->process[first + n - 2].t_s)
		n--;
	g->npoints = n;
	g->enough = n >= HP_GROWTH_MIN_POINTS && to > g->warmup_end_s;
	if (!g->enough)
		return 0;

	struct fit_buf b = {malloc(n * sizeof(double)), malloc(n * sizeof(double)),
			    malloc((n * (n - 1) / 2 + n) * sizeof(double))};
	g->sites = calloc(p->nsites ? p->nsites : 1, sizeof *g->sites);
	if (!b.x || !b.y || !b.tmp || !g->sites) {
		free(b.x);
		free(b.y);
		free(b.tmp);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		b.x[i] = se->process[first + i].t_s;
	for (size_t s = 0; s < p->nsites; s++) {
		const struct hp_site_point *pt = p->sites[s].series;
		if (!pt)
			continue;
		uint64_t top = 0;
		for (size_t i = 1; i < n; i++)
			if (pt[first + i].live_bytes > top)
				top = pt[first + i].live_bytes;
		if (top <= pt[first].live_bytes)
			continue; /* never above where the fit starts: nothing to fit */
		for (size_t i = 0; i < n; i++)
			b.y[i] = (double)pt[first + i].live_bytes;
		struct hp_growth_site *gs = &g->sites[g->nsites++];
		gs->site = s;
		gs->live_bytes = p->sites[s].leaked_bytes;
		fit(gs, &b, n);
	}
	free(b.x);
	free(b.y);
	free(b.tmp);
	qsort(g->sites, g->nsites, sizeof *g->sites, cmp_site);
	double base = (double)g->heap_bytes;
	while (g->ngrowing < g->nsites && g->sites[g->ngrowing].growing) {
		const struct hp_growth_site *gs = &g->sites[g->ngrowing];
		g->growing_slope += gs->slope;
		if (gs->fitted_end > (double)gs->live_bytes)
			base += gs->fitted_end - (double)gs->live_bytes;
		g->ngrowing++;
	}
	g->heap_base = base;
	g->heap_1h = base + g->growing_slope * 3600;
	g->heap_24h = base + g->growing_slope * 86400;
	if (g->budget) {
		if (base >= (double)g->budget)
			g->budget_s = 0;
		else if (g->growing_slope > 0)
			g->budget_s = ((double)g->budget - base) / g->growing_slope;
	}
	return by_function(m, g);
}

void hp_growth_free(struct hp_growth *g)
{
	if (!g)
		return;
	free(g->sites);
	free(g->functions);
	free(g);
}
