/* Writes the inputs of the CLI tests into a directory: valid.zst (a small complete trace
 * with a leak scan at exit), random.bin (4 KiB of fixed pseudo-random bytes) and
 * empty.zst. The truncated copy is cut from valid.zst by cli.sh: its last zstd frame
 * holds only the records written at exit, so cutting into it loses the trailer. */
#include <stdio.h>
#include <string.h>

#include "trace_builder.h"

static int write_bytes(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		fprintf(stderr, "make_trace: cannot write '%s'\n", path);
		return -1;
	}
	return 0;
}

static void leak_scan(struct tb *b, uint64_t t)
{
	/* definite, indirect, possible, reachable: (bytes, blocks) */
	static const uint64_t v[8] = {100, 1, 0, 0, 0, 0, 64, 1};
	tb_buf_u(&b->raw, HP_REC_LEAK_SCAN);
	tb_buf_u(&b->raw, t);
	tb_buf_u(&b->raw, 0);
	for (int i = 0; i < 8; i++)
		tb_buf_u(&b->raw, v[i]);
	tb_buf_u(&b->raw, 2);
	tb_buf_u(&b->raw, HP_REC_LEAK_BLOCKS);
	tb_buf_u(&b->raw, 2);
	tb_buf_u(&b->raw, 0x10000); /* definitely lost */
	tb_buf_u(&b->raw, HP_LEAK_DEFINITE);
	tb_buf_u(&b->raw, 0x100); /* 0x10100: still reachable */
	tb_buf_u(&b->raw, HP_LEAK_REACHABLE);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: make_trace DIR\n", stderr);
		return 1;
	}
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.pid = 4242,
					       .ppid = 1,
					       .exe = "/usr/bin/cli-test",
					       .cmdline = "cli-test\0--flag",
					       .cmdline_len = 15});
	tb_thread(&b, 0, 4242, 0);
	const uint64_t s1[] = {0x401000, 0x401100, 0x401200}, s2[] = {0x402000, 0x401200};
	tb_stack(&b, 1, 3, s1);
	tb_stack(&b, 2, 2, s2);
	tb_alloc(&b, 0, 1000, 100, 1, 0x10000);
	tb_alloc(&b, 0, 2000, 64, 2, 0x10100);
	tb_alloc(&b, 0, 3000, 32, 2, 0x10200);
	tb_free(&b, 0, 4000, 0x10200);
	tb_flush_events(&b);
	tb_round(&b, 5000);
	tb_frame(&b);

	static const char supp[] = "leak:never_matches_anything\nleak:nor_this\n";
	tb_exit(&b, 6000, 0);
	tb_buf_u(&b.raw, HP_REC_SUPPRESSIONS);
	tb_buf_u(&b.raw, 6000);
	tb_buf_str(&b.raw, supp, strlen(supp));
	leak_scan(&b, 7000);
	tb_end(&b, 8000, 4, 0);
	tb_frame(&b);

	uint8_t rnd[4096];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < sizeof rnd; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		rnd[i] = (uint8_t)(x >> 32);
	}
	int rc = write_bytes(argv[1], "valid.zst", b.out.data, b.out.len) ||
		 write_bytes(argv[1], "random.bin", rnd, sizeof rnd) ||
		 write_bytes(argv[1], "empty.zst", "", 0);
	tb_release(&b);
	return rc ? 1 : 0;
}
