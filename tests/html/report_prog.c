/* A program with exactly known allocations for the HTML and SVG reports (tests/html):
 * four phases, a mark before each, a few milliseconds apart so the timeline has shape.
 *
 *   load_table    200 x 40,000 B, kept until after build_index   8,000,000 B live
 *   parse_line    5,000 x 100 B, each freed at once (temporaries)
 *   build_index   1 x 2,000,000 B, freed after                    the peak: 10,000,000 B
 *   keep_cache    3 x 65,536 B never freed                         196,608 B leaked
 * Nothing else is live before main and no stdio runs, so the peak is exactly
 * 10,000,000 B (load_table 8,000,000 + build_index 2,000,000 of it). Run without the
 * preload it still exits 0 (heapprof_mark is weak). */
#include <heapprof/heapprof.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TABLE_ROWS 200
#define ROW_BYTES 40000
#define LINES 5000
#define LINE_BYTES 100
#define INDEX_BYTES 2000000
#define CACHE_ENTRIES 3
#define CACHE_BYTES 65536

static void *table[TABLE_ROWS];
static void *volatile cache_sink;

static void nap(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

static void mark(const char *label)
{
	if (heapprof_mark)
		heapprof_mark(label);
}

static __attribute__((noinline)) void *load_row(void)
{
	return malloc(ROW_BYTES); /* @ROW */
}

static __attribute__((noinline)) void load_table(void)
{
	for (int i = 0; i < TABLE_ROWS; i++) {
		table[i] = load_row();
		memset(table[i], i, ROW_BYTES);
		nap(50);
	}
}

static __attribute__((noinline)) unsigned parse_line(int i)
{
	char *line = malloc(LINE_BYTES); /* @LINE */
	memset(line, 'a' + i % 26, LINE_BYTES);
	unsigned sum = (unsigned char)line[i % LINE_BYTES];
	free(line);
	return sum;
}

static __attribute__((noinline)) unsigned parse_input(void)
{
	unsigned sum = 0;
	for (int i = 0; i < LINES; i++) {
		sum += parse_line(i);
		if (i % 250 == 0)
			nap(200);
	}
	return sum;
}

static __attribute__((noinline)) void build_index(void)
{
	char *index = malloc(INDEX_BYTES); /* @INDEX */
	memset(index, 1, INDEX_BYTES);
	nap(5000);
	free(index);
}

static __attribute__((noinline)) void keep_cache(void)
{
	for (int i = 0; i < CACHE_ENTRIES; i++) {
		cache_sink = malloc(CACHE_BYTES); /* @CACHE */
		memset(cache_sink, 2, CACHE_BYTES);
	}
	cache_sink = NULL; /* definitely lost */
}

int main(void)
{
	mark("load");
	load_table();
	nap(3000);
	mark("parse");
	unsigned sum = parse_input();
	mark("index");
	build_index();
	for (int i = 0; i < TABLE_ROWS; i++)
		free(table[i]);
	nap(3000);
	mark("cache");
	keep_cache();
	nap(3000);
	return sum == 0xffffffffu; /* uses sum; always 0 */
}
