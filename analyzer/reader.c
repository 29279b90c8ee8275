/* Streaming trace decoder: zstd frames -> records -> hot events.
 *
 * A frame always ends on a record boundary (docs/trace-format.md), so each frame is
 * decompressed whole into one buffer (at most HP_MAX_FRAME_CONTENT + 1 bytes, reused)
 * and records are decoded straight from it with bounds checks against the frame's end.
 * Input is read in 1 MiB chunks; nothing is proportional to the file size except the
 * per-thread delta state, whose size is bounded by the number of THREAD records. */
#include "reader.h"

#include <heapprof/trace_codec.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "array.h"

#define INPUT_CHUNK (1u << 20)
/* Follow mode holds a whole compressed frame: at most the bound of the largest content. */
#define INPUT_MAX (HP_MAX_FRAME_CONTENT + (HP_MAX_FRAME_CONTENT >> 7) + (1u << 16))
#define FRAME_MIN_CAP (256u << 10)
/* Ids are dense; a file may write them slightly out of order, never far ahead. Capping
 * an id at twice the count seen plus a slack keeps tables linear in the file's content. */
#define ID_SLACK 4096u

static const char *const error_names[HP_READ_ERR_LIMIT] = {
    [HP_READ_OK] = "no error",
    [HP_READ_ERR_IO] = "read error",
    [HP_READ_ERR_NOMEM] = "out of memory",
    [HP_READ_ERR_EMPTY] = "empty file",
    [HP_READ_ERR_ZSTD] = "corrupt or foreign zstd data",
    [HP_READ_ERR_FRAME_TOO_LARGE] = "frame content over the 16 MiB limit",
    [HP_READ_ERR_NO_COMPLETE_FRAME] = "cut short before the first complete frame",
    [HP_READ_ERR_MAGIC] = "bad magic",
    [HP_READ_ERR_VERSION] = "unsupported format version",
    [HP_READ_ERR_NO_HEADER] = "missing or duplicate HEADER record",
    [HP_READ_ERR_TRUNCATED] = "record runs past the end of its frame",
    [HP_READ_ERR_VARINT] = "varint longer than 64 bits",
    [HP_READ_ERR_TAG] = "unknown record tag",
    [HP_READ_ERR_STRING] = "string longer than 64 KiB",
    [HP_READ_ERR_NFRAMES] = "stack deeper than 1024 frames",
    [HP_READ_ERR_NSEG] = "module with more than 64 segments",
    [HP_READ_ERR_ID] = "id out of range",
    [HP_READ_ERR_THREAD] = "events of an unknown thread",
    [HP_READ_ERR_STACK] = "event refers to an unknown stack",
    [HP_READ_ERR_EXT_OP] = "unknown event opcode",
    [HP_READ_ERR_LEAK_BLOCKS] = "bad LEAK_BLOCKS record",
    [HP_READ_ERR_SLOT] = "bad block slot or reference",
    [HP_READ_ERR_KIND] = "event refers to an unknown allocation kind",
};

const char *hp_read_error_name(enum hp_read_error e)
{
	if ((unsigned)e >= HP_READ_ERR_LIMIT || !error_names[e])
		return "unknown error";
	return error_names[e];
}

/* A thread's allocation kind (v3). */
struct kind {
	uint64_t size;
	uint64_t stack;
};

/* A thread's event decoder state. v2: prev_addr holds prev_slot, and the free list is a
 * ring of the last HP_FREE_LIST_MAX released slots, the oldest at free_head. v3: the
 * time in prev_time, the thread's allocations so far in seq, its kinds. */
struct thread_state {
	uint64_t prev_time, prev_addr;
	uint32_t free_head, free_len;
	int known;
	uint64_t free_slot[HP_FREE_LIST_MAX];
	uint64_t seq;
	struct kind *kinds; /* kinds[0] is kind 1 */
	size_t nkinds, kinds_cap;
};

#define FREE_RING_MASK (HP_FREE_LIST_MAX - 1)
_Static_assert((HP_FREE_LIST_MAX & FREE_RING_MASK) == 0, "the free list ring needs a power of 2");

struct hp_reader {
	char *name;
	int fd; /* -1 when decoding from memory */
	uint64_t file_size;

	/* Compressed input window: in[in_pos, in_len) is unread; in[0] is at in_off. */
	uint8_t *in;
	size_t in_cap, in_pos, in_len;
	uint64_t in_off, total_in;
	int in_eof, own_in;

	ZSTD_DCtx *dctx;
	uint8_t *frame;
	size_t frame_cap, frame_len;
	uint64_t frame_coff, frame_doff; /* compressed offset, stream offset of frame[0] */
	unsigned nframes_loaded;

	const uint8_t *p, *end;	      /* records left in the frame */
	const uint8_t *ev_p, *ev_end; /* events left in the current EVENTS record */
	const uint8_t *item_start;    /* start of the item being decoded, for messages */
	struct thread_state *ev_thr;
	uint32_t ev_index;

	struct thread_state *threads;
	size_t threads_cap;
	uint64_t nthreads, nstacks, max_stack, nmodules;

	int started, have_header, last_was_end, truncated;
	int follow, waiting; /* hp_reader_follow() */
	uint64_t version;

	enum hp_read_error err;
	int sys_errno;
	const char *zstd_error;
	uint64_t err_coff, err_doff;

	char *exe, *cmdline;
	uint64_t *leak_addr;
	uint8_t *leak_cls;
	uint64_t ips[HP_MAX_FRAMES_PER_STACK];
	struct hp_segment seg[HP_MAX_SEGMENTS];
};

const char *hp_reader_name(const struct hp_reader *r)
{
	return r->name;
}

uint64_t hp_reader_version(const struct hp_reader *r)
{
	return r->version;
}

enum hp_read_error hp_reader_error(const struct hp_reader *r)
{
	return r->err;
}

int hp_reader_errno(const struct hp_reader *r)
{
	return r->err == HP_READ_ERR_IO ? r->sys_errno : 0;
}

void hp_reader_follow(struct hp_reader *r, int on)
{
	r->follow = on && r->fd >= 0;
	if (r->follow)
		r->in_eof = 0;
}

int hp_reader_waiting(const struct hp_reader *r)
{
	return r->waiting;
}

int hp_reader_truncated(const struct hp_reader *r)
{
	return r->truncated;
}

int hp_reader_complete(const struct hp_reader *r)
{
	return r->last_was_end && !r->truncated;
}

uint64_t hp_reader_offset(const struct hp_reader *r)
{
	return r->in_off + r->in_pos;
}

uint64_t hp_reader_size(const struct hp_reader *r)
{
	return r->file_size;
}

const char *hp_reader_format_error(const struct hp_reader *r, char *buf, size_t size)
{
	const char *what = hp_read_error_name(r->err);
	if (r->err == HP_READ_ERR_ZSTD && r->zstd_error)
		snprintf(buf, size, "%s (%s) at offset %llu", what, r->zstd_error,
			 (unsigned long long)r->err_coff);
	else if (r->err == HP_READ_ERR_IO)
		snprintf(buf, size, "%s (%s) at offset %llu", what, strerror(r->sys_errno),
			 (unsigned long long)r->err_coff);
	else if (r->nframes_loaded)
		snprintf(buf, size, "%s at offset %llu (decompressed offset %llu)", what,
			 (unsigned long long)r->err_coff, (unsigned long long)r->err_doff);
	else
		snprintf(buf, size, "%s at offset %llu", what, (unsigned long long)r->err_coff);
	return buf;
}

static __attribute__((cold, noinline)) int fail(struct hp_reader *r, enum hp_read_error e)
{
	if (r->err)
		return -1;
	r->err = e;
	r->err_coff = r->frame_coff;
	r->err_doff = r->frame_doff;
	if (r->item_start && r->frame && r->item_start >= r->frame &&
	    r->item_start <= r->frame + r->frame_len)
		r->err_doff += (uint64_t)(r->item_start - r->frame);
	r->ev_p = r->ev_end = NULL;
	r->p = r->end = NULL;
	return -1;
}

static struct hp_reader *reader_new(const char *name)
{
	struct hp_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->fd = -1;
	r->name = strdup(name ? name : "(memory)");
	r->dctx = ZSTD_createDCtx();
	if (!r->name || !r->dctx) {
		hp_reader_free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

struct hp_reader *hp_reader_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		errno = EISDIR;
		return NULL;
	}
	struct hp_reader *r = reader_new(path);
	if (!r) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	r->fd = fd;
	r->file_size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	r->in = malloc(INPUT_CHUNK);
	if (!r->in) {
		hp_reader_free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->in_cap = INPUT_CHUNK;
	r->own_in = 1;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return r;
}

struct hp_reader *hp_reader_open_mem(const void *data, size_t size, const char *name)
{
	struct hp_reader *r = reader_new(name);
	if (!r)
		return NULL;
	r->in = (uint8_t *)(uintptr_t)data;
	r->in_cap = r->in_len = size;
	r->total_in = size;
	r->file_size = size;
	r->in_eof = 1;
	return r;
}

void hp_reader_free(struct hp_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	if (r->own_in)
		free(r->in);
	ZSTD_freeDCtx(r->dctx);
	free(r->frame);
	for (size_t i = 0; i < r->threads_cap; i++)
		free(r->threads[i].kinds);
	free(r->threads);
	free(r->exe);
	free(r->cmdline);
	free(r->leak_addr);
	free(r->leak_cls);
	free(r->name);
	free(r);
}

/* Reads more compressed input. Returns 1 when bytes were added, 0 at EOF, -1 on error. */
static int refill(struct hp_reader *r)
{
	if (r->in_eof)
		return 0;
	if (r->in_pos > 0) {
		memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
		r->in_off += r->in_pos;
		r->in_len -= r->in_pos;
		r->in_pos = 0;
	}
	for (;;) {
		ssize_t n = read(r->fd, r->in + r->in_len, r->in_cap - r->in_len);
		if (n > 0) {
			r->in_len += (size_t)n;
			r->total_in += (uint64_t)n;
			return 1;
		}
		if (n == 0) {
			r->in_eof = 1;
			return 0;
		}
		if (errno != EINTR) {
			r->sys_errno = errno;
			r->frame_coff = r->in_off + r->in_pos;
			return fail(r, HP_READ_ERR_IO);
		}
	}
}

static int grow_frame(struct hp_reader *r, size_t want)
{
	if (want > HP_MAX_FRAME_CONTENT + 1)
		want = HP_MAX_FRAME_CONTENT + 1;
	if (want <= r->frame_cap)
		return 0;
	uint8_t *f = realloc(r->frame, want);
	if (!f)
		return fail(r, HP_READ_ERR_NOMEM);
	r->frame = f;
	r->frame_cap = want;
	return 0;
}

/* Follow mode: reads until [in_pos, in_len) starts with a whole frame. Returns 1 when it
 * does (or when what is there is no frame at all: decoding reports it), 0 when the file
 * holds no more yet (r->waiting), -1 on a read error. */
static int whole_frame(struct hp_reader *r)
{
	for (;;) {
		size_t avail = r->in_len - r->in_pos;
		if (avail) {
			size_t n = ZSTD_findFrameCompressedSize(r->in + r->in_pos, avail);
			if (!ZSTD_isError(n) || ZSTD_getErrorCode(n) != ZSTD_error_srcSize_wrong)
				return 1;
		}
		if (r->in_pos == 0 && r->in_len == r->in_cap) {
			if (r->in_cap >= INPUT_MAX)
				return 1; /* over any frame's bound: decoding refuses it */
			size_t cap = r->in_cap * 2 < INPUT_MAX ? r->in_cap * 2 : INPUT_MAX;
			uint8_t *in = realloc(r->in, cap);
			if (!in)
				return fail(r, HP_READ_ERR_NOMEM);
			r->in = in;
			r->in_cap = cap;
		}
		r->in_eof = 0;
		int rc = refill(r);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			r->in_eof = 0;
			r->waiting = 1;
			return 0;
		}
	}
}

/* Decompresses the next frame. Returns 1 when a frame was loaded, 0 at the end of the
 * input (r->truncated set when a frame was cut short; r->waiting in follow mode when the
 * next frame is not whole yet), -1 on error. */
static int load_frame(struct hp_reader *r)
{
	r->item_start = NULL;
	r->frame_doff += r->frame_len;
	r->frame_len = 0;
	if (r->follow) {
		int rc = whole_frame(r);
		if (rc <= 0)
			return rc;
	}
	if (r->in_pos == r->in_len && refill(r) <= 0)
		return r->err ? -1 : 0;
	r->frame_coff = r->in_off + r->in_pos;

	unsigned long long fcs = ZSTD_getFrameContentSize(r->in + r->in_pos, r->in_len - r->in_pos);
	if (fcs != ZSTD_CONTENTSIZE_ERROR && fcs != ZSTD_CONTENTSIZE_UNKNOWN) {
		if (fcs > HP_MAX_FRAME_CONTENT)
			return fail(r, HP_READ_ERR_FRAME_TOO_LARGE);
		if (grow_frame(r, (size_t)fcs + 1))
			return -1;
	}
	if (!r->frame_cap && grow_frame(r, FRAME_MIN_CAP))
		return -1;

	ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
	size_t out_pos = 0;
	int need_input = 0;
	for (;;) {
		if (out_pos == r->frame_cap) {
			if (r->frame_cap > HP_MAX_FRAME_CONTENT)
				return fail(r, HP_READ_ERR_FRAME_TOO_LARGE);
			if (grow_frame(r, r->frame_cap * 2))
				return -1;
		}
		if (need_input && r->in_pos == r->in_len) {
			int rc = refill(r);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				r->truncated = 1;
				return 0;
			}
		}
		ZSTD_inBuffer in = {r->in, r->in_len, r->in_pos};
		ZSTD_outBuffer out = {r->frame, r->frame_cap, out_pos};
		size_t ret = ZSTD_decompressStream(r->dctx, &out, &in);
		r->in_pos = in.pos;
		out_pos = out.pos;
		if (ZSTD_isError(ret)) {
			r->zstd_error = ZSTD_getErrorName(ret);
			return fail(r, HP_READ_ERR_ZSTD);
		}
		if (out_pos > HP_MAX_FRAME_CONTENT)
			return fail(r, HP_READ_ERR_FRAME_TOO_LARGE);
		if (ret == 0)
			break;
		need_input = out.pos < out.size;
	}
	r->frame_len = out_pos;
	r->p = r->frame;
	r->end = r->frame + out_pos;
	r->nframes_loaded++;
	return 1;
}

/* ---- primitive decoding; every function returns 0 or an error code ---- */

/* The codec's varint, its errors as the reader's. */
static inline int get_u(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	int e = hp_get_varint(pp, end, out);
	return __builtin_expect(!e, 1)	  ? 0
	       : e == HP_VARINT_TRUNCATED ? HP_READ_ERR_TRUNCATED
					  : HP_READ_ERR_VARINT;
}

static inline int get_s(const uint8_t **pp, const uint8_t *end, int64_t *out)
{
	uint64_t v = 0;
	int e = get_u(pp, end, &v);
	*out = hp_unzigzag(v);
	return e;
}

static int get_bytes(const uint8_t **pp, const uint8_t *end, const uint8_t **s, size_t *len)
{
	uint64_t n;
	int e = get_u(pp, end, &n);
	if (e)
		return e;
	if (n > HP_MAX_STRING)
		return HP_READ_ERR_STRING;
	if (n > (uint64_t)(end - *pp))
		return HP_READ_ERR_TRUNCATED;
	*s = *pp;
	*len = (size_t)n;
	*pp += n;
	return 0;
}

#define U(var)                                                                                     \
	do {                                                                                       \
		if ((e = get_u(&p, end, &(var))) != 0)                                             \
			goto bad;                                                                  \
	} while (0)
#define S(var)                                                                                     \
	do {                                                                                       \
		if ((e = get_s(&p, end, &(var))) != 0)                                             \
			goto bad;                                                                  \
	} while (0)
#define STR(ptr, len)                                                                              \
	do {                                                                                       \
		const uint8_t *b_;                                                                 \
		if ((e = get_bytes(&p, end, &b_, &(len))) != 0)                                    \
			goto bad;                                                                  \
		(ptr) = (const void *)b_;                                                          \
	} while (0)

static inline uint64_t add16(uint64_t base, int64_t delta16)
{
	return ((base >> HP_ADDR_SHIFT) + (uint64_t)delta16) << HP_ADDR_SHIFT;
}

/* Both event decoders are forced inline into hp_reader_next(): as a call, one costs about
 * 20 more instructions per event, a fifth of the decode. */
#define HOT_INLINE inline __attribute__((always_inline))

/* The end of both decoders: checks the stack id, then commits the event read up to p to
 * the thread's state (prev, its address or slot) and to the item. */
static HOT_INLINE int event_done(struct hp_reader *r, struct hp_item *it, const uint8_t *p,
				 uint64_t time, uint64_t prev, uint64_t stack, uint64_t size,
				 uint64_t addr, uint64_t old, uint64_t unknown_addr, uint32_t hint)
{
	if (stack > r->max_stack)
		return fail(r, HP_READ_ERR_STACK);
	r->ev_thr->prev_time = time;
	r->ev_thr->prev_addr = prev;
	r->ev_p = p;
	it->u.ev.thread = r->ev_index;
	it->u.ev.stack = (uint32_t)stack;
	it->u.ev.time = time;
	it->u.ev.size = size;
	it->u.ev.addr = addr;
	it->u.ev.old = old;
	it->u.ev.unknown_addr = unknown_addr;
	it->u.ev.hint = hint;
	return 1;
}

/* One hot event from the current EVENTS record of a version 1 trace: addresses. */
static HOT_INLINE int decode_event(struct hp_reader *r, struct hp_item *it)
{
	const uint8_t *p = r->ev_p, *end = r->ev_end;
	struct thread_state *st = r->ev_thr;
	uint64_t head, size = 0, stack = 0, addr = 0, old = 0, xop;
	int64_t d1, d2;
	int e;
	r->item_start = p;
	U(head);
	uint64_t t = st->prev_time + (head >> HP_OP_BITS);
	switch (head & HP_OP_MASK) {
	case HP_OP_ALLOC:
		U(size);
		U(stack);
		S(d1);
		addr = add16(st->prev_addr, d1);
		it->kind = HP_ITEM_ALLOC;
		break;
	case HP_OP_FREE:
		S(d1);
		addr = add16(st->prev_addr, d1);
		it->kind = HP_ITEM_FREE;
		break;
	case HP_OP_REALLOC:
		S(d1);
		U(size);
		U(stack);
		S(d2);
		old = add16(st->prev_addr, d1);
		addr = add16(old, d2);
		it->kind = HP_ITEM_REALLOC;
		break;
	default:
		U(xop);
		switch (xop) {
		case HP_EXT_ALLOC_ABS:
			U(size);
			U(stack);
			U(addr);
			it->kind = HP_ITEM_ALLOC;
			break;
		case HP_EXT_FREE_ABS:
			U(addr);
			it->kind = HP_ITEM_FREE;
			break;
		case HP_EXT_REALLOC_ABS:
			U(old);
			U(size);
			U(stack);
			U(addr);
			it->kind = HP_ITEM_REALLOC;
			break;
		default:
			e = HP_READ_ERR_EXT_OP;
			goto bad;
		}
	}
	return event_done(r, it, p, t, addr, stack, size, addr, old, 0, 0);
bad:
	return fail(r, (enum hp_read_error)e);
}

/* prev_slot + an svarint slot delta, in uint64 so that no delta overflows: prev_slot is at
 * most HP_MAX_SLOT (2^40), so a sum that wraps is exact and one that leaves [0, 2^40]
 * lands above HP_MAX_SLOT either way (below 0 wraps to over 2^63). */
static inline uint64_t add_slot(uint64_t prev, uint64_t zigzag)
{
	return prev + ((zigzag >> 1) ^ (0 - (zigzag & 1)));
}

enum { FL_KEEP, FL_POP, FL_PUSH };

/* One hot event of a version 2 trace: slots instead of addresses. */
static HOT_INLINE int decode_event_v2(struct hp_reader *r, struct hp_item *it)
{
	const uint8_t *p = r->ev_p, *end = r->ev_end;
	struct thread_state *st = r->ev_thr;
	uint64_t head, size = 0, stack = 0, slot, d, xop, unknown = 0;
	uint64_t new_mask = UINT64_MAX, old_mask = 0; /* which of addr, old get the slot's key */
	int e, fl = FL_KEEP;
	uint32_t hint = 0;
	r->item_start = p;
	U(head);
	uint64_t t = st->prev_time + (head >> HP_OP_BITS);
	switch (head & HP_OP_MASK) {
	case HP_OP_ALLOC:
		U(size);
		U(stack);
		if (!st->free_len) {
			e = HP_READ_ERR_SLOT;
			goto bad;
		}
		slot = st->free_slot[(st->free_head + st->free_len - 1) & FREE_RING_MASK];
		fl = FL_POP;
		it->kind = HP_ITEM_ALLOC;
		break;
	case HP_OP_FREE:
		U(d);
		slot = add_slot(st->prev_addr, d);
		fl = FL_PUSH;
		it->kind = HP_ITEM_FREE;
		break;
	case HP_OP_REALLOC:
		U(d);
		U(size);
		U(stack);
		slot = add_slot(st->prev_addr, d);
		old_mask = UINT64_MAX;
		it->kind = HP_ITEM_REALLOC;
		break;
	default:
		U(xop);
		switch (xop) {
		case HP_EXT_ALLOC_SLOT:
			U(size);
			U(stack);
			U(slot);
			it->kind = HP_ITEM_ALLOC;
			break;
		case HP_EXT_FREE_UNKNOWN:
			U(unknown);
			slot = st->prev_addr; /* unchanged */
			new_mask = 0;
			it->kind = HP_ITEM_FREE;
			break;
		case HP_EXT_REALLOC_UNKNOWN:
			U(unknown);
			U(size);
			U(stack);
			U(slot);
			it->kind = HP_ITEM_REALLOC;
			break;
		default:
			e = HP_READ_ERR_EXT_OP;
			goto bad;
		}
	}
	if (slot > HP_MAX_SLOT) {
		e = HP_READ_ERR_SLOT;
		goto bad;
	}
	uint64_t key = hp_reader_slot_to_key(slot);
	if (event_done(r, it, p, t, slot, stack, size, key & new_mask, key & old_mask, unknown,
		       hint) != 1)
		return -1;
	if (fl == FL_POP) {
		st->free_len--;
	} else if (fl == FL_PUSH) {
		/* Full: the new slot overwrites the oldest, the next one becomes the oldest. */
		st->free_slot[(st->free_head + st->free_len) & FREE_RING_MASK] = slot;
		if (st->free_len == HP_FREE_LIST_MAX)
			st->free_head = (st->free_head + 1) & FREE_RING_MASK;
		else
			st->free_len++;
	}
	return 1;
bad:
	return fail(r, (enum hp_read_error)e);
}

/* v3: the kind an event names, or a new one it defines (cold: once per kind). */
static __attribute__((noinline)) int new_kind(struct hp_reader *r, struct thread_state *st,
					      const struct hp_ev3 *e)
{
	if (e->stack > r->max_stack)
		return HP_READ_ERR_STACK;
	if (hp_array_reserve((void **)&st->kinds, &st->kinds_cap, st->nkinds + 1, sizeof *st->kinds,
			     64))
		return HP_READ_ERR_NOMEM;
	st->kinds[st->nkinds++] = (struct kind){e->size, e->stack};
	return 0;
}

static HOT_INLINE int take_kind(struct hp_reader *r, struct thread_state *st,
				const struct hp_ev3 *e, uint64_t *size, uint64_t *stack)
{
	if (!e->kind) {
		int err = new_kind(r, st, e);
		if (err)
			return err;
	} else if (e->kind > st->nkinds) {
		return HP_READ_ERR_KIND;
	}
	const struct kind *k = &st->kinds[(e->kind ? e->kind : st->nkinds) - 1];
	*size = k->size;
	*stack = k->stack;
	return 0;
}

/* One hot event of a version 3 trace (trace_codec.h): blocks by key, kinds, ticks. */
static HOT_INLINE int decode_event_v3(struct hp_reader *r, struct hp_item *it)
{
	const uint8_t *p = r->ev_p, *end = r->ev_end;
	struct thread_state *st = r->ev_thr;
	uint64_t time = st->prev_time, size = 0, stack = 0, addr = 0, old = 0, unknown = 0;
	uint32_t hint = 0;
	struct hp_ev3 e;
	int err;
	for (;;) {
		r->item_start = p;
		if ((err = hp_ev3_get(&p, end, &e))) {
			err = err == HP_VARINT_TRUNCATED  ? HP_READ_ERR_TRUNCATED
			      : err == HP_VARINT_TOO_LONG ? HP_READ_ERR_VARINT
							  : HP_READ_ERR_EXT_OP;
			goto bad;
		}
		if (e.op == HP_EV3_D_MARK) {
			st->prev_time = time;
			r->ev_p = p;
			it->kind = HP_REC_MARK;
			it->u.mark.time = time;
			it->u.mark.label = (const char *)e.label;
			it->u.mark.label_len = (size_t)e.arg;
			it->u.mark.thread = r->ev_index;
			return 1;
		}
		if (e.op != HP_EV3_D_TICK)
			break;
		time += e.arg;
		if (p == end) { /* a record may end in a tick */
			st->prev_time = time;
			r->ev_p = p;
			return 0;
		}
	}
	uint64_t self = r->ev_index;
	switch (e.op) {
	case HP_EV3_D_ALLOC:
	case HP_EV3_D_ALLOC_HINT:
		it->kind = HP_ITEM_ALLOC;
		hint = e.op == HP_EV3_D_ALLOC_HINT;
		break;
	case HP_EV3_D_FREE:
	case HP_EV3_D_REALLOC:
		if (e.arg >= st->seq) {
			err = HP_READ_ERR_SLOT;
			goto bad;
		}
		old = hp_ev3_key(self, st->seq - e.arg);
		it->kind = e.op == HP_EV3_D_FREE ? HP_ITEM_FREE : HP_ITEM_REALLOC;
		break;
	case HP_EV3_D_FREE_OTHER:
	case HP_EV3_D_REALLOC_OTHER:
		if (e.arg > HP_EV3_MAX_THREAD || !e.seq || e.seq > HP_EV3_MAX_SEQ) {
			err = HP_READ_ERR_SLOT;
			goto bad;
		}
		old = hp_ev3_key(e.arg, e.seq);
		it->kind = e.op == HP_EV3_D_FREE_OTHER ? HP_ITEM_FREE : HP_ITEM_REALLOC;
		break;
	case HP_EV3_D_FREE_UNKNOWN:
		unknown = e.addr;
		it->kind = HP_ITEM_FREE;
		break;
	default: /* REALLOC_UNKNOWN */
		unknown = e.addr;
		it->kind = HP_ITEM_REALLOC;
		break;
	}
	if (it->kind != HP_ITEM_FREE) {
		if ((err = take_kind(r, st, &e, &size, &stack)))
			goto bad;
		if (st->seq >= HP_EV3_MAX_SEQ) {
			err = HP_READ_ERR_SLOT;
			goto bad;
		}
		addr = hp_ev3_key(self, ++st->seq);
	} else {
		addr = old; /* the released block, as FREE items carry it */
		old = 0;
	}
	return event_done(r, it, p, time, 0, stack, size, addr, old, unknown, hint);
bad:
	return fail(r, (enum hp_read_error)err);
}

static char *dup_str(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static int check_id(uint64_t id, uint64_t count)
{
	return id < 2 * count + ID_SLACK;
}

/* The stream's start: magic and version. */
static int decode_start(struct hp_reader *r)
{
	const uint8_t *p = r->p, *end = r->end;
	uint64_t v;
	int e;
	r->item_start = p;
	if ((size_t)(end - p) < HP_MAGIC_LEN || memcmp(p, HP_MAGIC, HP_MAGIC_LEN) != 0)
		return fail(r, HP_READ_ERR_MAGIC);
	p += HP_MAGIC_LEN;
	U(v);
	if (v < HP_FORMAT_VERSION_MIN || v > HP_FORMAT_VERSION)
		return fail(r, HP_READ_ERR_VERSION);
	r->version = v;
	r->started = 1;
	r->p = p;
	return 0;
bad:
	return fail(r, (enum hp_read_error)e);
}

/* One top-level record. Returns 1 with an item, 0 when the record was an EVENTS header
 * (its events follow), -1 on error. */
static int decode_record(struct hp_reader *r, struct hp_item *it)
{
	const uint8_t *p = r->p, *end = r->end;
	uint64_t tag, n;
	int e;
	r->item_start = p;
	U(tag);
	if (!r->have_header && tag != HP_REC_HEADER)
		return fail(r, HP_READ_ERR_NO_HEADER);
	r->last_was_end = 0;
	it->kind = (int)tag;
	switch (tag) {
	case HP_REC_HEADER: {
		struct hp_header *h = &it->u.header;
		if (r->have_header)
			return fail(r, HP_READ_ERR_NO_HEADER);
		h->version = r->version;
		U(h->flags);
		U(h->pid);
		U(h->ppid);
		U(h->start_realtime_ns);
		U(h->start_mono_ns);
		U(h->ticks_per_second);
		U(h->time_shift);
		U(h->page_size);
		U(h->max_frames);
		U(h->sample_bytes);
		STR(h->exe, h->exe_len);
		STR(h->cmdline, h->cmdline_len);
		r->exe = dup_str(h->exe, h->exe_len);
		r->cmdline = dup_str(h->cmdline, h->cmdline_len);
		if (!r->exe || !r->cmdline)
			return fail(r, HP_READ_ERR_NOMEM);
		h->exe = r->exe;
		h->cmdline = r->cmdline;
		r->have_header = 1;
		break;
	}
	case HP_REC_MODULE:
		U(it->u.module.id);
		if (!check_id(it->u.module.id, r->nmodules)) {
			e = HP_READ_ERR_ID;
			goto bad;
		}
		STR(it->u.module.path, it->u.module.path_len);
		STR(it->u.module.build_id, it->u.module.build_id_len);
		U(it->u.module.bias);
		U(n);
		if (n > HP_MAX_SEGMENTS) {
			e = HP_READ_ERR_NSEG;
			goto bad;
		}
		for (uint64_t i = 0; i < n; i++) {
			U(r->seg[i].vaddr);
			U(r->seg[i].memsz);
			U(r->seg[i].flags);
		}
		it->u.module.nseg = (uint32_t)n;
		it->u.module.seg = r->seg;
		r->nmodules++;
		break;
	case HP_REC_MODULE_UNLOAD:
		U(it->u.module_unload.id);
		U(it->u.module_unload.time);
		break;
	case HP_REC_STACK: {
		uint64_t id, ip = 0;
		int64_t d;
		U(id);
		if (id == 0 || !check_id(id, r->nstacks)) {
			e = HP_READ_ERR_ID;
			goto bad;
		}
		U(n);
		if (n > HP_MAX_FRAMES_PER_STACK) {
			e = HP_READ_ERR_NFRAMES;
			goto bad;
		}
		for (uint64_t i = 0; i < n; i++) {
			S(d);
			ip += (uint64_t)d;
			r->ips[i] = ip;
		}
		it->u.stack.id = id;
		it->u.stack.nframes = (uint32_t)n;
		it->u.stack.ips = r->ips;
		r->nstacks++;
		if (id > r->max_stack)
			r->max_stack = id;
		break;
	}
	case HP_REC_THREAD: {
		uint64_t idx;
		U(idx);
		U(it->u.thread.tid);
		U(it->u.thread.time);
		if (!check_id(idx, r->nthreads) || idx >= UINT32_MAX) {
			e = HP_READ_ERR_ID;
			goto bad;
		}
		if (hp_array_reserve((void **)&r->threads, &r->threads_cap, (size_t)idx + 1,
				     sizeof *r->threads, 16))
			return fail(r, HP_READ_ERR_NOMEM);
		if (!r->threads[idx].known) {
			r->threads[idx].known = 1;
			r->nthreads++;
		}
		it->u.thread.index = idx;
		break;
	}
	case HP_REC_THREAD_NAME:
		U(it->u.thread_name.index);
		STR(it->u.thread_name.name, it->u.thread_name.name_len);
		break;
	case HP_REC_THREAD_EXIT:
		U(it->u.thread_exit.index);
		U(it->u.thread_exit.time);
		break;
	case HP_REC_EVENTS: {
		uint64_t idx, len;
		U(idx);
		U(len);
		if (idx >= r->threads_cap || !r->threads[idx].known) {
			e = HP_READ_ERR_THREAD;
			goto bad;
		}
		if (len > (uint64_t)(end - p)) {
			e = HP_READ_ERR_TRUNCATED;
			goto bad;
		}
		r->ev_p = p;
		r->ev_end = p + len;
		r->ev_thr = &r->threads[idx];
		r->ev_index = (uint32_t)idx;
		r->p = p + len;
		return 0;
	}
	case HP_REC_ROUND:
		U(it->u.round.watermark);
		break;
	case HP_REC_RSS:
		U(it->u.rss.time);
		U(it->u.rss.bytes);
		break;
	case HP_REC_CLOCK_SYNC:
		U(it->u.clock_sync.ticks);
		U(it->u.clock_sync.mono_ns);
		break;
	case HP_REC_FORK:
		U(it->u.fork.time);
		U(it->u.fork.child_pid);
		break;
	case HP_REC_EXEC:
		U(it->u.exec.time);
		STR(it->u.exec.path, it->u.exec.path_len);
		break;
	case HP_REC_EXIT:
		U(it->u.exit.time);
		S(it->u.exit.status);
		break;
	case HP_REC_END:
		U(it->u.end.time);
		U(it->u.end.events);
		U(it->u.end.lost);
		r->last_was_end = 1;
		break;
	case HP_REC_ERROR:
		U(it->u.error.time);
		STR(it->u.error.message, it->u.error.message_len);
		break;
	case HP_REC_LEAK_SCAN:
		U(it->u.leak_scan.time);
		U(it->u.leak_scan.flags);
		for (int i = 0; i < 4; i++) {
			U(it->u.leak_scan.bytes[i]);
			U(it->u.leak_scan.blocks[i]);
		}
		U(it->u.leak_scan.nblocks);
		break;
	case HP_REC_LEAK_BLOCKS: {
		uint64_t a = 0, d, c;
		U(n);
		/* Two bytes at least per block: checked before allocating anything. */
		if (n > HP_LEAK_BLOCKS_PER_RECORD || n > (uint64_t)(end - p) / 2) {
			e = n > HP_LEAK_BLOCKS_PER_RECORD ? HP_READ_ERR_LEAK_BLOCKS
							  : HP_READ_ERR_TRUNCATED;
			goto bad;
		}
		if (!r->leak_addr) {
			r->leak_addr = malloc(HP_LEAK_BLOCKS_PER_RECORD * sizeof *r->leak_addr);
			r->leak_cls = malloc(HP_LEAK_BLOCKS_PER_RECORD);
			if (!r->leak_addr || !r->leak_cls)
				return fail(r, HP_READ_ERR_NOMEM);
		}
		for (uint64_t i = 0; i < n; i++) {
			U(d);
			U(c);
			if (c > HP_LEAK_DEFINITE) {
				e = HP_READ_ERR_LEAK_BLOCKS;
				goto bad;
			}
			if (r->version == 1) {
				/* Strictly ascending, as the spec says: a zero delta or one that
				 * wraps past 2^64 is corrupt. */
				if ((i && !d) || a + d < a) {
					e = HP_READ_ERR_LEAK_BLOCKS;
					goto bad;
				}
				a += d;
				r->leak_addr[i] = a;
			} else if (r->version >= 3) {
				/* Keys in any order; 0 is a block the trace has no key for (the
				 * parent's, before a fork), which joins nothing. */
				a += (uint64_t)hp_unzigzag(d);
				r->leak_addr[i] = a;
			} else {
				/* Slots in any order (duplicates are the join's problem), each
				 * in range: a holds the previous slot. */
				a = add_slot(a, d);
				if (a > HP_MAX_SLOT) {
					e = HP_READ_ERR_LEAK_BLOCKS;
					goto bad;
				}
				r->leak_addr[i] = hp_reader_slot_to_key(a);
			}
			r->leak_cls[i] = (uint8_t)c;
		}
		it->u.leak_blocks.count = (uint32_t)n;
		it->u.leak_blocks.addr = r->leak_addr;
		it->u.leak_blocks.cls = r->leak_cls;
		break;
	}
	case HP_REC_SUPPRESSIONS:
		U(it->u.suppressions.time);
		STR(it->u.suppressions.text, it->u.suppressions.text_len);
		break;
	case HP_REC_MARK:
		if (r->version < 3) {
			e = HP_READ_ERR_TAG;
			goto bad;
		}
		U(it->u.mark.time);
		STR(it->u.mark.label, it->u.mark.label_len);
		it->u.mark.thread = HP_ITEM_NO_THREAD;
		break;
	default:
		e = HP_READ_ERR_TAG;
		goto bad;
	}
	r->p = p;
	return 1;
bad:
	return fail(r, (enum hp_read_error)e);
}

int hp_reader_next(struct hp_reader *r, struct hp_item *it)
{
	if (r->err)
		return -1;
	r->waiting = 0;
	for (;;) {
		if (r->ev_p < r->ev_end) {
			int rc = r->version >= 3   ? decode_event_v3(r, it)
				 : r->version == 2 ? decode_event_v2(r, it)
						   : decode_event(r, it);
			if (rc)
				return rc;
			continue; /* the record ended in a tick */
		}
		if (r->p == r->end) {
			int rc = load_frame(r);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				if (r->waiting)
					return 0;
				if (r->total_in == 0)
					return fail(r, HP_READ_ERR_EMPTY);
				if (!r->have_header) {
					r->frame_coff = r->in_off + r->in_pos;
					return fail(r, r->truncated ? HP_READ_ERR_NO_COMPLETE_FRAME
								    : HP_READ_ERR_NO_HEADER);
				}
				if (!r->last_was_end)
					r->truncated = 1;
				return 0;
			}
			continue;
		}
		if (!r->started && decode_start(r))
			return -1;
		if (r->p == r->end)
			continue;
		int rc = decode_record(r, it);
		if (rc)
			return rc;
	}
}
