/* Streaming decoder of heapprof traces (docs/trace-format.md).
 *
 * Pull API: hp_reader_next() returns one item at a time, either a top-level record or
 * one hot event of an EVENTS record, in file order (events are not merged by time;
 * replay.c does that). The file is decompressed one zstd frame at a time into a
 * buffer of at most HP_MAX_FRAME_CONTENT bytes, so memory stays bounded whatever the
 * file size. Every count and length read from the file is checked before use.
 * A reader is not thread-safe; distinct readers are independent. */
#ifndef HP_READER_H
#define HP_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <heapprof/trace_format.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Decode errors. hp_read_error_name() gives the message ("bad magic"); the message a
 * user sees is "'<file>' is not a heapprof trace: <message> at offset N". */
enum hp_read_error {
	HP_READ_OK = 0,
	HP_READ_ERR_IO,		       /* read(2) failed: errno is kept in hp_reader_errno() */
	HP_READ_ERR_NOMEM,	       /* out of memory */
	HP_READ_ERR_EMPTY,	       /* the file is empty */
	HP_READ_ERR_ZSTD,	       /* not zstd data, or a corrupt frame (zstd says why) */
	HP_READ_ERR_FRAME_TOO_LARGE,   /* a frame decompresses to more than HP_MAX_FRAME_CONTENT */
	HP_READ_ERR_NO_COMPLETE_FRAME, /* cut short before the first frame ended */
	HP_READ_ERR_MAGIC,	       /* the record stream does not start with HP_MAGIC */
	HP_READ_ERR_VERSION,	       /* a format version this reader does not know */
	HP_READ_ERR_NO_HEADER,	       /* the first record is not a HEADER, or a second HEADER */
	HP_READ_ERR_TRUNCATED,	       /* a record or event runs past the end of its frame */
	HP_READ_ERR_VARINT,	       /* a varint longer than 64 bits */
	HP_READ_ERR_TAG,	       /* unknown record tag */
	HP_READ_ERR_STRING,	       /* string longer than HP_MAX_STRING */
	HP_READ_ERR_NFRAMES,	       /* STACK with more than HP_MAX_FRAMES_PER_STACK frames */
	HP_READ_ERR_NSEG,	       /* MODULE with more than HP_MAX_SEGMENTS segments */
	HP_READ_ERR_ID,		       /* a stack, module or thread id out of the dense range */
	HP_READ_ERR_THREAD,	       /* EVENTS of a thread without a THREAD record */
	HP_READ_ERR_STACK,	       /* an event refers to a stack id not recorded yet */
	HP_READ_ERR_EXT_OP,	       /* unknown extended event opcode */
	HP_READ_ERR_LEAK_BLOCKS,       /* LEAK_BLOCKS over the per-record limit, a bad class, an
					* address out of order (v1) or a slot over HP_MAX_SLOT (v2) */
	HP_READ_ERR_SLOT,	       /* v2 event: slot over HP_MAX_SLOT, or ALLOC with an empty
					* free list */
	HP_READ_ERR_KIND,	       /* v3 event: a kind the thread has not defined */
	HP_READ_ERR_LIMIT
};

/* Returns the message of an error code; never NULL. */
const char *hp_read_error_name(enum hp_read_error e);

/* What hp_reader_next() returns in item->kind: the record tags of trace_format.h, plus
 * the decoded hot events. */
#define HP_ITEM_NO_THREAD UINT32_MAX

enum hp_item_kind {
	HP_ITEM_ALLOC = 100,   /* ALLOC, ALLOC_SLOT (v2), ALLOC_HINT (v3) or ALLOC_ABS (v1) */
	HP_ITEM_FREE = 101,    /* FREE, FREE_UNKNOWN (v2) or FREE_ABS (v1) */
	HP_ITEM_REALLOC = 102, /* REALLOC, REALLOC_UNKNOWN (v2) or REALLOC_ABS (v1) */
};

/* Version 2 traces name blocks by slot, not address. The reader hands a slot to the rest
 * of the analyzer as a key in the address fields: nonzero and 16-aligned like a malloc
 * address, so the live set's address hash and the leak join take it unchanged, and no
 * key is 0 (the unknown address of FREE_UNKNOWN and REALLOC_UNKNOWN). A slot is at most
 * HP_MAX_SLOT, so a key fits in 45 bits. */
static inline uint64_t hp_reader_slot_to_key(uint64_t slot)
{
	return (slot + 1) << HP_ADDR_SHIFT;
}

static inline uint64_t hp_reader_key_to_slot(uint64_t key)
{
	return (key >> HP_ADDR_SHIFT) - 1;
}

struct hp_header {
	uint64_t version, flags, pid, ppid, start_realtime_ns, start_mono_ns;
	uint64_t ticks_per_second, time_shift, page_size, max_frames, sample_bytes;
	const char *exe;     /* NUL-terminated copies owned by the reader, valid until */
	size_t exe_len;	     /* hp_reader_free(); may contain NUL bytes of their own */
	const char *cmdline; /* arguments separated by NUL bytes, as in the file */
	size_t cmdline_len;
};

struct hp_segment {
	uint64_t vaddr, memsz, flags;
};

/* One decoded item. Pointers inside (strings, frames, segments) point into the
 * reader's buffers and stay valid until the next hp_reader_next() call. */
struct hp_item {
	int kind; /* enum hp_record_tag or enum hp_item_kind */
	union {
		struct {		 /* HP_ITEM_ALLOC / FREE / REALLOC */
			uint32_t thread; /* thread index */
			uint32_t stack;	 /* 0 for FREE */
			uint64_t time;
			uint64_t size;
			uint64_t addr; /* the new block (ALLOC, REALLOC) or the freed one:
					* an address (v1) or a slot's key (v2); 0 for
					* FREE_UNKNOWN */
			uint64_t old;  /* REALLOC: the old block; v2: equal to addr, or 0 for
					* REALLOC_UNKNOWN */
			uint64_t unknown_addr; /* v2 FREE_UNKNOWN, REALLOC_UNKNOWN: the raw
						* address the trace never saw allocated;
						* else 0 */
			uint32_t hint;	       /* v3 ALLOC_HINT: a block of the program's own
						* allocator (heapprof_alloc_hint); else 0 */
		} ev;
		struct hp_header header; /* header.version comes from the stream start */
		struct {
			uint64_t id, bias;
			const char *path;
			size_t path_len;
			const uint8_t *build_id;
			size_t build_id_len;
			uint32_t nseg;
			const struct hp_segment *seg;
		} module;
		struct {
			uint64_t id, time;
		} module_unload;
		struct {
			uint64_t id;
			uint32_t nframes;
			const uint64_t *ips; /* innermost first, absolute */
		} stack;
		struct {
			uint64_t index, tid, time;
		} thread;
		struct {
			uint64_t index;
			const char *name;
			size_t name_len;
		} thread_name;
		struct {
			uint64_t index, time;
		} thread_exit;
		struct {
			uint64_t watermark;
		} round;
		struct {
			uint64_t time, bytes;
		} rss;
		struct {
			uint64_t ticks, mono_ns;
		} clock_sync;
		struct {
			uint64_t time, child_pid;
		} fork;
		struct {
			uint64_t time;
			const char *path;
			size_t path_len;
		} exec;
		struct {
			uint64_t time;
			int64_t status;
		} exit;
		struct {
			uint64_t time, events, lost;
		} end;
		struct {
			uint64_t time;
			const char *message;
			size_t message_len;
		} error;
		struct { /* docs/leak-check.md */
			uint64_t time, flags;
			uint64_t bytes[4], blocks[4]; /* definite, indirect, possible, reachable */
			uint64_t nblocks;
		} leak_scan;
		struct {
			uint32_t count;
			const uint64_t *addr; /* v1: addresses, ascending; v2: slots' keys
					       * (hp_reader_slot_to_key), in any order */
			const uint8_t *cls;   /* enum hp_leak_class */
		} leak_blocks;
		struct { /* the program's __lsan_default_suppressions() */
			uint64_t time;
			const char *text;
			size_t text_len;
		} suppressions;
		struct { /* v3 */
			uint64_t time;
			const char *label;
			size_t label_len;
			/* The thread whose events it was taken among (heapprof_mark on that
			 * thread: exactly between them), or HP_ITEM_NO_THREAD (a MARK record:
			 * a signal handler's, or `heapprof mark` from outside). */
			uint32_t thread;
		} mark;
	} u;
};

struct hp_reader;

/* Opens a trace file. Returns NULL with errno set when the file cannot be opened
 * (the caller reports "cannot open"); decode errors come later, from hp_reader_next(). */
struct hp_reader *hp_reader_open(const char *path);

/* Decodes a trace held in memory (the fuzz targets and unit tests). `name` is used in
 * messages. The buffer must outlive the reader. Returns NULL with errno set. */
struct hp_reader *hp_reader_open_mem(const void *data, size_t size, const char *name);

/* Decodes the next item into *item. Returns 1 when an item was decoded, 0 at the end of
 * the trace (hp_reader_truncated() then says whether it was cut short), or -1 on a
 * decode error (hp_reader_error() and hp_reader_format_error() describe it; every
 * later call returns -1 too). Events come after the EVENTS record that holds them,
 * which is itself not returned. */
int hp_reader_next(struct hp_reader *r, struct hp_item *item);

/* Follow mode (heapprof-analyze --follow) for a trace still being written: with on 1,
 * the end of the file is not the end of the trace. hp_reader_next() then returns 0 with
 * hp_reader_waiting() 1 when no complete frame follows yet (the file is read no further
 * than the last complete frame, so a frame being written is never taken for a cut one);
 * call it again once the file has grown. Input memory stays below one frame's bound.
 * Turn it off (on 0) once the writer is gone: the next call then reads to the end as
 * usual, a frame cut short included. */
void hp_reader_follow(struct hp_reader *r, int on);

/* 1 when the last hp_reader_next() returned 0 in follow mode for want of a whole frame. */
int hp_reader_waiting(const struct hp_reader *r);

/* 1 when the stream ended without a complete last frame or without a trailing END. */
int hp_reader_truncated(const struct hp_reader *r);

/* 1 when at least one END record was seen, and the last record is an END. */
int hp_reader_complete(const struct hp_reader *r);

enum hp_read_error hp_reader_error(const struct hp_reader *r);

/* The errno of an HP_READ_ERR_IO error, else 0. */
int hp_reader_errno(const struct hp_reader *r);

/* Formats the current error as "<message> at offset N (decompressed offset M)" into buf
 * and returns buf. */
const char *hp_reader_format_error(const struct hp_reader *r, char *buf, size_t size);

/* Compressed bytes consumed so far and the file size (0 when unknown): progress. */
uint64_t hp_reader_offset(const struct hp_reader *r);
uint64_t hp_reader_size(const struct hp_reader *r);

const char *hp_reader_name(const struct hp_reader *r);

/* The trace's format version (HP_FORMAT_VERSION_MIN..HP_FORMAT_VERSION) once the first
 * item (the HEADER) was returned, 0 before: says how to read the event and LEAK_BLOCKS
 * fields. */
uint64_t hp_reader_version(const struct hp_reader *r);

void hp_reader_free(struct hp_reader *r);

#ifdef __cplusplus
}
#endif
#endif
