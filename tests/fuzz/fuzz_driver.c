/* Replays inputs through a fuzz target without libFuzzer, for every build (gcc too):
 *
 *   fuzz_X_replay FILE...          each file once (the corpus regression test)
 *   fuzz_X_replay --cuts FILE      every prefix of FILE: lengths 0 .. size
 *   fuzz_X_replay --flips FILE     FILE with each single bit flipped, one at a time
 *
 * Exits 0 when every input was processed (a crash or sanitizer report ends the process
 * before), 1 on a usage or I/O error. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fuzz-replay: cannot open '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (!buf)
			break;
		len += fread(buf + len, 1, cap - len, f);
		if (len < cap)
			break;
		uint8_t *nb = realloc(buf, cap *= 2);
		if (!nb)
			free(buf);
		buf = nb;
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf || bad) {
		fprintf(stderr, "fuzz-replay: cannot read '%s'\n", path);
		free(buf);
		return NULL;
	}
	*size = len;
	return buf;
}

/* Called by the sanitizers before they exit; absent (NULL) in a build without them. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* The input being run, so that a crash says which one and leaves it in
 * ./fuzz-replay-crash.bin (the test's build directory under ctest). */
static const char *cur_file;
static const uint8_t *cur_data;
static size_t cur_size;
static long cur_cut = -1, cur_bit = -1;

static void report_crash(void)
{
	fprintf(stderr, "fuzz-replay: crashed on %s", cur_file ? cur_file : "?");
	if (cur_cut >= 0)
		fprintf(stderr, " cut to %ld bytes", cur_cut);
	if (cur_bit >= 0)
		fprintf(stderr, " with bit %ld flipped (byte %ld, mask 0x%02x)", cur_bit,
			cur_bit / 8, 1u << (cur_bit % 8));
	fprintf(stderr, "; input saved as fuzz-replay-crash.bin\n");
	FILE *f = fopen("fuzz-replay-crash.bin", "wb");
	if (f) {
		fwrite(cur_data, 1, cur_size, f);
		fclose(f);
	}
}

static void on_signal(int sig)
{
	report_crash();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Every run gets its own exact-size heap copy, so ASan sees a read past the end. */
static void run(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	if (size)
		memcpy(copy, data, size);
	cur_data = copy;
	cur_size = size;
	LLVMFuzzerTestOneInput(copy, size);
	free(copy);
}

int main(int argc, char **argv)
{
	int mode = 0; /* 0: each file, 1: cuts, 2: flips */
	int i = 1;
	if (argc > 1 && strcmp(argv[1], "--cuts") == 0)
		mode = 1, i++;
	else if (argc > 1 && strcmp(argv[1], "--flips") == 0)
		mode = 2, i++;
	if (i >= argc) {
		fprintf(stderr, "usage: %s [--cuts|--flips] FILE...\n", argv[0]);
		return 1;
	}
	unsigned long runs = 0;
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(report_crash);
	signal(SIGSEGV, on_signal);
	signal(SIGBUS, on_signal);
	signal(SIGABRT, on_signal);
	signal(SIGFPE, on_signal);
	for (; i < argc; i++) {
		size_t size;
		uint8_t *data = slurp(argv[i], &size);
		if (!data)
			return 1;
		cur_file = argv[i];
		if (mode == 0) {
			fprintf(stderr, "fuzz-replay: %s\n", argv[i]);
			run(data, size);
			runs++;
		} else if (mode == 1) {
			for (size_t n = 0; n <= size; n++, runs++) {
				cur_cut = (long)n;
				run(data, n);
			}
		} else {
			for (size_t b = 0; b < size * 8; b++, runs++) {
				data[b / 8] ^= (uint8_t)(1u << (b % 8));
				cur_bit = (long)b;
				run(data, size);
				data[b / 8] ^= (uint8_t)(1u << (b % 8));
			}
		}
		free(data);
	}
	printf("fuzz-replay: %lu inputs, no crash\n", runs);
	return 0;
}
