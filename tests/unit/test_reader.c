/* analyzer/reader.c: exact decoding of every record and event form, the dump format,
 * refusal of corrupt input with the right code, and truncation at every byte. */
#define _GNU_SOURCE /* open_memstream */
#include "check.h"
#include "trace_builder.h"

#include <stdlib.h>
#include <unistd.h>

#include "dump.h"
#include "reader.h"

static const uint64_t seg_exe[][3] = {{0x0, 0x10000, 5}, {0x10000, 0x2000, 6}};

/* A trace with one of each record and every event form. */
static void build_full(struct tb *b)
{
	tb_init(b);
	tb_header(b, &(struct tb_header_args){.pid = 1234,
					      .ppid = 1,
					      .flags = 0,
					      .ticks_per_second = 1000000000,
					      .time_shift = 0,
					      .max_frames = 64,
					      .exe = "/usr/bin/prog",
					      .cmdline = "prog\0-x\0a b\0",
					      .cmdline_len = 12});
	tb_clock_sync(b, 5, 1000);
	tb_module(b, 1, "/usr/bin/prog", "\x01\xab", 2, 0x400000, 2, seg_exe);
	uint64_t ips[] = {0x401000, 0x400010, 0x7fff00000000};
	tb_stack(b, 1, 3, ips);
	tb_thread(b, 0, 1234, 0);
	tb_thread_name(b, 0, "main");
	tb_thread(b, 1, 1240, 3);
	tb_alloc(b, 0, 10, 16, 1, 0x10000);	    /* short form */
	tb_alloc(b, 0, 10, 0, 1, 0x8000);	    /* negative delta, same time */
	tb_alloc(b, 0, 200, 1ull << 63, 1, 0x1235); /* unaligned: ALLOC_ABS */
	tb_free(b, 0, 201, 0x10000);
	tb_free(b, 0, 202, 0x1235);			      /* FREE_ABS */
	tb_realloc(b, 0, 300, 0x8000, 100, 1, 0x9000);	      /* short form */
	tb_realloc(b, 0, 301, 0x9000, UINT64_MAX, 0, 0x9001); /* REALLOC_ABS */
	tb_alloc(b, 1, 5, 127, 0, 0xfffffffffff0ull);
	tb_alloc(b, 1, 6, 128, 0, 0x10);
	tb_flush_events(b);
	tb_round(b, 150);
	tb_frame(b);
	tb_rss(b, 400, 1 << 20);
	tb_fork(b, 401, 4321);
	tb_exec(b, 402, "/bin/sh");
	tb_thread_exit(b, 1, 403);
	tb_module_unload(b, 1, 404);
	tb_error(b, 405, "line\nbreak");
	tb_exit(b, 406, -3);
	tb_end(b, 407, 9, 0);
	tb_frame(b);
}

static const char full_dump[] =
    "header version=1 pid=1234 ppid=1 flags=0 ticks_per_second=1000000000 time_shift=0 "
    "max_frames=64 sample_bytes=0 exe=/usr/bin/prog cmdline=prog -x a b\n"
    "clock_sync ticks=5 mono_ns=1000\n"
    "module id=1 path=/usr/bin/prog build_id=01ab bias=0x400000 segments=2\n"
    "stack id=1 frames=0x401000,0x400010,0x7fff00000000\n"
    "thread index=0 tid=1234 t=0\n"
    "thread_name index=0 name=main\n"
    "thread index=1 tid=1240 t=3\n"
    "alloc thread=0 t=10 size=16 stack=1 addr=0x10000\n"
    "alloc thread=0 t=10 size=0 stack=1 addr=0x8000\n"
    "alloc thread=0 t=200 size=9223372036854775808 stack=1 addr=0x1235\n"
    "free thread=0 t=201 addr=0x10000\n"
    "free thread=0 t=202 addr=0x1235\n"
    "realloc thread=0 t=300 old=0x8000 size=100 stack=1 new=0x9000\n"
    "realloc thread=0 t=301 old=0x9000 size=18446744073709551615 stack=0 new=0x9001\n"
    "alloc thread=1 t=5 size=127 stack=0 addr=0xfffffffffff0\n"
    "alloc thread=1 t=6 size=128 stack=0 addr=0x10\n"
    "round watermark=150\n"
    "rss t=400 bytes=1048576\n"
    "fork t=401 child=4321\n"
    "exec t=402 path=/bin/sh\n"
    "thread_exit index=1 t=403\n"
    "module_unload id=1 t=404\n"
    "error t=405 message=line\\x0abreak\n"
    "exit t=406 status=-3\n"
    "end t=407 events=9 lost=0\n";

static void test_full(void)
{
	struct tb b;
	build_full(&b);
	struct hp_reader *r = hp_reader_open_mem(b.out.data, b.out.len, "full.zst");
	CHECK(r != NULL);
	struct hp_item it;
	CHECK(hp_reader_next(r, &it) == 1);
	CHECK(it.kind == HP_REC_HEADER);
	CHECK_U64(it.u.header.pid, 1234);
	CHECK_U64(it.u.header.cmdline_len, 12);
	CHECK(memcmp(it.u.header.cmdline, "prog\0-x\0a b\0", 12) == 0);
	CHECK_STR(it.u.header.exe, "/usr/bin/prog");
	CHECK(hp_reader_next(r, &it) == 1 && it.kind == HP_REC_CLOCK_SYNC);
	CHECK(hp_reader_next(r, &it) == 1 && it.kind == HP_REC_MODULE);
	CHECK_U64(it.u.module.nseg, 2);
	CHECK_U64(it.u.module.seg[1].vaddr, 0x10000);
	CHECK_U64(it.u.module.seg[1].flags, 6);
	CHECK(hp_reader_next(r, &it) == 1 && it.kind == HP_REC_STACK);
	CHECK_U64(it.u.stack.ips[2], 0x7fff00000000);
	hp_reader_free(r);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	r = hp_reader_open_mem(b.out.data, b.out.len, "full.zst");
	CHECK(hp_dump(f, r) == 0);
	fclose(f);
	CHECK_STR(text, full_dump);
	CHECK(!hp_reader_truncated(r));
	CHECK(hp_reader_complete(r));
	hp_reader_free(r);
	free(text);
	tb_release(&b);
}

/* Decodes everything; returns hp_reader_next's last result. */
static int drain(const void *data, size_t size, enum hp_read_error *err, int *truncated,
		 unsigned *items)
{
	struct hp_reader *r = hp_reader_open_mem(data, size, "t.zst");
	struct hp_item it;
	int rc;
	unsigned n = 0;
	while ((rc = hp_reader_next(r, &it)) > 0)
		n++;
	*err = hp_reader_error(r);
	*truncated = hp_reader_truncated(r);
	if (items)
		*items = n;
	char msg[256];
	hp_reader_format_error(r, msg, sizeof msg);
	CHECK(strlen(msg) > 0);
	/* Calling again after the end or an error is harmless. */
	CHECK(hp_reader_next(r, &it) == rc);
	hp_reader_free(r);
	return rc;
}

static void test_truncation(void)
{
	struct tb b;
	build_full(&b);
	unsigned all;
	enum hp_read_error err;
	int trunc;
	CHECK(drain(b.out.data, b.out.len, &err, &trunc, &all) == 0);
	CHECK(!trunc);
	CHECK_U64(all, 25);
	/* The first frame's size: cut there, the trace is ok but has no trailer. */
	size_t first = ZSTD_findFrameCompressedSize(b.out.data, b.out.len);
	unsigned ok = 0, errors = 0;
	for (size_t cut = 0; cut < b.out.len; cut++) {
		unsigned n;
		int rc = drain(b.out.data, cut, &err, &trunc, &n);
		if (rc == 0) {
			ok++;
			CHECK(trunc);
			CHECK(cut >= first);
			CHECK_U64(n, 17); /* the first frame's items */
		} else {
			errors++;
			CHECK(rc == -1);
			CHECK(cut < first);
			CHECK(err == (cut ? HP_READ_ERR_NO_COMPLETE_FRAME : HP_READ_ERR_EMPTY));
		}
	}
	CHECK_U64(ok + errors, b.out.len);
	CHECK_U64(errors, first);
	tb_release(&b);
}

/* A trace of a header and the given raw record bytes, one frame. */
static enum hp_read_error raw_error(const void *rec, size_t n)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.pid = 1});
	tb_thread(&b, 0, 1, 0);
	tb_raw(&b, rec, n);
	tb_frame(&b);
	enum hp_read_error err;
	int trunc;
	drain(b.out.data, b.out.len, &err, &trunc, NULL);
	tb_release(&b);
	return err;
}

static void test_corrupt(void)
{
	enum hp_read_error err;
	int trunc;
	/* Empty input, random bytes. */
	CHECK(drain("", 0, &err, &trunc, NULL) == -1);
	CHECK(err == HP_READ_ERR_EMPTY);
	uint8_t rnd[4096];
	srand(1);
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof rnd; i++)
			rnd[i] = (uint8_t)rand();
		CHECK(drain(rnd, sizeof rnd, &err, &trunc, NULL) == -1);
		CHECK(err == HP_READ_ERR_ZSTD);
	}

	/* A foreign zstd file, and a newer version. */
	struct tb b;
	tb_init(&b);
	tb_raw(&b, "NOTHEAPPROF", 11);
	tb_frame(&b);
	CHECK(drain(b.out.data, b.out.len, &err, &trunc, NULL) == -1);
	CHECK(err == HP_READ_ERR_MAGIC);
	tb_release(&b);
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.version = 2});
	tb_frame(&b);
	CHECK(drain(b.out.data, b.out.len, &err, &trunc, NULL) == -1);
	CHECK(err == HP_READ_ERR_VERSION);
	tb_release(&b);
	/* A record before the header. */
	tb_init(&b);
	tb_raw(&b, HP_MAGIC "\x01", HP_MAGIC_LEN + 1);
	tb_round(&b, 1);
	tb_frame(&b);
	CHECK(drain(b.out.data, b.out.len, &err, &trunc, NULL) == -1);
	CHECK(err == HP_READ_ERR_NO_HEADER);
	tb_release(&b);

	/* Malformed records. */
	CHECK(raw_error("\x63", 1) == HP_READ_ERR_TAG);
	CHECK(raw_error("\x09\x80\x80", 3) == HP_READ_ERR_TRUNCATED);
	CHECK(raw_error("\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11) == 0);
	CHECK(raw_error("\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11) == HP_READ_ERR_VARINT);
	CHECK(raw_error("\x09\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 12) ==
	      HP_READ_ERR_VARINT);
	CHECK(raw_error("\x04\x01\x81\x08", 4) == HP_READ_ERR_NFRAMES); /* 1025 frames */
	CHECK(raw_error("\x04\x01\x02\x02", 4) == HP_READ_ERR_TRUNCATED);
	CHECK(raw_error("\x04\x00\x00", 3) == HP_READ_ERR_ID);
	CHECK(raw_error("\x04\xff\xff\x03\x00", 5) == HP_READ_ERR_ID);
	CHECK(raw_error("\x05\xff\xff\xff\x0f\x01\x00", 7) == HP_READ_ERR_ID);
	CHECK(raw_error("\x02\x01\x00\x00\x00\x41", 6) == HP_READ_ERR_NSEG); /* 65 segments */
	CHECK(raw_error("\x10\x00\x81\x80\x04", 5) == HP_READ_ERR_STRING);   /* 65537 bytes */
	CHECK(raw_error("\x10\x00\x05xy", 5) == HP_READ_ERR_TRUNCATED);
	CHECK(raw_error("\x08\x07\x01\x00", 4) == HP_READ_ERR_THREAD);
	CHECK(raw_error("\x08\x00\x05\x00", 4) == HP_READ_ERR_TRUNCATED); /* length past record */
	CHECK(raw_error("\x08\x00\x02\x00\x05", 5) == HP_READ_ERR_TRUNCATED); /* event cut */
	CHECK(raw_error("\x08\x00\x04\x00\x10\x03\x00", 7) == HP_READ_ERR_STACK);
	CHECK(raw_error("\x08\x00\x02\x03\x07", 5) == HP_READ_ERR_EXT_OP);
	CHECK(raw_error("\x08\x00\x04\x00\x10\x00\x00", 7) == 0);
	CHECK(raw_error("\x12\x81\x80\x04", 4) == HP_READ_ERR_LEAK_BLOCKS);
	CHECK(raw_error("\x12\x01\x10\x04", 4) == HP_READ_ERR_LEAK_BLOCKS);
	CHECK(raw_error("\x01", 1) == HP_READ_ERR_NO_HEADER); /* second header */

	/* A string of exactly HP_MAX_STRING bytes is fine. */
	uint8_t *big = calloc(1, HP_MAX_STRING + 8);
	size_t n = 0;
	big[n++] = HP_REC_ERROR;
	big[n++] = 0;
	n = (size_t)(hp_put_varint(big + n, HP_MAX_STRING) - big);
	CHECK(raw_error(big, n + HP_MAX_STRING) == 0);
	free(big);
}

/* Frames whose content exceeds HP_MAX_FRAME_CONTENT, declared or not. */
static void test_bomb(void)
{
	size_t n = HP_MAX_FRAME_CONTENT + 1;
	uint8_t *zero = calloc(1, n);
	memcpy(zero, HP_MAGIC "\x01", HP_MAGIC_LEN + 1);
	size_t cap = ZSTD_compressBound(n);
	uint8_t *z = malloc(cap);
	size_t zn = ZSTD_compress(z, cap, zero, n, 1); /* declares its content size */
	CHECK(!ZSTD_isError(zn));
	enum hp_read_error err;
	int trunc;
	CHECK(drain(z, zn, &err, &trunc, NULL) == -1);
	CHECK(err == HP_READ_ERR_FRAME_TOO_LARGE);

	/* Streamed: no content size in the frame header; the output guard refuses it. */
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	ZSTD_inBuffer in = {zero, n, 0};
	ZSTD_outBuffer out = {z, cap, 0};
	size_t rem;
	do
		rem = ZSTD_compressStream2(c, &out, &in, ZSTD_e_end);
	while (rem && !ZSTD_isError(rem));
	ZSTD_freeCCtx(c);
	CHECK(ZSTD_getFrameContentSize(z, out.pos) == ZSTD_CONTENTSIZE_UNKNOWN);
	CHECK(drain(z, out.pos, &err, &trunc, NULL) == -1);
	CHECK(err == HP_READ_ERR_FRAME_TOO_LARGE);
	free(z);
	free(zero);
}

/* Files: open errors and the same decoding as from memory. */
static void test_file(void)
{
	CHECK(hp_reader_open("/nonexistent/x.zst") == NULL);
	struct tb b;
	build_full(&b);
	char path[] = "/tmp/hp_test_reader_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK(tb_write_file(&b, path) == 0);
	struct hp_reader *r = hp_reader_open(path);
	CHECK(r != NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CHECK(hp_dump(f, r) == 0);
	fclose(f);
	CHECK_STR(text, full_dump);
	CHECK_U64(hp_reader_offset(r), b.out.len);
	hp_reader_free(r);
	free(text);
	unlink(path);
	tb_release(&b);
}

int main(void)
{
	test_full();
	test_truncation();
	test_corrupt();
	test_bomb();
	test_file();
	return check_done();
}
