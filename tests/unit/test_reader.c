/* analyzer/reader.c: exact decoding of every record and event form of both format
 * versions, the dump format, refusal of corrupt input with the right code, and
 * truncation at every byte. */
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
	tb_header(&b, &(struct tb_header_args){.version = HP_FORMAT_VERSION + 1});
	tb_frame(&b);
	CHECK(drain(b.out.data, b.out.len, &err, &trunc, NULL) == -1);
	CHECK(err == HP_READ_ERR_VERSION);
	tb_release(&b);
	/* Version 0, below HP_FORMAT_VERSION_MIN (the builder would write 1). */
	tb_init(&b);
	tb_raw(&b, HP_MAGIC "\x00", HP_MAGIC_LEN + 1);
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

/* Follow mode: a trace written a few bytes at a time is read as it grows, a frame being
 * written is waited for (never taken for a cut one), and the items are the same as when
 * the file is read whole. With follow off, a frame left cut is the usual truncation. */
static void test_follow(void)
{
	struct tb b;
	build_full(&b);
	char path[] = "/tmp/hp_test_reader_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	struct hp_reader *r = hp_reader_open(path);
	CHECK(r != NULL);
	hp_reader_follow(r, 1);
	struct hp_item it;
	unsigned items = 0, waits = 0;
	size_t written = 0;
	while (written < b.out.len) {
		size_t n = b.out.len - written < 7 ? b.out.len - written : 7;
		CHECK(write(fd, b.out.data + written, n) == (ssize_t)n);
		written += n;
		int rc;
		while ((rc = hp_reader_next(r, &it)) > 0)
			items++;
		CHECK(rc == 0);
		if (written < b.out.len) {
			CHECK(hp_reader_waiting(r));
			waits++;
		}
		CHECK(!hp_reader_truncated(r));
	}
	unsigned all;
	enum hp_read_error err;
	int trunc;
	CHECK(drain(b.out.data, b.out.len, &err, &trunc, &all) == 0);
	CHECK_U64(items, all);
	CHECK(waits > 10);
	hp_reader_follow(r, 0);
	CHECK(hp_reader_next(r, &it) == 0);
	CHECK(!hp_reader_waiting(r));
	CHECK(hp_reader_complete(r));
	hp_reader_free(r);

	/* Cut inside its last frame: waiting while followed, truncated once not. */
	CHECK(ftruncate(fd, (off_t)b.out.len - 3) == 0);
	r = hp_reader_open(path);
	hp_reader_follow(r, 1);
	items = 0;
	while (hp_reader_next(r, &it) > 0)
		items++;
	CHECK(hp_reader_waiting(r) && !hp_reader_truncated(r));
	hp_reader_follow(r, 0);
	while (hp_reader_next(r, &it) > 0)
		items++;
	CHECK(hp_reader_truncated(r) && !hp_reader_waiting(r));
	CHECK(items < all);
	hp_reader_free(r);
	close(fd);
	unlink(path);
	tb_release(&b);
}

/* ---- version 2: blocks by slot ---- */

static void header_v2(struct tb *b)
{
	tb_init(b);
	tb_header(b, &(struct tb_header_args){.version = 2, .pid = 77, .exe = "/bin/v2"});
	uint64_t ip[1] = {0x1000};
	tb_stack(b, 1, 1, ip);
	tb_thread(b, 0, 77, 0);
	tb_thread(b, 1, 78, 0);
}

/* Every v2 event form and LEAK_BLOCKS; the comments give the decoder state after each. */
static void build_full_v2(struct tb *b)
{
	const uint64_t max = HP_MAX_SLOT;
	header_v2(b);
	tb2_alloc_slot(b, 0, 10, 16, 1, 5);		   /* prev 5 */
	tb2_alloc_slot(b, 0, 11, 32, 1, 7);		   /* prev 7 */
	tb2_free(b, 0, 12, 5);				   /* delta -2; list [5] */
	tb2_alloc(b, 0, 13, 48, 1);			   /* takes 5; list [] */
	tb2_realloc(b, 0, 14, 7, 100, 1);		   /* delta +2, keeps 7 */
	tb2_free_unknown(b, 0, 15, 0x1235);		   /* prev stays 7 */
	tb2_free(b, 0, 16, 7);				   /* delta 0; list [7] */
	tb2_realloc_unknown(b, 0, 17, 0xdead0, 8, 0, max); /* prev 2^40 */
	tb2_free(b, 0, 18, 0);				   /* delta -2^40; list [7, 0] */
	tb2_alloc(b, 0, 19, 1, 1);			   /* takes 0 */
	tb2_alloc(b, 0, 20, 2, 1);			   /* takes 7 */
	tb2_alloc_slot(b, 1, 5, 64, 0, 3);		   /* thread 1's own state */
	tb2_free(b, 1, 6, 3);
	tb2_alloc(b, 1, 7, 65, 0); /* takes 3: thread 0's list is empty */
	tb_flush_events(b);
	tb_frame(b);
	static const uint64_t bytes[4] = {2, 1, 8, 5}, blocks[4] = {2, 1, 1, 1};
	tb_leak_scan(b, 30, 0, bytes, blocks, 5);
	static const uint64_t slots[5] = {7, 0, HP_MAX_SLOT, 5, 7};
	static const unsigned cls[5] = {3, 0, 1, 2, 3};
	tb2_leak_blocks(b, 5, slots, cls); /* unsorted, 7 twice: the reader passes them on */
	tb_end(b, 31, 14, 0);
	tb_frame(b);
}

static const char full_v2_dump[] =
    "header version=2 pid=77 ppid=0 flags=0 ticks_per_second=1000000000 time_shift=0 "
    "max_frames=64 sample_bytes=0 exe=/bin/v2 cmdline=test\n"
    "stack id=1 frames=0x1000\n"
    "thread index=0 tid=77 t=0\n"
    "thread index=1 tid=78 t=0\n"
    "alloc thread=0 t=10 size=16 stack=1 block=5\n"
    "alloc thread=0 t=11 size=32 stack=1 block=7\n"
    "free thread=0 t=12 block=5\n"
    "alloc thread=0 t=13 size=48 stack=1 block=5\n"
    "realloc thread=0 t=14 block=7 size=100 stack=1\n"
    "free thread=0 t=15 addr=0x1235 unknown=1\n"
    "free thread=0 t=16 block=7\n"
    "realloc thread=0 t=17 old=0xdead0 size=8 stack=0 block=1099511627776 unknown=1\n"
    "free thread=0 t=18 block=0\n"
    "alloc thread=0 t=19 size=1 stack=1 block=0\n"
    "alloc thread=0 t=20 size=2 stack=1 block=7\n"
    "alloc thread=1 t=5 size=64 stack=0 block=3\n"
    "free thread=1 t=6 block=3\n"
    "alloc thread=1 t=7 size=65 stack=0 block=3\n"
    "leak_scan t=30 flags=0 definite=2/2 indirect=1/1 possible=8/1 reachable=5/1 nblocks=5\n"
    "leak_blocks count=5 slots=7:3,0:0,1099511627776:1,5:2,7:3\n"
    "end t=31 events=14 lost=0\n";

#define KEY(slot) hp_reader_slot_to_key(slot)

static void test_key(void)
{
	CHECK_U64(KEY(0), 16);
	CHECK_U64(KEY(1), 32);
	CHECK_U64(KEY(HP_MAX_SLOT), (HP_MAX_SLOT + 1) << 4);
	CHECK_U64(hp_reader_key_to_slot(KEY(0)), 0);
	CHECK_U64(hp_reader_key_to_slot(KEY(12345)), 12345);
	CHECK_U64(hp_reader_key_to_slot(KEY(HP_MAX_SLOT)), HP_MAX_SLOT);
}

/* Reads the next item, which must be an event; returns 0 when it is not. */
static int next_event(struct hp_reader *r, struct hp_item *it, int kind)
{
	while (hp_reader_next(r, it) == 1)
		if (it->kind >= HP_ITEM_ALLOC && it->kind <= HP_ITEM_REALLOC)
			return it->kind == kind;
	return 0;
}

static void test_full_v2(void)
{
	struct tb b;
	build_full_v2(&b);
	struct hp_reader *r = hp_reader_open_mem(b.out.data, b.out.len, "v2.zst");
	struct hp_item it;
	CHECK_U64(hp_reader_version(r), 0);
	CHECK(hp_reader_next(r, &it) == 1 && it.kind == HP_REC_HEADER);
	CHECK_U64(it.u.header.version, 2);
	CHECK_U64(hp_reader_version(r), 2);
	/* ALLOC_SLOT 5, ALLOC_SLOT 7, FREE 5, ALLOC (5) */
	CHECK(next_event(r, &it, HP_ITEM_ALLOC));
	CHECK_U64(it.u.ev.addr, KEY(5));
	CHECK_U64(it.u.ev.old, 0);
	CHECK_U64(it.u.ev.unknown_addr, 0);
	CHECK_U64(it.u.ev.size, 16);
	CHECK_U64(it.u.ev.stack, 1);
	CHECK_U64(it.u.ev.time, 10);
	CHECK(next_event(r, &it, HP_ITEM_ALLOC));
	CHECK_U64(it.u.ev.addr, KEY(7));
	CHECK(next_event(r, &it, HP_ITEM_FREE));
	CHECK_U64(it.u.ev.addr, KEY(5));
	CHECK_U64(it.u.ev.old, 0);
	CHECK_U64(it.u.ev.stack, 0);
	CHECK_U64(it.u.ev.time, 12);
	CHECK(next_event(r, &it, HP_ITEM_ALLOC));
	CHECK_U64(it.u.ev.addr, KEY(5));
	CHECK_U64(it.u.ev.size, 48);
	/* REALLOC: old and new are the same key */
	CHECK(next_event(r, &it, HP_ITEM_REALLOC));
	CHECK_U64(it.u.ev.old, KEY(7));
	CHECK_U64(it.u.ev.addr, KEY(7));
	CHECK_U64(it.u.ev.size, 100);
	CHECK_U64(it.u.ev.stack, 1);
	CHECK_U64(it.u.ev.unknown_addr, 0);
	/* FREE_UNKNOWN: no block, the raw address apart */
	CHECK(next_event(r, &it, HP_ITEM_FREE));
	CHECK_U64(it.u.ev.addr, 0);
	CHECK_U64(it.u.ev.old, 0);
	CHECK_U64(it.u.ev.unknown_addr, 0x1235);
	CHECK_U64(it.u.ev.time, 15);
	CHECK(next_event(r, &it, HP_ITEM_FREE));
	CHECK_U64(it.u.ev.addr, KEY(7));
	/* REALLOC_UNKNOWN: old 0, the raw old address apart, the new block's key */
	CHECK(next_event(r, &it, HP_ITEM_REALLOC));
	CHECK_U64(it.u.ev.old, 0);
	CHECK_U64(it.u.ev.unknown_addr, 0xdead0);
	CHECK_U64(it.u.ev.addr, KEY(HP_MAX_SLOT));
	CHECK_U64(it.u.ev.size, 8);
	CHECK_U64(it.u.ev.stack, 0);
	CHECK(next_event(r, &it, HP_ITEM_FREE));
	CHECK_U64(it.u.ev.addr, KEY(0));
	CHECK(next_event(r, &it, HP_ITEM_ALLOC));
	CHECK_U64(it.u.ev.addr, KEY(0));
	CHECK(next_event(r, &it, HP_ITEM_ALLOC));
	CHECK_U64(it.u.ev.addr, KEY(7));
	CHECK_U64(it.u.ev.thread, 0);
	CHECK(next_event(r, &it, HP_ITEM_ALLOC));
	CHECK(next_event(r, &it, HP_ITEM_FREE));
	CHECK(next_event(r, &it, HP_ITEM_ALLOC));
	CHECK_U64(it.u.ev.addr, KEY(3));
	CHECK_U64(it.u.ev.thread, 1);
	CHECK(hp_reader_next(r, &it) == 1 && it.kind == HP_REC_LEAK_SCAN);
	CHECK(hp_reader_next(r, &it) == 1 && it.kind == HP_REC_LEAK_BLOCKS);
	CHECK_U64(it.u.leak_blocks.count, 5);
	CHECK_U64(it.u.leak_blocks.addr[0], KEY(7));
	CHECK_U64(it.u.leak_blocks.addr[1], KEY(0));
	CHECK_U64(it.u.leak_blocks.addr[2], KEY(HP_MAX_SLOT));
	CHECK_U64(it.u.leak_blocks.addr[3], KEY(5));
	CHECK_U64(it.u.leak_blocks.addr[4], KEY(7));
	CHECK_U64(it.u.leak_blocks.cls[2], 1);
	CHECK(hp_reader_next(r, &it) == 1 && it.kind == HP_REC_END);
	CHECK(hp_reader_next(r, &it) == 0);
	CHECK(hp_reader_complete(r));
	hp_reader_free(r);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	r = hp_reader_open_mem(b.out.data, b.out.len, "v2.zst");
	CHECK(hp_dump(f, r) == 0);
	fclose(f);
	CHECK_STR(text, full_v2_dump);
	hp_reader_free(r);
	free(text);

	/* Every cut decodes up to where it stops, or fails cleanly. */
	size_t first = ZSTD_findFrameCompressedSize(b.out.data, b.out.len);
	for (size_t cut = 0; cut < b.out.len; cut++) {
		enum hp_read_error err;
		int trunc;
		unsigned n;
		int rc = drain(b.out.data, cut, &err, &trunc, &n);
		CHECK(rc == (cut < first ? -1 : 0));
		if (rc == 0)
			CHECK_U64(n, 18); /* the first frame's items */
	}
	tb_release(&b);
}

/* The slots of the successive ALLOC events of a v2 trace, until an error or the end.
 * Returns hp_reader_next's last result; *err is the error. */
static int alloc_slots(struct tb *b, uint64_t *slots, unsigned max, unsigned *n,
		       enum hp_read_error *err)
{
	struct hp_reader *r = hp_reader_open_mem(b->out.data, b->out.len, "fl.zst");
	struct hp_item it;
	int rc;
	*n = 0;
	while ((rc = hp_reader_next(r, &it)) > 0)
		if (it.kind == HP_ITEM_ALLOC && *n < max)
			slots[(*n)++] = hp_reader_key_to_slot(it.u.ev.addr);
	*err = hp_reader_error(r);
	hp_reader_free(r);
	return rc;
}

static void test_free_list(void)
{
	struct tb b;
	uint64_t got[80];
	unsigned n;
	enum hp_read_error err;

	/* Last in, first out, interleaved with frees. */
	header_v2(&b);
	tb2_alloc_slot(&b, 0, 1, 8, 0, 10);
	tb2_alloc_slot(&b, 0, 1, 8, 0, 20);
	tb2_alloc_slot(&b, 0, 1, 8, 0, 30);
	tb2_free(&b, 0, 2, 10);
	tb2_free(&b, 0, 2, 20);
	tb2_alloc(&b, 0, 3, 8, 0); /* 20 */
	tb2_free(&b, 0, 4, 30);
	tb2_alloc(&b, 0, 5, 8, 0); /* 30 */
	tb2_alloc(&b, 0, 6, 8, 0); /* 10 */
	tb_flush_events(&b);
	tb_frame(&b);
	CHECK(alloc_slots(&b, got, 80, &n, &err) == 0);
	CHECK_U64(n, 6);
	CHECK_U64(got[3], 20);
	CHECK_U64(got[4], 30);
	CHECK_U64(got[5], 10);
	tb_release(&b);

	/* 33 frees: the list keeps the last 32; 32 ALLOCs take them newest first, and the
	 * 33rd finds the list empty. The state carries across EVENTS records and frames. */
	header_v2(&b);
	for (uint64_t i = 0; i < 33; i++)
		tb2_alloc_slot(&b, 0, 1, 8, 0, 100 + i);
	tb_flush_events(&b);
	tb_frame(&b);
	for (uint64_t i = 0; i < 33; i++)
		tb2_free(&b, 0, 2, 100 + i);
	tb_flush_events(&b);
	for (int i = 0; i < 33; i++)
		tb2_alloc(&b, 0, 3, 8, 0);
	tb_flush_events(&b);
	tb_frame(&b);
	CHECK(alloc_slots(&b, got, 80, &n, &err) == -1);
	CHECK(err == HP_READ_ERR_SLOT);
	CHECK_U64(n, 33 + 32);
	for (unsigned i = 0; i < 32; i++)
		CHECK_U64(got[33 + i], 132 - i); /* 132 down to 101; 100 was dropped */
	tb_release(&b);

	/* REALLOC, ALLOC_SLOT, REALLOC_UNKNOWN and FREE_UNKNOWN leave the list alone. */
	header_v2(&b);
	tb2_alloc_slot(&b, 0, 1, 8, 0, 1);
	tb2_alloc_slot(&b, 0, 1, 8, 0, 2);
	tb2_free(&b, 0, 2, 1);
	tb2_realloc(&b, 0, 3, 2, 16, 0);
	tb2_alloc_slot(&b, 0, 4, 8, 0, 3);
	tb2_realloc_unknown(&b, 0, 5, 0x5000, 8, 0, 4);
	tb2_free_unknown(&b, 0, 6, 0x6000);
	tb2_alloc(&b, 0, 7, 8, 0); /* 1 */
	tb2_alloc(&b, 0, 8, 8, 0); /* empty */
	tb_flush_events(&b);
	tb_frame(&b);
	CHECK(alloc_slots(&b, got, 80, &n, &err) == -1);
	CHECK(err == HP_READ_ERR_SLOT);
	CHECK_U64(n, 4);
	CHECK_U64(got[3], 1);
	tb_release(&b);
}

/* A v2 trace whose thread 0 has `prev` as prev_slot, then `ev` (raw event bytes) in
 * one EVENTS record. Returns the error; *items counts the items decoded before it. */
static enum hp_read_error v2_events_error(uint64_t prev, const void *ev, size_t n, unsigned *items)
{
	struct tb b;
	header_v2(&b);
	tb2_alloc_slot(&b, 0, 1, 8, 1, prev);
	tb_flush_events(&b);
	tb_buf_u(&b.raw, HP_REC_EVENTS);
	tb_buf_u(&b.raw, 0);
	tb_buf_str(&b.raw, ev, n);
	tb_frame(&b);
	enum hp_read_error err;
	int trunc;
	unsigned k;
	drain(b.out.data, b.out.len, &err, &trunc, &k);
	if (items)
		*items = k;
	tb_release(&b);
	return err;
}

/* Raw v2 event bytes: head, ext_op and fields as varints. */
struct evb {
	uint8_t b[128];
	size_t n;
};
static struct evb *evu(struct evb *e, uint64_t v)
{
	e->n = (size_t)(hp_put_varint(e->b + e->n, v) - e->b);
	return e;
}

static struct evb *ev_put(struct evb *e, const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		evu(e, v[i]);
	return e;
}

static enum hp_read_error v2_ev(uint64_t prev, const struct evb *e)
{
	return v2_events_error(prev, e->b, e->n, NULL);
}

static void test_corrupt_v2(void)
{
	struct evb e;
	unsigned items;
#define EV(...)                                                                                    \
	(memset(&e, 0, sizeof e),                                                                  \
	 ev_put(&e, (const uint64_t[]){__VA_ARGS__}, sizeof((const uint64_t[]){__VA_ARGS__}) / 8))
	const uint64_t FREE = HP_OP_FREE, REALLOC = HP_OP_REALLOC, EXT = HP_OP_EXT;
	const uint64_t max = HP_MAX_SLOT;

	/* FREE: prev_slot + delta must stay in [0, 2^40]; no overflow on extreme deltas. */
	CHECK(v2_ev(0, EV(FREE, hp_zigzag(0))) == HP_READ_OK);
	CHECK(v2_ev(0, EV(FREE, hp_zigzag(-1))) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(5, EV(FREE, hp_zigzag(-5))) == HP_READ_OK);
	CHECK(v2_ev(5, EV(FREE, hp_zigzag(-6))) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(0, EV(FREE, hp_zigzag((int64_t)max))) == HP_READ_OK);
	CHECK(v2_ev(0, EV(FREE, hp_zigzag((int64_t)max + 1))) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(max, EV(FREE, hp_zigzag(1))) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(max, EV(FREE, hp_zigzag(-(int64_t)max))) == HP_READ_OK);
	CHECK(v2_ev(max, EV(FREE, hp_zigzag(-(int64_t)max - 1))) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(max, EV(FREE, hp_zigzag(INT64_MAX))) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(max, EV(FREE, hp_zigzag(INT64_MIN))) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(0, EV(FREE, hp_zigzag(INT64_MIN))) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(0, EV(FREE, UINT64_MAX)) == HP_READ_ERR_SLOT);
	/* REALLOC: the same range check. */
	CHECK(v2_ev(3, EV(REALLOC, hp_zigzag(-3), 8, 1)) == HP_READ_OK);
	CHECK(v2_ev(3, EV(REALLOC, hp_zigzag(-4), 8, 1)) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(3, EV(REALLOC, hp_zigzag(INT64_MAX), 8, 1)) == HP_READ_ERR_SLOT);
	/* ALLOC with an empty free list, after a FREE that filled it, twice. */
	CHECK(v2_ev(3, EV(HP_OP_ALLOC, 8, 1)) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(3, EV(FREE, hp_zigzag(0), HP_OP_ALLOC, 8, 1)) == HP_READ_OK);
	EV(FREE, 0, HP_OP_ALLOC, 8, 1, HP_OP_ALLOC, 8, 1);
	CHECK(v2_events_error(3, e.b, e.n, &items) == HP_READ_ERR_SLOT);
	CHECK_U64(items, 4 + 1 + 2); /* header, stack, 2 threads; ALLOC_SLOT; FREE, ALLOC */
	/* Explicit slots: at most 2^40. */
	CHECK(v2_ev(0, EV(EXT, HP_EXT_ALLOC_SLOT, 8, 1, max)) == HP_READ_OK);
	CHECK(v2_ev(0, EV(EXT, HP_EXT_ALLOC_SLOT, 8, 1, max + 1)) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(0, EV(EXT, HP_EXT_ALLOC_SLOT, 8, 1, UINT64_MAX)) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(0, EV(EXT, HP_EXT_REALLOC_UNKNOWN, 0x10, 8, 1, max)) == HP_READ_OK);
	CHECK(v2_ev(0, EV(EXT, HP_EXT_REALLOC_UNKNOWN, 0x10, 8, 1, max + 1)) == HP_READ_ERR_SLOT);
	CHECK(v2_ev(0, EV(EXT, HP_EXT_FREE_UNKNOWN, UINT64_MAX)) == HP_READ_OK);
	/* Unknown ext_op, unknown stack, an event cut short. */
	CHECK(v2_ev(0, EV(EXT, HP_EXT_LIMIT)) == HP_READ_ERR_EXT_OP);
	CHECK(v2_ev(0, EV(EXT, 1ull << 40)) == HP_READ_ERR_EXT_OP);
	CHECK(v2_ev(0, EV(EXT, HP_EXT_ALLOC_SLOT, 8, 2, 1)) == HP_READ_ERR_STACK);
	CHECK(v2_ev(0, EV(REALLOC, 0, 8, 9)) == HP_READ_ERR_STACK);
	CHECK(v2_ev(0, EV(FREE, 0, HP_OP_ALLOC, 8, 2)) == HP_READ_ERR_STACK);
	CHECK(v2_ev(0, EV(REALLOC, 0, 8)) == HP_READ_ERR_TRUNCATED);
	CHECK(v2_ev(0, EV(EXT, HP_EXT_REALLOC_UNKNOWN, 0x10, 8, 1)) == HP_READ_ERR_TRUNCATED);
	CHECK(v2_ev(0, EV(HP_OP_ALLOC, 8)) == HP_READ_ERR_TRUNCATED);
#undef EV
}

/* A v2 trace holding one raw LEAK_BLOCKS record of the given varints. */
static enum hp_read_error v2_leak_blocks(const uint64_t *v, size_t n)
{
	struct tb b;
	header_v2(&b);
	tb_buf_u(&b.raw, HP_REC_LEAK_BLOCKS);
	for (size_t i = 0; i < n; i++)
		tb_buf_u(&b.raw, v[i]);
	tb_frame(&b);
	enum hp_read_error err;
	int trunc;
	drain(b.out.data, b.out.len, &err, &trunc, NULL);
	tb_release(&b);
	return err;
}

static void test_leak_blocks_v2(void)
{
#define LB(...)                                                                                    \
	v2_leak_blocks((const uint64_t[]){__VA_ARGS__}, sizeof((const uint64_t[]){__VA_ARGS__}) / 8)
	const uint64_t max = HP_MAX_SLOT;
	/* Descending and repeated slots are fine in v2 (v1 refuses both). */
	CHECK(LB(3, hp_zigzag(9), 0, hp_zigzag(-4), 1, hp_zigzag(0), 3) == HP_READ_OK);
	CHECK(LB(2, hp_zigzag((int64_t)max), 0, hp_zigzag(-(int64_t)max), 0) == HP_READ_OK);
	CHECK(LB(0) == HP_READ_OK);
	/* Out of [0, 2^40], a class over 3. */
	CHECK(LB(1, hp_zigzag(-1), 0) == HP_READ_ERR_LEAK_BLOCKS);
	CHECK(LB(1, hp_zigzag((int64_t)max + 1), 0) == HP_READ_ERR_LEAK_BLOCKS);
	CHECK(LB(2, hp_zigzag((int64_t)max), 0, hp_zigzag(1), 0) == HP_READ_ERR_LEAK_BLOCKS);
	CHECK(LB(2, hp_zigzag(4), 0, hp_zigzag(-5), 0) == HP_READ_ERR_LEAK_BLOCKS);
	CHECK(LB(1, hp_zigzag(INT64_MIN), 0) == HP_READ_ERR_LEAK_BLOCKS);
	CHECK(LB(2, hp_zigzag((int64_t)max), 0, hp_zigzag(INT64_MAX), 0) ==
	      HP_READ_ERR_LEAK_BLOCKS);
	CHECK(LB(1, hp_zigzag(2), 4) == HP_READ_ERR_LEAK_BLOCKS);
	CHECK(LB(65537, 0, 0) == HP_READ_ERR_LEAK_BLOCKS);
	CHECK(LB(2, 0, 0) == HP_READ_ERR_TRUNCATED);
#undef LB
}

/* Version 3: MARK records and ALLOC_HINT events; neither exists in version 2. */

/* Version 3 events, written with the recorder's own codec (trace_codec.h): kinds
 * numbered per thread, own blocks by distance, other threads' by name, ticks, hint
 * blocks, marks among the events and as records. */
static void test_v3(void)
{
	struct tb b;
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.version = 3, .pid = 78, .exe = "/bin/v3"});
	uint64_t ip[1] = {0x1000}, ip2[1] = {0x2000};
	tb_stack(&b, 1, 1, ip);
	tb_stack(&b, 2, 1, ip2);
	tb_thread(&b, 0, 78, 0);
	tb_thread(&b, 1, 79, 0);
	tb3_mark(&b, 5, "warm-up done");
	uint64_t a = tb3_alloc(&b, 0, 7, 48, 1);      /* kind 1, new */
	uint64_t h = tb3_alloc_hint(&b, 0, 7, 16, 2); /* kind 2, new */
	uint64_t c = tb3_alloc(&b, 0, 8, 48, 1);      /* kind 1 again */
	tb3_mark_event(&b, 0, 8, "between");
	tb3_free(&b, 0, 8, a);				  /* delta 2 */
	uint64_t d = tb3_realloc(&b, 0, 9, c, 0, 100, 2); /* own block, new kind */
	uint64_t x = tb3_alloc(&b, 1, 9, 32, 2);
	tb3_free(&b, 1, 10, d);				       /* another thread's */
	uint64_t y = tb3_realloc(&b, 1, 10, 0, 0xabc0, 64, 1); /* unknown old address */
	tb3_free_unknown(&b, 1, 11, 0x5550);
	tb3_free(&b, 0, 12, h);
	tb_flush_events(&b);
	tb_frame(&b);
	CHECK(a == tb3_key(0, 1) && h == tb3_key(0, 2) && c == tb3_key(0, 3) && d == tb3_key(0, 4));
	CHECK(x == tb3_key(1, 1) && y == tb3_key(1, 2));

	struct want {
		int kind;
		uint32_t thread;
		uint64_t time, size, stack, addr, old, unknown;
		uint32_t hint;
	} want[] = {
	    {HP_ITEM_ALLOC, 0, 7, 48, 1, a, 0, 0, 0},
	    {HP_ITEM_ALLOC, 0, 7, 16, 2, h, 0, 0, 1},
	    {HP_ITEM_ALLOC, 0, 8, 48, 1, c, 0, 0, 0},
	    {HP_REC_MARK, 0, 8, 0, 0, 0, 0, 0, 0},
	    {HP_ITEM_FREE, 0, 8, 0, 0, a, 0, 0, 0},
	    {HP_ITEM_REALLOC, 0, 9, 100, 2, d, c, 0, 0},
	    {HP_ITEM_FREE, 0, 12, 0, 0, h, 0, 0, 0},
	    {HP_ITEM_ALLOC, 1, 9, 32, 2, x, 0, 0, 0},
	    {HP_ITEM_FREE, 1, 10, 0, 0, d, 0, 0, 0},
	    {HP_ITEM_REALLOC, 1, 10, 64, 1, y, 0, 0xabc0, 0},
	    {HP_ITEM_FREE, 1, 11, 0, 0, 0, 0, 0x5550, 0},
	};
	struct hp_reader *r = hp_reader_open_mem(b.out.data, b.out.len, "v3.zst");
	struct hp_item it;
	int rc, records = 0;
	size_t n = 0;
	while ((rc = hp_reader_next(r, &it)) > 0) {
		if (it.kind == HP_REC_MARK && it.u.mark.thread == HP_ITEM_NO_THREAD) {
			records++;
			CHECK_U64(it.u.mark.time, 5);
			CHECK(it.u.mark.label_len == 12 &&
			      !memcmp(it.u.mark.label, "warm-up done", 12));
			continue;
		}
		if (it.kind != HP_REC_MARK &&
		    (it.kind < HP_ITEM_ALLOC || it.kind > HP_ITEM_REALLOC))
			continue;
		CHECK(n < sizeof want / sizeof want[0]);
		if (n >= sizeof want / sizeof want[0])
			break;
		const struct want *w = &want[n++];
		CHECK_U64(it.kind, w->kind);
		if (it.kind == HP_REC_MARK) {
			CHECK_U64(it.u.mark.thread, w->thread);
			CHECK_U64(it.u.mark.time, w->time);
			CHECK(it.u.mark.label_len == 7 && !memcmp(it.u.mark.label, "between", 7));
			continue;
		}
		CHECK_U64(it.u.ev.thread, w->thread);
		CHECK_U64(it.u.ev.time, w->time);
		CHECK_U64(it.u.ev.size, w->size);
		CHECK_U64(it.u.ev.stack, w->stack);
		CHECK_U64(it.u.ev.addr, w->addr);
		CHECK_U64(it.u.ev.old, w->old);
		CHECK_U64(it.u.ev.unknown_addr, w->unknown);
		CHECK_U64(it.u.ev.hint, w->hint);
	}
	CHECK(rc == 0);
	CHECK(records == 1);
	CHECK_U64(n, sizeof want / sizeof want[0]);
	CHECK_U64(hp_reader_version(r), 3);
	hp_reader_free(r);
	tb_release(&b);

	/* Corrupt version 3 events: each must be refused with its error. */
	static const struct {
		uint8_t ev[8];
		size_t len;
		enum hp_read_error err;
	} bad[] = {
	    {{1 << 2 | HP_EV3_ALLOC}, 1, HP_READ_ERR_KIND}, /* kind 1 never defined */
	    {{0 << 2 | HP_EV3_FREE}, 1, HP_READ_ERR_SLOT},  /* nothing allocated yet */
	    {{(0 << 3 | HP_EV3_TICK) << 2 | HP_EV3_EXT}, 1, HP_READ_ERR_EXT_OP},	/* tick 0 */
	    {{(7 << 2 | HP_EV3_EXT)}, 1, HP_READ_ERR_EXT_OP},				/* sub 7 */
	    {{(1 << 3 | HP_EV3_FREE_OTHER) << 2 | HP_EV3_EXT, 0}, 2, HP_READ_ERR_SLOT}, /* seq 0 */
	    {{0 << 2 | HP_EV3_ALLOC, 16}, 2, HP_READ_ERR_TRUNCATED}, /* no stack */
	    {{0 << 2 | HP_EV3_ALLOC, 16, 9}, 3, HP_READ_ERR_STACK},  /* stack 9 unknown */
	    {{(2 << 3 | HP_EV3_MARK) << 2 | HP_EV3_EXT, 'a'},
	     2,
	     HP_READ_ERR_TRUNCATED}, /* 2 bytes? */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tb_init(&b);
		tb_header(&b, &(struct tb_header_args){.version = 3});
		tb_stack(&b, 1, 1, ip);
		tb_thread(&b, 0, 1, 0);
		tb_buf_u(&b.raw, HP_REC_EVENTS);
		tb_buf_u(&b.raw, 0);
		tb_buf_str(&b.raw, bad[i].ev, bad[i].len);
		tb_frame(&b);
		enum hp_read_error err;
		int trunc;
		CHECK(drain(b.out.data, b.out.len, &err, &trunc, NULL) == -1);
		CHECK_U64(err, bad[i].err);
		tb_release(&b);
	}

	enum hp_read_error err;
	int trunc;
	/* Version 2 has no MARK. */
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.version = 2});
	tb3_mark(&b, 1, "x");
	tb_frame(&b);
	CHECK(drain(b.out.data, b.out.len, &err, &trunc, NULL) == -1);
	CHECK(err == HP_READ_ERR_TAG);
	tb_release(&b);
	/* A label over 64 KiB is refused like any string. */
	tb_init(&b);
	tb_header(&b, &(struct tb_header_args){.version = 3});
	tb_buf_u(&b.raw, HP_REC_MARK);
	tb_buf_u(&b.raw, 1);
	tb_buf_u(&b.raw, HP_MAX_STRING + 1);
	tb_frame(&b);
	CHECK(drain(b.out.data, b.out.len, &err, &trunc, NULL) == -1);
	CHECK(err == HP_READ_ERR_STRING);
	tb_release(&b);
}

int main(void)
{
	test_full();
	test_truncation();
	test_corrupt();
	test_bomb();
	test_file();
	test_follow();
	test_key();
	test_full_v2();
	test_free_list();
	test_corrupt_v2();
	test_leak_blocks_v2();
	test_v3();
	return check_done();
}
